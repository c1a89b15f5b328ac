"""Self-checks for notebook 5, the Equilibrium Hypothesis (Lou et al. 2022).

The reference computations are :mod:`eqhyp_utils.equilibrium` (the course's precise reading of the
hypothesis) and the closed-form asymptotic crossing l* = (9π²/2)^{1/5} L^{3/5}.
"""
from __future__ import annotations

import math
from typing import Callable

import numpy as np

from . import close_enough, register


@register("ex-05-equilibrium-layer")
def check_equilibrium_layer(answer: Callable) -> "tuple[bool, str]":
    """l* = the first layer l (1-based) with B_l ≥ F_l, L + 1 if none; ties count as crossed."""
    from .. import equilibrium as eq

    for activation, sigma_w2, sigma_b2, depth in [("relu", 2.0, 0.0, 16), ("relu", 2.0, 0.2, 40),
                                                  ("tanh", 1.761, 0.05, 24), ("tanh", 3.0, 0.05, 12)]:
        p = eq.predict_equilibrium(activation, sigma_w2, sigma_b2, depth)
        got = answer(p.forward.copy(), p.backward.copy())
        if not isinstance(got, (int, np.integer)) or int(got) != p.layer:
            return False, (f"{activation}, sigma_w2 = {sigma_w2}, sigma_b2 = {sigma_b2}, L = {depth}: expected "
                           f"l* = {p.layer}, got {got!r}. Hint: layers are 1-based; return an int.")
    hand_made = [  # (forward, backward, l*): a tie, a crossing at layer 1, no crossing
        (np.array([0.8, 0.5, 0.3, 0.2]), np.array([0.1, 0.3, 0.3, 1.0]), 3),
        (np.array([0.2, 0.1, 0.05]), np.array([0.5, 0.8, 1.0]), 1),
        (np.array([1.5, 1.4, 1.3]), np.array([0.2, 0.6, 1.0]), 3),
    ]
    for forward, backward, expected in hand_made:
        got = answer(forward, backward)
        if not isinstance(got, (int, np.integer)) or int(got) != expected:
            return False, (f"for forward = {forward.tolist()}, backward = {backward.tolist()} expected {expected}, "
                           f"got {got!r}. Hint: ties (B_l = F_l) count as crossed; without a crossing return L + 1.")
    return True, "l* is the first layer whose backward information reaches its forward information."


@register("ex-05-asymptotic-crossing")
def check_asymptotic_crossing(answer: Callable) -> "tuple[bool, str]":
    """The solution of 9π²/(2l²) = (l/L)³, i.e. l = (9π²/2)^{1/5} L^{3/5}."""
    for depth in (10, 64, 1000, 16384):
        expected = (9 * math.pi**2 / 2) ** 0.2 * depth**0.6
        ok, message = close_enough(answer(depth), expected, rtol=1e-6)
        if not ok:
            return False, (f"at L = {depth} (expected {expected:.4f}): {message} "
                           "Hint: take logs, log(9π²/2) − 2 log l = 3 log l − 3 log L.")
    return True, "l⁵ = (9π²/2) L³: the asymptotic crossing grows exactly as L^{3/5}."


@register("ex-05-bias-shift")
def check_bias_shift(answer: Callable) -> "tuple[bool, str]":
    """sign(l*(σ_b² high) − l*(σ_b² low)) on a few architectures, including one where l* does not move."""
    from .. import equilibrium as eq

    cases = [("relu", 2.0, 32, 0.0, 0.2), ("relu", 2.0, 64, 0.1, 0.5), ("tanh", 2.0, 24, 0.05, 0.3),
             ("relu", 2.0, 32, 0.2, 0.0), ("relu", 2.0, 6, 0.0, 0.01)]
    for activation, sigma_w2, depth, low, high in cases:
        expected = int(np.sign(eq.equilibrium_layer(activation, sigma_w2, high, depth)
                               - eq.equilibrium_layer(activation, sigma_w2, low, depth)))
        got = answer(activation, sigma_w2, depth, low, high)
        if got != expected:
            return False, (f"{activation}, sigma_w2 = {sigma_w2}, L = {depth}, sigma_b2 {low} → {high}: expected "
                           f"{expected:+d}, got {got!r}.")
    return True, "more bias makes the inputs alike sooner: the equilibrium moves toward the input."
