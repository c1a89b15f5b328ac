"""Write the analysis of a results folder: scoreboard, depth scaling, interventions, figures.

:func:`write_report` reads every valid result file (invalid ones are named in a warning and left
out), and writes into the results folder

* ``scoreboard.md``: the protocols, the scoreboard (EH vs baselines, per data set and activation),
  the per-configuration table, and the depth-scaling fit;
* ``interventions.md``: predicted vs measured shifts of the peak;
* ``summary.json``: the same numbers, machine-readable;
* ``figures/``: predicted-vs-measured scatter, alignment profiles with the predicted layer, and
  the log–log depth-scaling plot.
"""
from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from .config import Grid, unique_runs
from .depth_scaling import bootstrap_power_law, fit_power_law
from .interventions import format_interventions, intervention_rows
from .results import load_results
from .scoreboard import (PREDICTORS, PROTOCOLS, format_scoreboard, loco_fraction_predictions,
                         peak_layer_at_accuracy, scoreboard_rows, summarise_configurations)

__all__ = ["write_report", "depth_scaling_analysis"]

_PROTOCOL_TEXT = {
    "final": "(a) argmax of the alignment at the final checkpoint",
    "time_averaged": "(b) argmax of the alignment averaged over training time after the first epoch "
                     "(trapezoid rule over the checkpoints at epochs ≥ 1)",
}


def _clean(obj: Any) -> Any:
    if isinstance(obj, float):
        return None if not math.isfinite(obj) else float(f"{obj:.6g}")
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    if isinstance(obj, np.generic):
        return _clean(obj.item())
    return obj


def depth_scaling_analysis(summaries, min_depth_subsets=(None, 16), n_boot: int = 2000) -> dict[str, Any]:
    """Peak vs depth for the depth-scaling configurations: fits, EH slope, accuracies."""
    from ..equilibrium import equilibrium_depth, equilibrium_layer

    by_depth = {s.depth: s for s in summaries}
    depths = sorted(by_depth)
    out: dict[str, Any] = {"depths": depths, "per_depth": [], "fits": {}}
    c = summaries[0].config
    eh_layer = [equilibrium_layer(c["activation"], c["sigma_w2"], c["sigma_b2"], L, alpha=c.get("alpha"))
                for L in depths]
    eh_depth = [equilibrium_depth(c["activation"], c["sigma_w2"], c["sigma_b2"], L, alpha=c.get("alpha"))
                for L in depths]
    for L, l_star, d_star in zip(depths, eh_layer, eh_depth):
        s = by_depth[L]
        row = {"depth": L, "n_layers": L + 1, "eh_layer": l_star, "eh_depth": d_star, "seeds": s.seeds,
               "diverged": s.diverged, "train_accuracy": s.train_accuracy}
        for p in PROTOCOLS:
            row[p] = s.peaks[p]
        out["per_depth"].append(row)
    # matched training accuracy: the largest multiple of 0.05 that every run reaches
    reached = [max(a for a in h["train_accuracy"] if a is not None) for s in summaries for h in s.histories]
    threshold = math.floor(min(reached) / 0.05) * 0.05 if reached else None
    out["matched_accuracy_threshold"] = threshold
    for row in out["per_depth"]:
        s = by_depth[row["depth"]]
        peaks = [peak_layer_at_accuracy(h, threshold) for h in s.histories] if threshold else []
        row["matched_accuracy"] = [p for p in peaks if p is not None]
        row["matched_accuracy_epoch"] = [
            next(t for t, a in zip(h["epochs"], h["train_accuracy"]) if a is not None and a >= threshold)
            for h in s.histories] if threshold else []
    for min_depth in min_depth_subsets:
        sel = [L for L in depths if min_depth is None or L >= min_depth]
        label = "all" if min_depth is None else f"L>={min_depth}"
        if len(sel) < 2 or any(f["depths"] == sel for f in out["fits"].values()):
            continue
        fits = {}
        for p in PROTOCOLS + ("matched_accuracy",):
            source = {r["depth"]: r[p] for r in out["per_depth"]}
            peaks = {L: source[L] for L in sel if source[L]}
            if len(peaks) < 2:
                continue
            fit = bootstrap_power_law(peaks, n_boot=n_boot, seed=0)
            fits[p] = {"exponent": fit.exponent, "prefactor": fit.prefactor, "ci95": list(fit.interval),
                       "n_points": fit.n_points}
        fits["eh_layer_slope"] = fit_power_law(sel, [eh_layer[depths.index(L)] for L in sel])[0]
        fits["eh_depth_slope"] = fit_power_law(sel, [eh_depth[depths.index(L)] for L in sel])[0]
        fits["depths"] = sel
        out["fits"][label] = fits
    return out


