"""Write the analysis of a results folder: scoreboard, noise ceiling, depth scaling, interventions, figures.

:func:`write_report` reads every valid result file of the grids (invalid ones are named in a
warning and left out), and writes into the results folder

* ``scoreboard.md``: the protocols, the scoreboard of every reading of the hypothesis against the
  depth-only baselines and the noise ceiling, paired bootstrap intervals of the MAE differences, the
  milestones reached (run-to-threshold grids), the per-configuration table and the depth-scaling fit;
* ``interventions.md``: predicted vs measured shifts of the peak (grids named ``interventions.*``);
* ``what_moves_the_peak.md``: the factorial study (grids named ``factorial.*``,
  :mod:`~eqhyp_utils.experiments.factorial`), with the depth series of the companion grids (a grid
  file's ``[meta] reuse``) beside its own;
* ``summary.json``: the same numbers, machine-readable (floats rounded by
  :func:`~eqhyp_utils.experiments.results.round_floats`);
* ``figures/``: predicted-vs-measured, alignment profiles per depth, log–log depth scaling.
"""
from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from .config import Grid, configuration_key, unique_runs
from .depth_scaling import bootstrap_power_law, fit_power_law
from .factorial import factor_panels, factorial_arms, factorial_report
from .interventions import format_interventions, intervention_rows
from .results import load_results, round_floats
from .scoreboard import (FIXED_BUDGET_PROTOCOLS, NOISE_CEILING, PAPER_PROTOCOLS, format_scoreboard,
                         loco_fraction_predictions, milestone_counts, paired_bootstrap, peak_layer_at_accuracy,
                         predictor_names, predictor_pairs, scoreboard_rows, summarise_configurations)

__all__ = ["PROTOCOL_TEXT", "DEPTH_SERIES_GRIDS", "write_report", "depth_scaling_analysis", "report_protocols",
           "bootstrap_table", "companion_depth_series"]

DEPTH_SERIES_GRIDS = ("depth_scaling", "factorial.depth")
"""Grids whose configurations form a depth series (the first one present is analysed)."""

PROTOCOL_TEXT = {
    "final": "(a) argmax of the alignment at the final checkpoint",
    "time_averaged": "(b) argmax of the alignment averaged over training time from epoch 1 on "
                     "(trapezoid rule over the checkpoints at epochs ≥ 1)",
    "final top": "(a′) centroid of the layers within 5 % of the maximum, final checkpoint",
    "loss<0.1": "(p1) argmax on the training probe when the running loss first stays below 0.1 for two epochs",
    "loss<0.02": "(p2) argmax on the training probe when the running loss first stays below 0.02 for two epochs "
                 "(end of training)",
    "loss<0.1 test": "(p1t) as (p1), on the held-out test probe",
    "loss<0.02 test": "(p2t) as (p2), on the held-out test probe",
    "loss<0.02 top": "(p2′) centroid of the layers within 5 % of the maximum, training probe, loss < 0.02",
    "loss<0.02 test top": "(p2t′) as (p2′), on the test probe",
}


def report_protocols(summaries: Sequence[Any]) -> tuple[str, ...]:
    """The protocols of a report: the paper's for run-to-threshold grids, else the fixed-budget ones."""
    to_threshold = any(s.config.get("stop_loss") is not None for s in summaries)
    return PAPER_PROTOCOLS if to_threshold else FIXED_BUDGET_PROTOCOLS


