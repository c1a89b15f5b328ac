r"""Figures of notebooks 6 and 7, and of the experiment report: the Equilibrium Hypothesis against the experiments.

Notebook 6 reads the shipped result files through :mod:`eqhyp_utils.experiments` and draws them:

* :func:`predicted_vs_measured_figure`: measured peak layer against each predictor's layer;
* :func:`depth_scaling_figure`: measured peak against depth L on log–log axes with the fitted power law,
  the EH crossing, :math:`L^{3/5}` and a fixed depth fraction;
* :func:`intervention_figure`: EH-predicted against measured shift of the peak, one point per intervention;
* :func:`alignment_checkpoint_figure`: a configuration's alignment profiles at one checkpoint, to watch
  the argmax move during training (slider: :func:`eqhyp_utils.widgets.experiments.peak_browser_widget`).

Notebook 7 asks how a residual branch changes the information balance:

* :func:`residual_information_figure`: the forward information :math:`F_l = 1 - c_{l-1}` and backward
  information :math:`B_l = \prod_{k=l}^{L}\rho_k` of :mod:`eqhyp_utils.equilibrium` for a plain MLP and a
  ResidualMLP with branch scale α, with their crossings :math:`l^*`.

The report's figures (:mod:`eqhyp_utils.plotting.report`) call the first two with several protocols
and ``pyplot=False``. Layers are numbered 1 … L + 1 (output layer last) everywhere. Every function
returns a matplotlib Figure with labelled axes, a title and colour-blind-safe colours with distinct markers.
"""
from __future__ import annotations

import textwrap
from typing import Any, Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure

from ..equilibrium import predict_equilibrium
from ..errors import InvalidInputError
from . import LEGEND_PT, MARKERS, OKABE_ITO, for_print, integer_ticks, layer_axis, new_panels

__all__ = ["PROTOCOL_NAMES", "predicted_vs_measured_figure", "depth_scaling_figure", "protocols_side_by_side_figure",
           "intervention_figure", "alignment_checkpoint_figure", "residual_information_figure"]

_PREDICTOR_NAMES = {"EH": "Equilibrium Hypothesis $l^*$", "middle": "middle layer", "last hidden": "last hidden layer $L$",
                    "fraction": "fitted depth fraction (leave one out)"}
_COLOURS = tuple(OKABE_ITO[i] for i in (1, 2, 3, 5, 6, 7))  # no yellow: too pale on white
#: Colours of the protocols in the depth-scaling figure (the EH curve is vermillion, the references green/orange).
_PROTOCOL_COLOURS = tuple(OKABE_ITO[i] for i in (5, 7, 2, 0))
#: Short names of the two fixed-budget peak protocols (titles of the figures).
PROTOCOL_NAMES = {"final": "argmax at the final checkpoint", "time_averaged": "argmax of the time-averaged profile"}


def _protocol_title(protocol: str, titles: "Mapping[str, str] | None" = None) -> str:
    return (titles or {}).get(protocol) or PROTOCOL_NAMES.get(protocol, protocol)


def _protocols(protocol: "str | Sequence[str]") -> list[str]:
    protocols = [protocol] if isinstance(protocol, str) else list(protocol)
    if not protocols or not all(isinstance(p, str) for p in protocols):
        raise InvalidInputError(f"protocol must be a protocol name or a list of them, got {protocol!r}.")
    return protocols


def _check_known(protocols: Sequence[str], known: set) -> None:
    unknown = [p for p in protocols if p not in known]
    if unknown:
        raise InvalidInputError(f"protocol {unknown[0]!r} is not in the results; available: {sorted(known)}.")


def _measured(summary: Any, protocol: str) -> list:
    return [v for v in summary.peaks.get(protocol, []) if v is not None]


