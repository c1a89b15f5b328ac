r"""Sliders of notebooks 6 and 7: the Equilibrium Hypothesis against the experiments.

The figures are drawn in :mod:`eqhyp_utils.plotting.experiments` and importable from here, as the
notebooks use them: :func:`predicted_vs_measured_figure`, :func:`depth_scaling_figure`,
:func:`intervention_figure`, :func:`alignment_checkpoint_figure` and :func:`residual_information_figure`.
This module wires controls to two of them:

* :func:`peak_browser_widget`: a checkpoint slider for :func:`alignment_checkpoint_figure`, to watch
  the argmax of a configuration's alignment profiles move during training (notebook 6);
* :func:`residual_information_widget`: sliders (α, depth L, σ_b²) for
  :func:`residual_information_figure` (notebook 7).
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import matplotlib.pyplot as plt

from ..errors import InvalidInputError
from ..plotting.experiments import (alignment_checkpoint_figure, depth_scaling_figure, intervention_figure,
                                    predicted_vs_measured_figure, residual_information_figure)

__all__ = ["predicted_vs_measured_figure", "depth_scaling_figure", "intervention_figure",
           "alignment_checkpoint_figure", "peak_browser_widget", "residual_information_figure",
           "residual_information_widget"]


def peak_browser_widget(payloads: Sequence[Mapping[str, Any]], eh_layer: "int | None" = None):
    """A checkpoint slider for :func:`alignment_checkpoint_figure` (run in JupyterLab)."""
    import ipywidgets as w

    n_ckpt = len(payloads[0]["history"]["alignment"])

    def draw(checkpoint):
        alignment_checkpoint_figure(payloads, checkpoint, eh_layer=eh_layer)
        plt.show()

    return w.interactive(draw, checkpoint=w.IntSlider(value=n_ckpt - 1, min=0, max=n_ckpt - 1,
                                                      description="checkpoint"))


def residual_information_widget():
    """Sliders (α, depth L, σ_b²) for :func:`residual_information_figure` (ReLU, σ_w² = 2)."""
    import ipywidgets as w

    def draw(alpha, depth, sigma_b2):
        try:
            residual_information_figure(alpha, depth, sigma_b2)
        except InvalidInputError as err:
            print(f"Cannot draw this setting: {err}")
            return
        plt.show()

    return w.interactive(draw,
                         alpha=w.FloatLogSlider(value=0.25, base=10, min=-2, max=0.5, step=0.05, description="α"),
                         depth=w.IntSlider(value=16, min=2, max=128, description="depth L"),
                         sigma_b2=w.FloatSlider(value=0.0, min=0.0, max=1.0, step=0.05, description="σ_b²"))