def depth_scaling_analysis(summaries, protocols: Sequence[str] = ("final", "time_averaged"),
                           min_depth_subsets=(None, 16), n_boot: int = 2000,
                           matched_accuracy: bool = True) -> dict[str, Any]:
    """Peak vs depth for the depth-scaling configurations: power-law fits with bootstrap intervals
    (seeds resampled within depth), the EH crossing's own slope, accuracies, and — for fixed-budget
    grids — protocol ``matched_accuracy`` (the argmax at the first checkpoint where the training
    accuracy reaches the largest multiple of 0.05 that every run reaches)."""
    from ..equilibrium import equilibrium_depth, equilibrium_layer

    by_depth = {s.depth: s for s in summaries}
    depths = sorted(by_depth)
    out: dict[str, Any] = {"depths": depths, "per_depth": [], "fits": {}, "protocols": list(protocols)}
    c = summaries[0].config
    eh_layer = [equilibrium_layer(c["activation"], c["sigma_w2"], c["sigma_b2"], L, alpha=c.get("alpha"))
                for L in depths]
    eh_depth = [equilibrium_depth(c["activation"], c["sigma_w2"], c["sigma_b2"], L, alpha=c.get("alpha"))
                for L in depths]
    for L, l_star, d_star in zip(depths, eh_layer, eh_depth):
        s = by_depth[L]
        out["per_depth"].append({"depth": L, "n_layers": L + 1, "eh_layer": l_star, "eh_depth": d_star,
                                 "seeds": s.seeds, "diverged": s.diverged, "train_accuracy": s.train_accuracy,
                                 "test_accuracy": s.test_accuracy, "epochs_run": s.epochs_run,
                                 "peaks": {p: list(s.peaks[p]) for p in protocols}})
    fitted = list(protocols)
    if matched_accuracy:
        reached = [max(a for a in h["train_accuracy"] if a is not None) for s in summaries for h in s.histories]
        threshold = math.floor(min(reached) / 0.05) * 0.05 if reached else None
        out["matched_accuracy_threshold"] = threshold
        for row in out["per_depth"]:
            s = by_depth[row["depth"]]
            row["peaks"]["matched_accuracy"] = [peak_layer_at_accuracy(h, threshold) for h in s.histories] \
                if threshold else []
            row["matched_accuracy_epoch"] = [
                next(t for t, a in zip(h["epochs"], h["train_accuracy"]) if a is not None and a >= threshold)
                for h in s.histories] if threshold else []
        fitted.append("matched_accuracy")
    for min_depth in min_depth_subsets:
        sel = [L for L in depths if min_depth is None or L >= min_depth]
        label = "all" if min_depth is None else f"L>={min_depth}"
        if len(sel) < 2 or any(f["depths"] == sel for f in out["fits"].values()):
            continue
        fits: dict[str, Any] = {}
        for p in fitted:
            source = {r["depth"]: [v for v in r["peaks"].get(p, []) if v is not None] for r in out["per_depth"]}
            peaks = {L: source[L] for L in sel if source[L]}
            if len(peaks) < 2:
                continue
            fit = bootstrap_power_law(peaks, n_boot=n_boot, seed=0)
            fits[p] = {"exponent": fit.exponent, "prefactor": fit.prefactor, "ci95": list(fit.interval),
                       "n_points": fit.n_points, "contains_3/5": fit.interval[0] <= 0.6 <= fit.interval[1],
                       "contains_1": fit.interval[0] <= 1.0 <= fit.interval[1]}
        fits["eh_layer_slope"] = fit_power_law(sel, [eh_layer[depths.index(L)] for L in sel])[0]
        fits["eh_depth_slope"] = fit_power_law(sel, [eh_depth[depths.index(L)] for L in sel])[0]
        fits["depths"] = sel
        out["fits"][label] = fits
    return out


def _format_peaks(values: Sequence) -> str:
    v = [x for x in values if x is not None]
    if not v:
        return "n/a"
    return f"{np.mean(v):.1f} [{min(v):g}, {max(v):g}]"


