r"""Demos of notebooks 3 and 4: sliders for mean-field signal propagation against finite random networks.

The figures are drawn in :mod:`eqhyp_utils.plotting.signal_propagation` and importable from here:
:func:`forward_propagation_figure` (the correlation :math:`c_l` of two inputs through the layers,
infinite-width recursion against random networks of chosen widths) and
:func:`backward_propagation_figure` (the gradient norm ratio :math:`\|\delta_l\|^2/\|\delta_{L+1}\|^2`
and the gradient correlation :math:`\prod_{k=l}^{L}\rho(c_k)`). The ``*_widget`` functions wire
ipywidgets sliders to them.
"""
from __future__ import annotations

import matplotlib.pyplot as plt

from ..errors import InvalidInputError
from ..plotting.signal_propagation import backward_propagation_figure, forward_propagation_figure

__all__ = ["ACTIVATION_CHOICES", "forward_propagation_figure", "backward_propagation_figure",
           "forward_propagation_widget", "backward_propagation_widget"]

ACTIVATION_CHOICES = ("relu", "leaky_relu", "tanh", "erf", "gelu")


def _sliders(width_default: int):
    import ipywidgets as w

    return dict(
        activation=w.Dropdown(options=ACTIVATION_CHOICES, value="tanh", description="activation"),
        sigma_w2=w.FloatSlider(value=1.5, min=0.5, max=4.0, step=0.05, description="σ_w²"),
        sigma_b2=w.FloatSlider(value=0.05, min=0.0, max=1.0, step=0.01, description="σ_b²"),
        depth=w.IntSlider(value=20, min=2, max=60, description="depth L"),
        width=w.IntSlider(value=width_default, min=8, max=1024, step=8, description="width N"),
        c0=w.FloatSlider(value=0.2, min=-0.9, max=0.95, step=0.05, description="c₀"),
    )


def _show(figure_function, **kwargs):
    try:
        figure_function(**kwargs)
    except InvalidInputError as err:  # e.g. ReLU with a bias at σ_w² ≥ 2: say why instead of a traceback
        print(f"Cannot draw this setting: {err}")
        return
    plt.show()


def forward_propagation_widget():
    """Sliders for :func:`forward_propagation_figure` (one width at a time, 3 networks)."""
    import ipywidgets as w

    def draw(activation, sigma_w2, sigma_b2, depth, width, c0):
        _show(forward_propagation_figure, activation=activation, sigma_w2=sigma_w2, sigma_b2=sigma_b2,
              depth=depth, widths=(width,), c0=c0)

    return w.interactive(draw, **_sliders(128))


def backward_propagation_widget():
    """Sliders for :func:`backward_propagation_figure` (one width at a time, 3 networks)."""
    import ipywidgets as w

    def draw(activation, sigma_w2, sigma_b2, depth, width, c0):
        _show(backward_propagation_figure, activation=activation, sigma_w2=sigma_w2, sigma_b2=sigma_b2,
              depth=depth, widths=(width,), c0=c0)

    return w.interactive(draw, **_sliders(128))
