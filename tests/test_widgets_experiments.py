"""The figure functions of notebooks 6 and 7 (eqhyp_utils.plotting.experiments, wired and re-exported by
eqhyp_utils.widgets.experiments) on small synthetic results."""
import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from eqhyp_utils.equilibrium import equilibrium_layer  # noqa: E402
from eqhyp_utils.errors import InvalidInputError  # noqa: E402
from eqhyp_utils.experiments.config import Grid, RunConfig  # noqa: E402
from eqhyp_utils.experiments.interventions import intervention_rows  # noqa: E402
from eqhyp_utils.experiments.report import depth_scaling_analysis  # noqa: E402
from eqhyp_utils.experiments.scoreboard import summarise_configurations  # noqa: E402
from eqhyp_utils.plotting import experiments as px  # noqa: E402
from eqhyp_utils.widgets import experiments as wx  # noqa: E402

FIGURES = ("predicted_vs_measured_figure", "depth_scaling_figure", "intervention_figure",
           "alignment_checkpoint_figure", "residual_information_figure")


def _payload(config: RunConfig, peak: int, rng) -> dict:
    """A result payload whose alignment peaks at layer ``peak`` at every checkpoint after the first epoch."""
    n_layers = config.depth + 1
    epochs = [0.0, 0.5, 1.0, 2.0, 3.0]
    A = rng.uniform(0.0, 0.05, size=(len(epochs), n_layers))
    A[2:, peak - 1] = 0.2
    return {"config": config.to_dict(), "config_hash": config.config_hash(),
            "history": {"alignment": A.tolist(), "epochs": epochs, "train_accuracy": [0.5] * len(epochs),
                        "diverged": False}}


@pytest.fixture(scope="module")
def depth_results():
    rng = np.random.default_rng(0)
    payloads = []
    for L in (6, 12, 24):
        for seed in (0, 1):
            c = RunConfig(depth=L, seed=seed)
            payloads.append(_payload(c, max(1, round(0.7 * L) + seed), rng))
    return payloads


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_the_notebook_names_are_the_plotting_functions():
    for name in FIGURES:  # notebooks 6 and 7 call them as wx.<name>
        assert getattr(wx, name) is getattr(px, name) and name in wx.__all__


def test_predicted_vs_measured_draws_one_panel_per_predictor(depth_results):
    summaries = summarise_configurations(depth_results)
    fig = px.predicted_vs_measured_figure(summaries, {"EH": [s.predictions["EH"] for s in summaries],
                                                      "middle": [s.predictions["middle"] for s in summaries]})
    assert len(fig.axes) == 2
    # the error bars' centres are the seed means of the measured peaks
    centres = fig.axes[0].lines[0].get_ydata()
    assert np.allclose(sorted(centres), sorted(np.mean(s.peaks["final"]) for s in summaries))
    with pytest.raises(InvalidInputError):
        px.predicted_vs_measured_figure(summaries, {"EH": [1]})
    with pytest.raises(InvalidInputError):
        px.predicted_vs_measured_figure(summaries, {"EH": [1, 2, 3]}, protocol="best")


def test_predicted_vs_measured_takes_several_protocols_and_a_stored_predictor(depth_results):
    summaries = summarise_configurations(depth_results)
    fig = px.predicted_vs_measured_figure(summaries, "EH", ["final", "time_averaged"], group_by="dataset",
                                          protocol_titles={"final": "(a) final"})
    assert len(fig.axes) == 2 and fig.axes[0].get_title() == "(a) final"
    for ax, protocol in zip(fig.axes, ("final", "time_averaged")):
        x, y = ax.lines[0].get_data()
        assert np.allclose(sorted(x), sorted(s.predictions["EH"] for s in summaries))
        assert np.allclose(sorted(y), sorted(np.mean(s.peaks[protocol]) for s in summaries))
    fig = px.predicted_vs_measured_figure(summaries, "EH", ["final", "time_averaged", "final top"])
    assert len([ax for ax in fig.axes if ax.axison]) == 3 and len(fig.axes) == 4  # two panels per row