def _format_depth_scaling(ds: dict[str, Any]) -> str:
    protocols = list(ds["protocols"]) + (["matched_accuracy"] if "matched_accuracy_threshold" in ds else [])
    lines = ["| L | layers | EH l* (continuous) | " + " | ".join(f"peak {p}: mean [min, max]" for p in protocols)
             + " | train acc mean | test acc mean | epochs run | diverged |",
             "|" + "---|" * (7 + len(protocols))]
    for r in ds["per_depth"]:
        acc = lambda a: "n/a" if not a else f"{np.nanmean(a):.3f}"  # noqa: E731
        epochs = r["epochs_run"]
        lines.append(f"| {r['depth']} | {r['n_layers']} | {r['eh_layer']} ({r['eh_depth']:.2f}) | "
                     + " | ".join(_format_peaks(r["peaks"].get(p, [])) for p in protocols)
                     + f" | {acc(r['train_accuracy'])} | {acc(r['test_accuracy'])} | "
                     + (f"{min(epochs):g}–{max(epochs):g}" if epochs else "n/a") + f" | {r['diverged']} |")
    if "matched_accuracy_threshold" in ds and ds["matched_accuracy_threshold"] is not None:
        lines.append(f"\nmatched_accuracy: argmax at the first checkpoint with train accuracy ≥ "
                     f"{ds['matched_accuracy_threshold']:.2f}.")
    lines += ["", "| depths | protocol | exponent [95 % CI] | CI contains 3/5 | CI contains 1 | EH l* slope | "
              "EH continuous slope |", "|---|---|---|---|---|---|---|"]
    for label, f in ds["fits"].items():
        for p in protocols:
            if p not in f:
                continue
            e = f[p]
            lines.append(f"| {', '.join(map(str, f['depths']))} | {p} | {e['exponent']:.2f} [{e['ci95'][0]:.2f}, "
                         f"{e['ci95'][1]:.2f}] | {'yes' if e['contains_3/5'] else 'no'} | "
                         f"{'yes' if e['contains_1'] else 'no'} | {f['eh_layer_slope']:.2f} | {f['eh_depth_slope']:.2f} |")
    return "\n".join(lines)


def bootstrap_table(summaries, protocols: Sequence[str], readings: Sequence[str],
                    n_boot: int = 2000) -> tuple[str, dict[str, Any]]:
    """Markdown and data: for each protocol and reading, MAE(reading) − MAE(other) with a paired
    bootstrap 95 % interval over configurations, against every other predictor."""
    out: dict[str, Any] = {}
    lines = ["| protocol | reading | vs | MAE difference [95 % CI] | configurations |", "|---|---|---|---|---|"]
    for p in protocols:
        names = predictor_names(summaries)
        pairs = predictor_pairs(summaries, p, names)
        out[p] = {}
        for reading in readings:
            out[p][reading] = {}
            for other in names:
                if other in readings:
                    continue
                b = paired_bootstrap(pairs[reading], pairs[other], n_boot=n_boot)
                out[p][reading][other] = b
                if b["configs"]:
                    lines.append(f"| {p} | {reading} | {other} | {b['diff']:+.2f} [{b['lo']:+.2f}, {b['hi']:+.2f}] | "
                                 f"{b['configs']} |")
    return "\n".join(lines), out


def _config_table(summaries, protocols: Sequence[str], fraction_layers: dict[str, list]) -> str:
    names = [n for n in predictor_names(summaries) if n not in ("fraction", NOISE_CEILING)]
    lines = ["| configuration | seeds | " + " | ".join(f"peaks {p}" for p in protocols) + " | "
             + " | ".join(names) + f" | fraction ({protocols[0]}) | train acc | test acc | diverged |",
             "|" + "---|" * (7 + len(protocols) + len(names))]
    for i, s in enumerate(summaries):
        acc = lambda a: f"{np.nanmean(a):.3f}" if a else "n/a"  # noqa: E731
        peaks = [str([None if v is None else (round(v, 2) if isinstance(v, float) else v) for v in s.peaks[p]])
                 for p in protocols]
        preds = ["n/a" if s.predictions.get(n) is None else str(s.predictions[n]) for n in names]
        lines.append(f"| {s.label} | {len(s.seeds)} | " + " | ".join(peaks) + " | " + " | ".join(preds)
                     + f" | {fraction_layers[protocols[0]][i]} | {acc(s.train_accuracy)} | {acc(s.test_accuracy)} "
                     f"| {s.diverged} |")
    return "\n".join(lines)


