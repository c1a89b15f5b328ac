"""Self-checks for notebook 3, forward signal propagation.

Each checker calls the learner's function on its own inputs and compares with
:mod:`eqhyp_utils.signal_propagation` (Poole et al. 2016; Schoenholz et al. 2017; Price 1958 for the
slope of the correlation map).
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


@register("ex-03-correlation-slope")
def check_correlation_slope(answer: Callable) -> "tuple[bool, str]":
    """∂c_l/∂c_{l−1} = σ_w² E[φ'(u)φ'(u')] at q* (Price's theorem), against a finite difference of the map."""
    from .. import signal_propagation as sp

    h = 1e-5
    for activation, sigma_w2, sigma_b2 in [("tanh", 1.5, 0.05), ("tanh", 3.0, 0.05), ("erf", 2.0, 0.1),
                                           ("gelu", 2.0, 0.05)]:
        q = sp.variance_fixed_point(activation, sigma_w2, sigma_b2)
        for c in (-0.5, 0.0, 0.3, 0.8):
            expected = float((sp.correlation_map(activation, q, q, c + h, sigma_w2, sigma_b2)
                              - sp.correlation_map(activation, q, q, c - h, sigma_w2, sigma_b2)) / (2 * h))
            ok, message = close_enough(answer(activation, sigma_w2, sigma_b2, c), expected, rtol=1e-5, atol=1e-8)
            if not ok:
                return False, (f"{activation} at sigma_w2 = {sigma_w2}, sigma_b2 = {sigma_b2}, c = {c} (slope "
                               f"{expected:.6f} by finite differences): {message} Hint: F'(c) = q E[φ'(u)φ'(u')] and "
                               "c_l = (σ_w² F(c_{l-1}) + σ_b²)/q*.")
        ok, message = close_enough(answer(activation, sigma_w2, sigma_b2, 1.0), sp.chi1(activation, sigma_w2, sigma_b2),
                                   rtol=1e-6)
        if not ok:
            return False, f"{activation} at sigma_w2 = {sigma_w2}: at c = 1 the slope must be χ₁: {message}"
    return True, ("∂c_l/∂c_{l−1} = σ_w² E[φ'(u)φ'(u')] at q*: χ₁ at c = 1, χ_c at c*, and less than χ₁ "
                  "in between for these activations.")
