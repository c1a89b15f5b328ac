"""Figure functions: each returns its Axes/Figure with labelled axes, a title and a white background."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.colors import to_rgba  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from eqhyp_utils.errors import InvalidInputError  # noqa: E402
from eqhyp_utils.plotting import (OKABE_ITO, layer_axis, plot_alignment_during_training,  # noqa: E402
                                  plot_alignment_profile, plot_curves_by_layer, plot_training_curves)
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
