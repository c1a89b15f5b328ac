r"""What moves the peak? The factorial study, one factor at a time (docs/science.md §9).

A factorial grid file (``configs/factorial.toml``) holds *arms*, grids named ``factorial.<factor>``,
each of which changes one factor of a hub configuration; the first configuration of an arm is its
reference. This module turns their result files into the comparisons declared in §9:

* :func:`shift_rows` — for each arm and level, the shift of the peak from the arm's reference,
  paired by seed: :math:`\Delta_s = \text{peak}(\text{level}, s) - \text{peak}(\text{ref}, s)`, the
  mean over the k seeds both reached, and a Student-t interval
  :math:`\bar\Delta \pm t_{k-1,\,0.975}\, s_\Delta/\sqrt{k}` (:func:`student_t_interval`), next to the
  shift each reading of the Equilibrium Hypothesis predicts (its layer at the level minus its layer
  at the reference: signal propagation at initialisation only);
* :func:`lr_slope` — per seed, the least-squares slope of the peak on :math:`\log_2` lr across the
  levels of the learning-rate arm (layers per doubling), averaged over seeds with a t interval;
* :func:`depth_exponent_rows` — the power-law exponent of the peak against depth for several depth
  series side by side (the paper's series, whose learning rate falls with depth, and the fixed-lr
  arm), each with the three intervals of :mod:`~eqhyp_utils.experiments.depth_scaling`;
* :func:`cross_grid_fraction_rows` — the single depth fraction f fitted on one series and scored on
  runs it was not fitted on (out of sample), beside the EH, the middle layer and the noise ceiling on
  the same runs.

:func:`write_factorial_report` writes them to ``what_moves_the_peak.md`` (and returns the numbers for
``summary.json``); ``python -m eqhyp_utils reproduce --config configs/factorial.toml`` calls it.
"""
from __future__ import annotations

import math
from dataclasses import fields
from typing import Any, Mapping, Sequence

import numpy as np

from ..errors import InvalidInputError
from .config import Grid, RunConfig, configuration_key
from .depth_scaling import bootstrap_power_law, cluster_bootstrap_power_law, configuration_level_power_law
from .scoreboard import (NOISE_CEILING, ConfigurationSummary, _fraction_layer, fit_fraction,
                         loco_fraction_predictions, noise_ceiling_predictions, score)

__all__ = ["ARM_PREFIX", "SHIFT_PROTOCOLS", "student_t_interval", "arm_factor", "arm_levels", "paired_shift",
           "shift_rows", "lr_slope", "depth_exponent_rows", "cross_grid_fraction_rows", "format_shift_table",
           "format_exponent_table", "format_fraction_table", "factorial_arms"]

ARM_PREFIX = "factorial."
SHIFT_PROTOCOLS = ("loss<0.02", "loss<0.02 test", "loss<0.1", "loss<0.02 top")
"""The protocols of the shift tables; the first is the primary one (docs/science.md §9)."""
_READINGS_SHOWN = ("EH", "EH normalised", "EH data c0")
_FIELD_ORDER = [f.name for f in fields(RunConfig)]


def student_t_interval(values: Sequence[float], level: float = 0.95) -> dict[str, float]:
    r"""Mean of ``values`` and its Student-t interval :math:`\bar x \pm t_{k-1}\, s/\sqrt{k}`.

    With one value the interval is undefined (NaN); with zero spread it collapses to the mean.
    """
    from scipy import stats

    if not 0 < level < 1:
        raise InvalidInputError(f"level must lie in (0, 1), got {level!r}.")
    x = np.asarray([v for v in values if v is not None], dtype=np.float64)
    if x.size == 0:
        return {"n": 0, "mean": math.nan, "lo": math.nan, "hi": math.nan}
    mean = float(x.mean())
    if x.size == 1:
        return {"n": 1, "mean": mean, "lo": math.nan, "hi": math.nan}
    half = float(stats.t.ppf(0.5 + level / 2, x.size - 1)) * float(x.std(ddof=1)) / math.sqrt(x.size)
    return {"n": int(x.size), "mean": mean, "lo": mean - half, "hi": mean + half}


