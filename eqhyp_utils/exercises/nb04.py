"""Self-checks for notebook 4, backward signal propagation.

References: Schoenholz et al. (2017) for the gradient recursions, Cho & Saul (2009) for ReLU's
arc-cosine kernels; the package's :mod:`eqhyp_utils.signal_propagation` is the reference computation.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from . import close_enough, register


@register("ex-04-step-kernel")
def check_step_kernel(answer: Callable) -> "tuple[bool, str]":
    """P(u > 0, u' > 0) for correlation c: against Monte Carlo and the package's arc-cosine kernel."""
    from ..activations import get_activation

    rng = np.random.default_rng(11)
    z1, z2 = rng.standard_normal((2, 400_000))
    for c in (-0.8, -0.3, 0.0, 0.45, 0.9):
        estimate = float(np.mean((z1 > 0) & (c * z1 + np.sqrt(1 - c * c) * z2 > 0)))
        got = answer(c)
        ok, message = close_enough(got, estimate, rtol=0.0, atol=4e-3)  # ≥ 5 standard errors of the estimate
        if not ok:
            return False, (f"at c = {c}, Monte Carlo gives P(u > 0, u' > 0) ≈ {estimate:.4f}: {message} "
                           "Hint: the two half-planes overlap on an arc of length π − arccos c, out of 2π.")
    c = np.concatenate([np.linspace(-1.0, 1.0, 41), [0.999, 0.99999]])
    ok, message = close_enough(answer(c), get_activation("relu").derivative_cross_moment(1.0, 1.0, c),
                               rtol=1e-9, atol=1e-12)
    if not ok:
        return False, "on an array of correlations: " + message
    return True, "P(u > 0, u' > 0) = (π − arccos c)/(2π): 1/2 at c = 1, 1/4 at c = 0, 0 at c = −1."


@register("ex-04-relu-rho")
def check_relu_rho(answer: Callable) -> "tuple[bool, str]":
    """ρ(c) = E[φ'φ']/E[φ'²] for ReLU, against the package's arc-cosine kernel."""
    from ..activations import get_activation

    relu = get_activation("relu")
    c = np.concatenate([np.linspace(-1.0, 1.0, 41), [0.999, 0.99999]])
    expected = relu.derivative_cross_moment(1.0, 1.0, c) / relu.derivative_second_moment(1.0)
    ok, message = close_enough(answer(c), expected, rtol=1e-9, atol=1e-12)
    if not ok:
        return False, message + " Hint: divide (π − arccos c)/(2π) by E[φ'²] = 1/2."
    ok, message = close_enough(answer(0.5), 2.0 / 3.0, rtol=1e-9)
    if not ok:
        return False, "for a scalar c = 0.5 expected 2/3: " + message
    return True, "ρ(c) = 1 − arccos(c)/π: ρ(0) = 1/2, ρ(1) = 1, with infinite slope at c = 1."


@register("ex-04-rho-near-one")
def check_rho_near_one(answer: Callable) -> "tuple[bool, str]":
    """The leading term √(2(1 − c))/π of ReLU's 1 − ρ(c) = arccos(c)/π as c → 1."""
    c = 1.0 - np.array([1e-1, 1e-2, 1e-3, 1e-4])
    eps = 1.0 - c                                   # as the floats c hold it
    got = answer(c)
    exact = np.arccos(c) / np.pi
    ok, message = close_enough(got, exact, rtol=0.01, atol=0.0)
    if not ok:
        return False, (f"{message} Hint: with c = cos θ, 1 − c ≈ θ²/2 and 1 − ρ = θ/π.")
    ok, message = close_enough(got, np.sqrt(2 * eps) / np.pi, rtol=1e-9, atol=0.0)
    if not ok:
        return False, "close to 1 − ρ, but not its leading term √(2(1 − c))/π: " + message
    ratio = np.asarray(got, dtype=np.float64) / exact
    if not np.all(np.diff(np.abs(ratio - 1)) < 0):
        return False, "the relative error should shrink as c → 1 for a leading-order term."
    return True, ("1 − ρ(c) ≈ √(2(1 − c))/π: infinite slope at c = 1; at the edge of chaos ρ(c_k) ≈ 1 − 3/k, "
                  "so ∏ ρ ≈ (l/L)³.")
