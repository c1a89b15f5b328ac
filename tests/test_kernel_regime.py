"""The kernel regime: both parametrisations' infinite-width layer kernels, and the width sweep's recipe."""
import numpy as np
import pytest
import torch

from eqhyp_utils.errors import InvalidInputError
from eqhyp_utils.kernel_regime import (hidden_layer_maximum, infinite_width_layer_kernels, width_sweep_config)
from eqhyp_utils.models import MLP
from eqhyp_utils.signal_propagation import mean_field_layer_ntk
from eqhyp_utils.tangent_kernels import layer_tangent_kernels


def _inputs(n=5, d=7, seed=0):
    return np.random.default_rng(seed).standard_normal((n, d))


def test_ntk_parametrisation_is_mean_field_layer_ntk():
    x = _inputs()
    for activation, sw, sb in (("tanh", 1.7, 0.1), ("relu", 2.0, 0.0), ("erf", 1.2, 0.3)):
        np.testing.assert_allclose(infinite_width_layer_kernels(activation, sw, sb, 4, x, parametrisation="ntk"),
                                   mean_field_layer_ntk(activation, sw, sb, 4, x), rtol=1e-12, atol=1e-14)


def test_standard_parametrisation_differs_only_in_the_bias_term():
    x, sw, sb, L = _inputs(), 1.7, 0.1, 4
    ntk = infinite_width_layer_kernels("tanh", sw, sb, L, x, parametrisation="ntk")
    sp_inf = infinite_width_layer_kernels("tanh", sw, sb, L, x)
    sp_64 = infinite_width_layer_kernels("tanh", sw, sb, L, x, width=64)
    # Θ_l = (σ_w² Σ^a + bias) ⊙ Σ^δ: differences are (bias difference) × Σ^δ_l, Σ^δ_{L+1} = 1
    np.testing.assert_allclose(ntk[-1] - sp_inf[-1], sb, rtol=1e-12)
    np.testing.assert_allclose(sp_64[-1] - sp_inf[-1], sw / 64, rtol=1e-12)
    relu_ntk = infinite_width_layer_kernels("relu", 2.0, 0.0, L, x, parametrisation="ntk")
    relu_sp = infinite_width_layer_kernels("relu", 2.0, 0.0, L, x)
    np.testing.assert_allclose(relu_sp[1:], relu_ntk[1:], rtol=1e-12)   # σ_b = 0: equal above layer 1
    assert not np.allclose(relu_sp[0], relu_ntk[0])                      # layer 1's bias: σ_w²/d vs 0


def test_standard_parametrisation_matches_a_wide_network():
    """Monte Carlo: σ_w²/N_{l−1} · K_l of one wide network of the course is close to the prediction."""
    x, d, N, sw, sb = _inputs(n=3, d=6, seed=1), 6, 4096, 1.5, 0.2
    model = MLP(d, 2, depth=2, width=N, activation="tanh", sigma_w2=sw, sigma_b2=sb, seed=3)
    measured = layer_tangent_kernels(model, torch.tensor(x, dtype=torch.float64))
    theory = infinite_width_layer_kernels("tanh", sw, sb, 2, x, width=N)
    for l, (K, T) in enumerate(zip(measured, theory), start=1):
        fan_in = d if l == 1 else N
        block = (sw / fan_in) * K.numpy().reshape(3, 2, 3, 2)[:, 0, :, 0]   # output a = b = 0
        np.testing.assert_allclose(block, T, rtol=0.1, atol=0.02 * np.abs(T).max())


def test_width_sweep_recipe_and_validation():
    cfg = width_sweep_config(256)
    assert cfg.lr == pytest.approx(3.2 / 256) and cfg.grad_clip is None and cfg.width == 256
    assert cfg.activation == "relu" and cfg.sigma_w2 == 2.0 and cfg.sigma_b2 == 0.0
    assert hidden_layer_maximum([0.1, 0.3, 0.2, 0.9]) == 0.3   # the output layer is left out
    with pytest.raises(InvalidInputError, match="parametrisation"):
        infinite_width_layer_kernels("relu", 2.0, 0.0, 2, _inputs(), parametrisation="mup")
    with pytest.raises(InvalidInputError, match="width"):
        width_sweep_config(0)
    with pytest.raises(InvalidInputError, match="shape"):
        infinite_width_layer_kernels("relu", 2.0, 0.0, 2, np.ones(3))