def factorial_arms(grids: Mapping[str, Grid]) -> dict[str, Grid]:
    """The arms of a grid file: its grids named ``factorial.<factor>``, in file order."""
    return {name: g for name, g in grids.items() if name.startswith(ARM_PREFIX)}


def arm_factor(grid: Grid) -> str:
    """The key an arm varies: of the keys whose value differs between its runs (the seed aside), the one
    with the most distinct values (ties: the first in :class:`RunConfig` order). ``dataset`` for an
    arm that changes the data set and, with it, the sizes of a fixed split."""
    configs = [r.to_dict() for r in grid.runs]
    if not configs:
        raise InvalidInputError(f"grid {grid.name!r} has no run.")
    counts = {}
    for key in _FIELD_ORDER:
        if key == "seed":
            continue
        distinct = {repr(c[key]) for c in configs}
        if len(distinct) > 1:
            counts[key] = len(distinct)
    if not counts:
        raise InvalidInputError(f"grid {grid.name!r} varies nothing but the seed; it is not an arm.")
    best = max(counts.values())
    return next(k for k in counts if counts[k] == best)


def arm_levels(grid: Grid, summaries: Sequence[ConfigurationSummary]) -> list[tuple[Any, "ConfigurationSummary | None"]]:
    """(value of the arm's factor, its configuration summary or None if no result) per level, in the
    grid's order; the first is the reference."""
    factor = arm_factor(grid)
    by_key = {s.key: s for s in summaries}
    levels: dict[tuple, tuple[Any, "ConfigurationSummary | None"]] = {}
    for run in grid.runs:
        key = configuration_key(run.to_dict())
        if key not in levels:
            levels[key] = (getattr(run, factor), by_key.get(key))
    return list(levels.values())


def _peaks_by_seed(summary: "ConfigurationSummary | None", protocol: str) -> dict[int, float]:
    if summary is None:
        return {}
    return {seed: p for seed, p in zip(summary.seeds, summary.peaks.get(protocol, [])) if p is not None}


def paired_shift(reference: "ConfigurationSummary | None", level: "ConfigurationSummary | None",
                 protocol: str, level_of_confidence: float = 0.95) -> dict[str, Any]:
    """peak(level, s) − peak(reference, s) over the seeds s with a peak in both; mean, t interval."""
    ref, lev = _peaks_by_seed(reference, protocol), _peaks_by_seed(level, protocol)
    seeds = sorted(set(ref) & set(lev))
    diffs = [float(lev[s] - ref[s]) for s in seeds]
    out = student_t_interval(diffs, level_of_confidence)
    out.update({"seeds": seeds, "diffs": diffs,
                "mean_reference": float(np.mean(list(ref.values()))) if ref else math.nan,
                "mean_level": float(np.mean(list(lev.values()))) if lev else math.nan,
                "runs_reference": len(ref), "runs_level": len(lev)})
    return out


def _format_value(factor: str, value: Any) -> str:
    if factor == "depth":
        return f"L = {value} (D = {value + 1})"
    if isinstance(value, float):
        return f"{factor} = {value:g}"
    return f"{factor} = {value}"


def shift_rows(grids: Mapping[str, Grid], summaries: Sequence[ConfigurationSummary],
               protocols: Sequence[str] = SHIFT_PROTOCOLS) -> list[dict[str, Any]]:
    """One row per arm, level (the reference included, with a zero shift) and protocol; see the module
    docstring. Each row: arm, factor, level and reference labels, the paired shift, the runs that
    reached the protocol's checkpoint, the diverged runs, and the readings' predicted shifts."""
    rows = []
    for name, grid in factorial_arms(grids).items():
        factor = arm_factor(grid)
        levels = arm_levels(grid, summaries)
        ref_value, ref = levels[0]
        for index, (value, s) in enumerate(levels):
            predicted = {}
            for reading in _READINGS_SHOWN:
                a = None if s is None else s.predictions.get(reading)
                b = None if ref is None else ref.predictions.get(reading)
                predicted[reading] = None if a is None or b is None else int(a - b)
            for protocol in protocols:
                shift = paired_shift(ref, s, protocol)
                rows.append({"arm": name, "factor": factor, "level": _format_value(factor, value),
                             "reference": _format_value(factor, ref_value), "is_reference": index == 0,
                             "value": value, "protocol": protocol, "shift": shift,
                             "runs": 0 if s is None else len(s.seeds) + s.diverged,
                             "diverged": 0 if s is None else s.diverged,
                             "eh_layer": None if s is None else s.predictions.get("EH"),
                             "predicted_shift": predicted})
    return rows


