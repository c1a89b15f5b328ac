r"""The scoreboard explorer: how far each predictor of the peak layer is from the measured peaks.

:func:`scoreboard_explorer` reads the ``summary.json`` that the experiment report writes into a results folder
(:func:`eqhyp_utils.experiments.report.write_report`: key ``"scoreboard"``, protocol → rows, the row with
``"group": "all"`` covering every configuration) and returns an
:class:`~eqhyp_utils.interactive.figure.InteractiveFigure` with a grid selector and a protocol selector. Each
view is a bar chart of the mean absolute error (in layers) of every predictor over the grid's runs under that
protocol: the readings of the Equilibrium Hypothesis, the depth-only rules (middle layer, last hidden layer,
the fraction fitted leave-one-configuration-out) and the seed-to-seed noise ceiling. Hovering a bar shows its
exact-hit and ±1 rates and the number of runs scored. Nothing is recomputed: the numbers are the file's.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Sequence

from ..errors import InvalidInputError
from ..experiments import shipped
from ..experiments.readings import READINGS
from ..experiments.scoreboard import NOISE_CEILING, PEAK_PROTOCOLS
from ..plotting import OKABE_ITO
from .figure import Control, InteractiveFigure, Layout, Trace, TraceStyle, View

__all__ = ["SCOREBOARD_GRIDS", "load_scoreboard", "scoreboard_explorer"]

#: The shipped results folders with a scoreboard, and the name shown for each. By default the explorer shows
#: those whose summary.json exists.
SCOREBOARD_GRIDS = {
    "fixed_budget": "fixed budget (mnist1d, 20 epochs)",
    "paper": "paper protocol (MNIST, to loss 0.02)",
    "factorial": "factorial study (paper protocol, one factor at a time)",
}
_RULES = ("middle", "last hidden", "fraction")
_NOT_PREDICTORS = ("group", "configs", "runs")


def _summary_path(grid: "str | Path") -> Path:
    if isinstance(grid, Path):
        path = grid / "summary.json" if grid.is_dir() else grid
    elif isinstance(grid, str) and grid in SCOREBOARD_GRIDS:
        path = shipped.results_dir(grid) / "summary.json"
    else:
        raise InvalidInputError(f"each grid must be one of {sorted(SCOREBOARD_GRIDS)} or a pathlib.Path to a results "
                                f"folder, got {grid!r}.")
    if not path.is_file():
        raise InvalidInputError(f"no scoreboard at {path}; write it with: python -m eqhyp_utils reproduce scoreboard "
                                f"(add --config configs/<grid>.toml).")
    return path


def load_scoreboard(grid: "str | Path") -> dict[str, Any]:
    """The ``"protocols"`` (protocol → description) and ``"scoreboard"`` (protocol → the row of all
    configurations) of a grid's summary.json; ``grid`` is a name of :data:`SCOREBOARD_GRIDS` or a folder."""
    path = _summary_path(grid)
    try:
        summary = json.loads(path.read_text(encoding="utf-8"))
        rows = {protocol: next(r for r in table if r.get("group") == "all")
                for protocol, table in summary["scoreboard"].items()}
        protocols = {p: str(summary.get("protocols", {}).get(p, p)) for p in rows}
    except (OSError, json.JSONDecodeError, KeyError, TypeError, AttributeError, StopIteration) as err:
        raise InvalidInputError(f"{path} is not a scoreboard summary (key 'scoreboard': protocol → rows with a row "
                                f"'group': 'all'): {type(err).__name__} {err}.") from None
    if not rows:
        raise InvalidInputError(f"{path} has an empty scoreboard.")
    return {"protocols": protocols, "scoreboard": rows}


def _predictors(row: dict[str, Any]) -> list[str]:
    """The predictors of a row, in the course's order: readings, depth-only rules, the noise ceiling, others."""
    names = [k for k in row if k not in _NOT_PREDICTORS and isinstance(row[k], dict)]
    known = [*READINGS, *_RULES, NOISE_CEILING]
    return [n for n in known if n in names] + sorted(n for n in names if n not in known)


def _family(name: str) -> str:
    if name == NOISE_CEILING:
        return "ceiling"
    return "rule" if name in _RULES else "reading"


