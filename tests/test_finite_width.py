"""Finite random networks against mean-field theory (width 1024, depth 8, six networks per setting).

Tolerances come from the O(1/√N) fluctuations of width-N statistics, N = 1024, averaged over n = 6
networks (the O(1/N) mean-field bias, ~0.001, is negligible):
* q_l is a mean of N squared units; for ReLU Var(relu(z)²)/E[relu(z)²]² = 5, so log q_l wanders by
  ≈ √(5/N) per layer and √(5 l /N) after l layers; the mean over n networks by √(5 l/(N n)). We allow 4σ.
* c_l and corr(δ_l, δ_l'): an empirical correlation over N units fluctuates by ≲ (1 − c²)/√N ≈ 0.03 per
  network and layer (correlated across layers); over six networks ≈ 0.015–0.02. We allow 0.05 (docs/science.md
  §6 saw ≤ 0.03 and ≤ 0.02).
* ‖δ_l‖²: each layer's factor has relative noise ≈ √(1/N + 2/N) ≈ 0.054 (φ'² and the Gaussian sum), so
  after 8 layers ≈ 0.15 per network, 0.06 for six: we allow |log ratio| ≤ 0.2, and the per-layer gain
  (8th root, an estimate of χ) within 2.5 % (docs/science.md §6: χ₁ within 1.5 %).
"""
import math

import numpy as np
import pytest
import torch

from eqhyp_utils.errors import InvalidInputError
from eqhyp_utils.finite_width import (input_pair, measure_backward_signal, measure_forward_signal,
                                      random_networks)
from eqhyp_utils.models import MLP
from eqhyp_utils.signal_propagation import backward_signal, forward_signal, mean_field_layer_ntk

WIDTH, DEPTH, SEEDS = 1024, 8, range(6)
SETTINGS = [("relu", 2.0, 0.0, None), ("tanh", 1.761, 0.05, None), ("relu", 2.0, 0.1, 0.5)]


@pytest.mark.parametrize("activation, sigma_w2, sigma_b2, alpha", SETTINGS)
def test_finite_networks_follow_mean_field(activation, sigma_w2, sigma_b2, alpha):
    nets = random_networks(WIDTH, 10, DEPTH, WIDTH, activation=activation, sigma_w2=sigma_w2,
                           sigma_b2=sigma_b2, alpha=alpha, seeds=SEEDS)
    x1, x2 = input_pair(WIDTH, q0=1.0, c0=0.2, seed=1)
    fwd = forward_signal(activation, sigma_w2, sigma_b2, DEPTH, q0=1.0, c0=0.2, alpha=alpha)
    bwd = backward_signal(activation, sigma_w2, sigma_b2, DEPTH, q0=1.0, c0=0.2, alpha=alpha)
    m = measure_forward_signal(nets, x1, x2)
    mb = measure_backward_signal(nets, x1, x2)
    n, hidden = len(SEEDS), slice(0, DEPTH)  # the 10-unit output layer is too narrow for these tolerances
    layers = np.arange(1, DEPTH + 1)
    assert np.all(np.abs(np.log(m.q[hidden] / fwd.q[hidden])) <= 4 * np.sqrt(5 * layers / (WIDTH * n)))
    assert np.all(np.abs(np.log(m.q_prime[hidden] / fwd.q_prime[hidden])) <= 4 * np.sqrt(5 * layers / (WIDTH * n)))
    assert np.max(np.abs(m.c[hidden] - fwd.c[hidden])) <= 0.05
    assert np.max(np.abs(mb.correlation - bwd.correlation)) <= 0.05
    assert np.max(np.abs(np.log(mb.norm_ratio / bwd.norm_ratio))) <= 0.2
    assert abs((mb.norm_ratio[0] / bwd.norm_ratio[0]) ** (1 / DEPTH) - 1) <= 0.025
    assert mb.norm_ratio[-1] == 1.0 and mb.correlation[-1] == pytest.approx(1.0)
    assert m.n_networks == n and m.c.shape == (DEPTH + 1,)


