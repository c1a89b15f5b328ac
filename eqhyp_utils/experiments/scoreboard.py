"""The scoreboard: where is the alignment peak, where do the readings of the Equilibrium Hypothesis
put it, and do depth-only rules — or the seeds themselves — do as well?

**Peak protocols** (:data:`PEAK_PROTOCOLS`; layers 1 … L + 1, output layer last) say, for one run,
which profile is read and how:

* ``"final"``: argmax of the alignment at the last checkpoint;
* ``"time_averaged"``: argmax of the alignment averaged over training time from epoch 1 on
  (:func:`eqhyp_utils.peaks.time_averaged_profile`);
* ``"loss<0.1"``, ``"loss<0.02"``: argmax at the checkpoint where the running training loss first
  stayed below 0.1 (resp. 0.02) for two epochs — the paper's checkpoints (docs/science.md §7);
* a ``" test"`` suffix reads the held-out probe set instead of the training probe; a ``" top"``
  suffix uses :func:`eqhyp_utils.peaks.top_centroid_layer` (the mean of the layers within 5 % of the
  maximum) instead of the argmax.

A protocol that does not apply to a run (a milestone never reached, no test probe) gives None for it.

**Predictors**, all layers in 1 … L + 1, computed per configuration (a run configuration without
its seed):

* every reading of :data:`eqhyp_utils.experiments.readings.READINGS` (``EH`` …): signal
  propagation at initialisation only, nothing fitted;
* every depth-only rule of :data:`eqhyp_utils.equilibrium.BASELINES` (``middle``, ``last hidden``);
* ``fraction``: round(f · (L + 1)) with the single fraction f fitted *leave one configuration
  out* (f on a grid of step 0.005 in [0, 1] minimising the MAE on all *other* configurations; ties
  go to the smallest f) — the best a depth-only rule can do without seeing the configuration;
* ``noise ceiling``: each run predicted by the mean peak of the *other* seeds of its
  configuration; it needs ≥ 2 seeds per configuration. Its error is the seed-to-seed spread, which
  no predictor that sees only the configuration can remove. It is slightly pessimistic: with k seeds
  whose peaks are Gaussian with spread σ, the leave-one-out error has standard deviation
  σ√(k/(k − 1)), while an ideal configuration-level predictor (the true mean) has σ — so the best
  possible MAE is √((k − 1)/k) of the ceiling's (0.82 for 3 seeds, 0.89 for 5).

Scores are per run: mean absolute error in layers, exact-hit rate (|error| < 0.5) and rate of
|error| ≤ 1. Diverged runs are left out and counted. :func:`paired_bootstrap` gives 95 % intervals
for the difference of two predictors' MAE by resampling configurations.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping, Sequence

import numpy as np

from ..equilibrium import BASELINES
from ..errors import InvalidInputError
from ..peaks import argmax_layer, time_averaged_profile, top_centroid_layer
from .config import configuration_key

__all__ = ["PROTOCOLS", "FIXED_BUDGET_PROTOCOLS", "PAPER_PROTOCOLS", "PEAK_PROTOCOLS", "PREDICTORS",
           "NOISE_CEILING", "peak_layer", "peak_layer_at_accuracy", "ConfigurationSummary",
           "summarise_configurations", "fit_fraction", "loco_fraction_predictions", "noise_ceiling_predictions",
           "score", "predictor_pairs", "paired_bootstrap", "scoreboard_rows", "format_scoreboard",
           "milestone_counts"]

FIXED_BUDGET_PROTOCOLS = ("final", "time_averaged", "final top")
PAPER_PROTOCOLS = ("loss<0.1", "loss<0.02", "loss<0.1 test", "loss<0.02 test", "loss<0.02 top",
                   "loss<0.02 test top")
PEAK_PROTOCOLS = FIXED_BUDGET_PROTOCOLS + PAPER_PROTOCOLS
PROTOCOLS = ("final", "time_averaged")
"""The two protocols of the fixed-budget grid's main tables (kept for the notebooks' exercises)."""
NOISE_CEILING = "noise ceiling"
FRACTION_GRID = np.round(np.arange(0.0, 1.0 + 1e-9, 0.005), 3)


def _matrix(rows: "Sequence[Sequence[float | None]] | None") -> "np.ndarray | None":
    if rows is None:
        return None
    return np.array([[np.nan if v is None else v for v in row] for row in rows], dtype=np.float64)


def peak_layer(history: Mapping[str, Any], protocol: str = "final") -> "float | None":
    """The measured peak layer of one run's history dict under ``protocol`` (None if it does not apply).

    ``history`` needs ``alignment`` (checkpoints × (L + 1)) and ``epochs``; the milestone protocols
    need ``milestones`` and ``steps``; the test protocols ``test_alignment``. Argmax protocols give
    an int, top-centroid ones a float.
    """
    if protocol not in PEAK_PROTOCOLS:
        raise InvalidInputError(f"protocol must be one of {PEAK_PROTOCOLS}, got {protocol!r}.")
    words = protocol.split()
    estimator = top_centroid_layer if "top" in words else argmax_layer
    A = _matrix(history.get("test_alignment") if "test" in words else history["alignment"])
    if A is None:
        return None
    if A.ndim != 2 or A.shape[0] == 0:
        raise InvalidInputError("the history has no checkpoint; cannot locate a peak.")
    if words[0] == "final":
        profile = A[-1]
    elif words[0] == "time_averaged":
        profile = time_averaged_profile(history["epochs"], A)
    else:
        loss = float(words[0].split("<")[1])
        step = next((m["step"] for m in history.get("milestones", []) if np.isclose(m["loss"], loss)), None)
        if step is None:
            return None
        profile = A[list(history["steps"]).index(step)]
    return estimator(profile)


def peak_layer_at_accuracy(history: Mapping[str, Any], threshold: float) -> "int | None":
    """Peak layer at the first checkpoint whose training accuracy reaches ``threshold`` (None if never).

    Nets of different depths train at different speeds; comparing them at the same training
    accuracy, rather than after the same number of epochs, is one answer to docs/science.md §6's
    warning that peaks of nets trained to different points are not comparable.
    """
    accuracy = [-1.0 if a is None else a for a in history["train_accuracy"]]
    for row, a in zip(history["alignment"], accuracy):
        if a >= threshold:
            profile = np.array([np.nan if v is None else v for v in row], dtype=np.float64)
            return argmax_layer(profile) if np.isfinite(profile).all() else None
    return None


@dataclass
class ConfigurationSummary:
    """Every seed of one configuration: measured peaks per protocol and the predictions."""
    key: tuple
    config: dict                      # the configuration of its first seed (seed field included)
    seeds: list[int] = field(default_factory=list)
    peaks: dict[str, list] = field(default_factory=dict)   # protocol → peak per (non-diverged) seed, or None
    train_accuracy: list[float] = field(default_factory=list)
    test_accuracy: list[float] = field(default_factory=list)
    epochs_run: list[float] = field(default_factory=list)
    stop_reasons: list[str] = field(default_factory=list)
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
        budget = (f"to loss {c['stop_loss']:g} (cap {c['epochs']} ep)" if c.get("stop_loss") is not None
                  else f"{c['epochs']} ep")
        return (f"{c['dataset']} {c['activation']} σw²={c['sigma_w2']:.4g} σb²={c['sigma_b2']:g} "
                f"L={c['depth']} N={c['width']}{alpha}, lr {c['lr']:g}, {budget}")

    def protocols(self) -> list[str]:
        """The protocols that apply to at least one seed of this configuration."""
        return [p for p, v in self.peaks.items() if any(x is not None for x in v)]

    def mean_peak(self, protocol: str) -> float:
        p = [x for x in self.peaks.get(protocol, []) if x is not None]
        return float(np.mean(p)) if p else float("nan")


def _default_predictions(config: dict) -> dict[str, "int | None"]:
    from .readings import READINGS

    out: dict[str, "int | None"] = {}
    for name, reading in READINGS.items():
        try:
            out[name] = reading.layer(config)
        except Exception:  # an architecture a reading does not cover: scored as "n/a"
            out[name] = None
    return out


def summarise_configurations(payloads: Iterable[dict],
                             predict: "Callable[[dict], dict[str, int | None]] | None" = None,
                             *, eh: "Callable[[dict], int | None] | None" = None) -> list[ConfigurationSummary]:
    """Group result payloads by configuration (all keys but the seed); measure peaks; predict.

    ``predict(config) -> {reading name: layer or None}`` computes the readings (default: every
    reading of :data:`~eqhyp_utils.experiments.readings.READINGS`, from the current package, so that
    the scoreboard reflects the package's formalisation rather than a copy stored at run time).
    ``eh(config)`` is a shorthand for a single reading named ``"EH"``. The depth-only baselines are
    added to every configuration's predictions.
    """
    if eh is not None:
        predict = lambda c: {"EH": eh(c)}  # noqa: E731
    predict = predict or _default_predictions
    groups: dict[tuple, ConfigurationSummary] = {}
    for payload in sorted(payloads, key=lambda p: (p["config"]["seed"], p["config_hash"])):
        config = payload["config"]
        key = configuration_key(config)
        summary = groups.setdefault(key, ConfigurationSummary(key=key, config=dict(config),
                                                              peaks={p: [] for p in PEAK_PROTOCOLS}))
        history = payload["history"]
        if history.get("diverged") or not history.get("alignment"):
            summary.diverged += 1
            continue
        try:
            peaks = {p: peak_layer(history, p) for p in PEAK_PROTOCOLS}
        except InvalidInputError:
            summary.diverged += 1
            continue
        summary.seeds.append(int(config["seed"]))
        summary.histories.append(history)
        for p in PEAK_PROTOCOLS:
            summary.peaks[p].append(peaks[p])
        for target, name in ((summary.train_accuracy, "train_accuracy"), (summary.test_accuracy, "test_accuracy")):
            value = history[name][-1] if history.get(name) else None
            target.append(float("nan") if value is None else float(value))
        summary.epochs_run.append(float(history["epochs"][-1]))
        summary.stop_reasons.append(history.get("stop_reason", "epochs"))
    out = sorted(groups.values(), key=lambda s: (s.config["dataset"], s.config["activation"], s.config["depth"],
                                                  s.label))
    for s in out:
        s.predictions = {**predict(s.config), **{name: rule(s.depth) for name, rule in BASELINES.items()}}
    return out


def _fraction_layer(depth: "int | np.ndarray", f: "float | np.ndarray") -> np.ndarray:
    """round(f · (L + 1)) (halves up), clipped to 1 … L + 1; broadcasts."""
    depth = np.asarray(depth)
    return np.clip(np.floor(np.asarray(f) * (depth + 1) + 0.5), 1, depth + 1).astype(int)


def fit_fraction(depths: Sequence[int], peaks: Sequence[float]) -> float:
    """The fraction f (grid step 0.005) minimising mean |round(f (L+1)) − peak| over runs; smallest on ties."""
    depths = np.asarray(depths, dtype=int)
    peaks = np.asarray(peaks, dtype=float)
    if depths.size == 0:
        raise InvalidInputError("fit_fraction needs at least one run.")
    errors = np.abs(_fraction_layer(depths[None, :], FRACTION_GRID[:, None]) - peaks[None, :]).mean(1)
    return float(FRACTION_GRID[int(np.argmin(errors))])


def _measured(s: ConfigurationSummary, protocol: str) -> list[float]:
    return [p for p in s.peaks.get(protocol, []) if p is not None]


def loco_fraction_predictions(summaries: Sequence[ConfigurationSummary], protocol: str) -> tuple[list, list]:
    """Leave-one-configuration-out fraction predictions: ([layer per configuration], [fraction used])."""
    layers, fractions = [], []
    for i, s in enumerate(summaries):
        depths = [o.depth for j, o in enumerate(summaries) if j != i for _ in _measured(o, protocol)]
        peaks = [p for j, o in enumerate(summaries) if j != i for p in _measured(o, protocol)]
        if not peaks:
            layers.append(None)
            fractions.append(None)
            continue
        f = fit_fraction(depths, peaks)
        layers.append(int(_fraction_layer(s.depth, f)))
        fractions.append(f)
    return layers, fractions


def noise_ceiling_predictions(summary: ConfigurationSummary, protocol: str) -> list["float | None"]:
    """For each seed (in order), the mean peak of the *other* seeds of the configuration (None if none)."""
    peaks = summary.peaks.get(protocol, [])
    out = []
    for i, p in enumerate(peaks):
        others = [q for j, q in enumerate(peaks) if j != i and q is not None]
        out.append(float(np.mean(others)) if p is not None and others else None)
    return out


def predictor_pairs(summaries: Sequence[ConfigurationSummary], protocol: str,
                    predictors: "Sequence[str] | None" = None) -> dict[str, list[list[tuple[float, float]]]]:
    """predictor → per configuration, the (predicted, measured) pairs of its runs under ``protocol``.

    Predictors: the configurations' own predictions, ``fraction`` and :data:`NOISE_CEILING`. A
    configuration a predictor does not cover contributes an empty list.
    """
    names = list(predictors) if predictors is not None else predictor_names(summaries)
    fraction_layers, _ = loco_fraction_predictions(summaries, protocol)
    out: dict[str, list[list[tuple[float, float]]]] = {name: [] for name in names}
    for s, f in zip(summaries, fraction_layers):
        measured = s.peaks.get(protocol, [])
        ceiling = noise_ceiling_predictions(s, protocol)
        for name in names:
            if name == NOISE_CEILING:
                pairs = [(c, m) for c, m in zip(ceiling, measured) if c is not None and m is not None]
            else:
                predicted = f if name == "fraction" else s.predictions.get(name)
                pairs = [] if predicted is None else [(predicted, m) for m in measured if m is not None]
            out[name].append(pairs)
    return out


def predictor_names(summaries: Sequence[ConfigurationSummary]) -> list[str]:
    """Every predictor the summaries carry, then ``fraction`` and the noise ceiling."""
    names: list[str] = []
    for s in summaries:
        names += [n for n in s.predictions if n not in names]
    return names + ["fraction", NOISE_CEILING]


PREDICTORS = ("EH", "middle", "last hidden", "fraction")
"""The predictors of the short tables (every reading and the noise ceiling are in the full ones)."""


def score(pairs: Sequence[tuple[float, float]]) -> dict[str, float]:
    """MAE, exact-hit rate (|error| < 0.5) and ±1 rate of (predicted, measured) pairs; NaN for none."""
    if not pairs:
        return {"n": 0, "mae": float("nan"), "exact": float("nan"), "within1": float("nan")}
    err = np.abs(np.array([p - m for p, m in pairs], dtype=float))
    return {"n": len(pairs), "mae": float(err.mean()), "exact": float((err < 0.5).mean()),
            "within1": float((err <= 1 + 1e-12).mean())}


def paired_bootstrap(pairs_a: Sequence[Sequence[tuple[float, float]]], pairs_b: Sequence[Sequence[tuple[float, float]]],
                     *, n_boot: int = 2000, seed: int = 0, level: float = 0.95) -> dict[str, float]:
    """MAE(a) − MAE(b) over runs, with a bootstrap interval that resamples *configurations*.

    ``pairs_a[i]``, ``pairs_b[i]``: the (predicted, measured) pairs of configuration i for predictors a
    and b; configurations where either is empty are left out, so both are scored on the same runs.
    Configurations, not runs, are resampled because the seeds of a configuration share their
    prediction. Negative: a has the smaller error.
    """
    keep = [i for i in range(len(pairs_a)) if pairs_a[i] and pairs_b[i]]
    if not keep:
        return {"diff": float("nan"), "lo": float("nan"), "hi": float("nan"), "configs": 0}
    err_a = [np.abs([p - m for p, m in pairs_a[i]]) for i in keep]
    err_b = [np.abs([p - m for p, m in pairs_b[i]]) for i in keep]
    sums = np.array([[ea.sum(), eb.sum(), len(ea)] for ea, eb in zip(err_a, err_b)])
    diff = (sums[:, 0].sum() - sums[:, 1].sum()) / sums[:, 2].sum()
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, len(keep), size=(n_boot, len(keep)))
    total = sums[draws].sum(axis=1)
    diffs = (total[:, 0] - total[:, 1]) / total[:, 2]
    tail = 100 * (1 - level) / 2
    lo, hi = np.percentile(diffs, [tail, 100 - tail])
    return {"diff": float(diff), "lo": float(lo), "hi": float(hi), "configs": len(keep)}


def scoreboard_rows(summaries: Sequence[ConfigurationSummary], protocol: str,
                    groupings: Sequence[str] = ("dataset", "activation"),
                    predictors: "Sequence[str] | None" = None) -> list[dict[str, Any]]:
    """One row for all configurations, then one per value of each key in ``groupings``.

    Each row: ``group``, ``configs``, ``runs`` and, per predictor, the :func:`score` dict (a
    predictor is scored on the runs it covers, ``n`` says how many).
    """
    names = list(predictors) if predictors is not None else predictor_names(summaries)
    pairs = predictor_pairs(summaries, protocol, names)

    def row(name: str, members: list[int]) -> dict[str, Any]:
        out: dict[str, Any] = {"group": name, "configs": len(members),
                               "runs": sum(len(_measured(summaries[i], protocol)) for i in members)}
        for predictor in names:
            out[predictor] = score([pq for i in members for pq in pairs[predictor][i]])
        return out

    everything = [i for i, s in enumerate(summaries) if _measured(s, protocol)]
    rows = [row("all", everything)]
    for key in groupings:
        values = sorted({str(summaries[i].config[key]) for i in everything})
        if len(values) < 2:
            continue
        for value in values:
            rows.append(row(f"{key} = {value}", [i for i in everything if str(summaries[i].config[key]) == value]))
    return rows


def format_scoreboard(rows: Sequence[dict[str, Any]], predictors: "Sequence[str] | None" = None) -> str:
    """Markdown table: per group, each predictor's MAE (layers) / exact-hit % / ±1 %."""
    names = list(predictors) if predictors is not None else \
        [k for k in rows[0] if k not in ("group", "configs", "runs")] if rows else []
    head = "| group | configs | runs | " + " | ".join(f"{p}: MAE / exact / ±1" for p in names) + " |"
    lines = [head, "|" + "---|" * (3 + len(names))]
    for r in rows:
        cells = []
        for p in names:
            s = r[p]
            cells.append("n/a" if not s["n"] else f"{s['mae']:.2f} / {100 * s['exact']:.0f}% / {100 * s['within1']:.0f}%"
                         + ("" if s["n"] == r["runs"] else f" (n={s['n']})"))
        lines.append(f"| {r['group']} | {r['configs']} | {r['runs']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def milestone_counts(summaries: Sequence[ConfigurationSummary]) -> list[dict[str, Any]]:
    """Per configuration: how many runs reached each watched loss milestone, and their epochs."""
    rows = []
    for s in summaries:
        watched: dict[float, list] = {}
        for h in s.histories:
            for m in h.get("milestones", []):
                watched.setdefault(m["loss"], []).append(m["epoch"])
        if not watched:
            continue
        rows.append({"label": s.label, "depth": s.depth, "runs": len(s.histories) + s.diverged,
                     "diverged": s.diverged, "stop_reasons": list(s.stop_reasons),
                     "milestones": {f"{loss:g}": {"reached": sum(e is not None for e in epochs),
                                                  "epochs": [None if e is None else round(e, 3) for e in epochs]}
                                    for loss, epochs in sorted(watched.items(), reverse=True)}})
    return rows
