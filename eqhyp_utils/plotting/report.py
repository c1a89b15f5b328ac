"""Figures of the experiment reports (``results/*/figures``): drawn on plain matplotlib Figures, with
no pyplot and no backend choice, so that writing a report changes no global state.

* :func:`predicted_vs_measured_figure`: measured peak (mean and seed range) against the EH layer,
  one panel per protocol — the report's call of
  :func:`eqhyp_utils.plotting.experiments.predicted_vs_measured_figure`;
* :func:`depth_profiles_figure`: each depth's alignment profiles (one line per seed), EH layer dashed;
* :func:`factor_effects_figure`: the factorial study, one panel per factor: each seed's peak, the
  mean with its 95 % t interval, and the EH's layer;
* :func:`depth_scaling_figure`: log–log peak against depth with the power-law fits and the EH crossing —
  the report's call of :func:`eqhyp_utils.plotting.experiments.depth_scaling_figure`.
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure

from . import LEGEND_PT, MARKERS, OKABE_ITO, for_print, layer_axis, new_panels
from . import experiments as _experiments

__all__ = ["predicted_vs_measured_figure", "depth_profiles_figure", "depth_scaling_figure", "factor_effects_figure"]


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


_FACTOR_TITLES = {"depth": "depth L", "lr": "learning rate (log scale)", "width": "width N (log scale)",
                  "dataset": "data set"}


@for_print
def factor_effects_figure(panels: Sequence[Mapping[str, Any]], title: str = "") -> Figure:
    """One panel per arm of the factorial study (``panels`` from
    :func:`eqhyp_utils.experiments.factorial.factor_panels`): each seed's peak layer (small open
    markers), the mean peak per level with its 95 % Student-t interval (filled markers and bars), and
    the EH layer l* (crosses joined by a dashed line). On the depth arm, the companion depth series
    (e.g. the paper's, whose learning rate falls with depth) are drawn beside it in other colours."""
    from ..experiments.factorial import student_t_interval

    cols = min(4, max(1, len(panels)))
    rows = -(-len(panels) // cols)
    fig, axes = new_panels(rows, cols, width=3.3, height=3.0, pyplot=False)
    for ax, panel in zip(axes.flat, panels):
        factor = panel["factor"]
        categorical = not all(isinstance(v, (int, float)) for v in panel["values"])
        x = np.arange(len(panel["values"]), dtype=float) if categorical else np.asarray(panel["values"], float)
        if factor in ("lr", "width"):
            ax.set_xscale("log", base=2)
        sets = [{"label": f"lr {', '.join(f'{v:g}' for v in panel['lr'])}" if factor != "lr" else "measured",
                 "x": x, "peaks": panel["peaks"]}]
        sets += [{"label": e["label"], "x": np.asarray(e["values"], float), "peaks": e["peaks"]}
                 for e in panel.get("extra", [])]
        for k, points in enumerate(sets):
            colour, marker = OKABE_ITO[(5, 6, 1, 3)[k % 4]], MARKERS[k % len(MARKERS)]
            offset = 1.0 + 0.04 * k if factor in ("lr", "width") else 0.25 * k * (1 if categorical else 1.2)
            xs = points["x"] * offset if factor in ("lr", "width") else points["x"] + offset
            for xi, peaks in zip(xs, points["peaks"]):
                if peaks:
                    ax.plot([xi] * len(peaks), peaks, marker, mfc="none", color=colour, ms=4, alpha=0.6, lw=0)
            means = [student_t_interval(p) for p in points["peaks"]]
            ok = [i for i, m in enumerate(means) if m["n"]]
            if ok:
                m = np.array([means[i]["mean"] for i in ok])
                lo = np.array([means[i]["lo"] if means[i]["n"] > 1 else means[i]["mean"] for i in ok])
                hi = np.array([means[i]["hi"] if means[i]["n"] > 1 else means[i]["mean"] for i in ok])
                ax.errorbar(xs[ok], m, yerr=[m - lo, hi - m], fmt=marker + "-", color=colour, ms=6, capsize=3,
                            lw=1.2, label=points["label"])
        eh = [(xi, e) for xi, e in zip(x, panel["eh"]) if e is not None]
        if eh:
            ax.plot(*zip(*eh), "x--", color="k", ms=7, lw=1, label="EH $l^*$")
        if categorical:
            ax.set_xticks(x, panel["labels"])
        elif factor in ("lr", "width"):
            ax.set_xticks(x, panel["labels"])
            ax.minorticks_off()
        ax.set_xlabel(_FACTOR_TITLES.get(factor, factor))
        ax.set_ylabel("peak layer")
        ax.set_title(panel["arm"].split(".", 1)[-1])
        ax.yaxis.get_major_locator().set_params(integer=True)
        ax.legend(fontsize=LEGEND_PT - 1, loc="best")
    for ax in list(axes.flat)[len(panels):]:
        ax.axis("off")
    if title:
        fig.suptitle(title)
    return fig