def lr_slope(grid: Grid, summaries: Sequence[ConfigurationSummary], protocol: str = "loss<0.02",
             level: float = 0.95, max_lr: "float | None" = None) -> dict[str, Any]:
    """Layers the peak moves per doubling of the learning rate: per seed, the least-squares slope of
    its peaks on log₂ lr over the levels it reached (≥ 2; only those ≤ ``max_lr`` if given); the mean
    over seeds with a t interval."""
    if arm_factor(grid) != "lr":
        raise InvalidInputError(f"grid {grid.name!r} does not vary the learning rate.")
    per_seed: dict[int, list[tuple[float, float]]] = {}
    for value, s in arm_levels(grid, summaries):
        if max_lr is not None and value > max_lr:
            continue
        for seed, peak in _peaks_by_seed(s, protocol).items():
            per_seed.setdefault(seed, []).append((math.log2(value), peak))
    slopes = {seed: float(np.polyfit(*zip(*pts), 1)[0]) for seed, pts in sorted(per_seed.items())
              if len({x for x, _ in pts}) >= 2}
    out = student_t_interval(list(slopes.values()), level)
    out.update({"protocol": protocol, "max_lr": max_lr, "per_seed": slopes,
                "levels_per_seed": {seed: len(per_seed[seed]) for seed in slopes}})
    return out


def depth_exponent_rows(series: Mapping[str, Sequence[ConfigurationSummary]], protocols: Sequence[str],
                        n_boot: int = 2000) -> list[dict[str, Any]]:
    """Per depth series and protocol: the exponent of peak ∝ L^β with its three intervals and the EH
    crossing's own slope over the same depths (from the configurations' EH layers)."""
    from .depth_scaling import fit_power_law

    rows = []
    for label, summaries in series.items():
        by_depth = {s.depth: s for s in summaries}
        for protocol in protocols:
            peaks = {L: [p for p in s.peaks.get(protocol, []) if p is not None] for L, s in by_depth.items()}
            peaks = {L: v for L, v in peaks.items() if v}
            row: dict[str, Any] = {"series": label, "protocol": protocol, "depths": sorted(peaks),
                                   "learning_rates": sorted({by_depth[L].config["lr"] for L in peaks}),
                                   "runs": sum(len(v) for v in peaks.values())}
            if len(peaks) >= 3:
                arithmetic = configuration_level_power_law(peaks, mean="arithmetic")
                row["log_of_mean"] = {"exponent": arithmetic.exponent, "interval": list(arithmetic.interval)}
                fits = {"seeds within depth": bootstrap_power_law(peaks, n_boot=n_boot, seed=0),
                        "configuration level (t)": configuration_level_power_law(peaks),
                        "two-stage bootstrap": cluster_bootstrap_power_law(peaks, n_boot=n_boot, seed=0)}
                row["exponent"] = fits["seeds within depth"].exponent
                row["exponent_of_means"] = fits["configuration level (t)"].exponent
                row["intervals"] = {k: list(f.interval) for k, f in fits.items()}
                eh = [by_depth[L].predictions.get("EH") for L in sorted(peaks)]
                row["eh_slope"] = fit_power_law(sorted(peaks), eh)[0] if None not in eh else None
                row["mean_peak"] = {L: float(np.mean(v)) for L, v in sorted(peaks.items())}
            rows.append(row)
    return rows


