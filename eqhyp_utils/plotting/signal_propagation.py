r"""The figures of notebooks 3 and 4: mean-field signal propagation against finite random networks
(sliders: :mod:`eqhyp_utils.widgets.signal_propagation`).

:func:`forward_propagation_figure` draws the correlation :math:`c_l` of two inputs through the
layers, from the infinite-width recursion (:func:`eqhyp_utils.signal_propagation.forward_signal`)
and measured on random networks of chosen widths (:func:`eqhyp_utils.finite_width.measure_forward_signal`).
:func:`backward_propagation_figure` does the same for the backward pass: the gradient norm ratio
:math:`\|\delta_l\|^2/\|\delta_{L+1}\|^2` and the gradient correlation :math:`\prod_{k=l}^{L}\rho(c_k)`.
"""
from __future__ import annotations

from typing import Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from .. import finite_width as fw
from .. import signal_propagation as sp
from ..activations import get_activation
from ..errors import InvalidInputError
from . import LEGEND_PT, MARKERS, OKABE_ITO, _white, for_print, layer_axis

__all__ = ["forward_propagation_figure", "backward_propagation_figure"]

_IN_FEATURES = 64
_OUT_FEATURES = 10


def _check_widths(widths: "int | Sequence[int]", n_networks: int) -> list[int]:
    widths = [widths] if isinstance(widths, (int, np.integer)) else list(widths)
    if not widths or not all(isinstance(w, (int, np.integer)) and w >= 2 for w in widths):
        raise InvalidInputError(f"widths must be one or more integers >= 2, got {widths!r}.")
    if not (isinstance(n_networks, (int, np.integer)) and n_networks >= 1):
        raise InvalidInputError(f"n_networks must be an integer >= 1, got {n_networks!r}.")
    return [int(w) for w in widths]


def _finite_networks(activation, sigma_w2, sigma_b2, depth, width, n_networks, seed):
    seeds = range(seed * 1000, seed * 1000 + n_networks)
    return fw.random_networks(_IN_FEATURES, _OUT_FEATURES, depth, width, activation=activation,
                              sigma_w2=sigma_w2, sigma_b2=sigma_b2, seeds=seeds)


def _has_phase(act, sigma_w2: float, sigma_b2: float) -> bool:
    try:
        sp.phase(act, sigma_w2, sigma_b2)
    except InvalidInputError:
        return False
    return True


@for_print
def forward_propagation_figure(activation: str = "tanh", sigma_w2: float = 3.0, sigma_b2: float = 0.05,
                               depth: int = 20, widths: "int | Sequence[int]" = (32, 512), *, c0: float = 0.2,
                               n_networks: int = 3, seed: int = 0) -> Figure:
    r"""Correlation :math:`c_l` of two inputs, mean field (line) vs finite networks (markers), l = 0 … L.

    Two inputs of dimension 64 with :math:`\|x\|^2/d = 1` and correlation ``c0``
    (:func:`eqhyp_utils.finite_width.input_pair`) go through ``n_networks`` random MLPs per width
    (seeds ``1000·seed`` onwards); markers are the mean over networks, error bars the spread
    (one standard deviation). Layer 0 is the input. The output layer is left out: it has only C = 10
    units, too few for a meaningful correlation.
    """
    widths = _check_widths(widths, n_networks)
    act = get_activation(activation)
    theory = sp.forward_signal(act, sigma_w2, sigma_b2, depth, c0=c0)
    layers = np.arange(depth + 1)
    x1, x2 = fw.input_pair(_IN_FEATURES, c0=c0, seed=seed)

    fig, ax = plt.subplots(figsize=(6.0, 3.8), layout="constrained")
    _white(fig)
    ax.plot(layers, np.concatenate([[c0], theory.c[:depth]]), color="black", linewidth=2,
            label="mean field (infinite width)")
    for i, width in enumerate(widths):
        measured = fw.measure_forward_signal(
            _finite_networks(act, sigma_w2, sigma_b2, depth, width, n_networks, seed), x1, x2)
        ax.errorbar(layers + 0.1 * (i + 1), np.concatenate([[c0], measured.c[:depth]]),
                    yerr=np.concatenate([[0.0], measured.c_std[:depth]]), color=OKABE_ITO[(i + 1) % 8],
                    marker=MARKERS[(i + 1) % 8], markersize=4, linestyle="none", capsize=2,
                    label=f"width {width} ({n_networks} networks)")
    layer_axis(ax, depth, label="layer $l$ (0 = input)", first=0)
    ax.set(ylabel="correlation $c_l$",
           title=rf"{act.name}: $\sigma_w^2$ = {sigma_w2:g}, $\sigma_b^2$ = {sigma_b2:g} "
                 rf"({sp.phase(act, sigma_w2, sigma_b2) if _has_phase(act, sigma_w2, sigma_b2) else 'no fixed point'})")
    ax.legend(fontsize=LEGEND_PT)
    return fig


