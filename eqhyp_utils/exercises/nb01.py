"""Self-checks for notebook 1, tangent features and the layer tangent kernel.

Each checker builds its own small random network, calls the learner's function and compares the
result with :mod:`eqhyp_utils.tangent_kernels` (Baratin et al. 2021). Kernels are (n·C) × (n·C)
and indexed sample-major (row x·C + a), as everywhere in the package.
"""
from __future__ import annotations

from typing import Callable

import torch

from . import close_enough, register


def _small_net(seed: int, *, depth: int = 3, width: int = 12, d: int = 5, C: int = 3, n: int = 7,
               activation: str = "tanh", sigma_b2: float = 0.1):
    from ..models import MLP

    model = MLP(d, C, depth=depth, width=width, activation=activation, sigma_w2=1.5, sigma_b2=sigma_b2,
                seed=seed).double()
    x = torch.randn(n, d, generator=torch.Generator().manual_seed(seed + 100), dtype=torch.float64)
    return model, x


@register("ex-01-layer-kernel")
def check_layer_kernel(answer: Callable) -> "tuple[bool, str]":
    """answer(inputs (n, N_{l-1}), deltas (n, C, N_l)) -> K_l (n·C, n·C) with the bias term."""
    from ..tangent_kernels import layer_tangent_factors, layer_tangent_kernels

    for seed, activation in ((1, "tanh"), (2, "relu")):
        model, x = _small_net(seed, activation=activation)
        factors = layer_tangent_factors(model, x)
        expected = layer_tangent_kernels(model, x)
        for f, K in zip(factors, expected):
            got = answer(f.inputs.clone(), f.deltas.clone())
            ok, message = close_enough(got, K, rtol=1e-9, atol=1e-12)
            if not ok:
                n, C = f.deltas.shape[:2]
                return False, (f"layer {f.l} of a {activation} network (n = {n}, C = {C}): {message} "
                               "Hint: K[(x,a),(x',b)] = ⟨δ^a(x), δ^b(x')⟩ (⟨a(x), a(x')⟩ + 1), rows ordered x·C + a.")
    return True, "K_l = (δ-Gram) ⊙ (input Gram + 1), without ever forming the Jacobian."


@register("ex-01-output-kernel")
def check_output_kernel(answer: Callable) -> "tuple[bool, str]":
    """answer(last_hidden (n, N_L), n_classes) -> K_{L+1} = (Gram + 1) ⊗ I_C (sample-major)."""
    from ..tangent_kernels import layer_tangent_factors, layer_tangent_kernels

    for seed, C in ((3, 3), (4, 5)):
        model, x = _small_net(seed, C=C, n=6)
        last = layer_tangent_factors(model, x)[-1]
        expected = layer_tangent_kernels(model, x, layers=[model.n_layers])[0]
        got = answer(last.inputs.clone(), C)
        ok, message = close_enough(got, expected, rtol=1e-9, atol=1e-12)
        if not ok:
            return False, (f"C = {C}: {message} Hint: at the output δ^a = e_a, so ⟨δ^a, δ^b⟩ = 1 if a = b else 0; "
                           "in sample-major order the kernel is torch.kron(G + 1, torch.eye(C)).")
    return True, "the output layer's kernel is block-diagonal in the classes: (Gram + 1) ⊗ I_C."


@register("ex-01-centring")
def check_centring(answer: Callable) -> "tuple[bool, str]":
    """answer(K (n·C, n·C), n, C) -> K with every (a, b) block double-centred over samples."""
    from ..tangent_kernels import layer_tangent_kernels

    for seed, C, n in ((5, 3, 7), (6, 4, 5)):
        model, x = _small_net(seed, C=C, n=n)
        plain = layer_tangent_kernels(model, x, layers=[2])[0]
        expected = layer_tangent_kernels(model, x, layers=[2], centre=True)[0]
        got = answer(plain.clone(), n, C)
        ok, message = close_enough(got, expected, rtol=1e-9, atol=1e-12)
        if not ok:
            return False, (f"n = {n}, C = {C}: {message} Hint: view K as (n, C, n, C) and subtract the means "
                           "over the first and over the third index (double centring).")
    return True, "centring the tangent features over samples = double-centring each class block of K."


@register("ex-01-ntk-sum")
def check_ntk_sum(answer: Callable) -> "tuple[bool, str]":
    """answer(model, x) -> the empirical NTK from the full Jacobian; must equal Σ_l K_l."""
    from ..tangent_kernels import empirical_ntk

    for seed, depth in ((7, 2), (8, 3)):
        model, x = _small_net(seed, depth=depth, n=5)
        expected = empirical_ntk(model, x)
        got = answer(model, x.clone())
        ok, message = close_enough(got, expected, rtol=1e-9, atol=1e-12)
        if not ok:
            return False, (f"depth {depth}: {message} Hint: Θ = J Jᵀ with J the (n·C) × P Jacobian of all the "
                           "outputs with respect to all the parameters, rows ordered x·C + a.")
    return True, "the empirical NTK J Jᵀ is the sum of the layer tangent kernels."
