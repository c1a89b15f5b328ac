"""The signal-propagation demos draw the theory and the finite networks they claim to draw."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from eqhyp_utils import signal_propagation as sp  # noqa: E402
from eqhyp_utils.errors import InvalidInputError  # noqa: E402
from eqhyp_utils.plotting.signal_propagation import (backward_propagation_figure,  # noqa: E402
                                                     forward_propagation_figure)
from eqhyp_utils.widgets import signal_propagation as widget_module  # noqa: E402
from eqhyp_utils.widgets.signal_propagation import backward_propagation_widget, forward_propagation_widget  # noqa: E402


def test_forward_figure_plots_the_mean_field_curve_and_one_series_per_width():
    fig = forward_propagation_figure("tanh", 3.0, 0.05, depth=6, widths=(16, 64), n_networks=2, seed=1)
    ax = fig.axes[0]
    theory = sp.forward_signal("tanh", 3.0, 0.05, 6, c0=0.2)
    x, y = ax.lines[0].get_data()
    np.testing.assert_array_equal(x, np.arange(7))
    np.testing.assert_allclose(y, np.concatenate([[0.2], theory.c[:6]]))
    assert len(ax.containers) == 2  # one errorbar series per width
    assert ax.get_xlabel() and ax.get_ylabel() and ax.get_title()
    plt.close(fig)


def test_wide_networks_follow_the_theory():
    fig = forward_propagation_figure("tanh", 1.5, 0.05, depth=5, widths=(512,), n_networks=2, seed=0)
    theory = fig.axes[0].lines[0].get_ydata()
    measured = fig.axes[0].containers[0].lines[0].get_ydata()
    # width 512: per-layer fluctuations of c are O(1/√512) ≈ 0.04; two networks averaged
    assert np.max(np.abs(measured - theory)) < 0.08
    plt.close(fig)


def test_backward_figure_has_norm_and_correlation_panels():
    fig = backward_propagation_figure("relu", 2.0, 0.0, depth=5, widths=(32,), n_networks=2)
    assert len(fig.axes) == 2
    theory = sp.backward_signal("relu", 2.0, 0.0, 5, c0=0.2)
    np.testing.assert_allclose(fig.axes[0].lines[0].get_ydata(), theory.norm_ratio)
    np.testing.assert_allclose(fig.axes[1].lines[0].get_ydata(), theory.correlation)
    assert fig.axes[0].get_yscale() == "log"
    plt.close(fig)


def test_the_notebook_names_are_the_plotting_functions():
    assert widget_module.forward_propagation_figure is forward_propagation_figure  # notebooks 3 and 4
    assert widget_module.backward_propagation_figure is backward_propagation_figure


def test_layer_axes_start_at_the_input_forward_and_at_layer_one_backward():
    fig = forward_propagation_figure("relu", 2.0, 0.0, depth=4, widths=(16,), n_networks=1)
    assert list(fig.axes[0].get_xticks()) == [0, 1, 2, 3, 4]
    fig = backward_propagation_figure("relu", 2.0, 0.0, depth=4, widths=(16,), n_networks=1)
    assert all(list(ax.get_xticks()) == [1, 2, 3, 4, 5] for ax in fig.axes)
    plt.close("all")


def test_bad_widths_are_rejected():
    with pytest.raises(InvalidInputError, match="widths"):
        forward_propagation_figure(widths=(0,))
    with pytest.raises(InvalidInputError, match="n_networks"):
        backward_propagation_figure(n_networks=0)


def test_widgets_build():
    pytest.importorskip("ipywidgets")
    for make in (forward_propagation_widget, backward_propagation_widget):
        widget = make()
        assert len(widget.children) >= 6
    plt.close("all")