def _format_depth_scaling(ds: dict[str, Any]) -> str:
    thr = ds.get("matched_accuracy_threshold")
    lines = ["| L | layers | EH l* (continuous) | peak (a) final: mean [min, max] | peak (b) time-avg | "
             f"peak (c) at train acc ≥ {thr:.2f} [epoch] | final train acc mean [min, max] | diverged |",
             "|---|---|---|---|---|---|---|---|"]
    for r in ds["per_depth"]:
        def peaks(p):
            v = r[p]
            return "n/a" if not v else f"{np.mean(v):.1f} [{min(v)}, {max(v)}]"
        acc = r["train_accuracy"]
        acc_text = "n/a" if not acc else f"{np.mean(acc):.3f} [{min(acc):.3f}, {max(acc):.3f}]"
        epochs = r["matched_accuracy_epoch"]
        matched = peaks("matched_accuracy") + (f" [{min(epochs):g}–{max(epochs):g}]" if epochs else "")
        lines.append(f"| {r['depth']} | {r['n_layers']} | {r['eh_layer']} ({r['eh_depth']:.2f}) | {peaks('final')} | "
                     f"{peaks('time_averaged')} | {matched} | {acc_text} | {r['diverged']} |")
    lines.append("")
    lines.append("| depths | exponent (a) final [95 % CI] | exponent (b) time-avg [95 % CI] | "
                 "exponent (c) matched accuracy [95 % CI] | EH l* slope | EH continuous slope | paper | fixed fraction |")
    lines.append("|---|---|---|---|---|---|---|---|")
    for label, f in ds["fits"].items():
        def fit_text(p):
            return "n/a" if p not in f else f"{f[p]['exponent']:.2f} [{f[p]['ci95'][0]:.2f}, {f[p]['ci95'][1]:.2f}]"
        lines.append(f"| {', '.join(map(str, f['depths']))} | {fit_text('final')} | {fit_text('time_averaged')} | "
                     f"{fit_text('matched_accuracy')} | "
                     f"{f['eh_layer_slope']:.2f} | {f['eh_depth_slope']:.2f} | 0.60 | 1.00 |")
    return "\n".join(lines)


def _config_table(summaries, fraction_layers: dict[str, list]) -> str:
    lines = ["| configuration | seeds | peak (a) final | peak (b) time-avg | EH | middle | last hidden | "
             "fraction (a) | train acc | diverged |", "|---|---|---|---|---|---|---|---|---|---|"]
    for i, s in enumerate(summaries):
        acc = f"{np.mean(s.train_accuracy):.3f}" if s.train_accuracy else "n/a"
        eh = "n/a" if s.predictions["EH"] is None else s.predictions["EH"]
        lines.append(f"| {s.label} | {len(s.seeds)} | {s.peaks['final']} | {s.peaks['time_averaged']} | {eh} | "
                     f"{s.predictions['middle']} | {s.predictions['last hidden']} | {fraction_layers['final'][i]} | "
                     f"{acc} | {s.diverged} |")
    return "\n".join(lines)


