r"""The alignment-profile explorer: the shipped runs' alignment profiles :math:`A_l`, checkpoint by checkpoint.

:func:`alignment_profile_explorer` reads the result files of the course's experiment grids (through
:mod:`eqhyp_utils.experiments.shipped`, so it works from a checkout and from an installed wheel) and returns an
:class:`~eqhyp_utils.interactive.figure.InteractiveFigure` with selectors for the grid, the depth :math:`L` and
the seed, and a slider over the run's checkpoints. Each view shows the profile :math:`A_l` of that run at that
checkpoint, on its training probe and — for the paper's protocol — on its test probe too, each profile's
argmax marked, and the EH prediction :math:`l^*` (the scoreboard's reading ``"EH"``,
:data:`eqhyp_utils.experiments.readings.READINGS`) as a dashed line. The y axis of a run stays the same at
all its checkpoints, so the slider shows the profile growing.

The grids (:data:`ALIGNMENT_GRIDS`): ``"fixed_budget"`` (``configs/full.toml``, ``results/fixed_budget``:
checkpoints at initialisation, 1/8, 1/4 and 1/2 of the first epoch and at every epoch's end) and ``"paper"``
(``configs/paper.toml``, ``results/paper``: at initialisation, when the running loss first stays below 0.1 and
at the stop, loss < 0.02). Only their depth-scaling configurations are shown.
"""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Mapping, Sequence

import numpy as np

from ..errors import InvalidInputError
from ..experiments import shipped
from ..experiments.config import load_grids
from ..experiments.readings import READINGS
from ..experiments.results import load_results
from ..plotting import OKABE_ITO
from .figure import Control, InteractiveFigure, Layout, Trace, TraceStyle, VerticalLine, View

__all__ = ["GridSource", "ALIGNMENT_GRIDS", "checkpoint_labels", "alignment_profile_explorer"]


@dataclass(frozen=True)
class GridSource:
    """Where a grid's runs are: its grid file ``configs/<config>.toml``, the table of it to show, its shipped
    results ``results/<results>``, and the name shown for it."""

    config: str
    table: str
    results: str
    label: str


#: The grids the explorer can show, by name.
ALIGNMENT_GRIDS = {
    "fixed_budget": GridSource("full", "depth_scaling", "fixed_budget", "fixed budget (mnist1d, 20 epochs)"),
    "paper": GridSource("paper", "depth_scaling", "paper", "paper protocol (MNIST, to loss 0.02)"),
}


def _epoch_text(epoch: float) -> str:
    fraction = Fraction(epoch).limit_denominator(64)
    if abs(float(fraction) - epoch) < 1e-9 and fraction.denominator != 1:
        return f"epoch {fraction.numerator}/{fraction.denominator}"
    return f"epoch {epoch:g}"


def checkpoint_labels(history: Mapping[str, Any]) -> list[str]:
    """A name for each checkpoint of a run's history: "initialisation" (step 0), the loss milestones reached
    there ("loss < 0.1"), else its epoch ("epoch 1/8", "epoch 3")."""
    steps, epochs = list(history["steps"]), list(history["epochs"])
    milestones: dict[int, list[str]] = {}
    for m in history.get("milestones") or []:
        milestones.setdefault(int(m["step"]), []).append(f"loss < {m['loss']:g}")
    labels = []
    for step, epoch in zip(steps, epochs):
        if step == 0:
            labels.append("initialisation")
        elif step in milestones:
            labels.append(" and ".join(milestones[step]))
        else:
            labels.append(_epoch_text(float(epoch)))
    return labels


def _profiles(history: Mapping[str, Any]) -> list[tuple[str, list]]:
    """(probe name, checkpoints × layers) for the probes the run measured."""
    out = [("train", history["alignment"])]
    if history.get("test_alignment"):
        out.append(("test", history["test_alignment"]))
    return out


def _runs(source: GridSource) -> list[dict]:
    """The shipped, non-diverged payloads of a grid's table, sorted by depth then seed."""
    grids = load_grids(shipped.config_file(source.config))
    if source.table not in grids:
        raise InvalidInputError(f"configs/{source.config}.toml has no table {source.table!r}; it has {sorted(grids)}.")
    wanted = {c.config_hash() for c in grids[source.table].runs}
    stored = load_results(shipped.results_dir(source.results))  # an invalid file is named in a warning, not used
    runs = [p for h, p in stored.items() if h in wanted
            and not p["history"].get("diverged") and p["history"].get("alignment")]
    return sorted(runs, key=lambda p: (p["config"]["depth"], p["config"]["seed"]))