def _runs(summaries: Sequence[ConfigurationSummary], protocol: str) -> tuple[list[int], list[float]]:
    depths = [s.depth for s in summaries for p in s.peaks.get(protocol, []) if p is not None]
    peaks = [p for s in summaries for p in s.peaks.get(protocol, []) if p is not None]
    return depths, peaks


def _score_on(summaries: Sequence[ConfigurationSummary], protocol: str,
              predict: "Mapping[tuple, float | None]") -> dict[str, float]:
    pairs = [(predict[s.key], p) for s in summaries if predict.get(s.key) is not None
             for p in s.peaks.get(protocol, []) if p is not None]
    return score(pairs)


def cross_grid_fraction_rows(series: Mapping[str, Sequence[ConfigurationSummary]],
                             fitted_on: Sequence[str], protocol: str = "loss<0.02") -> list[dict[str, Any]]:
    """For each series A in ``fitted_on`` and each other series B: the fraction f fitted on all of A's
    runs, scored on B's runs (out of sample: configurations of B that A holds too are left out); beside it, on the same runs of B, the leave-one-
    configuration-out fraction fitted within B, the EH, the middle layer and the noise ceiling, and
    MAE(fraction) − MAE(EH) per configuration of B, averaged, with a Student-t interval over those
    configurations (a handful: a bootstrap over so few has too few distinct resamples)."""
    rows = []
    for a in fitted_on:
        depths, peaks = _runs(series[a], protocol)
        if not peaks:
            continue
        f = fit_fraction(depths, peaks)
        seen = {s.key for s in series[a]}
        for b, target in series.items():
            target = [s for s in target if s.key not in seen]  # runs the fit has seen are not scored
            if b == a or not _runs(target, protocol)[1]:
                continue
            fraction = {s.key: int(_fraction_layer(s.depth, f)) for s in target}
            loco, _ = loco_fraction_predictions(list(target), protocol)
            row = {"fitted_on": a, "scored_on": b, "protocol": protocol, "fraction": f,
                   "fraction_out_of_sample": _score_on(target, protocol, fraction),
                   "fraction_loco_within": _score_on(target, protocol,
                                                     {s.key: l for s, l in zip(target, loco)}),
                   "EH": _score_on(target, protocol, {s.key: s.predictions.get("EH") for s in target}),
                   "middle": _score_on(target, protocol, {s.key: s.predictions.get("middle") for s in target})}
            ceiling = [(c, m) for s in target for c, m in zip(noise_ceiling_predictions(s, protocol),
                                                               s.peaks.get(protocol, []))
                       if c is not None and m is not None]
            row[NOISE_CEILING] = score(ceiling)
            per_config = lambda predict: [[(predict(s), p) for p in s.peaks.get(protocol, []) if p is not None]  # noqa: E731
                                          if predict(s) is not None else [] for s in target]
            fraction_pairs = per_config(lambda s: fraction[s.key])
            eh_pairs = per_config(lambda s: s.predictions.get("EH"))
            differences = [float(np.mean([abs(p - m) for p, m in fp]) - np.mean([abs(p - m) for p, m in ep]))
                           for fp, ep in zip(fraction_pairs, eh_pairs) if fp and ep]
            row["fraction_minus_EH"] = {**student_t_interval(differences), "configs": len(differences),
                                        "per_configuration": differences}
            rows.append(row)
    return rows


def _interval(d: Mapping[str, float], digits: int = 2) -> str:
    if d.get("n", 0) == 0 or math.isnan(d["mean"]):
        return "n/a"
    if math.isnan(d["lo"]):
        return f"{d['mean']:+.{digits}f} (one pair)"
    return f"{d['mean']:+.{digits}f} [{d['lo']:+.{digits}f}, {d['hi']:+.{digits}f}]"