@for_print
def predicted_vs_measured_figure(summaries: Sequence[Any], predictions: "Mapping[str, Sequence] | str" = "EH",
                                 protocol: "str | Sequence[str]" = "final", *, group_by: str = "activation",
                                 protocol_titles: "Mapping[str, str] | None" = None, pyplot: bool = True) -> Figure:
    """Measured peak layer (mean over seeds, bar: min … max) against each predictor's layer.

    summaries : :class:`~eqhyp_utils.experiments.scoreboard.ConfigurationSummary` list.
    predictions : predictor name → one predicted layer (or None) per summary, e.g.
        ``{"EH": [s.predictions["EH"] for s in summaries], "fraction": loco_layers}``; or the name of a
        prediction every summary carries (``s.predictions[name]``).
    protocol : the peak protocol, or a list of protocols; ``protocol_titles`` names them in the titles.
    One panel per predictor and protocol, two panels per row. Points are coloured and shaped by the
    configuration key ``group_by``; the dashed line is measured = predicted. Points on it are exact hits.
    ``pyplot=False`` draws on a plain Figure that pyplot does not hold (for files).
    """
    protocols = _protocols(protocol)
    if not summaries or not predictions:
        raise InvalidInputError("need at least one configuration summary and one predictor.")
    if isinstance(predictions, str):
        predictions = {predictions: [s.predictions.get(predictions) for s in summaries]}
    for name, layers in predictions.items():
        if len(layers) != len(summaries):
            raise InvalidInputError(f"predictions[{name!r}] has {len(layers)} entries for {len(summaries)} "
                                    "configurations; give one (or None) per configuration.")
    _check_known(protocols, {p for s in summaries for p in s.peaks})
    panels = [(name, layers, p) for name, layers in predictions.items() for p in protocols]
    groups = sorted({str(s.config[group_by]) for s in summaries})
    n_cols = min(2, len(panels))
    fig, axes = new_panels(-(-len(panels) // n_cols), n_cols, width=4.6, height=4.2, pyplot=pyplot)
    for ax, (name, layers, p) in zip(axes.flat, panels):
        top = 2.0
        for k, group in enumerate(groups):
            pts = [(x, m) for s, x in zip(summaries, layers) if x is not None and str(s.config[group_by]) == group
                   for m in [_measured(s, p)] if m]
            if not pts:
                continue
            x = np.array([x for x, _ in pts], dtype=float)
            y = np.array([np.mean(m) for _, m in pts])
            lo = y - np.array([min(m) for _, m in pts])
            hi = np.array([max(m) for _, m in pts]) - y
            ax.errorbar(x, y, yerr=[lo, hi], fmt=MARKERS[k % len(MARKERS)], color=_COLOURS[k % len(_COLOURS)],
                        ms=6, capsize=3, label=f"{group_by} = {group}")
            top = max(top, x.max(), (y + hi).max())
        ax.plot([0, top + 1], [0, top + 1], color="k", lw=1, ls="--", label="measured = predicted")
        n = int(np.ceil(top + 1))
        layer_axis(ax, n, label=f"predicted layer: {_PREDICTOR_NAMES.get(name, name)}")
        layer_axis(ax, n, label="measured peak layer (seed mean, min … max)", axis="y")
        ax.set_aspect("equal", adjustable="box")
        if len(protocols) == 1:
            title = f"{name} vs measurement"
        elif len(predictions) == 1:
            title = _protocol_title(p, protocol_titles)
        else:
            title = f"{name}: {_protocol_title(p, protocol_titles)}"
        ax.set_title(textwrap.fill(title, 46), fontsize=10)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=LEGEND_PT, loc="best")
    for ax in list(axes.flat)[len(panels):]:
        ax.axis("off")
    if len(protocols) == 1:
        fig.suptitle(f"Peak layer: {_protocol_title(protocols[0], protocol_titles)}", fontsize=11)
    elif len(predictions) == 1:
        fig.suptitle(f"Measured peak layer against the {_PREDICTOR_NAMES.get(next(iter(predictions)), 'prediction')}",
                     fontsize=11)
    return fig


def _row_peaks(row: Mapping[str, Any], protocol: str) -> "list | None":
    """A depth's measured peaks under ``protocol`` (None entries dropped), or None if not analysed."""
    values = row["peaks"].get(protocol) if "peaks" in row else row.get(protocol)
    return None if values is None else [v for v in values if v is not None]


@for_print
def depth_scaling_figure(analysis: Mapping[str, Any], protocol: "str | Sequence[str]" = "final",
                         fit_label: str = "all", *, title: "str | None" = None,
                         reference_lines: "bool | None" = None, pyplot: bool = True) -> Figure:
    r"""Measured peak layer against depth L on log–log axes (one marker per seed and protocol).

    analysis : the dict of :func:`eqhyp_utils.experiments.report.depth_scaling_analysis`.
    protocol : one protocol or a list of them (one colour and marker each).
    Lines: the fitted power law of ``analysis["fits"][fit_label][protocol]`` with its bootstrap interval;
    the EH crossing :math:`l^*(L)` (exact recursion); the output layer L + 1; and, with
    ``reference_lines`` (default: when one protocol is drawn), :math:`L^{3/5}` and a fixed fraction
    :math:`\propto L`, both through the first protocol's fit at the smallest fitted depth.
    ``pyplot=False`` draws on a plain Figure that pyplot does not hold (for files).
    """
    protocols = _protocols(protocol)
    rows = analysis.get("per_depth", [])
    if len(rows) < 2:
        raise InvalidInputError("the depth-scaling analysis needs at least two depths.")
    missing = [p for p in protocols if all(_row_peaks(r, p) is None for r in rows)]
    if missing:
        available = sorted(set().union(*(r["peaks"] for r in rows if "peaks" in r)))
        raise InvalidInputError(f"protocol {missing[0]!r} is not in the analysis; available: {available}.")
    if reference_lines is None:
        reference_lines = len(protocols) == 1
    fig, axes = new_panels(1, 1, width=6.2, height=4.4, pyplot=pyplot)
    ax = axes[0, 0]
    L = np.array([r["depth"] for r in rows], dtype=float)
    fits = analysis.get("fits", {}).get(fit_label, {})
    lf = np.array(fits.get("depths", L), dtype=float)
    several = len(protocols) > 1
    for k, p in enumerate(protocols):
        colour, marker = _PROTOCOL_COLOURS[k % len(_PROTOCOL_COLOURS)], MARKERS[k % len(MARKERS)]
        shift = 1 + 0.04 * (k - (len(protocols) - 1) / 2)
        for i, r in enumerate(rows):
            peaks = np.asarray(_row_peaks(r, p) or [], dtype=float)
            jitter = shift * (1 + 0.025 * (np.arange(len(peaks)) - (len(peaks) - 1) / 2))
            ax.scatter(r["depth"] * jitter, peaks, color=colour, marker=marker, s=22, zorder=3,
                       label=(f"measured peak, {p}" if several else "measured peak (one per seed)") if i == 0 else None)
        fit = fits.get(p)
        if fit:
            ci = fit.get("ci95")
            interval = f" [{ci[0]:.2f}, {ci[1]:.2f}]" if ci else ""
            ax.plot(lf, fit["prefactor"] * lf ** fit["exponent"], color=colour, lw=2,
                    label=f"fit{' ' + p if several else ''} $\\propto L^{{{fit['exponent']:.2f}}}${interval}")
    ax.plot(L, [r["eh_layer"] for r in rows], color=OKABE_ITO[6], marker="s", ls="--",
            label="EH $l^*$ (exact crossing)")
    fit = fits.get(protocols[0])
    if reference_lines and fit:
        anchor = fit["prefactor"] * lf[0] ** fit["exponent"]
        ax.plot(lf, anchor * (lf / lf[0]) ** 0.6, color=OKABE_ITO[3], ls="-.", label="$\\propto L^{3/5}$ (paper)")
        ax.plot(lf, anchor * (lf / lf[0]), color=OKABE_ITO[1], ls=":", lw=2, label="$\\propto L$ (fixed fraction)")
    ax.plot(L, L + 1, color="0.55", lw=1, label="output layer $L+1$")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xticks(L, [f"{int(d)}" for d in L])
    low, high = ax.get_ylim()
    y_ticks = [t for t in 2 ** np.arange(11) if low <= t <= high] or [int(round(np.sqrt(low * high)))]
    ax.set_yticks(y_ticks, [str(t) for t in y_ticks])  # layers are integers: powers of two, not 10^x
    ax.set_ylim(low, high)
    ax.minorticks_off()
    ax.set_xlabel("depth $L$ (hidden layers)")
    ax.set_ylabel("peak layer")
    ax.set_title(title or (f"Peak layer vs depth ({_protocol_title(protocols[0])})" if not several
                           else "Peak layer vs depth"), fontsize=10)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=LEGEND_PT, frameon=False, loc="upper left")
    return fig


