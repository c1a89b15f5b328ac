"""Interventions: change one knob of a reference network and compare the predicted and measured
shift of the peak layer.

For each intervention grid (``[interventions.<name>]`` in the grid file) the *first*
configuration is the reference (in configs/full.toml: ReLU at the edge of chaos, L = 16, N = 128,
no bias, no residual branch). For every other configuration:

* predicted shift: ``equilibrium_layer(variant) − equilibrium_layer(reference)``; its sign is the
  EH-predicted direction ("earlier" < 0, "later" > 0, "none" = 0). More forward information loss
  (a bias, an ordered phase) moves the crossing earlier; less (a small residual branch) later.
* measured shift: per seed, peak(variant, seed) − peak(reference, seed) (paired by seed: same data,
  probe and mini-batch order); reported as the mean with the min … max over seeds. The measured
  direction is the sign of the mean when |mean| ≥ 1 layer, else "none" (a shift below one layer is
  within the seed spread of docs/science.md §6).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from .config import Grid
from .scoreboard import ConfigurationSummary

__all__ = ["InterventionRow", "intervention_rows", "format_interventions", "direction"]

_KNOB_KEYS = ("activation", "sigma_w2", "sigma_b2", "alpha", "width", "depth", "dataset")


@dataclass
class InterventionRow:
    grid: str
    change: str
    predicted_reference: "int | None"
    predicted_variant: "int | None"
    predicted_direction: str
    measured_shift: dict[str, tuple[float, float, float]]   # protocol → (mean, min, max)
    measured_direction: dict[str, str]
    peaks: dict[str, list[int]]
    reference_peaks: dict[str, list[int]]
    train_accuracy: float
    n_seeds: int


def direction(shift: "float | None", threshold: float = 0.0) -> str:
    """"earlier" / "later" / "none" for a shift in layers (|shift| ≤ threshold → "none"; None → "n/a")."""
    if shift is None or not np.isfinite(shift):
        return "n/a"
    if shift < 0 and abs(shift) >= max(threshold, 1e-12):
        return "earlier"
    if shift > 0 and abs(shift) >= max(threshold, 1e-12):
        return "later"
    return "none"


def _change(reference: dict, variant: dict) -> str:
    parts = []
    for k in _KNOB_KEYS:
        if reference.get(k) != variant.get(k):
            def show(v):
                return "none" if v is None else (f"{v:.4g}" if isinstance(v, float) else str(v))
            parts.append(f"{k} {show(reference.get(k))} → {show(variant.get(k))}")
    return ", ".join(parts) or "(reference)"


def intervention_rows(grid: Grid, summaries: Sequence[ConfigurationSummary],
                      protocols: Sequence[str] = ("final", "time_averaged")) -> list[InterventionRow]:
    """Reference-vs-variant rows for one intervention grid (the grid's first configuration is the reference)."""
    by_key = {s.key: s for s in summaries}
    ordered: list[ConfigurationSummary] = []
    for run in grid.runs:
        d = run.to_dict()
        key = tuple(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in d.items() if k != "seed"))
        if key in by_key and by_key[key] not in ordered:
            ordered.append(by_key[key])
    if not ordered:
        return []
    ref = ordered[0]
    rows = []
    for var in ordered:
        p_ref, p_var = ref.predictions.get("EH"), var.predictions.get("EH")
        predicted = None if p_ref is None or p_var is None else p_var - p_ref
        shifts, dirs = {}, {}
        common = sorted(set(ref.seeds) & set(var.seeds))
        for protocol in protocols:
            r = dict(zip(ref.seeds, ref.peaks[protocol]))
            v = dict(zip(var.seeds, var.peaks[protocol]))
            diff = np.array([v[s] - r[s] for s in common], dtype=float)
            if diff.size:
                shifts[protocol] = (float(diff.mean()), float(diff.min()), float(diff.max()))
                dirs[protocol] = direction(float(diff.mean()), threshold=1.0)
            else:
                shifts[protocol] = (float("nan"),) * 3
                dirs[protocol] = "n/a"
        acc = float(np.mean(var.train_accuracy)) if var.train_accuracy else float("nan")
        rows.append(InterventionRow(grid=grid.name, change=_change(ref.config, var.config),
                                    predicted_reference=p_ref, predicted_variant=p_var,
                                    predicted_direction=direction(predicted), measured_shift=shifts,
                                    measured_direction=dirs, peaks={p: list(var.peaks[p]) for p in protocols},
                                    reference_peaks={p: list(ref.peaks[p]) for p in protocols},
                                    train_accuracy=acc, n_seeds=len(common)))
    return rows


def format_interventions(rows: Sequence[InterventionRow], protocols: Sequence[str] = ("final", "time_averaged")) -> str:
    """Markdown table: change, EH layer (ref → variant) and direction, measured shift per protocol."""
    head = ("| intervention | change | EH layer ref → variant | EH direction | "
            + " | ".join(f"measured shift ({p}) mean [min, max] → direction" for p in protocols)
            + " | agrees (final / time-avg) | peaks (final) | train acc | seeds |")
    lines = [head, "|" + "---|" * (8 + len(protocols))]
    for r in rows:
        if r.change == "(reference)":
            lines.insert(0, f"Reference peaks per seed, (a) final {r.peaks['final']}, (b) time-averaged "
                            f"{r.peaks.get('time_averaged')}; reference train accuracy {r.train_accuracy:.3f}.\n")
            continue
        cells = []
        for p in protocols:
            m, lo, hi = r.measured_shift[p]
            cells.append("n/a" if not np.isfinite(m) else f"{m:+.2f} [{lo:+.0f}, {hi:+.0f}] → {r.measured_direction[p]}")
        agree = " / ".join("n/a" if r.predicted_direction == "n/a" or r.measured_direction[p] == "n/a" else
                           ("yes" if r.predicted_direction == r.measured_direction[p] else "no") for p in protocols)
        pred = "n/a" if r.predicted_variant is None else f"{r.predicted_reference} → {r.predicted_variant}"
        lines.append(f"| {r.grid.split('.', 1)[-1]} | {r.change} | {pred} | {r.predicted_direction} | "
                     + " | ".join(cells) + f" | {agree} | {r.reference_peaks['final']} → {r.peaks['final']} | "
                     f"{r.train_accuracy:.3f} | {r.n_seeds} |")
    return "\n".join(lines)