def _figures(out_dir: Path, summaries, ds, grids, results) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..plotting import MARKERS, OKABE_ITO

    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    # 1. predicted vs measured
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.4), layout="constrained")
    fig.patch.set_facecolor("white")
    datasets = sorted({s.config["dataset"] for s in summaries})
    for ax, p in zip(axes, PROTOCOLS):
        top = 2
        for k, dset in enumerate(datasets):
            sel = [s for s in summaries if s.config["dataset"] == dset and s.predictions["EH"] is not None
                   and s.peaks[p]]
            x = np.array([s.predictions["EH"] for s in sel], dtype=float)
            y = np.array([np.mean(s.peaks[p]) for s in sel])
            lo = y - np.array([min(s.peaks[p]) for s in sel])
            hi = np.array([max(s.peaks[p]) for s in sel]) - y
            ax.errorbar(x, y, yerr=[lo, hi], fmt=MARKERS[k], color=OKABE_ITO[k + 1], label=dset, capsize=2)
            if len(sel):
                top = max(top, x.max(), (y + hi).max())
        ax.plot([0, top + 1], [0, top + 1], color="k", lw=1, ls="--", label="y = x")
        ax.set_xlim(0, top + 1)
        ax.set_ylim(0, top + 1)
        ax.set_aspect("equal")
        ax.set_xlabel("EH predicted layer $l^*$")
        ax.set_ylabel("measured peak layer (mean, seed range)")
        ax.set_title(f"protocol {_PROTOCOL_TEXT[p][:3]} {'final checkpoint' if p == 'final' else 'time-averaged'}")
        ax.legend(fontsize=8)
    path = out_dir / "predicted_vs_measured.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    written.append(path)
    # 2. alignment profiles of the depth-scaling runs, predicted layer marked
    if ds is not None:
        depth_grid = grids["depth_scaling"]
        n = len(ds["per_depth"])
        cols = 4
        rows = -(-n // cols)
        fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 2.6 * rows), layout="constrained", squeeze=False)
        fig.patch.set_facecolor("white")
        by_hash = results
        for ax, r in zip(axes.flat, ds["per_depth"]):
            runs = [c for c in depth_grid.runs if c.depth == r["depth"]]
            for k, c in enumerate(runs):
                payload = by_hash.get(c.config_hash())
                if payload is None or not payload["history"]["alignment"]:
                    continue
                a = np.array(payload["history"]["alignment"][-1], dtype=float)
                ax.plot(np.arange(1, len(a) + 1), a, color=OKABE_ITO[k % 7 + 1], lw=1.2, label=f"seed {c.seed}")
            ax.axvline(r["eh_layer"], color="k", ls="--", lw=1, label="EH $l^*$")
            ax.set_title(f"L = {r['depth']}", fontsize=10)
            ax.set_xlabel("layer $l$")
            ax.set_ylabel("$A_l$ (final)")
        for ax in list(axes.flat)[n:]:
            ax.axis("off")
        axes.flat[0].legend(fontsize=7)
        path = out_dir / "alignment_profiles_depth_scaling.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        written.append(path)
        # 3. log-log depth scaling
        fig, ax = plt.subplots(figsize=(5.8, 4.2), layout="constrained")
        fig.patch.set_facecolor("white")
        L = np.array(ds["depths"], dtype=float)
        for k, p in enumerate(PROTOCOLS):
            for r in ds["per_depth"]:
                ax.scatter([r["depth"] * (1 + 0.03 * (2 * k - 1))] * len(r[p]), r[p], color=OKABE_ITO[k + 1],
                           marker=MARKERS[k], s=18, alpha=0.8,
                           label=f"measured {p}" if r is ds["per_depth"][0] else None)
            f = ds["fits"].get("all", {}).get(p)
            if f:
                ax.plot(L, f["prefactor"] * L ** f["exponent"], color=OKABE_ITO[k + 1],
                        label=f"fit {p}: $L^{{{f['exponent']:.2f}}}$")
        ax.plot(L, [r["eh_layer"] for r in ds["per_depth"]], "k--", marker="x", label="EH $l^*$ (exact crossing)")
        ax.plot(L, L + 1, color="0.6", lw=1, label="output layer $L+1$")
        ax.set_xscale("log")
        ax.set_yscale("log")
        from matplotlib.ticker import NullFormatter, ScalarFormatter

        ax.set_xticks(L)
        for axis in (ax.xaxis, ax.yaxis):
            axis.set_major_formatter(ScalarFormatter())
            axis.set_minor_formatter(NullFormatter())
        ax.set_xlabel("depth $L$ (hidden layers)")
        ax.set_ylabel("peak layer")
        ax.set_title("Peak layer vs depth (ReLU, EOC, mnist1d)")
        ax.legend(fontsize=7)
        path = out_dir / "depth_scaling.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        written.append(path)
    return written