@for_print
def protocols_side_by_side_figure(studies: "Mapping[str, tuple[Mapping[str, Any], str]]", *,
                                  pyplot: bool = True) -> Figure:
    """The measured peak as a fraction of the network, peak / (L + 1), against depth L, one series per
    study: ``{label: (depth-scaling analysis, protocol)}`` (mean over seeds, bars: seed range), with the EH's
    l*/(L + 1) of each study's architectures (grey dashed). A fixed depth fraction is a horizontal line."""
    if not studies:
        raise InvalidInputError("give at least one (analysis, protocol) pair.")
    fig, axes = new_panels(1, 1, width=6.4, height=4.2, pyplot=pyplot)
    ax = axes[0, 0]
    for k, (label, (analysis, protocol)) in enumerate(studies.items()):
        rows = [r for r in analysis["per_depth"] if _row_peaks(r, protocol)]
        if not rows:
            raise InvalidInputError(f"{label}: no peaks for protocol {protocol!r} in the analysis.")
        L = np.array([r["depth"] for r in rows], dtype=float)
        fractions = [np.asarray(_row_peaks(r, protocol), dtype=float) / (r["depth"] + 1) for r in rows]
        mean = np.array([f.mean() for f in fractions])
        err = [mean - np.array([f.min() for f in fractions]), np.array([f.max() for f in fractions]) - mean]
        colour = _PROTOCOL_COLOURS[k % len(_PROTOCOL_COLOURS)]
        ax.errorbar(L * (1 + 0.02 * k), mean, yerr=err, color=colour, marker=MARKERS[k % len(MARKERS)], capsize=3,
                    label=label)
        ax.plot(L, [r["eh_layer"] / (r["depth"] + 1) for r in rows], color="0.45", ls="--", lw=1,
                label="EH $l^*/(L+1)$" if k == 0 else None)
    ax.set_xscale("log")
    ticks = sorted({int(r["depth"]) for analysis, _ in studies.values() for r in analysis["per_depth"]})
    ax.set_xticks(ticks, [str(t) for t in ticks])
    ax.minorticks_off()
    ax.set(xlabel="depth $L$ (hidden layers)", ylabel="peak layer / (L + 1)", ylim=(0, 1.05),
           title="Where in the network is the peak? Two protocols")
    ax.legend(fontsize=LEGEND_PT, frameon=False)
    return fig