def _view(row: dict[str, Any]) -> View:
    bars: dict[str, list] = {"reading": [], "rule": [], "ceiling": []}
    for name in _predictors(row):
        score = row[name]
        if not score.get("n") or score.get("mae") is None:
            continue  # a predictor that covers no run of this protocol
        hover = (f"exact hits {100 * score['exact']:.0f} %, within ±1 layer {100 * score['within1']:.0f} %, "
                 f"{score['n']} runs")
        bars[_family(name)].append((name, float(score["mae"]), hover))
    traces = tuple(Trace(family, [b[1] for b in found], x=[b[0] for b in found], hover=[b[2] for b in found])
                   for family, found in bars.items() if found)
    if not traces:
        raise InvalidInputError("a scoreboard row has no scored predictor.")
    top = max(max(t.y) for t in traces)
    return View(traces=traces, y_range=(0.0, 1.2 * top if top > 0 else 1.0))


def scoreboard_explorer(grids: Sequence[str | Path] | None = None) -> InteractiveFigure:
    """The scoreboard of each grid and protocol, as an interactive bar chart (notebook 6).

    ``grids``: names of :data:`SCOREBOARD_GRIDS` (read from the shipped results) or ``pathlib.Path`` folders
    holding a summary.json, in the order of the grid selector; by default every name of
    :data:`SCOREBOARD_GRIDS` whose summary.json exists. The protocol selector offers the grid's own protocols
    (the fixed budget's ``final``, ``time_averaged``…, the paper's ``loss<0.02``, ``loss<0.02 test``…). The
    default view: the first grid's first protocol, in the order of
    :data:`eqhyp_utils.experiments.scoreboard.PEAK_PROTOCOLS`.

    Example (a notebook cell)::

        from eqhyp_utils.interactive import scoreboard_explorer
        scoreboard_explorer(["fixed_budget", "paper"])
    """
    if grids is None:
        grids = [name for name in SCOREBOARD_GRIDS if (shipped.shipped_root() / "results" / name / "summary.json")
                 .is_file()]
        if not grids:
            raise InvalidInputError("no shipped results folder has a summary.json; write them with: "
                                    "python -m eqhyp_utils reproduce scoreboard")
    if isinstance(grids, (str, Path)) or not isinstance(grids, Sequence) or not grids:
        raise InvalidInputError(f"grids must be a non-empty sequence of names among {sorted(SCOREBOARD_GRIDS)} or "
                                f"results folders, got {grids!r}.")
    keys = [g if isinstance(g, str) else str(g) for g in grids]
    if len(set(keys)) != len(keys):
        raise InvalidInputError(f"grids must be distinct, got {keys}.")
    loaded = {key: load_scoreboard(grid) for key, grid in zip(keys, grids)}

    described: dict[str, str] = {}
    for board in loaded.values():
        for protocol, text in board["protocols"].items():
            described.setdefault(protocol, text)
    protocols = [p for p in PEAK_PROTOCOLS if p in described] + sorted(p for p in described if p not in PEAK_PROTOCOLS)
    views = {}
    for key, board in loaded.items():
        label = SCOREBOARD_GRIDS.get(key, Path(key).name)
        for protocol in protocols:
            row = board["scoreboard"].get(protocol)
            if row is None:
                continue
            view = _view(row)
            title = (f"{label}, protocol {protocol}: {row.get('runs', '?')} runs, "
                     f"{row.get('configs', '?')} configurations")
            views[(key, protocol)] = View(view.traces, title=title, y_range=view.y_range)
    first_protocol = next(p for p in protocols if (keys[0], p) in views)
    controls = (
        Control("grid", "grid", tuple(keys), labels=tuple(SCOREBOARD_GRIDS.get(k, Path(k).name) for k in keys)),
        Control("protocol", "protocol", tuple(protocols), labels=tuple(f"{p}: {described[p]}" for p in protocols),
                default=first_protocol),
    )
    styles = {
        "reading": TraceStyle("readings of the Equilibrium Hypothesis", kind="bar", color=OKABE_ITO[6],
                              values_format=".2f"),
        "rule": TraceStyle("depth-only rules", kind="bar", color=OKABE_ITO[5], values_format=".2f"),
        "ceiling": TraceStyle("noise ceiling (other seeds)", kind="bar", color="#999999", values_format=".2f"),
    }
    layout = Layout(x_title="predictor of the peak layer", y_title="mean absolute error (layers)")
    alt = ("Bar chart of the mean absolute error, in layers, with which each predictor — the readings of the "
           "Equilibrium Hypothesis, the depth-only rules and the seed-to-seed noise ceiling — places the measured "
           "alignment peak; controls choose the experiment grid and the peak protocol.")
    return InteractiveFigure("The scoreboard: error of each predictor of the peak layer", controls, views, styles,
                             layout, alt)
