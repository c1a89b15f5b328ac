"""Self-checks for notebook 2, kernel alignment.

Each checker calls the learner's function on its own kernels, labels or networks and compares the
result with :mod:`eqhyp_utils.alignment` (Baratin et al. 2021; Cortes et al. 2012; Kornblith et
al. 2019).
"""
from __future__ import annotations

import math
from typing import Callable

import numpy as np
import torch

from . import close_enough, register


def _random_kernel(m: int, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    F = torch.randn(m, m + 3, generator=g, dtype=torch.float64)
    return F @ F.T + 0.5  # positive semi-definite, with a constant offset that centring must remove


def _labels(n: int, C: int, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, C, (n,), generator=g).index_put_((torch.arange(C),), torch.arange(C))


def _first_failure(answer: Callable, sizes: "list[tuple[int, int]]", seed_offset: int,
                   expected_of: Callable, rtol: float) -> "tuple[int, int, float, str] | None":
    """Call ``answer(K, labels, C)`` on random PSD kernels of each (n, C) in ``sizes``; (n, C, expected,
    message) of the first answer that differs from ``expected_of(K, labels, C)``, else None."""
    for seed, (n, C) in enumerate(sizes):
        K, labels = _random_kernel(n * C, seed + seed_offset), _labels(n, C, seed + seed_offset)
        expected = expected_of(K, labels, C)
        got = answer(K.clone(), labels.clone(), C)
        ok, message = close_enough(float(got) if np.ndim(got) == 0 else got, expected, rtol=rtol)
        if not ok:
            return n, C, expected, message
    return None


@register("ex-02-alignment")
def check_alignment(answer: Callable) -> "tuple[bool, str]":
    """answer(K (n·C, n·C), labels (n,), n_classes) -> A = yᵀKy / (‖K‖_F ‖y‖²), y centred one-hot, sample-major."""
    from ..alignment import kernel_alignment

    failure = _first_failure(answer, [(6, 2), (8, 3), (10, 4)], 0,
                             lambda K, labels, C: kernel_alignment(K, labels, n_classes=C), rtol=1e-8)
    if failure is not None:
        n, C, expected, message = failure
        return False, (f"n = {n}, C = {C} (expected A = {expected:.6f}): {message} Hint: centre the one-hot "
                       "matrix over samples (subtract each column's mean), then flatten it row by row.")
    return True, "A = yᵀKy / (‖K‖_F ‖y‖²) with y the centred one-hot labels."


@register("ex-02-centring-invariance")
def check_centring_invariance(answer: Callable) -> "tuple[bool, str]":
    """answer(K, labels, n_classes) -> yᵀK̃y from the uncentred K: equals yᵀ(H⊗I)K(H⊗I)y for centred y."""
    from ..alignment import one_hot_labels

    def centred_quadratic_form(K: torch.Tensor, labels: torch.Tensor, C: int) -> float:
        n = len(labels)
        H = torch.eye(n, dtype=torch.float64) - 1.0 / n
        P = torch.kron(H, torch.eye(C, dtype=torch.float64))
        y = one_hot_labels(labels, C).reshape(-1)
        return float(y @ (P @ K @ P) @ y)

    failure = _first_failure(answer, [(6, 2), (8, 3), (11, 4)], 30, centred_quadratic_form, rtol=1e-9)
    if failure is not None:
        n, C, expected, message = failure
        return False, (f"n = {n}, C = {C} (yᵀK̃y = {expected:.6f}): {message} Hint: with y centred over samples, "
                       "(H ⊗ I_C) y = y, so the centring can be moved onto y, where it does nothing.")
    return True, "yᵀK̃y = yᵀKy for centred y: Φ̃ᵀy = Φᵀy, because Σ_x y_(x,a) = 0 for every output a."


@register("ex-02-ceiling")
def check_ceiling(answer: Callable) -> "tuple[bool, str]":
    """answer(labels, n_classes) -> the bound ‖ỸᵀỸ‖_F / (√C tr ỸᵀỸ) on the output layer's alignment."""
    from ..alignment import kernel_alignment, one_hot_labels, output_layer_ceiling

    for seed, (n, C) in enumerate([(20, 10), (12, 3), (9, 2), (30, 5)]):
        balanced = torch.arange(n) % C
        for labels in (balanced, _labels(n, C, seed)):
            Y = one_hot_labels(labels, C)
            M = Y.T @ Y
            expected = float(torch.linalg.matrix_norm(M) / (math.sqrt(C) * torch.trace(M)))
            ok, message = close_enough(answer(labels.clone(), C), expected, rtol=1e-8)
            if not ok:
                kind = "balanced" if labels is balanced else "unbalanced"
                return False, (f"{kind} labels, n = {n}, C = {C} (expected {expected:.6f}): {message} "
                               "Hint: Cauchy–Schwarz with the best Gram matrix G = ỸỸᵀ.")
        ok, message = close_enough(answer(balanced.clone(), C), output_layer_ceiling(C), rtol=1e-8)
        if not ok:
            return False, f"balanced labels with C = {C} must give 1/√(C(C−1)): {message}"
    # The bound must hold for every block-diagonal kernel G ⊗ I_C with G positive semi-definite.
    labels = _labels(15, 4, 9)
    bound = float(answer(labels.clone(), 4))
    for seed in range(5):
        G = _random_kernel(15, 10 + seed)
        if kernel_alignment(torch.kron(G, torch.eye(4, dtype=torch.float64)), labels, n_classes=4) > bound + 1e-12:
            return False, "a block-diagonal kernel exceeded your bound: it is not an upper bound."
    return True, "A_{L+1} ≤ ‖ỸᵀỸ‖_F/(√C tr ỸᵀỸ) = 1/√(C(C−1)) for balanced classes."


@register("ex-02-gradient-norm")
def check_gradient_norm(answer: Callable) -> "tuple[bool, str]":
    """answer(model, x, labels) -> array (L+1,) of yᵀK_l y = ‖∂⟨Ỹ, f(X)⟩/∂θ_l‖², weights and biases."""
    from ..alignment import label_gradient_norms
    from ..models import MLP

    for seed, (activation, depth, C) in enumerate([("relu", 3, 3), ("tanh", 4, 4)]):
        model = MLP(6, C, depth=depth, width=10, activation=activation, sigma_w2=1.8, sigma_b2=0.1,
                    seed=seed).double()
        x = torch.randn(9, 6, generator=torch.Generator().manual_seed(seed + 50), dtype=torch.float64)
        labels = _labels(9, C, seed)
        expected = label_gradient_norms(model, x, labels, n_classes=C)
        got = answer(model, x.clone(), labels.clone())
        if getattr(got, "shape", None) != expected.shape and np.shape(got) != expected.shape:
            return False, f"expected one value per layer, shape {expected.shape}, got shape {np.shape(got)}."
        ok, message = close_enough(got, expected, rtol=1e-8, atol=1e-12)
        if not ok:
            return False, (f"{activation}, depth {depth}: {message} Hint: backpropagate the scalar "
                           "(Ỹ * f(X)).sum() with Ỹ the centred one-hot labels; add the squared gradients "
                           "of each layer's weight and bias.")
    return True, "one backward pass of ⟨Ỹ, f(X)⟩ gives every layer's numerator yᵀK_l y."


@register("ex-02-cka")
def check_cka(answer: Callable) -> "tuple[bool, str]":
    """answer(K1, K2) -> CKA = ⟨HK1H, HK2H⟩_F / (‖HK1H‖_F ‖HK2H‖_F), H = I − 11ᵀ/m."""
    from ..alignment import centered_kernel_alignment

    for seed, m in enumerate([5, 8, 12]):
        K1, K2 = _random_kernel(m, seed), _random_kernel(m, seed + 20)
        K2 = K2 + 0.3 * K1  # make them related so CKA is far from 0
        for A, B in ((K1, K2), (K1, K1), (K2, 7.0 * K2 + 3.0)):
            expected = centered_kernel_alignment(A, B)
            ok, message = close_enough(float(answer(A.clone(), B.clone())), expected, rtol=1e-8)
            if not ok:
                return False, (f"m = {m} (expected CKA = {expected:.6f}): {message} Hint: H K H subtracts the row "
                               "means and the column means and adds back the grand mean.")
    return True, "CKA is the cosine between the centred kernels."
