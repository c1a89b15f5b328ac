"""The alignment explorer: cached short training runs (widgets.alignment), the drawing function
(plotting.explorer), the widget."""
import math

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from eqhyp_utils.errors import InvalidInputError, UnsupportedError  # noqa: E402
from eqhyp_utils.plotting.explorer import plot_alignment_explorer  # noqa: E402
from eqhyp_utils.training import checkpoint_schedule  # noqa: E402
from eqhyp_utils.widgets import alignment as widget_module  # noqa: E402
from eqhyp_utils.widgets.alignment import (alignment_explorer_widget, alignment_run_config,  # noqa: E402
                                           output_layer_ceiling, train_alignment_histories,
                                           train_alignment_history)

TINY = dict(width=16, epochs=2, n_per_class=3)


@pytest.fixture(scope="module")
def histories():
    return train_alignment_histories(datasets=("digits",), activations=("relu", "tanh"), depths=(2,), **TINY)


def test_ceiling_by_hand():
    assert output_layer_ceiling(2) == pytest.approx(1 / math.sqrt(2))
    assert output_layer_ceiling(10) == pytest.approx(0.10540925533894598)
    with pytest.raises(InvalidInputError):
        output_layer_ceiling(1)


def test_runs_have_one_profile_per_checkpoint(histories):
    assert set(histories) == {("digits", "relu", 2), ("digits", "tanh", 2)}
    for h in histories.values():
        spe = h.steps_per_epoch
        assert h.steps.tolist() == checkpoint_schedule(2, spe)  # the recipe's default schedule
        assert h.alignment.shape == (h.n_checkpoints, 3)
        assert np.isfinite(h.alignment).all()
        # the output layer never exceeds its ceiling (10 balanced classes in the probe set)
        assert (h.alignment[:, -1] <= output_layer_ceiling(10) + 1e-9).all()
        assert h.config["run"]["activation"] in ("relu", "tanh") and h.config["n_classes"] == 10


def test_runs_are_cached_and_deterministic(histories):
    again = train_alignment_history("digits", "relu", 2, **TINY)
    assert again is histories[("digits", "relu", 2)]
    from eqhyp_utils.experiments.runner import train_run

    fresh = train_run(alignment_run_config("digits", "relu", 2, **TINY))  # the uncached recipe
    np.testing.assert_array_equal(fresh.alignment, again.alignment)


def test_figure_has_labelled_panels(histories):
    fig = plot_alignment_explorer(histories, "digits", "tanh", 2, checkpoint=1)
    ax, ax_acc = fig.axes[:2]
    assert "alignment" in ax.get_ylabel() and "layer" in ax.get_xlabel()
    assert "tanh" in ax.get_title() and "digits" in ax.get_title()
    assert ax_acc.get_xlabel() == "training time (epochs)" and ax_acc.get_ylabel() == "accuracy"
    h = histories[("digits", "tanh", 2)]
    plotted = [line.get_ydata() for line in ax.lines if len(line.get_ydata()) == 3]
    assert any(np.allclose(y, h.alignment[1]) for y in plotted)
    assert any(np.allclose(y, h.alignment[0]) for y in plotted)
    plt.close(fig)


def test_the_notebook_name_is_the_plotting_function():
    assert widget_module.plot_alignment_explorer is plot_alignment_explorer  # notebook 2 imports it from the widget
    assert "plot_alignment_explorer" in widget_module.__all__


def test_bad_choices_are_explained(histories):
    with pytest.raises(InvalidInputError, match="no run"):
        plot_alignment_explorer(histories, "mnist1d", "relu", 2)
    with pytest.raises(InvalidInputError, match="checkpoint"):
        plot_alignment_explorer(histories, "digits", "relu", 2, checkpoint=99)
    with pytest.raises(UnsupportedError, match="activation"):
        train_alignment_history("digits", "sigmoid", 2, **TINY)
    with pytest.raises(UnsupportedError, match="dataset"):
        train_alignment_history("cifar", "relu", 2, **TINY)
    with pytest.raises(InvalidInputError, match="depth"):
        train_alignment_history("digits", "relu", 0, **TINY)


def test_widget_builds(histories):
    pytest.importorskip("ipywidgets")
    w = alignment_explorer_widget(histories)
    names = [getattr(c, "description", "") for c in w.children]
    assert {"data set", "activation", "depth L", "checkpoint"} <= set(names)
    plt.close("all")
    with pytest.raises(InvalidInputError):
        alignment_explorer_widget({})