def format_shift_table(rows: Sequence[Mapping[str, Any]], protocol: str) -> str:
    """Markdown: for each arm and level, the mean peaks, the paired shift with its interval, and the
    readings' predicted shifts; ``moves`` says whether the interval excludes 0, ``EH inside`` whether
    it contains the EH's predicted shift."""
    lines = ["| factor | level (reference first) | runs with a peak (level / ref) | mean peak ref → level "
             "| shift [95 % t interval] | EH / EH normalised / EH data c0 predict | moves? | EH's shift inside? |",
             "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        if r["protocol"] != protocol:
            continue
        sh = r["shift"]
        pred = " / ".join("n/a" if r["predicted_shift"][k] is None else f"{r['predicted_shift'][k]:+d}"
                          for k in _READINGS_SHOWN)
        if r["runs"] == 0:
            lines.append(f"| {r['factor']} | {r['level']}{' (reference)' if r['is_reference'] else ''} | "
                         "no result yet | – | – | – | – | – |")
            continue
        if r["is_reference"]:
            lines.append(f"| {r['factor']} | {r['level']} (reference) | {sh['runs_level']} of {r['runs']} | "
                         f"{sh['mean_level']:.1f} | – | EH l* = {r['eh_layer']} | – | – |")
            continue
        excludes0 = sh["n"] >= 2 and (sh["lo"] > 0 or sh["hi"] < 0)
        diverged = f", {r['diverged']} diverged" if r["diverged"] else ""
        eh = r["predicted_shift"]["EH"]
        inside = "n/a" if sh["n"] < 2 or eh is None else ("yes" if sh["lo"] <= eh <= sh["hi"] else "no")
        lines.append(f"| {r['factor']} | {r['level']} | {sh['runs_level']} / {sh['runs_reference']} "
                     f"(of {r['runs']}{diverged}) | "
                     f"{sh['mean_reference']:.1f} → {sh['mean_level']:.1f} | {_interval(sh)} ({sh['n']} pairs) | "
                     f"{pred} | {'yes' if excludes0 else 'no'} | {inside} |")
    return "\n".join(lines)


def format_exponent_table(rows: Sequence[Mapping[str, Any]]) -> str:
    """Markdown: each depth series' exponent and its three 95 % intervals, with the EH's slope."""
    lines = ["| series | learning rate | protocol | depths L | runs | exponent | configuration level (t) "
             "[primary] | two-stage bootstrap | seeds within depth | log of mean peak (t) | EH slope |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        if "intervals" not in r:
            continue
        iv = r["intervals"]
        lrs = ", ".join(f"{x:g}" for x in r["learning_rates"])
        cell = lambda k: f"[{iv[k][0]:.2f}, {iv[k][1]:.2f}]"  # noqa: E731
        lines.append(f"| {r['series']} | {lrs} | {r['protocol']} | {', '.join(map(str, r['depths']))} | {r['runs']} | "
                     f"{r['exponent']:.2f} | {r['exponent_of_means']:.2f} {cell('configuration level (t)')} | "
                     f"{cell('two-stage bootstrap')} | {cell('seeds within depth')} | "
                     f"{r['log_of_mean']['exponent']:.2f} [{r['log_of_mean']['interval'][0]:.2f}, "
                     f"{r['log_of_mean']['interval'][1]:.2f}] | "
                     + ("n/a" if r["eh_slope"] is None else f"{r['eh_slope']:.2f}") + " |")
    return "\n".join(lines)


def _difference_cell(b: Mapping[str, float]) -> str:
    if not b.get("configs"):
        return "n/a"
    return f"{_interval(b)} ({b['configs']})"


def format_fraction_table(rows: Sequence[Mapping[str, Any]]) -> str:
    """Markdown: out-of-sample depth fractions beside the other predictors on the same runs."""
    lines = ["| fitted on | scored on | protocol | f | runs | fraction, out of sample | fraction, leave-one-out within "
             "| EH | middle | noise ceiling | fraction − EH per configuration [95 % t] (configurations) |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]

    def cell(s: Mapping[str, float]) -> str:
        return "n/a" if not s["n"] else f"{s['mae']:.2f} / {100 * s['within1']:.0f}%"

    for r in rows:
        lines.append(f"| {r['fitted_on']} | {r['scored_on']} | {r['protocol']} | {r['fraction']:g} | "
                     f"{r['fraction_out_of_sample']['n']} | {cell(r['fraction_out_of_sample'])} | "
                     f"{cell(r['fraction_loco_within'])} | {cell(r['EH'])} | {cell(r['middle'])} | "
                     f"{cell(r[NOISE_CEILING])} | {_difference_cell(r['fraction_minus_EH'])} |")
    return "\n".join(lines)


def _members(grid: Grid, summaries: Sequence[ConfigurationSummary]) -> list[ConfigurationSummary]:
    keys = {configuration_key(r.to_dict()) for r in grid.runs}
    return [s for s in summaries if s.key in keys]


def factorial_report(grids: Mapping[str, Grid], summaries: Sequence[ConfigurationSummary],
                     companion_series: "Mapping[str, Sequence[ConfigurationSummary]] | None" = None,
                     n_boot: int = 2000) -> tuple[str, dict[str, Any]]:
    """Markdown and data of the factorial study: shift tables (one per protocol of
    :data:`SHIFT_PROTOCOLS`), the learning-rate slope, the depth exponents of the depth arm beside
    each companion depth series (e.g. the paper's, ``{"paper series": summaries}``), and the depth
    fraction fitted on one depth series and scored on the others and on the remaining arms."""
    arms = factorial_arms(grids)
    if not arms:
        raise InvalidInputError("the grids hold no arm named 'factorial.<factor>'.")
    rows = shift_rows(grids, summaries)
    data: dict[str, Any] = {"shifts": rows}
    md = ["# What moves the peak? One factor at a time\n",
          "Generated by `python -m eqhyp_utils reproduce --config configs/factorial.toml` (analysis declared in "
          "docs/science.md §9 before the grid ran). Each arm changes one factor of its reference, the first "
          "level listed. Shift: peak(level, seed) − peak(reference, seed), paired by seed, mean over the seeds "
          "that reached the protocol's checkpoint in both, 95 % Student-t interval over those differences. "
          "Predicted shifts: each reading's layer at the level minus at the reference (signal propagation at "
          "initialisation only; they see neither the learning rate, nor the width, nor — except EH data c0 — "
          "the data). *moves?*: the interval excludes 0. *EH's shift inside?*: the interval contains the "
          "EH's predicted shift.", ""]
    for protocol in SHIFT_PROTOCOLS:
        md += [f"## Shifts, protocol `{protocol}`", "", format_shift_table(rows, protocol), ""]
    lr_arms = [g for g in arms.values() if arm_factor(g) == "lr"]
    if lr_arms:
        rates = sorted({r.lr for r in lr_arms[0].runs})
        slopes = {p: lr_slope(lr_arms[0], summaries, p) for p in SHIFT_PROTOCOLS}
        below = {p: lr_slope(lr_arms[0], summaries, p, max_lr=rates[-2]) for p in SHIFT_PROTOCOLS}
        data["lr_slope"] = slopes
        data["lr_slope_without_largest"] = below
        md += ["## The learning rate's effect as a slope", "",
               "Per seed, the least-squares slope of the peak on log₂ lr over the levels of "
               f"`{lr_arms[0].name}` that seed reached; mean over seeds, 95 % t interval (layers per doubling of "
               f"the learning rate; the EH predicts 0). Over all rates ({rates[0]:g}–{rates[-1]:g}), and without "
               f"the largest ({rates[0]:g}–{rates[-2]:g}).", "",
               "| rates | protocol | seeds | layers per doubling [95 % t interval] | per seed |", "|---|---|---|---|---|"]
        for label, table in ((f"{rates[0]:g}–{rates[-1]:g}", slopes), (f"{rates[0]:g}–{rates[-2]:g}", below)):
            for p, s in table.items():
                per = ", ".join(f"{v:+.2f}" for v in s["per_seed"].values())
                md.append(f"| {label} | {p} | {s['n']} | {_interval(s)} | {per} |")
        md.append("")
    series: dict[str, Sequence[ConfigurationSummary]] = {}
    depth_arms = [g for g in arms.values() if arm_factor(g) == "depth"]
    for g in depth_arms:
        series[g.name] = _members(g, summaries)
    series.update(companion_series or {})
    protocols = ("loss<0.02", "loss<0.02 test", "loss<0.1")
    if series:
        exponents = depth_exponent_rows(series, protocols, n_boot=n_boot)
        data["depth_exponents"] = exponents
        md += ["## Depth exponents, series side by side", "",
               "peak ∝ L^β fitted by least squares on log–log axes. Intervals (95 %, docs/science.md §9): "
               "*configuration level (t)* — per-depth means of log peak, Student-t on (depths − 2) degrees of "
               "freedom, the primary one; *two-stage bootstrap* — depths, then seeds within them; *seeds within "
               "depth* — the earlier interval, which treats the power law as exact. The EH slope is that of the "
               "EH crossing over the same depths; 3/5 is the paper's asymptotic law, 1 a fixed depth fraction.", "",
               format_exponent_table(exponents), ""]
    scored = dict(series)
    others = [s for name, g in arms.items() if g not in depth_arms for s in _members(g, summaries)
              if not any(s.key == t.key for members in series.values() for t in members)]
    if others:
        scored["other arms (lr, width, data)"] = others
    fitted_on = list(series)
    if len(scored) >= 2:
        fractions = [r for p in ("loss<0.02", "loss<0.02 test")
                     for r in cross_grid_fraction_rows(scored, fitted_on, p)]
        data["cross_grid_fraction"] = fractions
        md += ["## A depth fraction scored out of sample", "",
               "f fitted on every run of one depth series (grid step 0.005, minimum MAE), then scored on runs it "
               "never saw; beside it, on the same runs, the fraction fitted leave-one-configuration-out within "
               "them (in sample), the EH (nothing fitted), the middle layer and the noise ceiling. Cells: MAE in "
               "layers / runs within ±1 layer. Last column: MAE(fraction) − MAE(EH) per configuration of the scored "
               "runs, averaged, with a 95 % Student-t interval over those configurations.", "",
               format_fraction_table(fractions), ""]
    return "\n".join(md) + "\n", data


def _eh_layers(grid: Grid) -> list["int | None"]:
    """The primary reading's layer at each level of an arm, from the configurations themselves."""
    from .readings import READINGS

    out, seen = [], set()
    for run in grid.runs:
        key = configuration_key(run.to_dict())
        if key not in seen:
            seen.add(key)
            out.append(READINGS["EH"].layer(run))
    return out


def factor_panels(grids: Mapping[str, Grid], summaries: Sequence[ConfigurationSummary], protocol: str = "loss<0.02",
                  companion_series: "Mapping[str, Sequence[ConfigurationSummary]] | None" = None) -> list[dict[str, Any]]:
    """The data of :func:`eqhyp_utils.plotting.report.factor_effects_figure`: per arm, the levels' values
    and labels, each level's peaks (one per seed that reached ``protocol``'s checkpoint), the EH layer,
    and — on the depth arm — the companion depth series as extra point sets."""
    panels = []
    for name, grid in factorial_arms(grids).items():
        factor = arm_factor(grid)
        levels = arm_levels(grid, summaries)
        panel = {"arm": name, "factor": factor, "values": [v for v, _ in levels],
                 "labels": [str(v) if not isinstance(v, float) else f"{v:g}" for v, _ in levels],
                 "peaks": [list(_peaks_by_seed(s, protocol).values()) for _, s in levels],
                 "eh": _eh_layers(grid),
                 "lr": sorted({s.config["lr"] for _, s in levels if s is not None}), "extra": []}
        if factor == "depth":
            for label, members in (companion_series or {}).items():
                by_depth = sorted(members, key=lambda s: s.depth)
                panel["extra"].append({"label": label, "values": [s.depth for s in by_depth],
                                       "peaks": [[p for p in s.peaks.get(protocol, []) if p is not None]
                                                 for s in by_depth]})
        panels.append(panel)
    return panels
