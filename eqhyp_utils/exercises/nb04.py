"""Self-checks for notebook 4, backward signal propagation.

References: Schoenholz et al. (2017) for the gradient recursions, Cho & Saul (2009) for ReLU's
arc-cosine kernels; the package's :mod:`eqhyp_utils.signal_propagation` is the reference computation.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from . import close_enough, register


@register("ex-04-gradient-norm")
def check_gradient_norm_ratio(answer: Callable) -> "tuple[bool, str]":
    """‖δ_l‖²/‖δ_{l+k}‖² = χ₁^k at the variance fixed point."""
    from .. import signal_propagation as sp

    for activation, sigma_w2, sigma_b2, k in [("tanh", 1.0, 0.05, 10), ("tanh", 3.0, 0.05, 7),
                                              ("erf", 2.0, 0.1, 4), ("relu", 1.5, 0.0, 12)]:
        expected = sp.chi1(activation, sigma_w2, sigma_b2) ** k
        ok, message = close_enough(answer(activation, sigma_w2, sigma_b2, k), expected, rtol=1e-8)
        if not ok:
            return False, (f"{activation}, sigma_w2 = {sigma_w2}, sigma_b2 = {sigma_b2}, k = {k}: {message} "
                           "Hint: each layer multiplies ‖δ‖² by χ₁.")
    return True, "each layer multiplies ‖δ‖² by χ₁: vanishing for χ₁ < 1, exploding for χ₁ > 1."


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


@register("ex-04-gradient-correlation")
def check_gradient_correlation(answer: Callable) -> "tuple[bool, str]":
    """Suffix products ∏_{k=l}^{L} ρ_k for l = 1 … L, then 1 for the output layer; length L + 1."""
    from .. import signal_propagation as sp

    rng = np.random.default_rng(4)
    rho = rng.uniform(0.5, 1.0, size=9)
    expected = np.array([np.prod(rho[l:]) for l in range(len(rho))] + [1.0])
    ok, message = close_enough(answer(rho), expected, rtol=1e-12)
    if not ok:
        return False, (f"for rho = {np.round(rho, 3)}: {message} Hint: entry l − 1 multiplies ρ_l … ρ_L; "
                       "the output layer's entry is 1.")
    signal = sp.forward_signal("relu", 2.0, 0.0, 12, c0=0.3)
    expected = sp.backward_signal("relu", 2.0, 0.0, 12, c0=0.3).correlation
    ok, message = close_enough(answer(1 - np.arccos(signal.c[:12]) / np.pi), expected, rtol=1e-10)
    if not ok:
        return False, "on a ReLU network at the edge of chaos (L = 12): " + message
    return True, "the gradient correlation is the product of the per-layer ρ from layer l up to L."