def alignment_profile_explorer(grids: Sequence[str] = ("fixed_budget", "paper")) -> InteractiveFigure:
    r"""The alignment profiles of the shipped runs through training, as an interactive figure (notebook 6).

    ``grids``: names of :data:`ALIGNMENT_GRIDS`, in the order of the grid selector. Every checkpoint of every
    shipped run of their depth-scaling tables becomes a view (a checkpoint whose profile has a missing value
    is left out). The default view: the first grid, the depth nearest 16, the first seed, the last checkpoint.
    The two default grids give 651 views and add about 320 kB to a page.

    Example (a notebook cell)::

        from eqhyp_utils.interactive import alignment_profile_explorer
        alignment_profile_explorer()                    # or alignment_profile_explorer(["paper"])
    """
    if isinstance(grids, str) or not isinstance(grids, Sequence) or not grids:
        raise InvalidInputError(f"grids must be a non-empty sequence of names among {sorted(ALIGNMENT_GRIDS)}, "
                                f"got {grids!r}.")
    unknown = [g for g in grids if g not in ALIGNMENT_GRIDS]
    if unknown or len(set(grids)) != len(grids):
        raise InvalidInputError(f"grids must be distinct names among {sorted(ALIGNMENT_GRIDS)}, got {list(grids)!r}.")

    views: dict[tuple, View] = {}
    depths: set[int] = set()
    seeds: set[int] = set()
    checkpoints: list[str] = []
    first: dict[str, Any] = {}
    for name in grids:
        source = ALIGNMENT_GRIDS[name]
        runs = _runs(source)
        if not runs:
            raise InvalidInputError(f"no shipped runs of {source.table} in results/{source.results}; reproduce them "
                                    f"with: python -m eqhyp_utils reproduce --config configs/{source.config}.toml")
        for payload in runs:
            config, history = payload["config"], payload["history"]
            depth, seed = int(config["depth"]), int(config["seed"])
            eh = READINGS["EH"].layer(config)
            probes = [(probe, np.array([[np.nan if v is None else v for v in row] for row in rows], dtype=np.float64))
                      for probe, rows in _profiles(history)]
            top = max(float(np.nanmax(A)) for _, A in probes)
            labels = checkpoint_labels(history)
            for index, label in enumerate(labels):
                if not all(np.isfinite(A[index]).all() for _, A in probes):
                    continue
                traces = []
                for probe, A in probes:
                    profile = A[index]
                    peak = int(np.argmax(profile)) + 1
                    traces += [Trace(probe, profile),
                               Trace(f"{probe}_peak", [profile[peak - 1]], x=[peak],
                                     name=f"argmax{'' if probe == 'train' else ' (test)'}: layer {peak}")]
                title = None
                if label != _epoch_text(float(history["epochs"][index])) and index > 0:
                    title = (f"{source.label}, L = {depth}, seed {seed}: {label} "
                             f"({_epoch_text(float(history['epochs'][index]))})")
                views[(name, depth, seed, label)] = View(
                    traces=tuple(traces), lines=(VerticalLine(eh, f"EH prediction l* = {eh}"),), title=title,
                    x_range=(0.5, depth + 1.5), y_range=(0.0, 1.08 * top))
                depths.add(depth)
                seeds.add(seed)
                if label not in checkpoints:
                    checkpoints.append(label)
        if not first:
            depth = min({int(p["config"]["depth"]) for p in runs}, key=lambda L: (abs(L - 16), L))
            seed = min(int(p["config"]["seed"]) for p in runs if p["config"]["depth"] == depth)
            last = [label for (g, L, s, label) in views if (g, L, s) == (name, depth, seed)][-1]
            first = {"grid": name, "depth": depth, "seed": seed, "checkpoint": last}

    controls = (
        Control("grid", "grid", tuple(grids), labels=tuple(ALIGNMENT_GRIDS[g].label for g in grids)),
        Control("depth", "depth L", tuple(sorted(depths)), default=first["depth"]),
        Control("seed", "seed", tuple(sorted(seeds)), default=first["seed"]),
        Control("checkpoint", "checkpoint", tuple(checkpoints), kind="slider", default=first["checkpoint"]),
    )
    styles = {
        "train": TraceStyle("alignment A<sub>l</sub>, training probe", color=OKABE_ITO[5], marker="circle", size=6),
        "train_peak": TraceStyle("argmax (training probe)", mode="markers", color=OKABE_ITO[5], marker="star",
                                 size=16),
        "test": TraceStyle("alignment A<sub>l</sub>, test probe", color=OKABE_ITO[6], dash="dash", marker="square",
                           size=5),
        "test_peak": TraceStyle("argmax (test probe)", mode="markers", color=OKABE_ITO[6], marker="star", size=16),
    }
    layout = Layout(x_title="layer l (output layer = L + 1)", y_title="alignment A<sub>l</sub>",
                    title="{grid}, L = {depth}, seed {seed}: {checkpoint}", x_integer=True)
    alt = ("The alignment profile A_l of one shipped training run against the layer l at one checkpoint, with "
           "the argmax of each profile starred and the Equilibrium Hypothesis's layer l* dashed; controls choose "
           "the grid, the depth, the seed and the checkpoint.")
    return InteractiveFigure("Alignment profiles of the shipped runs, checkpoint by checkpoint", controls, views,
                             styles, layout, alt)
