r"""The figure of notebook 5, "where will this network align?" (sliders: :mod:`eqhyp_utils.widgets.equilibrium`).

:func:`equilibrium_figure` draws the Equilibrium Hypothesis's prediction for an architecture — the
forward information :math:`F_l = 1 - c_{l-1}`, the backward information
:math:`B_l = \prod_{k=l}^{L}\rho(c_k)` and their crossing :math:`l^*`
(:func:`eqhyp_utils.equilibrium.predict_equilibrium`) — and, when given, a measured alignment profile
:math:`A_l` of a trained network beside it.
"""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from ..equilibrium import baseline_predictions, predict_equilibrium
from ..errors import InvalidInputError
from . import LEGEND_PT, MARKERS, OKABE_ITO, _white, for_print, layer_axis

__all__ = ["equilibrium_figure"]


@for_print
def equilibrium_figure(activation: str = "relu", sigma_w2: float = 2.0, sigma_b2: float = 0.0, depth: int = 16,
                       *, c0: float = 0.2, measured: "np.ndarray | None" = None,
                       measured_label: str = "measured alignment") -> Figure:
    r"""Left: :math:`F_l` and :math:`B_l` against the layer l = 1 … L + 1 with :math:`l^*` marked.
    Right: the measured alignment profile ``measured`` (length L + 1, entry i = layer i + 1) with
    :math:`l^*`, its argmax and the depth-only baselines marked — or, without ``measured``, a note.
    """
    prediction = predict_equilibrium(activation, sigma_w2, sigma_b2, depth, c0=c0)
    layers = prediction.layers
    if measured is not None:
        measured = np.asarray(measured, dtype=np.float64)
        if measured.shape != (depth + 1,) or not np.all(np.isfinite(measured)):
            raise InvalidInputError(
                f"measured must be a finite alignment profile of length L + 1 = {depth + 1}, got shape {measured.shape}.")

    fig, axes = plt.subplots(1, 2, figsize=(10.5, 3.9), layout="constrained")
    _white(fig)
    ax = axes[0]
    ax.plot(layers, prediction.forward, color=OKABE_ITO[5], marker=MARKERS[1], markersize=4,
            label=r"forward information $1 - c_{l-1}$")
    ax.plot(layers, prediction.backward, color=OKABE_ITO[6], marker=MARKERS[2], markersize=4, linestyle="--",
            label=r"backward information $\prod_{k=l}^{L}\rho(c_k)$")
    ax.axvline(prediction.layer, color="black", linestyle=":", label=rf"equilibrium layer $l^*$ = {prediction.layer}")
    layer_axis(ax, depth + 1)
    ax.set(ylabel="information still present", ylim=(0, 1.05),
           title=rf"{activation}: $\sigma_w^2$ = {sigma_w2:g}, $\sigma_b^2$ = {sigma_b2:g}, $L$ = {depth}")
    ax.legend(fontsize=LEGEND_PT, loc="center right")

    ax = axes[1]
    if measured is None:
        ax.text(0.5, 0.5, "no measured profile:\ntrain a network to compare", ha="center", va="center",
                transform=ax.transAxes, fontsize=11, color="grey")
        layer_axis(ax, depth + 1, label="layer $l$")
        ax.set(ylabel="alignment $A_l$", title="measured alignment")
    else:
        ax.plot(layers, measured, color="black", marker="o", markersize=4, label=measured_label)
        peak = int(np.argmax(measured)) + 1
        ax.axvline(prediction.layer, color="black", linestyle=":", label=rf"predicted $l^*$ = {prediction.layer}")
        ax.axvline(peak, color=OKABE_ITO[3], linestyle="-", alpha=0.7, label=f"measured peak = {peak}")
        for i, (name, layer) in enumerate(baseline_predictions(depth).items()):
            ax.plot([layer], [measured[layer - 1]], marker=MARKERS[4 + i], markersize=9, linestyle="none",
                    color=OKABE_ITO[1 + 6 * i], label=f"{name} = {layer}")
        layer_axis(ax, depth + 1)
        ax.set(ylabel="alignment $A_l$", title="measured alignment")
        ax.legend(fontsize=LEGEND_PT)
    return fig