def _milestone_table(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return ""
    thresholds = list(rows[0]["milestones"])
    lines = ["| configuration | runs | " + " | ".join(f"reached loss < {t} (epochs)" for t in thresholds)
             + " | stop reasons |", "|" + "---|" * (3 + len(thresholds))]
    for r in rows:
        cells = []
        for t in thresholds:
            m = r["milestones"].get(t, {"reached": 0, "epochs": []})
            cells.append(f"{m['reached']}/{r['runs']} ({', '.join('—' if e is None else f'{e:g}' for e in m['epochs'])})")
        reasons = ", ".join(f"{k} × {r['stop_reasons'].count(k)}" for k in sorted(set(r["stop_reasons"])))
        lines.append(f"| {r['label']} | {r['runs']} | " + " | ".join(cells) + f" | {reasons} |")
    return "\n".join(lines)


def _cpu_seconds(results_dir: Path, hashes: set[str]) -> dict[str, Any]:
    """Wall seconds of the grid's runs from ``runs/timings.jsonl`` (the last entry of each run)."""
    path = results_dir / "runs" / "timings.jsonl"
    seconds: dict[str, float] = {}
    cpus: set[str] = set()
    if path.exists():
        for line in path.read_text().splitlines():
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:
                continue
            if entry.get("config_hash") in hashes:
                seconds[entry["config_hash"]] = float(entry["seconds"])
                cpus.add(entry.get("cpu_model", "unknown"))
    return {"runs_timed": len(seconds), "total_seconds": sum(seconds.values()), "cpu_models": sorted(cpus)}


def _figures(out_dir: Path, summaries, ds, ds_summaries, protocols, factor_panels=None) -> list[Path]:
    from ..plotting.report import (depth_profiles_figure, depth_scaling_figure, factor_effects_figure,
                                   predicted_vs_measured_figure)

    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    main = [p for p in protocols if "top" not in p][:4]
    figures = {"predicted_vs_measured.png": predicted_vs_measured_figure(summaries, main, PROTOCOL_TEXT)}
    if ds is not None:
        read = "loss<0.02" if "loss<0.02" in protocols else "final"
        panels = []
        by_depth = {s.depth: s for s in ds_summaries}
        for r in ds["per_depth"]:
            s = by_depth[r["depth"]]
            profiles = {}
            for seed, h in zip(s.seeds, s.histories):
                index = -1
                if read != "final":
                    step = next((m["step"] for m in h.get("milestones", []) if np.isclose(m["loss"], 0.02)), None)
                    if step is None:
                        continue
                    index = list(h["steps"]).index(step)
                profiles[f"seed {seed}"] = h["alignment"][index]
            panels.append({"depth": r["depth"], "profiles": profiles, "eh_layer": r["eh_layer"]})
        label = "at loss < 0.02 (train probe)" if read != "final" else "at the final checkpoint"
        figures["alignment_profiles_depth_scaling.png"] = depth_profiles_figure(
            panels, "$A_l$", f"Alignment profiles {label}; EH layer dashed")
        figures["depth_scaling.png"] = depth_scaling_figure(
            ds, [p for p in protocols if "top" not in p][:2],
            f"Peak layer vs depth ({summaries[0].config['activation']}, {summaries[0].config['dataset']})")
    if factor_panels:
        figures["what_moves_the_peak.png"] = factor_effects_figure(
            factor_panels, "What moves the peak? Peak layer at loss < 0.02 (training probe); mean with 95 % t interval")
    for name, fig in figures.items():
        path = out_dir / name
        fig.savefig(path, dpi=110, facecolor="white")
        written.append(path)
    return written


def companion_depth_series(companions: "dict[str, tuple[dict[str, Grid], Path]]") -> dict[str, list]:
    """{"<name> depth series": configuration summaries} of each companion grid file's depth series,
    read from its own results folder; ``companions`` maps a name to (grids, results folder)."""
    out = {}
    for name, (grids, folder) in companions.items():
        grid = next((grids[g] for g in DEPTH_SERIES_GRIDS if g in grids), None)
        if grid is None:
            continue
        wanted = {c.config_hash() for c in grid.runs}
        payloads = [p for h, p in load_results(folder).items() if h in wanted]
        members = summarise_configurations(payloads)
        if members:
            out[f"{name} depth series"] = members
    return out


def write_report(grids: dict[str, Grid], results_dir: "str | Path", *, figures: bool = True,
                 n_boot: int = 2000, companions: "dict[str, tuple[dict[str, Grid], Path]] | None" = None) -> list[Path]:
    """Analyse the result files of ``grids`` in ``results_dir``; return the paths written.

    ``companions`` ({name: (grids, results folder)}, from a grid file's ``[meta] reuse``) lend their
    depth series to the factorial report, side by side with the grid's own."""
    from .readings import READINGS

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
    protocols = report_protocols(summaries)
    readings = [r for r in READINGS if any(s.predictions.get(r) is not None for s in summaries)]
    rows = {p: scoreboard_rows(summaries, p) for p in protocols}
    fractions = {p: loco_fraction_predictions(summaries, p) for p in protocols}
    boot_md, boot = bootstrap_table(summaries, [p for p in protocols if "top" not in p][:4], readings, n_boot)
    ds, ds_summaries = None, []
    series_grid = next((g for g in DEPTH_SERIES_GRIDS if g in grids), None)
    if series_grid is not None:
        keys = {configuration_key(c.to_dict()) for c in grids[series_grid].runs}
        ds_summaries = [s for s in summaries if s.key in keys]
        if len({s.depth for s in ds_summaries}) >= 2:
            ds = depth_scaling_analysis(ds_summaries, [p for p in protocols if "top" not in p],
                                        matched_accuracy=protocols == FIXED_BUDGET_PROTOCOLS, n_boot=n_boot)
    iv_rows = {name: intervention_rows(g, summaries) for name, g in grids.items() if name.startswith("interventions")}
    milestones = milestone_counts(summaries)
    timing = _cpu_seconds(results_dir, set(results))

    n_runs = sum(len(s.seeds) + s.diverged for s in summaries)
    md = ["# Scoreboard: where is the alignment peak?\n",
          f"Generated by `python -m eqhyp_utils reproduce` from {n_runs} result files in `{results_dir.name}/runs` "
          f"({len(summaries)} configurations{'' if not missing else f'; {missing} runs of the grid have no valid result yet'}).\n",
          "Layers are numbered 1 … L + 1, output layer last. Peak protocols:\n"]
    md += [f"- `{p}`: {PROTOCOL_TEXT[p]}" for p in protocols]
    md += ["", "Predictors: the readings of the Equilibrium Hypothesis ("
           + "; ".join(f"**{r}**: {READINGS[r].summary}" for r in readings)
           + "; signal propagation at initialisation, nothing fitted); **middle** = ⌈(L+1)/2⌉; **last hidden** = L; "
           "**fraction** = round(f·(L+1)) with f fitted leave-one-configuration-out; **noise ceiling** = each run "
           "predicted by the mean peak of the other seeds of its configuration (its error is the seed-to-seed spread; "
           "an ideal configuration-level predictor would score about √((k−1)/k) of it with k seeds). Scores are over runs: MAE in layers / exact hits (|error| < 0.5) / "
           "within ±1 layer. Diverged runs are excluded and counted in the configuration table.", ""]
    for p in protocols:
        used = sorted({f for f in fractions[p][1] if f is not None})
        md += [f"## Scoreboard, protocol `{p}`", "", PROTOCOL_TEXT[p], "", format_scoreboard(rows[p]), "",
               f"Fitted fractions (leave-one-out): {', '.join(f'{f:g}' for f in used)}.", ""]
    md += ["## Is a reading better than a baseline? Paired bootstrap", "",
           "MAE(reading) − MAE(other), over the runs both cover; 95 % interval from 2000 resamples of the "
           "configurations. Negative: the reading has the smaller error; an interval that contains 0 is no "
           "evidence either way.", "", boot_md, ""]
    if milestones:
        md += ["## Loss milestones reached", "", _milestone_table(milestones), ""]
    md += ["## Configurations", "", "Peaks are listed per seed, in increasing seed order (None: the protocol "
           "does not apply to that run, e.g. a milestone not reached).", "",
           _config_table(summaries, protocols, {p: fractions[p][0] for p in protocols}), ""]
    if ds is not None:
        md += ["## Depth scaling", "",
               "Fit: least squares of log peak on log L over all seeds; 95 % interval from 2000 bootstrap "
               "resamples of the seeds within each depth. Compare with the slope of the EH crossing over the "
               "same depths, with 3/5 (the paper's asymptotic law) and with 1 (a fixed depth fraction).", "",
               _format_depth_scaling(ds), ""]
    if timing["runs_timed"]:
        md += [f"Wall time of the {timing['runs_timed']} timed runs (one thread each): "
               f"{timing['total_seconds'] / 60:.1f} CPU-minutes on {', '.join(timing['cpu_models'])}.", ""]
    results_dir.mkdir(parents=True, exist_ok=True)
    path = results_dir / "scoreboard.md"
    path.write_text("\n".join(md) + "\n")
    written.append(path)

    if iv_rows:
        ref_epochs = sorted({g.runs[0].epochs for name, g in grids.items() if name in iv_rows and g.runs})
        epochs_text = " or ".join(str(e) for e in ref_epochs)
        im = ["# Interventions: predicted and measured shifts of the peak layer\n",
              "Each intervention changes one knob of the reference configuration (the first of its grid: "
              f"ReLU, σ_w² = 2, σ_b² = 0, L = 16, N = 128, plain MLP, mnist1d, {epochs_text} epochs). "
              "EH direction: sign of `equilibrium_layer(variant) − equilibrium_layer(reference)`. Measured shift: "
              "per seed, peak(variant) − peak(reference), paired by seed; mean [min, max] over seeds; the measured "
              "direction is the sign of the mean when |mean| ≥ 1 layer, else \"none\".", ""]
        for name, r in iv_rows.items():
            im += [f"## {name}", "", format_interventions(r), ""]
        path = results_dir / "interventions.md"
        path.write_text("\n".join(im) + "\n")
        written.append(path)

    factorial, panels = None, None
    if factorial_arms(grids):
        companion_series = companion_depth_series(companions or {})
        factorial_md, factorial = factorial_report(grids, summaries, companion_series, n_boot=n_boot)
        panels = factor_panels(grids, summaries, "loss<0.02", companion_series)
        path = results_dir / "what_moves_the_peak.md"
        path.write_text(factorial_md)
        written.append(path)

    summary = {
        "protocols": {p: PROTOCOL_TEXT[p] for p in protocols},
        "readings": {r: READINGS[r].summary for r in readings},
        "scoreboard": rows,
        "bootstrap": boot,
        "milestones": milestones,
        "configurations": [{"label": s.label, "config": s.config, "seeds": s.seeds, "peaks": s.peaks,
                            "predictions": s.predictions, "train_accuracy": s.train_accuracy,
                            "test_accuracy": s.test_accuracy, "epochs_run": s.epochs_run,
                            "stop_reasons": s.stop_reasons, "diverged": s.diverged} for s in summaries],
        "fraction_loco": {p: {"layers": fractions[p][0], "fractions": fractions[p][1]} for p in protocols},
        "depth_scaling": ds,
        "interventions": {name: [r.__dict__ for r in rs] for name, rs in iv_rows.items()},
        "timing": timing,
        "missing_runs": missing,
    }
    if factorial is not None:
        summary["factorial"] = factorial
    path = results_dir / "summary.json"
    path.write_text(json.dumps(round_floats(summary), indent=1, sort_keys=True) + "\n")
    written.append(path)
    if figures:
        written += _figures(results_dir / "figures", summaries, ds, ds_summaries, protocols, panels)
    return written
