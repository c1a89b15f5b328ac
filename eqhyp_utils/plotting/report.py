"""Figures of the experiment reports (``results/*/figures``): drawn on plain matplotlib Figures, with
no pyplot and no backend choice, so that writing a report changes no global state.

* :func:`predicted_vs_measured_figure`: measured peak (mean and seed range) against the EH layer;
* :func:`depth_profiles_figure`: each depth's alignment profiles (one line per seed), EH layer dashed;
* :func:`depth_scaling_figure`: log–log peak against depth with the power-law fits and the EH crossing.
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import NullFormatter, ScalarFormatter

from . import MARKERS, OKABE_ITO, layer_axis

__all__ = ["predicted_vs_measured_figure", "depth_profiles_figure", "depth_scaling_figure"]


def _figure(n_rows: int, n_cols: int, width: float, height: float) -> tuple[Figure, np.ndarray]:
    fig = Figure(figsize=(width * n_cols, height * n_rows), layout="constrained")
    fig.patch.set_facecolor("white")
    axes = np.array(fig.subplots(n_rows, n_cols, squeeze=False))
    for ax in axes.flat:
        ax.set_facecolor("white")
    return fig, axes


def predicted_vs_measured_figure(summaries: Sequence[Any], protocols: Sequence[str],
                                 protocol_titles: Mapping[str, str], predictor: str = "EH") -> Figure:
    """One panel per protocol: measured peak layer (mean over seeds, bars: min … max) against the
    ``predictor``'s layer, one colour per data set; the dashed line is measured = predicted."""
    fig, axes = _figure(1, len(protocols), 4.8, 4.4)
    datasets = sorted({s.config["dataset"] for s in summaries})
    for ax, p in zip(axes[0], protocols):
        top = 2.0
        for k, dset in enumerate(datasets):
            sel = [s for s in summaries if s.config["dataset"] == dset and s.predictions.get(predictor) is not None
                   and any(v is not None for v in s.peaks[p])]
            if not sel:
                continue
            x = np.array([s.predictions[predictor] for s in sel], dtype=float)
            peaks = [[v for v in s.peaks[p] if v is not None] for s in sel]
            y = np.array([np.mean(v) for v in peaks])
            lo = y - np.array([min(v) for v in peaks])
            hi = np.array([max(v) for v in peaks]) - y
            ax.errorbar(x, y, yerr=[lo, hi], fmt=MARKERS[k], color=OKABE_ITO[k + 1], label=dset, capsize=2)
            top = max(top, x.max(), (y + hi).max())
        ax.plot([0, top + 1], [0, top + 1], color="k", lw=1, ls="--", label="measured = predicted")
        ax.set(xlim=(0, top + 1), ylim=(0, top + 1), aspect="equal", xlabel=f"{predictor} predicted layer",
               ylabel="measured peak layer (mean, seed range)", title=protocol_titles.get(p, p))
        ax.legend(fontsize=9)
    return fig


def depth_profiles_figure(panels: Sequence[Mapping[str, Any]], ylabel: str, title: str = "") -> Figure:
    """Small multiples, one per depth: ``panels[i]`` = {"depth": L, "profiles": {label: profile},
    "eh_layer": l*}; each profile (entry j = layer j + 1) is one line, the EH layer a dashed line."""
    cols = min(4, max(1, len(panels)))
    rows = -(-len(panels) // cols)
    fig, axes = _figure(rows, cols, 3.4, 2.8)
    for ax, panel in zip(axes.flat, panels):
        n_layers = 1
        for k, (label, profile) in enumerate(panel["profiles"].items()):
            a = np.asarray(profile, dtype=float)
            n_layers = max(n_layers, len(a))
            ax.plot(np.arange(1, len(a) + 1), a, color=OKABE_ITO[k % 7 + 1], lw=1.2, label=label)
        if panel.get("eh_layer") is not None:
            ax.axvline(panel["eh_layer"], color="k", ls="--", lw=1, label="EH $l^*$")
        layer_axis(ax, n_layers, label="layer $l$")
        ax.set_title(f"L = {panel['depth']}", fontsize=10)
        ax.set_ylabel(ylabel)
    for ax in list(axes.flat)[len(panels):]:
        ax.axis("off")
    if panels:
        axes.flat[0].legend(fontsize=7)
    if title:
        fig.suptitle(title)
    return fig


def depth_scaling_figure(analysis: Mapping[str, Any], protocols: Sequence[str], title: str) -> Figure:
    """Log–log measured peak layer against depth L: one marker per run and protocol, the fitted power
    law of each protocol over all depths, the EH crossing, and the output layer L + 1 for scale."""
    fig, axes = _figure(1, 1, 6.2, 4.4)
    ax = axes[0, 0]
    L = np.array(analysis["depths"], dtype=float)
    for k, p in enumerate(protocols):
        for r in analysis["per_depth"]:
            values = [v for v in r["peaks"].get(p, []) if v is not None]
            ax.scatter([r["depth"] * (1 + 0.03 * (2 * k - 1))] * len(values), values, color=OKABE_ITO[k + 1],
                       marker=MARKERS[k], s=18, alpha=0.8, label=f"measured, {p}" if r is analysis["per_depth"][0] else None)
        fit = analysis["fits"].get("all", {}).get(p)
        if fit:
            ax.plot(L, fit["prefactor"] * L ** fit["exponent"], color=OKABE_ITO[k + 1],
                    label=f"fit {p}: $L^{{{fit['exponent']:.2f}}}$")
    ax.plot(L, [r["eh_layer"] for r in analysis["per_depth"]], "k--", marker="x", label="EH $l^*$ (exact crossing)")
    ax.plot(L, L + 1, color="0.6", lw=1, label="output layer $L+1$")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xticks(L)
    for axis in (ax.xaxis, ax.yaxis):
        axis.set_major_formatter(ScalarFormatter())
        axis.set_minor_formatter(NullFormatter())
    ax.set(xlabel="depth $L$ (hidden layers)", ylabel="peak layer", title=title)
    ax.legend(fontsize=8)
    return fig