def write_report(grids: dict[str, Grid], results_dir: "str | Path", *, figures: bool = True) -> list[Path]:
    """Analyse the result files of ``grids`` in ``results_dir``; return the paths written."""
    results_dir = Path(results_dir)
    stored = load_results(results_dir)
    wanted = {c.config_hash() for c in unique_runs(grids)}
    results = {h: p for h, p in stored.items() if h in wanted}
    missing = len(wanted) - len(results)
    summaries = summarise_configurations(results.values())
    written: list[Path] = []
    if not summaries:
        print(f"no result files for this grid in {results_dir}; nothing to report.")
        return written

    rows = {p: scoreboard_rows(summaries, p) for p in PROTOCOLS}
    fractions = {p: loco_fraction_predictions(summaries, p) for p in PROTOCOLS}
    ds = None
    if "depth_scaling" in grids:
        keys = {tuple(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in c.to_dict().items()
                             if k != "seed")) for c in grids["depth_scaling"].runs}
        ds_summaries = [s for s in summaries if s.key in keys]
        if len({s.depth for s in ds_summaries}) >= 2:
            ds = depth_scaling_analysis(ds_summaries)
    iv_rows = {name: intervention_rows(g, summaries) for name, g in grids.items() if name.startswith("interventions")}

    n_runs = sum(len(s.seeds) + s.diverged for s in summaries)
    md = [f"# Scoreboard: where is the alignment peak?\n",
          f"Generated by `python -m eqhyp_utils reproduce` from {n_runs} result files in `{results_dir.name}/runs` "
          f"({len(summaries)} configurations{'' if not missing else f'; {missing} runs of the grid have no valid result yet'}).\n",
          "Layers are numbered 1 … L + 1, output layer last. Peak protocols:\n"]
    md += [f"- {_PROTOCOL_TEXT[p]}" for p in PROTOCOLS]
    md += ["", "Predictors: **EH** = `equilibrium_layer` (first layer where the backward information "
           "∏ρ_k reaches the forward information 1 − c_{l−1}; signal propagation at initialisation, c₀ = 0.2, "
           "nothing fitted); **middle** = ⌈(L+1)/2⌉; **last hidden** = L; **fraction** = round(f·(L+1)) with f "
           "fitted leave-one-configuration-out (each configuration is predicted with the f that minimises the "
           "MAE over all *other* configurations). Scores are over runs (each seed's peak against its "
           "configuration's prediction): MAE in layers / exact hits / within ±1 layer. Diverged runs are "
           "excluded and counted in the configuration table.", ""]
    for p in PROTOCOLS:
        used = sorted({f for f in fractions[p][1] if f is not None})
        md += [f"## Scoreboard, protocol {_PROTOCOL_TEXT[p]}", "", format_scoreboard(rows[p]), "",
               f"Fitted fractions (leave-one-out): {', '.join(f'{f:g}' for f in used)}.", ""]
    md += ["## Configurations", "", "Peaks are listed per seed, in increasing seed order.", "",
           _config_table(summaries, {p: fractions[p][0] for p in PROTOCOLS}), ""]
    if ds is not None:
        md += ["## Depth scaling (ReLU at the edge of chaos)", "",
               "Fit: least squares of log peak on log L over all seeds; 95 % interval from 2000 bootstrap "
               "resamples of the seeds within each depth. Compare with the slope of the EH prediction over the "
               "same depths, with 3/5 (the paper's asymptotic law) and with 1 (a fixed depth fraction). "
               "Protocol (c) takes the argmax at the first checkpoint where the training accuracy reaches the "
               "largest multiple of 0.05 that every run reaches, so that nets of all depths are compared at the "
               "same point of training (docs/science.md §6 warns that deep nets trained for the same number of epochs "
               "are not).", "",
               _format_depth_scaling(ds), ""]
    results_dir.mkdir(parents=True, exist_ok=True)
    path = results_dir / "scoreboard.md"
    path.write_text("\n".join(md) + "\n")
    written.append(path)

    if iv_rows:
        ref_epochs = sorted({g.runs[0].epochs for name, g in grids.items() if name in iv_rows and g.runs})
        epochs_text = " or ".join(str(e) for e in ref_epochs)
        im = ["# Interventions: predicted and measured shifts of the peak layer\n",
              "Each intervention changes one knob of the reference configuration (the first of its grid: "
              f"ReLU, σ_w² = 2, σ_b² = 0, L = 16, N = 128, plain MLP, mnist1d, {epochs_text} epochs in configs/full.toml). "
              "EH direction: sign of "
              "`equilibrium_layer(variant) − equilibrium_layer(reference)`. Measured shift: per seed, "
              "peak(variant) − peak(reference), paired by seed; mean [min, max] over seeds; the measured "
              "direction is the sign of the mean when |mean| ≥ 1 layer, else \"none\".", ""]
        for name, r in iv_rows.items():
            im += [f"## {name}", "", format_interventions(r), ""]
        path = results_dir / "interventions.md"
        path.write_text("\n".join(im) + "\n")
        written.append(path)

    summary = {
        "protocols": _PROTOCOL_TEXT,
        "scoreboard": rows,
        "configurations": [{"label": s.label, "config": s.config, "seeds": s.seeds, "peaks": s.peaks,
                            "predictions": s.predictions, "train_accuracy": s.train_accuracy,
                            "diverged": s.diverged} for s in summaries],
        "fraction_loco": {p: {"layers": fractions[p][0], "fractions": fractions[p][1]} for p in PROTOCOLS},
        "depth_scaling": ds,
        "interventions": {name: [r.__dict__ for r in rs] for name, rs in iv_rows.items()},
        "missing_runs": missing,
    }
    path = results_dir / "summary.json"
    path.write_text(json.dumps(_clean(summary), indent=1, sort_keys=True) + "\n")
    written.append(path)
    if figures:
        written += _figures(results_dir / "figures", summaries, ds, grids, results)
    return written
