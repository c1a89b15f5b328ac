"""Figure functions: each returns its Axes/Figure with labelled axes, a title and a white background;
the shared helpers (print style, layer axes, panels) of eqhyp_utils.plotting."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.colors import to_rgba  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

import matplotlib as mpl  # noqa: E402
from eqhyp_utils.errors import InvalidInputError  # noqa: E402
from eqhyp_utils.plotting import (MIN_FONT_PT, OKABE_ITO, PRINT_SIZES, for_print, integer_ticks,  # noqa: E402
                                  layer_axis, new_panels, plot_alignment_during_training, plot_alignment_profile,
                                  plot_curves_by_layer, plot_training_curves, print_style)
from eqhyp_utils.training import TrainConfig, TrainingHistory  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _history(diverged=False):
    rng = np.random.default_rng(0)
    steps = np.array([0, 2, 4, 8, 16])
    return TrainingHistory(steps=steps, epochs=steps / 8, alignment=rng.uniform(0.01, 0.2, (5, 7)),
                           train_loss=np.linspace(2.3, 0.4, 5), train_accuracy=np.linspace(0.1, 0.9, 5),
                           test_loss=np.linspace(2.3, 0.6, 5), test_accuracy=np.linspace(0.1, 0.8, 5),
                           loss_steps=np.arange(16), loss_values=np.linspace(2.3, 0.4, 16), steps_per_epoch=8,
                           diverged=diverged, diverged_at_step=16 if diverged else None,
                           config=TrainConfig().to_dict())


def _assert_labelled(ax):
    assert isinstance(ax, Axes)
    assert ax.get_xlabel() and ax.get_ylabel() and ax.get_title()
    assert to_rgba(ax.figure.get_facecolor()) == (1.0, 1.0, 1.0, 1.0)


def test_layer_axis_has_integer_ticks():
    fig, ax = plt.subplots()
    layer_axis(ax, 7)
    assert list(ax.get_xticks()) == list(range(1, 8)) and "layer" in ax.get_xlabel()
    fig, ax = plt.subplots()
    layer_axis(ax, 129)
    fig.canvas.draw()
    ticks = [t for t in ax.get_xticks() if 1 <= t <= 129]
    assert 3 <= len(ticks) <= 12 and all(float(t).is_integer() for t in ticks)
    with pytest.raises(InvalidInputError):
        layer_axis(ax, 0)


def test_layer_axis_can_start_at_the_input_and_label_the_y_axis():
    fig, ax = plt.subplots(figsize=(8, 4))
    layer_axis(ax, 6, first=0, label="layer (0 = input)")
    assert list(ax.get_xticks()) == list(range(0, 7)) and ax.get_xlim() == (-0.5, 6.5)
    layer_axis(ax, 5, axis="y", label="peak layer")
    assert list(ax.get_yticks()) == list(range(1, 6)) and ax.get_ylabel() == "peak layer"
    with pytest.raises(InvalidInputError):
        layer_axis(ax, 5, axis="z")
    with pytest.raises(InvalidInputError):
        layer_axis(ax, 5, first=6)


def test_layer_axis_thins_the_ticks_when_the_labels_would_touch():
    fig, ax = plt.subplots(figsize=(2.5, 2.5))  # a small panel: 13 labels at 10 pt do not fit
    layer_axis(ax, 13)
    fig.canvas.draw()
    ticks = [t for t in ax.get_xticks() if 0.5 <= t <= 13.5]
    assert 3 <= len(ticks) < 13 and all(float(t).is_integer() for t in ticks)
    fig, ax = plt.subplots(figsize=(8, 3))
    layer_axis(ax, 13)
    assert list(ax.get_xticks()) == list(range(1, 14))


def test_integer_ticks():
    fig, ax = plt.subplots()
    ax.plot([-2.6, 3.1], [0, 1])
    integer_ticks(ax.xaxis)
    fig.canvas.draw()
    assert all(float(t).is_integer() for t in ax.get_xticks())


def test_print_style_is_temporary():
    before = mpl.rcParams["legend.fontsize"], mpl.rcParams["xtick.labelsize"]
    with print_style():
        assert mpl.rcParams["legend.fontsize"] == PRINT_SIZES["legend.fontsize"] >= MIN_FONT_PT
        assert mpl.rcParams["xtick.labelsize"] == PRINT_SIZES["xtick.labelsize"]
    assert (mpl.rcParams["legend.fontsize"], mpl.rcParams["xtick.labelsize"]) == before


def test_for_print_sizes_the_axes_it_drew_and_leaves_the_others_alone():
    @for_print
    def plot_small(ax=None):
        ax.plot([1, 2], [1, 2], label="a line")
        ax.legend(fontsize=6)
        ax.set_title("tiny", fontsize=5)
        return ax

    fig, (mine, other) = plt.subplots(1, 2)
    other.set_title("left alone", fontsize=6)
    plot_small(ax=mine)
    fig.canvas.draw()
    assert mine.get_legend().get_texts()[0].get_fontsize() >= MIN_FONT_PT
    assert mine.title.get_fontsize() >= MIN_FONT_PT
    assert all(t.get_fontsize() == PRINT_SIZES["xtick.labelsize"] for t in mine.get_xticklabels())
    assert other.title.get_fontsize() == 6
    assert plot_small.for_print and plot_small.__name__ == "plot_small"


@pytest.mark.parametrize("pyplot", [True, False])
def test_new_panels(pyplot):
    fig, axes = new_panels(2, 3, width=2.0, height=1.5, pyplot=pyplot)
    assert axes.shape == (2, 3) and tuple(fig.get_size_inches()) == (6.0, 3.0)
    assert (fig in [plt.figure(n) for n in plt.get_fignums()]) is pyplot
    assert to_rgba(fig.get_facecolor()) == (1.0, 1.0, 1.0, 1.0)


def test_alignment_profile_plots_layers_one_to_L_plus_one():
    profile = np.array([0.02, 0.05, 0.09, 0.06, 0.03])
    ax = plot_alignment_profile(profile, label="trained", mark_layer=3)
    _assert_labelled(ax)
    x, y = ax.lines[0].get_data()
    np.testing.assert_array_equal(x, np.arange(1, 6))
    np.testing.assert_array_equal(y, profile)
    assert ax.lines[1].get_xdata()[0] == 3  # the marked layer
    assert "output" in [t.get_text() for t in ax.texts]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "trained" in labels
    # a second profile on the same axes takes the next colour
    plot_alignment_profile(profile * 2, ax=ax, label="again")
    assert to_rgba(ax.lines[-1].get_color()) == to_rgba(OKABE_ITO[2])
    assert sum("output" == t.get_text() for t in ax.texts) == 1


def test_alignment_profile_validates():
    with pytest.raises(InvalidInputError, match="1-D"):
        plot_alignment_profile(np.ones((2, 3)))
    with pytest.raises(InvalidInputError, match="mark_layer"):
        plot_alignment_profile(np.ones(4), mark_layer=5)


def test_alignment_during_training_draws_one_curve_per_checkpoint_with_colourbar():
    h = _history()
    ax = plot_alignment_during_training(h)
    _assert_labelled(ax)
    assert len(ax.lines) == h.n_checkpoints
    colourbars = [a for a in ax.figure.axes if a is not ax]
    assert len(colourbars) == 1 and "epoch" in colourbars[0].get_ylabel()
    assert ax.lines[0].get_color() != ax.lines[-1].get_color()


def test_curves_by_layer():
    h = _history()
    ax = plot_curves_by_layer(h.epochs, h.alignment, layers=[1, 4, 7])
    _assert_labelled(ax)
    assert len(ax.lines) == 3
    np.testing.assert_array_equal(ax.lines[1].get_ydata(), h.alignment[:, 3])
    assert ax.lines[2].get_label() == "layer 7 (output)"
    with pytest.raises(InvalidInputError, match="layers"):
        plot_curves_by_layer(h.epochs, h.alignment, layers=[8])
    with pytest.raises(InvalidInputError, match="shape"):
        plot_curves_by_layer(h.epochs[:2], h.alignment)


@pytest.mark.parametrize("diverged", [False, True])
def test_training_curves_figure(diverged):
    fig = plot_training_curves(_history(diverged))
    assert isinstance(fig, Figure) and len(fig.axes) == 2
    for ax in fig.axes:
        _assert_labelled(ax)
    loss_ax, acc_ax = fig.axes
    assert loss_ax.get_yscale() == "log"
    assert len(acc_ax.lines) == 2 + diverged
    fig.savefig(__import__("io").BytesIO(), format="png")  # renders without error


def test_colourbar_over_the_layers_has_integer_ticks():
    h = _history()
    ax = plot_curves_by_layer(h.epochs, h.alignment)
    ax.figure.canvas.draw()
    bar = ax.figure.axes[-1]
    assert all(float(t).is_integer() for t in bar.get_yticks())


def _summaries():
    from eqhyp_utils.experiments.config import RunConfig
    from eqhyp_utils.experiments.scoreboard import summarise_configurations

    rng = np.random.default_rng(0)
    payloads = []
    for L in (6, 12):
        for seed in (0, 1):
            config = RunConfig(depth=L, seed=seed)
            A = rng.uniform(0.0, 0.05, size=(3, L + 1))
            A[1:, L // 2 + seed] = 0.2
            payloads.append({"config": config.to_dict(), "config_hash": config.config_hash(),
                             "history": {"alignment": A.tolist(), "epochs": [0.0, 1.0, 2.0],
                                         "train_accuracy": [0.5] * 3, "diverged": False}})
    return summarise_configurations(payloads)


def test_report_figures_are_the_experiment_figures_on_plain_figures():
    """plotting.report keeps the report's call signatures; the drawing is plotting.experiments'."""
    from eqhyp_utils.experiments.report import PROTOCOL_TEXT, depth_scaling_analysis
    from eqhyp_utils.plotting import experiments as px
    from eqhyp_utils.plotting import report as pr

    summaries = _summaries()
    report = pr.predicted_vs_measured_figure(summaries, ["final", "time_averaged"], PROTOCOL_TEXT)
    notebook = px.predicted_vs_measured_figure(summaries, "EH", ["final", "time_averaged"], group_by="dataset",
                                               protocol_titles=PROTOCOL_TEXT)
    assert type(report) is Figure and report not in [plt.figure(n) for n in plt.get_fignums()]
    for a, b in zip(report.axes, notebook.axes):
        assert a.get_title() == b.get_title() and "(a)" in report.axes[0].get_title()
        for la, lb in zip(a.lines, b.lines):
            np.testing.assert_array_equal(la.get_xydata(), lb.get_xydata())
    analysis = depth_scaling_analysis(summaries, min_depth_subsets=(None,), n_boot=20)
    report = pr.depth_scaling_figure(analysis, ["final", "time_averaged"], "a title")
    notebook = px.depth_scaling_figure(analysis, ["final", "time_averaged"], title="a title")
    assert report.axes[0].get_title() == "a title"
    assert [line.get_label() for line in report.axes[0].lines] == [line.get_label() for line in notebook.axes[0].lines]
    profiles = pr.depth_profiles_figure([{"depth": 6, "profiles": {"seed 0": np.ones(7)}, "eh_layer": 4}], "$A_l$")
    assert list(profiles.axes[0].get_xticks()) == list(range(1, 8))