@for_print
def intervention_figure(rows: Sequence[Any], protocol: str = "final") -> Figure:
    """EH-predicted shift of the peak (x) against the measured shift (y), one point per intervention.

    rows : :class:`~eqhyp_utils.experiments.interventions.InterventionRow` list (the reference
    rows, "(reference)", are skipped). Bars span the seeds' min … max. Points in the shaded
    quadrants have the predicted sign; the band |y| < 1 is "no measurable shift".
    """
    if not isinstance(protocol, str) or rows and all(protocol not in r.measured_shift for r in rows):
        raise InvalidInputError(f"protocol must be one of the measured protocols "
                                f"{sorted({p for r in rows for p in r.measured_shift})}, got {protocol!r}.")
    rows = [r for r in rows if r.change != "(reference)" and r.predicted_variant is not None
            and np.isfinite(r.measured_shift.get(protocol, (np.nan,))[0])]
    if not rows:
        raise InvalidInputError("no intervention with both a prediction and a measured shift to draw.")
    grids = sorted({r.grid for r in rows})
    fig, axes = new_panels(1, 1, width=6.2, height=4.4)
    ax = axes[0, 0]
    x_all = [r.predicted_variant - r.predicted_reference for r in rows]
    y_all = [v for r in rows for v in r.measured_shift[protocol]]
    span = max(2.0, max(abs(v) for v in x_all + y_all)) + 1
    ax.axhspan(-1, 1, color="0.9", zorder=0, label="|measured| < 1: no shift")
    ax.fill_between([0, span], 0, span, color=OKABE_ITO[3], alpha=0.08, zorder=0)
    ax.fill_between([-span, 0], -span, 0, color=OKABE_ITO[3], alpha=0.08, zorder=0, label="same sign")
    for k, g in enumerate(grids):
        sel = [r for r in rows if r.grid == g]
        x = np.array([r.predicted_variant - r.predicted_reference for r in sel], dtype=float)
        m = np.array([r.measured_shift[protocol] for r in sel], dtype=float)
        ax.errorbar(x, m[:, 0], yerr=[m[:, 0] - m[:, 1], m[:, 2] - m[:, 0]], fmt=MARKERS[k % len(MARKERS)],
                    color=_COLOURS[k % len(_COLOURS)], ms=7, capsize=3, label=g.split(".", 1)[-1])
    ax.axhline(0, color="k", lw=0.8)
    ax.axvline(0, color="k", lw=0.8)
    ax.plot([-span, span], [-span, span], color="k", ls="--", lw=1, label="measured = predicted")
    ax.set_xlim(-span, span)
    ax.set_ylim(-span, span)
    integer_ticks(ax.xaxis, ax.yaxis)  # shifts are whole layers
    ax.set_xlabel("EH-predicted shift of the peak (layers)")
    ax.set_ylabel("measured shift (layers; seed mean, min … max)")
    ax.set_title(f"Interventions ({_protocol_title(protocol)})", fontsize=10)
    ax.legend(fontsize=LEGEND_PT, frameon=False, loc="upper left")
    return fig


def _alignment_matrix(payload: Mapping[str, Any]) -> np.ndarray:
    rows = payload["history"]["alignment"]
    return np.array([[np.nan if v is None else v for v in row] for row in rows], dtype=np.float64)


