r"""Figures and demos of notebooks 6 and 7: the Equilibrium Hypothesis against the experiments.

Notebook 6 reads the shipped result files through :mod:`eqhyp_utils.experiments` and draws them:

* :func:`predicted_vs_measured_figure`: measured peak layer against each predictor's layer;
* :func:`depth_scaling_figure`: measured peak against depth L on log–log axes with the fitted power law,
  the EH crossing, :math:`L^{3/5}` and a fixed depth fraction;
* :func:`intervention_figure`: EH-predicted against measured shift of the peak, one point per intervention;
* :func:`alignment_checkpoint_figure` (and :func:`peak_browser_widget`): a configuration's alignment
  profiles at one checkpoint, to watch the argmax move during training.

Notebook 7 asks how a residual branch changes the information balance:

* :func:`residual_information_figure` (and :func:`residual_information_widget`): the forward
  information :math:`F_l = 1 - c_{l-1}` and backward information :math:`B_l = \prod_{k=l}^{L}\rho_k` of
  :mod:`eqhyp_utils.equilibrium` for a plain MLP and a ResidualMLP with branch scale α, with their
  crossings :math:`l^*`.

Layers are numbered 1 … L + 1 (output layer last) everywhere. Every function returns a matplotlib
Figure with labelled axes, a title and colour-blind-safe colours with distinct markers.
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from ..equilibrium import predict_equilibrium
from ..errors import InvalidInputError
from ..plotting import MARKERS, OKABE_ITO, layer_axis

__all__ = ["predicted_vs_measured_figure", "depth_scaling_figure", "intervention_figure",
           "alignment_checkpoint_figure", "peak_browser_widget", "residual_information_figure",
           "residual_information_widget"]

_PREDICTOR_NAMES = {"EH": "Equilibrium Hypothesis $l^*$", "middle": "middle layer", "last hidden": "last hidden layer $L$",
                    "fraction": "fitted depth fraction (leave one out)"}
_COLOURS = tuple(OKABE_ITO[i] for i in (1, 2, 3, 5, 6, 7))  # no yellow: too pale on white
_PROTOCOL_NAMES = {"final": "argmax at the final checkpoint", "time_averaged": "argmax of the time-averaged profile"}


def _figure(n_panels: int, width: float = 4.6, height: float = 4.0) -> tuple[Figure, np.ndarray]:
    fig, axes = plt.subplots(1, n_panels, figsize=(width * n_panels, height), layout="constrained", squeeze=False)
    fig.patch.set_facecolor("white")
    for ax in axes.flat:
        ax.set_facecolor("white")
    return fig, axes[0]


def _check_protocol(protocol: str) -> None:
    if protocol not in _PROTOCOL_NAMES:
        raise InvalidInputError(f"protocol must be one of {tuple(_PROTOCOL_NAMES)}, got {protocol!r}.")


def predicted_vs_measured_figure(summaries: Sequence[Any], predictions: "Mapping[str, Sequence]",
                                 protocol: str = "final", *, group_by: str = "activation") -> Figure:
    """Measured peak layer (mean over seeds, bar: min … max) against each predictor's layer.

    summaries : :class:`~eqhyp_utils.experiments.scoreboard.ConfigurationSummary` list.
    predictions : predictor name → one predicted layer (or None) per summary, e.g.
        ``{"EH": [s.predictions["EH"] for s in summaries], "fraction": loco_layers}``; one panel each.
    Points are coloured and shaped by the configuration key ``group_by``; the dashed line is
    measured = predicted. Points on it are exact hits.
    """
    _check_protocol(protocol)
    if not summaries or not predictions:
        raise InvalidInputError("need at least one configuration summary and one predictor.")
    for name, layers in predictions.items():
        if len(layers) != len(summaries):
            raise InvalidInputError(f"predictions[{name!r}] has {len(layers)} entries for {len(summaries)} "
                                    "configurations; give one (or None) per configuration.")
    groups = sorted({str(s.config[group_by]) for s in summaries})
    fig, axes = _figure(len(predictions))
    for ax, (name, layers) in zip(axes, predictions.items()):
        top = 2.0
        for k, group in enumerate(groups):
            pts = [(p, s.peaks[protocol]) for s, p in zip(summaries, layers)
                   if p is not None and s.peaks[protocol] and str(s.config[group_by]) == group]
            if not pts:
                continue
            x = np.array([p for p, _ in pts], dtype=float)
            y = np.array([np.mean(m) for _, m in pts])
            lo = y - np.array([min(m) for _, m in pts])
            hi = np.array([max(m) for _, m in pts]) - y
            ax.errorbar(x, y, yerr=[lo, hi], fmt=MARKERS[k % len(MARKERS)], color=_COLOURS[k % len(_COLOURS)],
                        ms=6, capsize=3, label=f"{group_by} = {group}")
            top = max(top, x.max(), (y + hi).max())
        ax.plot([0, top + 1], [0, top + 1], color="k", lw=1, ls="--", label="measured = predicted")
        ax.set_xlim(0, top + 1.5)
        ax.set_ylim(0, top + 1.5)
        ax.set_xlabel(f"predicted layer: {_PREDICTOR_NAMES.get(name, name)}")
        ax.set_ylabel("measured peak layer (seed mean, min … max)")
        ax.set_title(f"{name} vs measurement", fontsize=10)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, frameon=False, loc="upper left")
    fig.suptitle(f"Peak layer: {_PROTOCOL_NAMES[protocol]}", fontsize=11)
    return fig


def depth_scaling_figure(analysis: Mapping[str, Any], protocol: str = "final", fit_label: str = "all") -> Figure:
    r"""Measured peak layer against depth L on log–log axes (one marker per seed).

    analysis : the dict of :func:`eqhyp_utils.experiments.report.depth_scaling_analysis`.
    Lines: the fitted power law of ``analysis["fits"][fit_label][protocol]``; the EH crossing
    :math:`l^*(L)` (exact recursion); :math:`L^{3/5}` and a fixed fraction :math:`\propto L`, both
    through the fit's value at the smallest fitted depth; the output layer L + 1.
    """
    _check_protocol(protocol)
    rows = analysis.get("per_depth", [])
    if len(rows) < 2:
        raise InvalidInputError("the depth-scaling analysis needs at least two depths.")
    fig, axes = _figure(1, width=6.2, height=4.4)
    ax = axes[0]
    L = np.array([r["depth"] for r in rows], dtype=float)
    for i, r in enumerate(rows):
        peaks = np.asarray(r[protocol], dtype=float)
        jitter = 1 + 0.025 * (np.arange(len(peaks)) - (len(peaks) - 1) / 2)
        ax.scatter(r["depth"] * jitter, peaks, color=OKABE_ITO[5], marker="o", s=22, zorder=3,
                   label="measured peak (one per seed)" if i == 0 else None)
    ax.plot(L, [r["eh_layer"] for r in rows], color=OKABE_ITO[6], marker="s", ls="--", label="EH $l^*$ (exact crossing)")
    fit = analysis.get("fits", {}).get(fit_label, {}).get(protocol)
    if fit:
        lf = np.array(analysis["fits"][fit_label]["depths"], dtype=float)
        ci = fit["ci95"]
        ax.plot(lf, fit["prefactor"] * lf ** fit["exponent"], color=OKABE_ITO[5], lw=2,
                label=f"fit $\\propto L^{{{fit['exponent']:.2f}}}$ [{ci[0]:.2f}, {ci[1]:.2f}]")
        anchor = fit["prefactor"] * lf[0] ** fit["exponent"]
        ax.plot(lf, anchor * (lf / lf[0]) ** 0.6, color=OKABE_ITO[3], ls="-.", label="$\\propto L^{3/5}$ (paper)")
        ax.plot(lf, anchor * (lf / lf[0]), color=OKABE_ITO[1], ls=":", lw=2, label="$\\propto L$ (fixed fraction)")
    ax.plot(L, L + 1, color="0.55", lw=1, label="output layer $L+1$")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xticks(L)
    ax.set_xticklabels([f"{int(d)}" for d in L])
    y_ticks = [t for t in (2, 4, 8, 16, 32, 64, 128) if t <= 1.5 * max(L)]
    ax.set_yticks(y_ticks)
    ax.set_yticklabels([str(t) for t in y_ticks])
    ax.minorticks_off()
    ax.set_xlabel("depth $L$ (hidden layers)")
    ax.set_ylabel("peak layer")
    ax.set_title(f"Peak layer vs depth ({_PROTOCOL_NAMES[protocol]})", fontsize=10)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=7, frameon=False)
    return fig


def intervention_figure(rows: Sequence[Any], protocol: str = "final") -> Figure:
    """EH-predicted shift of the peak (x) against the measured shift (y), one point per intervention.

    rows : :class:`~eqhyp_utils.experiments.interventions.InterventionRow` list (the reference
    rows, "(reference)", are skipped). Bars span the seeds' min … max. Points in the shaded
    quadrants have the predicted sign; the band |y| < 1 is "no measurable shift".
    """
    _check_protocol(protocol)
    rows = [r for r in rows if r.change != "(reference)" and r.predicted_variant is not None
            and np.isfinite(r.measured_shift[protocol][0])]
    if not rows:
        raise InvalidInputError("no intervention with both a prediction and a measured shift to draw.")
    grids = sorted({r.grid for r in rows})
    fig, axes = _figure(1, width=6.2, height=4.4)
    ax = axes[0]
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
    ax.set_xlabel("EH-predicted shift of the peak (layers)")
    ax.set_ylabel("measured shift (seed mean, min … max)")
    ax.set_title(f"Interventions ({_PROTOCOL_NAMES[protocol]})", fontsize=10)
    ax.legend(fontsize=7, frameon=False, loc="upper left")
    return fig


def _alignment_matrix(payload: Mapping[str, Any]) -> np.ndarray:
    rows = payload["history"]["alignment"]
    return np.array([[np.nan if v is None else v for v in row] for row in rows], dtype=np.float64)


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
    fig, axes = _figure(1, width=6.0, height=3.8)
    ax = axes[0]
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
    ax.legend(fontsize=7, frameon=False)
    return fig


def peak_browser_widget(payloads: Sequence[Mapping[str, Any]], eh_layer: "int | None" = None):
    """A checkpoint slider for :func:`alignment_checkpoint_figure` (run in JupyterLab)."""
    import ipywidgets as w

    n_ckpt = len(payloads[0]["history"]["alignment"])

    def draw(checkpoint):
        plt.show(alignment_checkpoint_figure(payloads, checkpoint, eh_layer=eh_layer))

    return w.interactive(draw, checkpoint=w.IntSlider(value=n_ckpt - 1, min=0, max=n_ckpt - 1,
                                                      description="checkpoint"))


def residual_information_figure(alpha: float = 0.25, depth: int = 16, sigma_b2: float = 0.0, *,
                                activation: str = "relu", sigma_w2: float = 2.0, c0: float = 0.2) -> Figure:
    r"""Forward information :math:`F_l = 1 - c_{l-1}` and backward information :math:`B_l = \prod_{k\ge l}\rho_k`
    (:func:`eqhyp_utils.equilibrium.predict_equilibrium`) for a plain MLP (solid) and a ResidualMLP with
    branch scale ``alpha`` (dashed), layers 1 … L + 1; vertical lines at the two crossings :math:`l^*`.
    """
    plain = predict_equilibrium(activation, sigma_w2, sigma_b2, depth, c0=c0)
    residual = predict_equilibrium(activation, sigma_w2, sigma_b2, depth, c0=c0, alpha=alpha)
    fig, axes = _figure(1, width=6.2, height=4.0)
    ax = axes[0]
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
    ax.legend(fontsize=7, frameon=False, loc="center right")
    return fig


def residual_information_widget():
    """Sliders (α, depth L, σ_b²) for :func:`residual_information_figure` (ReLU, σ_w² = 2)."""
    import ipywidgets as w

    def draw(alpha, depth, sigma_b2):
        try:
            fig = residual_information_figure(alpha, depth, sigma_b2)
        except InvalidInputError as err:
            print(f"Cannot draw this setting: {err}")
            return
        plt.show(fig)

    return w.interactive(draw,
                         alpha=w.FloatLogSlider(value=0.25, base=10, min=-2, max=0.5, step=0.05, description="α"),
                         depth=w.IntSlider(value=16, min=2, max=128, description="depth L"),
                         sigma_b2=w.FloatSlider(value=0.0, min=0.0, max=1.0, step=0.05, description="σ_b²"))