def test_theory_would_notice_a_wrong_weight_variance():
    # the same measurement against the theory of another σ_w² must fail the tolerance above
    nets = random_networks(WIDTH, 10, DEPTH, WIDTH, activation="relu", sigma_w2=2.0, seeds=SEEDS)
    x1, x2 = input_pair(WIDTH, seed=1)
    wrong = backward_signal("relu", 1.8, 0.0, DEPTH)
    mb = measure_backward_signal(nets, x1, x2)
    assert abs((mb.norm_ratio[0] / wrong.norm_ratio[0]) ** (1 / DEPTH) - 1) > 0.025


def test_input_pair_is_exact():
    x1, x2 = input_pair(50, q0=2.0, q0_prime=0.5, c0=-0.3, seed=3)
    x1, x2 = x1.double(), x2.double()
    assert float(x1 @ x1) / 50 == pytest.approx(2.0, rel=1e-6)
    assert float(x2 @ x2) / 50 == pytest.approx(0.5, rel=1e-6)
    assert float(x1 @ x2 / (x1.norm() * x2.norm())) == pytest.approx(-0.3, abs=1e-6)


def test_single_network_and_output_direction():
    net = MLP(20, 3, 3, 64, "tanh", 1.5, 0.05, seed=0)
    x1, x2 = input_pair(20, seed=0)
    a = measure_backward_signal(net, x1, x2, output_direction=np.array([2.0, 0.0, 0.0]))
    b = measure_backward_signal([net], x1, x2)  # default e_1: the same direction
    np.testing.assert_allclose(a.norm_ratio, b.norm_ratio, rtol=1e-6)
    c = measure_backward_signal(net, x1, x2, output_direction=np.array([0.0, 1.0, 0.0]))
    assert not np.allclose(a.norm_ratio, c.norm_ratio)
    fwd = measure_forward_signal(net, x1, x2)
    h1 = net.layers[0](torch.stack([x1, x2])).detach().double()
    assert fwd.q[0] == pytest.approx(float(h1[0].pow(2).mean()), rel=1e-12)


def test_layer_kernels_of_wide_networks_follow_the_mean_field_ntk():
    # Θ̂_l(x, x') = ⟨δ_l(x), δ_l(x')⟩ (σ_w² ⟨a_{l−1}(x), a_{l−1}(x')⟩ / fan_in + σ_b²): the NTK-parametrised
    # layer kernel of one output; each entry fluctuates by ~√(3 L/N) ≈ 0.1 relative per network.
    act, sw, sb, L = "tanh", 1.761, 0.05, 4
    x = torch.stack(input_pair(WIDTH, q0=1.0, c0=0.4, seed=2))
    theory = mean_field_layer_ntk(act, sw, sb, L, x.double().numpy())
    kernels = []
    for net in random_networks(WIDTH, 1, L, WIDTH, activation=act, sigma_w2=sw, sigma_b2=sb, seeds=SEEDS):
        hs = net.preactivations(x)
        deltas = torch.autograd.grad(hs[-1].sum(), hs)
        inputs = [x] + [net.activation.phi(h) for h in hs[:-1]]
        k = [(d @ d.T) * (sw * (a @ a.T) / a.shape[1] + sb) for d, a in zip(deltas, inputs)]
        kernels.append(torch.stack(k).detach().double().numpy())
    measured = np.mean(kernels, axis=0)
    np.testing.assert_allclose(measured, theory, rtol=4 * math.sqrt(3 * L / WIDTH / len(SEEDS)))


def test_bad_inputs():
    net = MLP(20, 3, 3, 16)
    x1, x2 = input_pair(20)
    with pytest.raises(InvalidInputError, match="shape"):
        measure_forward_signal(net, x1[:5], x2)
    with pytest.raises(InvalidInputError, match="MLP"):
        measure_forward_signal([], x1, x2)
    with pytest.raises(InvalidInputError, match="output_direction"):
        measure_backward_signal(net, x1, x2, output_direction=np.zeros(3))
    with pytest.raises(InvalidInputError, match="c0"):
        input_pair(20, c0=1.0)
    with pytest.raises(InvalidInputError, match="seed"):
        random_networks(20, 3, 2, 16, seeds=[])