def test_missing_seed_peaks_are_left_out(depth_results):
    summaries = summarise_configurations(depth_results)
    summaries[0].peaks["final"] = [None] + list(summaries[0].peaks["final"][1:])
    fig = px.predicted_vs_measured_figure(summaries, "EH")
    assert np.mean(summaries[0].peaks["final"][1:]) in fig.axes[0].lines[0].get_ydata()


def test_depth_scaling_figure_draws_the_fit(depth_results):
    analysis = depth_scaling_analysis(summarise_configurations(depth_results), min_depth_subsets=(None,), n_boot=50)
    fig = px.depth_scaling_figure(analysis)
    ax = fig.axes[0]
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    labels = [line.get_label() for line in ax.lines]
    fit = analysis["fits"]["all"]["final"]
    assert any(f"{fit['exponent']:.2f}" in label for label in labels)
    eh = next(line for line in ax.lines if "EH" in line.get_label())
    assert list(eh.get_ydata()) == [equilibrium_layer("relu", 2.0, 0.0, L) for L in (6, 12, 24)]
    with pytest.raises(InvalidInputError):
        px.depth_scaling_figure({"per_depth": analysis["per_depth"][:1]})
    with pytest.raises(InvalidInputError, match="best"):
        px.depth_scaling_figure(analysis, "best")


def test_depth_scaling_figure_draws_every_seed_of_several_protocols(depth_results):
    analysis = depth_scaling_analysis(summarise_configurations(depth_results), min_depth_subsets=(None,), n_boot=50)
    fig = px.depth_scaling_figure(analysis, ["final", "time_averaged"], title="both protocols")
    ax = fig.axes[0]
    assert ax.get_title() == "both protocols"
    drawn = sorted(y for c in ax.collections for y in c.get_offsets()[:, 1])
    expected = sorted(v for p in ("final", "time_averaged") for r in analysis["per_depth"] for v in r["peaks"][p])
    assert drawn == expected
    labels = [line.get_label() for line in ax.lines]
    assert not any("3/5" in label for label in labels)  # the reference lines only with one protocol
    assert sum(label.startswith("fit") for label in labels) == 2


def test_intervention_figure_places_predicted_and_measured_shifts():
    rng = np.random.default_rng(1)
    grid = Grid("interventions.bias", tuple(RunConfig(sigma_b2=b, seed=s) for b in (0.0, 0.5) for s in (0, 1)))
    payloads = [_payload(c, 12 if c.sigma_b2 == 0 else 9, rng) for c in grid.runs]
    rows = intervention_rows(grid, summarise_configurations(payloads))
    fig = px.intervention_figure(rows)
    point = fig.axes[0].lines[0]
    predicted = equilibrium_layer("relu", 2.0, 0.5, 16) - equilibrium_layer("relu", 2.0, 0.0, 16)
    assert point.get_xdata()[0] == predicted and point.get_ydata()[0] == -3.0
    with pytest.raises(InvalidInputError):
        px.intervention_figure(rows[:1])  # only the reference


def test_alignment_checkpoint_figure_marks_each_seeds_peak(depth_results):
    seeds = [p for p in depth_results if p["config"]["depth"] == 12]
    fig = px.alignment_checkpoint_figure(seeds, -1, eh_layer=7)
    stars = [line for line in fig.axes[0].lines if line.get_marker() == "*"]
    expected = [int(np.argmax(p["history"]["alignment"][-1])) + 1 for p in seeds]
    assert [int(s.get_xdata()[0]) for s in stars] == expected
    with pytest.raises(InvalidInputError):
        px.alignment_checkpoint_figure(seeds, 99)
    with pytest.raises(InvalidInputError):
        px.alignment_checkpoint_figure([seeds[0], depth_results[0]])


def test_residual_information_figure_marks_both_crossings():
    fig = px.residual_information_figure(alpha=0.25, depth=16)
    labels = [line.get_label() for line in fig.axes[0].lines]
    assert f"crossing, plain MLP: $l^*$ = {equilibrium_layer('relu', 2.0, 0.0, 16)}" in labels
    assert f"crossing, residual α = 0.25: $l^*$ = {equilibrium_layer('relu', 2.0, 0.0, 16, alpha=0.25)}" in labels
    with pytest.raises(InvalidInputError):
        px.residual_information_figure(alpha=-1.0)


def test_widgets_build():
    pytest.importorskip("ipywidgets")
    assert wx.residual_information_widget() is not None
