"""Self-checks for notebook 7, beyond the paper: residual networks, other activations, interventions.

Checkers compare with :func:`eqhyp_utils.signal_propagation.forward_signal` (residual variance
recursion) and :mod:`eqhyp_utils.equilibrium` (the crossing l*).
"""
from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np

from . import close_enough, register


@register("ex-07-residual-variance")
def check_residual_variance(answer: Callable) -> "tuple[bool, str]":
    """answer(depth, alpha, sigma_w2, sigma_b2, q0) -> q_1 … q_{L+1} of a ReLU ResidualMLP."""
    from ..signal_propagation import forward_signal

    for depth, alpha, sigma_w2, sigma_b2, q0 in ((5, 0.5, 2.0, 0.0, 1.0), (12, 0.1, 2.0, 0.2, 0.7),
                                                  (8, 1.0, 1.5, 0.05, 2.0), (3, 0.3, 2.5, 0.0, 1.3)):
        expected = forward_signal("relu", sigma_w2, sigma_b2, depth, q0=q0, alpha=alpha).q
        got = answer(depth, alpha, sigma_w2, sigma_b2, q0)
        ok, message = close_enough(got, expected, rtol=1e-10)
        if not ok:
            return False, (f"L = {depth}, α = {alpha}, σ_w² = {sigma_w2}, σ_b² = {sigma_b2}, q0 = {q0}: {message} "
                           "Hint: q_1 = σ_w² q0 + σ_b²; for 2 ≤ l ≤ L, q_l = q_{l-1} + α²(σ_w² q_{l-1}/2 + σ_b²); "
                           "the output layer is plain: q_{L+1} = σ_w² q_L/2 + σ_b².")
    return True, "q_l = q_{l-1} + α² V(q_{l-1}): the branch adds variance, it never replaces it."


@register("ex-07-residual-lstar")
def check_residual_lstar(answer: Callable) -> "tuple[bool, str]":
    """answer(depth, alpha) -> l*, the first layer with B_l ≥ F_l, for a ReLU ResidualMLP at σ_w² = 2, σ_b = 0."""
    from ..equilibrium import equilibrium_layer

    for depth, alpha in ((6, 0.5), (16, 0.25), (16, 1.0), (32, 0.1), (48, 0.5), (10, None)):
        expected = equilibrium_layer("relu", 2.0, 0.0, depth, alpha=alpha)
        got = answer(depth, alpha)
        if not isinstance(got, (int, np.integer)) or int(got) != expected:
            return False, (f"L = {depth}, α = {alpha}: expected l* = {expected}, got {got!r}. Hint: F = 1 − "
                           "forward_signal(...).c_before, B = backward_signal(...).correlation; l* = 1 + the index of "
                           "the first entry with B ≥ F (an int).")
    return True, "your crossing matches eqhyp_utils.equilibrium.equilibrium_layer."


_KEYS = ("activation", "sigma_w2", "sigma_b2", "alpha")


@register("ex-07-design")
def check_design(answer: Callable) -> "tuple[bool, str]":
    """answer() -> a dict (activation, sigma_w2, sigma_b2, alpha) whose EH l* at L = 16 is ≥ 3 layers later than
    ReLU at the edge of chaos (l* = 8), with χ₁ within 10 % of 1 for a plain MLP (trainable at depth 16)."""
    from ..activations import ACTIVATIONS
    from ..equilibrium import equilibrium_layer
    from ..signal_propagation import chi1

    design: Any = answer()
    if not isinstance(design, dict) or set(design) != set(_KEYS):
        return False, f"return a dict with exactly the keys {_KEYS}, got {design!r}."
    activation, sigma_w2, sigma_b2, alpha = (design[k] for k in _KEYS)
    if activation not in ACTIVATIONS:
        return False, f"activation must be one of {sorted(ACTIVATIONS)}, got {activation!r}."
    try:
        sigma_w2, sigma_b2 = float(sigma_w2), float(sigma_b2)
        alpha = None if alpha is None else float(alpha)
    except (TypeError, ValueError):
        return False, "sigma_w2, sigma_b2 must be numbers and alpha a number or None."
    if not (math.isfinite(sigma_w2) and sigma_w2 > 0 and math.isfinite(sigma_b2) and sigma_b2 >= 0
            and (alpha is None or (math.isfinite(alpha) and alpha > 0))):
        return False, "need σ_w² > 0, σ_b² ≥ 0 and α > 0 (or None)."
    try:
        chi = chi1(activation, sigma_w2, sigma_b2)
    except Exception as exc:  # e.g. no variance fixed point (ReLU with a bias at σ_w² ≥ 2)
        chi = None
        chi_problem = str(exc)
    if chi is None or abs(chi - 1) > 0.1:
        why = f"χ₁ = {chi:.3f}" if chi is not None else f"χ₁ is undefined ({chi_problem})"
        return False, (f"{why}: keep the plain network's χ₁ within 10 % of 1, otherwise gradients explode or vanish "
                       "over 16 layers and the network trains badly.")
    reference = equilibrium_layer("relu", 2.0, 0.0, 16)
    predicted = equilibrium_layer(activation, sigma_w2, sigma_b2, 16, alpha=alpha)
    if predicted - reference < 3:
        return False, (f"the EH puts this design's peak at l* = {predicted}, only {predicted - reference:+d} layers from "
                       f"the reference's {reference}; you need at least +3. Hint: what reduces forward information loss?")
    return True, (f"l* = {predicted} vs {reference} for the reference ({predicted - reference:+d} layers), χ₁ = {chi:.3f}. "
                  "Now the experiment can refute it.")
