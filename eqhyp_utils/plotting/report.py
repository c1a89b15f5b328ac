"""Figures of the experiment reports (``results/*/figures``): drawn on plain matplotlib Figures, with
no pyplot and no backend choice, so that writing a report changes no global state.

* :func:`predicted_vs_measured_figure`: measured peak (mean and seed range) against the EH layer,
  one panel per protocol — the report's call of
  :func:`eqhyp_utils.plotting.experiments.predicted_vs_measured_figure`;
* :func:`depth_profiles_figure`: each depth's alignment profiles (one line per seed), EH layer dashed;
* :func:`depth_scaling_figure`: log–log peak against depth with the power-law fits and the EH crossing —
  the report's call of :func:`eqhyp_utils.plotting.experiments.depth_scaling_figure`.
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure

from . import LEGEND_PT, OKABE_ITO, for_print, layer_axis, new_panels
from . import experiments as _experiments

__all__ = ["predicted_vs_measured_figure", "depth_profiles_figure", "depth_scaling_figure"]


def predicted_vs_measured_figure(summaries: Sequence[Any], protocols: Sequence[str],
                                 protocol_titles: Mapping[str, str], predictor: str = "EH") -> Figure:
    """One panel per protocol: measured peak layer (mean over seeds, bars: min … max) against the
    ``predictor``'s layer (``s.predictions[predictor]``), one colour per data set; the dashed line is
    measured = predicted. Drawn by :func:`eqhyp_utils.plotting.experiments.predicted_vs_measured_figure`."""
    return _experiments.predicted_vs_measured_figure(summaries, predictor, list(protocols), group_by="dataset",
                                                     protocol_titles=protocol_titles, pyplot=False)


@for_print
def depth_profiles_figure(panels: Sequence[Mapping[str, Any]], ylabel: str, title: str = "") -> Figure:
    """Small multiples, one per depth: ``panels[i]`` = {"depth": L, "profiles": {label: profile},
    "eh_layer": l*}; each profile (entry j = layer j + 1) is one line, the EH layer a dashed line."""
    cols = min(3, max(1, len(panels)))
    rows = -(-len(panels) // cols)
    fig, axes = new_panels(rows, cols, width=3.4, height=2.8, pyplot=False)
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
        axes.flat[0].legend(fontsize=LEGEND_PT)
    if title:
        fig.suptitle(title)
    return fig


def depth_scaling_figure(analysis: Mapping[str, Any], protocols: Sequence[str], title: str) -> Figure:
    """Log–log measured peak layer against depth L: one marker per run and protocol, the fitted power
    law of each protocol over all depths, the EH crossing, and the output layer L + 1 for scale.
    Drawn by :func:`eqhyp_utils.plotting.experiments.depth_scaling_figure`."""
    return _experiments.depth_scaling_figure(analysis, list(protocols), "all", title=title, pyplot=False)
