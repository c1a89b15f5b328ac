"""The scoreboard: where is the alignment peak, where did the Equilibrium Hypothesis put it, and
do depth-only baselines do as well?

Peak-layer protocols (layers 1 … L + 1, output layer last), for one run:

* ``"final"``: argmax over layers of the alignment at the last checkpoint;
* ``"time_averaged"``: argmax of the alignment averaged over training time after the first epoch,
  (1/(T − 1)) ∫_1^T A_l(t) dt with the trapezoid rule over the checkpoints at epochs ≥ 1.

Predictors of the peak layer, all integers in 1 … L + 1:

* ``EH``: :func:`eqhyp_utils.equilibrium.equilibrium_layer` for the run's architecture — signal
  propagation at initialisation only, nothing fitted;
* ``middle``: ⌈(L + 1)/2⌉; ``last hidden``: L;
* ``fraction``: round(f · (L + 1)) with the single fraction f fitted *leave one configuration
  out*: for each configuration, f minimises the mean absolute error on all the *other*
  configurations (f on a grid of step 0.005 in [0, 1]; ties go to the smallest f). It is the best a
  depth-only rule can do without seeing the configuration it predicts.

Scores are per run (each seed's measured peak against the configuration's prediction): mean
absolute error in layers, exact-hit rate, and rate of |error| ≤ 1. Diverged runs are left out and
counted. A *configuration* is a run configuration without its seed.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

import numpy as np

from ..errors import InvalidInputError

__all__ = ["PROTOCOLS", "PREDICTORS", "peak_layer", "peak_layer_at_accuracy", "ConfigurationSummary", "summarise_configurations",
           "fit_fraction", "loco_fraction_predictions", "score", "scoreboard_rows", "format_scoreboard"]

PROTOCOLS = ("final", "time_averaged")
PREDICTORS = ("EH", "middle", "last hidden", "fraction")
FRACTION_GRID = np.round(np.arange(0.0, 1.0 + 1e-9, 0.005), 3)


def peak_layer(history: dict[str, Any], protocol: str = "final") -> int:
    """The measured peak layer (1-based) of one run's history dict under ``protocol``.

    ``history`` needs ``alignment`` (checkpoints × (L + 1)) and ``epochs`` (one per checkpoint).
    """
    if protocol not in PROTOCOLS:
        raise InvalidInputError(f"protocol must be one of {PROTOCOLS}, got {protocol!r}.")
    A = np.array([[np.nan if v is None else v for v in row] for row in history["alignment"]], dtype=np.float64)
    if A.ndim != 2 or A.shape[0] == 0:
        raise InvalidInputError("the history has no checkpoint; cannot locate a peak.")
    if protocol == "final":
        profile = A[-1]
    else:
        t = np.asarray(history["epochs"], dtype=np.float64)
        keep = t >= 1.0 - 1e-12
        if keep.sum() == 0:
            raise InvalidInputError("the time-averaged protocol needs checkpoints after the first epoch.")
        A, t = A[keep], t[keep]
        if len(t) == 1:
            profile = A[0]
        else:
            profile = (0.5 * (A[1:] + A[:-1]) * np.diff(t)[:, None]).sum(0) / (t[-1] - t[0])
    if not np.isfinite(profile).all():
        raise InvalidInputError(f"the alignment profile is not finite: {profile}.")
    return int(np.argmax(profile)) + 1


def peak_layer_at_accuracy(history: dict[str, Any], threshold: float) -> "int | None":
    """Peak layer at the first checkpoint whose training accuracy reaches ``threshold`` (None if never).

    Nets of different depths train at different speeds; comparing them at the same training
    accuracy, rather than after the same number of epochs, is one answer to docs/science.md §6's
    warning that peaks of nets trained to different points are not comparable.
    """
    accuracy = [-1.0 if a is None else a for a in history["train_accuracy"]]
    for row, a in zip(history["alignment"], accuracy):
        if a >= threshold:
            profile = np.array([np.nan if v is None else v for v in row], dtype=np.float64)
            return int(np.nanargmax(profile)) + 1 if np.isfinite(profile).any() else None
    return None


@dataclass
class ConfigurationSummary:
    """Every seed of one configuration: measured peaks per protocol and the predictions."""
    key: tuple
    config: dict                      # the configuration of its first seed (seed field included)
    seeds: list[int] = field(default_factory=list)
    peaks: dict[str, list[int]] = field(default_factory=dict)   # protocol → peak per (non-diverged) seed
    train_accuracy: list[float] = field(default_factory=list)
    diverged: int = 0
    predictions: dict[str, "int | None"] = field(default_factory=dict)
    histories: list[dict] = field(default_factory=list, repr=False)  # per (non-diverged) seed

    @property
    def depth(self) -> int:
        return int(self.config["depth"])

    @property
    def label(self) -> str:
        c = self.config
        alpha = "" if c.get("alpha") is None else f", α={c['alpha']:g}"
        return (f"{c['dataset']} {c['activation']} σw²={c['sigma_w2']:.4g} σb²={c['sigma_b2']:g} "
                f"L={c['depth']} N={c['width']}{alpha}, {c['epochs']} ep")

    def mean_peak(self, protocol: str) -> float:
        p = self.peaks.get(protocol, [])
        return float(np.mean(p)) if p else float("nan")


def _eh_prediction(config: dict) -> "int | None":
    from ..equilibrium import equilibrium_layer

    try:
        return int(equilibrium_layer(config["activation"], config["sigma_w2"], config["sigma_b2"],
                                     config["depth"], alpha=config.get("alpha")))
    except Exception:  # an architecture the formalisation does not cover: scored as "n/a"
        return None


def summarise_configurations(payloads: Iterable[dict], eh: "callable | None" = None) -> list[ConfigurationSummary]:
    """Group result payloads by configuration (all keys but the seed); measure peaks; predict.

    ``eh(config) -> int | None`` computes the EH prediction (default: the current
    :func:`~eqhyp_utils.equilibrium.equilibrium_layer`, so that the scoreboard always reflects the
    package's formalisation rather than a copy stored at run time).
    """
    eh = eh or _eh_prediction
    groups: dict[tuple, ConfigurationSummary] = {}
    for payload in sorted(payloads, key=lambda p: (p["config"]["seed"], p["config_hash"])):
        config = payload["config"]
        key = tuple(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in config.items() if k != "seed"))
        summary = groups.setdefault(key, ConfigurationSummary(key=key, config=dict(config),
                                                              peaks={p: [] for p in PROTOCOLS}))
        history = payload["history"]
        if history.get("diverged") or not history.get("alignment"):
            summary.diverged += 1
            continue
        try:
            peaks = {p: peak_layer(history, p) for p in PROTOCOLS}
        except InvalidInputError:
            summary.diverged += 1
            continue
        summary.seeds.append(int(config["seed"]))
        summary.histories.append(history)
        for p in PROTOCOLS:
            summary.peaks[p].append(peaks[p])
        accuracy = history["train_accuracy"][-1]
        summary.train_accuracy.append(float("nan") if accuracy is None else float(accuracy))
    out = sorted(groups.values(), key=lambda s: (s.config["dataset"], s.config["activation"], s.config["depth"],
                                                  s.label))
    for s in out:
        L = s.depth
        s.predictions = {"EH": eh(s.config), "middle": (L + 2) // 2, "last hidden": L}
    return out


def _fraction_layer(depth: "int | np.ndarray", f: "float | np.ndarray") -> np.ndarray:
    """round(f · (L + 1)) (halves up), clipped to 1 … L + 1; broadcasts."""
    depth = np.asarray(depth)
    return np.clip(np.floor(np.asarray(f) * (depth + 1) + 0.5), 1, depth + 1).astype(int)


def fit_fraction(depths: Sequence[int], peaks: Sequence[int]) -> float:
    """The fraction f (grid step 0.005) minimising mean |round(f (L+1)) − peak| over runs; smallest on ties."""
    depths = np.asarray(depths, dtype=int)
    peaks = np.asarray(peaks, dtype=float)
    if depths.size == 0:
        raise InvalidInputError("fit_fraction needs at least one run.")
    errors = np.abs(_fraction_layer(depths[None, :], FRACTION_GRID[:, None]) - peaks[None, :]).mean(1)
    return float(FRACTION_GRID[int(np.argmin(errors))])


def loco_fraction_predictions(summaries: Sequence[ConfigurationSummary], protocol: str) -> tuple[list, list]:
    """Leave-one-configuration-out fraction predictions: ([layer per configuration], [fraction used])."""
    layers, fractions = [], []
    for i, s in enumerate(summaries):
        depths = [o.depth for j, o in enumerate(summaries) if j != i for _ in o.peaks[protocol]]
        peaks = [p for j, o in enumerate(summaries) if j != i for p in o.peaks[protocol]]
        if not peaks:
            layers.append(None)
            fractions.append(None)
            continue
        f = fit_fraction(depths, peaks)
        layers.append(int(_fraction_layer(s.depth, f)))
        fractions.append(f)
    return layers, fractions


def score(pairs: Sequence[tuple[int, int]]) -> dict[str, float]:
    """MAE, exact-hit rate and ±1 rate of (predicted, measured) pairs; NaN for an empty list."""
    if not pairs:
        return {"n": 0, "mae": float("nan"), "exact": float("nan"), "within1": float("nan")}
    err = np.abs(np.array([p - m for p, m in pairs], dtype=float))
    return {"n": len(pairs), "mae": float(err.mean()), "exact": float((err == 0).mean()),
            "within1": float((err <= 1).mean())}


def scoreboard_rows(summaries: Sequence[ConfigurationSummary], protocol: str,
                    groupings: Sequence[str] = ("dataset", "activation")) -> list[dict[str, Any]]:
    """One row for all configurations, then one per value of each key in ``groupings``.

    Each row: ``group``, ``configs``, ``runs`` and, per predictor, the :func:`score` dict
    (EH rows count only configurations where the EH prediction exists).
    """
    fraction_layers, _ = loco_fraction_predictions(summaries, protocol)
    per_config = []
    for s, f in zip(summaries, fraction_layers):
        preds = dict(s.predictions, fraction=f)
        per_config.append((s, preds))

    def row(name: str, members) -> dict[str, Any]:
        out: dict[str, Any] = {"group": name, "configs": len(members),
                               "runs": sum(len(s.peaks[protocol]) for s, _ in members)}
        for predictor in PREDICTORS:
            out[predictor] = score([(preds[predictor], m) for s, preds in members if preds[predictor] is not None
                                    for m in s.peaks[protocol]])
        return out

    rows = [row("all", per_config)]
    for key in groupings:
        for value in sorted({str(s.config[key]) for s, _ in per_config}):
            rows.append(row(f"{key} = {value}", [(s, p) for s, p in per_config if str(s.config[key]) == value]))
    return rows


def format_scoreboard(rows: Sequence[dict[str, Any]]) -> str:
    """Markdown table: per group, each predictor's MAE (layers) / exact-hit % / ±1 %."""
    head = "| group | configs | runs | " + " | ".join(f"{p}: MAE / exact / ±1" for p in PREDICTORS) + " |"
    lines = [head, "|" + "---|" * (3 + len(PREDICTORS))]
    for r in rows:
        cells = []
        for p in PREDICTORS:
            s = r[p]
            cells.append("n/a" if not s["n"] else f"{s['mae']:.2f} / {100 * s['exact']:.0f}% / {100 * s['within1']:.0f}%"
                         + ("" if s["n"] == r["runs"] else f" (n={s['n']})"))
        lines.append(f"| {r['group']} | {r['configs']} | {r['runs']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