@for_print
def alignment_checkpoint_figure(payloads: Sequence[Mapping[str, Any]], checkpoint: int = -1, *,
                                eh_layer: "int | None" = None, title: "str | None" = None) -> Figure:
    """The alignment profiles :math:`A_l` of several result payloads (e.g. the seeds of one configuration)
    at checkpoint index ``checkpoint``, each seed's argmax marked with a star; ``eh_layer`` draws the
    EH prediction as a dashed line. All payloads must share the same depth and checkpoints.
    """
    if not payloads:
        raise InvalidInputError("need at least one result payload.")
    mats = [_alignment_matrix(p) for p in payloads]
    if len({m.shape for m in mats}) != 1:
        raise InvalidInputError(f"payloads have different shapes {[m.shape for m in mats]}; "
                                "pass the seeds of one configuration.")
    n_ckpt, n_layers = mats[0].shape
    if not (isinstance(checkpoint, (int, np.integer)) and -n_ckpt <= checkpoint < n_ckpt):
        raise InvalidInputError(f"checkpoint must be an index in {-n_ckpt} … {n_ckpt - 1}, got {checkpoint!r}.")
    epoch = payloads[0]["history"]["epochs"][checkpoint]
    fig, axes = new_panels(1, 1, width=6.0, height=3.8)
    ax = axes[0, 0]
    layers = np.arange(1, n_layers + 1)
    for k, (payload, A) in enumerate(zip(payloads, mats)):
        a = A[checkpoint]
        color, marker = OKABE_ITO[k % 7 + 1], MARKERS[k % len(MARKERS)]
        ax.plot(layers, a, color=color, marker=marker, ms=4, lw=1.4, label=f"seed {payload['config']['seed']}")
        if np.isfinite(a).all():
            peak = int(np.argmax(a))
            ax.plot([peak + 1], [a[peak]], marker="*", ms=14, color=color, mec="k", ls="none")
    if eh_layer is not None:
        ax.axvline(eh_layer, color="k", ls="--", lw=1.2, label=f"EH $l^*$ = {eh_layer}")
    ax.axvspan(n_layers - 0.5, n_layers + 0.5, color="#DDDDDD", alpha=0.6, zorder=0, lw=0)
    layer_axis(ax, n_layers)
    ax.set_ylabel("alignment $A_l$")
    ax.set_title(title or f"Alignment at epoch {epoch:.3g} (stars: each seed's peak)", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=LEGEND_PT, frameon=False)
    return fig


@for_print
def residual_information_figure(alpha: float = 0.25, depth: int = 16, sigma_b2: float = 0.0, *,
                                activation: str = "relu", sigma_w2: float = 2.0, c0: float = 0.2) -> Figure:
    r"""Forward information :math:`F_l = 1 - c_{l-1}` and backward information :math:`B_l = \prod_{k\ge l}\rho_k`
    (:func:`eqhyp_utils.equilibrium.predict_equilibrium`) for a plain MLP (solid) and a ResidualMLP with
    branch scale ``alpha`` (dashed), layers 1 … L + 1; vertical lines at the two continuous crossings,
    labelled with the equilibrium layers :math:`l^*`.
    """
    plain = predict_equilibrium(activation, sigma_w2, sigma_b2, depth, c0=c0)
    residual = predict_equilibrium(activation, sigma_w2, sigma_b2, depth, c0=c0, alpha=alpha)
    fig, axes = new_panels(1, 1, width=6.2, height=5.0)
    ax = axes[0, 0]
    for pred, ls, name, k in ((plain, "-", "plain MLP", 0), (residual, "--", f"residual α = {alpha:g}", 1)):
        ax.plot(pred.layers, pred.forward, color=OKABE_ITO[5], ls=ls, marker=MARKERS[2 * k], ms=4,
                label=f"forward $F_l = 1 - c_{{l-1}}$, {name}")
        ax.plot(pred.layers, pred.backward, color=OKABE_ITO[6], ls=ls, marker=MARKERS[2 * k + 1], ms=4,
                label=f"backward $B_l = \\prod\\rho_k$, {name}")
        ax.axvline(pred.depth, color="k", ls=ls, lw=1, label=f"crossing, {name}: $l^*$ = {pred.layer}")
    layer_axis(ax, depth + 1)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("information still present")
    ax.set_title(f"{activation}, $\\sigma_w^2$ = {sigma_w2:g}, $\\sigma_b^2$ = {sigma_b2:g}, L = {depth}", fontsize=10)
    ax.grid(alpha=0.3)
    fig.legend(*ax.get_legend_handles_labels(), fontsize=LEGEND_PT, frameon=False, ncols=2,
               loc="outside lower center")  # below the axes: six entries would hide the curves
    return fig