@for_print
def backward_propagation_figure(activation: str = "tanh", sigma_w2: float = 1.0, sigma_b2: float = 0.05,
                                depth: int = 20, widths: "int | Sequence[int]" = (64, 512), *, c0: float = 0.2,
                                n_networks: int = 3, seed: int = 0) -> Figure:
    r"""Two panels for layers l = 1 … L + 1: the gradient norm ratio
    :math:`\|\delta_l\|^2/\|\delta_{L+1}\|^2` (log scale) and the gradient correlation
    :math:`\mathrm{corr}(\delta_l(x), \delta_l(x'))`, mean field (line,
    :func:`eqhyp_utils.signal_propagation.backward_signal`) vs finite networks (markers: mean over
    networks; error bars: spread of the correlation).

    :math:`\delta_l = \partial f_1/\partial h_l` (fixed output direction :math:`e_1`), inputs as in
    :func:`forward_propagation_figure`.
    """
    widths = _check_widths(widths, n_networks)
    act = get_activation(activation)
    theory = sp.backward_signal(act, sigma_w2, sigma_b2, depth, c0=c0)
    layers = np.arange(1, depth + 2)
    x1, x2 = fw.input_pair(_IN_FEATURES, c0=c0, seed=seed)

    fig, axes = plt.subplots(1, 2, figsize=(10.0, 3.8), layout="constrained")
    _white(fig)
    axes[0].semilogy(layers, theory.norm_ratio, color="black", linewidth=2, label="mean field")
    axes[1].plot(layers, theory.correlation, color="black", linewidth=2, label="mean field")
    for i, width in enumerate(widths):
        measured = fw.measure_backward_signal(
            _finite_networks(act, sigma_w2, sigma_b2, depth, width, n_networks, seed), x1, x2)
        style = dict(color=OKABE_ITO[(i + 1) % 8], marker=MARKERS[(i + 1) % 8], markersize=4, linestyle="none",
                     label=f"width {width} ({n_networks} networks)")
        axes[0].plot(layers + 0.1 * (i + 1), measured.norm_ratio, **style)
        axes[1].errorbar(layers + 0.1 * (i + 1), measured.correlation, yerr=measured.correlation_std,
                         capsize=2, **style)
    chi = sp.chi1(act, sigma_w2, sigma_b2) if _has_phase(act, sigma_w2, sigma_b2) else float("nan")
    axes[0].set(ylabel=r"$\|\delta_l\|^2 / \|\delta_{L+1}\|^2$", title=rf"gradient norm ($\chi_1$ = {chi:.3f})")
    axes[1].set(ylabel=r"corr$(\delta_l(x), \delta_l(x'))$", title=r"gradient correlation $\prod_{k=l}^{L}\rho(c_k)$")
    for ax in axes:
        layer_axis(ax, depth + 1, label="layer $l$")
        ax.legend(fontsize=LEGEND_PT)
    fig.suptitle(rf"{act.name}: $\sigma_w^2$ = {sigma_w2:g}, $\sigma_b^2$ = {sigma_b2:g}, $c_0$ = {c0:g}")
    return fig
