"""Self-checks for notebook 6, testing the Equilibrium Hypothesis against the experiments.

Each checker calls the learner's function on fresh, seeded inputs and compares the result with
:mod:`eqhyp_utils.experiments` (peak protocols, scores, power-law fit), or with the closed form of a
derivation (the slack of the leave-one-out noise ceiling).
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from . import close_enough, register


def _random_history(rng: np.random.Generator, n_layers: int) -> dict:
    """A history dict with a few checkpoints (epochs 0, 0.25, 0.5, 1, 2, …) and random profiles."""
    epochs = [0.0, 0.25, 0.5] + [float(e) for e in range(1, int(rng.integers(3, 7)))]
    A = rng.uniform(0.0, 0.2, size=(len(epochs), n_layers))
    return {"epochs": epochs, "alignment": A.tolist()}


@register("ex-06-peak-layer")
def check_peak_layer(answer: Callable) -> "tuple[bool, str]":
    """answer(alignment (checkpoints × (L+1)), epochs, protocol) -> the 1-based peak layer."""
    from ..experiments.scoreboard import peak_layer

    rng = np.random.default_rng(6)
    for trial in range(12):
        history = _random_history(rng, int(rng.integers(4, 18)))
        for protocol in ("final", "time_averaged"):
            expected = peak_layer(history, protocol)
            got = answer(np.array(history["alignment"]), np.array(history["epochs"]), protocol)
            if int(got) != expected:
                hint = ("layers are numbered from 1: add 1 to the argmax." if int(got) == expected - 1 else
                        "average only the checkpoints at epochs ≥ 1, with the trapezoid rule in time "
                        "(np.trapezoid(A, t, axis=0) / (t[-1] − t[0]))." if protocol == "time_averaged" else
                        "take the argmax of the last row.")
                return False, f"protocol {protocol!r}, trial {trial}: expected layer {expected}, got {got}. Hint: {hint}"
    return True, "both peak protocols agree with eqhyp_utils.experiments.scoreboard.peak_layer."


@register("ex-06-scores")
def check_scores(answer: Callable) -> "tuple[bool, str]":
    """answer(predicted, measured) -> (MAE, exact-hit rate, ±1 rate) over runs."""
    from ..experiments.scoreboard import score

    rng = np.random.default_rng(60)
    for trial in range(10):
        n = int(rng.integers(3, 30))
        measured = rng.integers(1, 20, size=n)
        predicted = np.clip(measured + rng.integers(-3, 4, size=n), 1, None)
        s = score(list(zip(predicted.tolist(), measured.tolist())))
        got = answer(predicted.copy(), measured.copy())
        ok, message = close_enough(np.asarray(got, dtype=float), [s["mae"], s["exact"], s["within1"]], rtol=1e-12)
        if not ok:
            return False, (f"trial {trial} (n = {n}): {message} Hint: errors e = |predicted − measured|; "
                           "return (mean e, mean of e == 0, mean of e <= 1), rates as fractions in [0, 1].")
    return True, "MAE, exact-hit and ±1 rates match eqhyp_utils.experiments.scoreboard.score."


@register("ex-06-exponent")
def check_exponent(answer: Callable) -> "tuple[bool, str]":
    """answer(depths, peaks) -> least-squares slope β of log peak on log L."""
    from ..experiments.depth_scaling import fit_power_law

    rng = np.random.default_rng(66)
    for trial in range(8):
        depths = np.repeat(np.array([6, 8, 12, 16, 24, 32, 48, 64])[: int(rng.integers(3, 9))], 3)
        beta = rng.uniform(0.4, 1.0)
        peaks = np.maximum(1, np.round(1.2 * depths ** beta + rng.normal(0, 1, depths.size)))
        expected = fit_power_law(depths, peaks)[0]
        ok, message = close_enough(answer(depths.copy(), peaks.copy()), expected, rtol=1e-8)
        if not ok:
            return False, (f"trial {trial}: {message} Hint: np.polyfit(np.log(depths), np.log(peaks), 1)[0] — "
                           "fit in log–log space, one point per seed.")
    return True, "your exponent matches eqhyp_utils.experiments.depth_scaling.fit_power_law."


@register("ex-06-noise-ceiling")
def check_noise_ceiling(answer: Callable) -> "tuple[bool, str]":
    """answer(k) -> E|ideal error| / E|leave-one-out error| for k seeds with Gaussian peaks."""
    for k in range(2, 12):
        expected = float(np.sqrt((k - 1) / k))
        got = float(answer(k))
        if not np.isclose(got, expected, rtol=1e-9):
            hint = ("the leave-one-out error m − P is Gaussian with variance σ² + σ²/(k − 1); the ideal predictor's "
                    "error μ − P has variance σ²; for a centred Gaussian E|X| = √(2/π)·sd, so the ratio is a ratio of "
                    "standard deviations.")
            if np.isclose(got, 1 / expected, rtol=1e-9):
                hint = "you returned the inverse ratio: ideal over leave-one-out is below 1."
            return False, f"k = {k}: expected {expected:.6f}, got {got:.6f}. Hint: {hint}"
    return True, "√((k−1)/k): 0.816 of the ceiling for 3 seeds, 0.894 for 5 — the ceiling's slack."
