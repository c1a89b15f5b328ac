"""Self-checks for notebook 3, forward signal propagation.

Each checker calls the learner's function on its own inputs and compares with
:mod:`eqhyp_utils.signal_propagation` (Poole et al. 2016; Schoenholz et al. 2017).
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from . import close_enough, register


@register("ex-03-relu-variance")
def check_relu_variance_map(answer: Callable) -> "tuple[bool, str]":
    """ReLU variance map q_l = σ_w² q_{l-1} / 2 + σ_b², on arrays and on a scalar."""
    from .. import signal_propagation as sp

    rng = np.random.default_rng(3)
    cases = [(rng.uniform(0.1, 5.0, size=7), 2.0, 0.0), (rng.uniform(0.1, 5.0, size=5), 1.3, 0.2), (0.7, 3.1, 0.05)]
    for q, sigma_w2, sigma_b2 in cases:
        ok, message = close_enough(answer(q, sigma_w2, sigma_b2), sp.variance_map("relu", q, sigma_w2, sigma_b2))
        if not ok:
            return False, f"at sigma_w2 = {sigma_w2}, sigma_b2 = {sigma_b2}: {message} Hint: E[relu(√q z)²] = q/2."
    return True, "q_l = σ_w² q_{l-1}/2 + σ_b² (a straight line of slope σ_w²/2)."


@register("ex-03-fixed-point")
def check_variance_fixed_point(answer: Callable) -> "tuple[bool, str]":
    """q* by iteration, against the package's root finder, for smooth activations."""
    from .. import signal_propagation as sp

    for activation, sigma_w2, sigma_b2 in [("tanh", 1.5, 0.05), ("tanh", 2.5, 0.3), ("erf", 2.0, 0.1)]:
        expected = sp.variance_fixed_point(activation, sigma_w2, sigma_b2)
        ok, message = close_enough(answer(activation, sigma_w2, sigma_b2), expected, rtol=1e-6)
        if not ok:
            return False, (f"{activation} at sigma_w2 = {sigma_w2}, sigma_b2 = {sigma_b2} (q* = {expected:.6f}): "
                           f"{message} Hint: q ← variance_map(activation, q, sigma_w2, sigma_b2) until it stops moving.")
    return True, "iterating the variance map converges to q*."


@register("ex-03-phase")
def check_phase(answer: Callable) -> "tuple[bool, str]":
    """"ordered"/"chaotic" at points well away from the edge of chaos (|χ₁ − 1| > 0.05)."""
    from .. import signal_propagation as sp

    cases = [("tanh", 1.0, 0.05), ("tanh", 3.0, 0.05), ("tanh", 2.0, 0.5), ("tanh", 4.0, 0.5),
             ("erf", 0.5, 0.05), ("erf", 2.5, 0.1), ("gelu", 2.0, 0.05), ("erf", 3.0, 0.2)]
    for activation, sigma_w2, sigma_b2 in cases:
        expected = sp.phase(activation, sigma_w2, sigma_b2)
        got = answer(activation, sigma_w2, sigma_b2)
        if got != expected:
            chi = sp.chi1(activation, sigma_w2, sigma_b2)
            return False, (f"{activation} at sigma_w2 = {sigma_w2}, sigma_b2 = {sigma_b2}: expected {expected!r} "
                           f"(χ₁ = {chi:.3f}), got {got!r}.")
    return True, "χ₁ < 1 is ordered, χ₁ > 1 chaotic."
