"""The "where will this network align?" demo draws the prediction it claims, and trains deterministically."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from eqhyp_utils import equilibrium as eq  # noqa: E402
from eqhyp_utils.errors import InvalidInputError  # noqa: E402
from eqhyp_utils.experiments.runner import train_run  # noqa: E402
from eqhyp_utils.plotting.equilibrium import equilibrium_figure  # noqa: E402
from eqhyp_utils.widgets import equilibrium as widget_module  # noqa: E402
from eqhyp_utils.widgets.equilibrium import (equilibrium_run_config, equilibrium_widget,  # noqa: E402
                                             train_alignment_profile)


def test_prediction_panel_shows_both_curves_and_the_crossing():
    fig = equilibrium_figure("relu", 2.0, 0.0, 16)
    ax = fig.axes[0]
    p = eq.predict_equilibrium("relu", 2.0, 0.0, 16)
    np.testing.assert_allclose(ax.lines[0].get_ydata(), p.forward)
    np.testing.assert_allclose(ax.lines[1].get_ydata(), p.backward)
    assert ax.lines[2].get_xdata()[0] == p.layer == 8  # docs/science.md §5: l* = 8 at L = 16
    assert ax.get_xlabel() and ax.get_ylabel() and ax.get_title()
    plt.close(fig)


def test_measured_profile_is_drawn_with_its_peak():
    measured = np.array([0.1, 0.2, 0.5, 0.3, 0.2, 0.1, 0.05])  # L = 6, peak at layer 3
    fig = equilibrium_figure("relu", 2.0, 0.0, 6, measured=measured)
    ax = fig.axes[1]
    np.testing.assert_allclose(ax.lines[0].get_ydata(), measured)
    assert any("measured peak = 3" in t.get_text() for t in ax.get_legend().get_texts())
    plt.close(fig)


def test_layer_axes_have_one_integer_tick_per_layer_or_a_thinned_integer_set():
    fig = equilibrium_figure("relu", 2.0, 0.0, 6, measured=np.linspace(0.1, 0.2, 7))
    for ax in fig.axes:
        assert list(ax.get_xticks()) == list(range(1, 8)) and ax.get_xlim() == (0.5, 7.5)
    plt.close(fig)


def test_the_notebook_name_is_the_plotting_function():
    assert widget_module.equilibrium_figure is equilibrium_figure  # notebook 5 imports it from the widget


def test_measured_profile_of_the_wrong_length_is_rejected():
    with pytest.raises(InvalidInputError, match="L \\+ 1"):
        equilibrium_figure("relu", 2.0, 0.0, 6, measured=np.ones(5))


def test_training_is_deterministic_and_records_every_layer():
    kwargs = dict(width=16, epochs=1, n_train=200, probe_per_class=3, seed=3)
    a = train_alignment_profile("relu", 2.0, 0.0, 3, **kwargs)
    b = train_run(equilibrium_run_config("relu", 2.0, 0.0, 3, **kwargs))  # the uncached recipe
    assert a.alignment.shape == (2, 4)  # initialisation + one epoch, layers 1 … L + 1
    np.testing.assert_array_equal(a.alignment, b.alignment)
    assert np.all(np.isfinite(a.alignment))


def test_widget_builds():
    pytest.importorskip("ipywidgets")
    widget = equilibrium_widget()
    assert len(widget.children) >= 5
    plt.close("all")
