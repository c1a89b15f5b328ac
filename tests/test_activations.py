"""Activations: φ′ is φ's derivative, torch and numpy agree, closed forms agree with Monte Carlo."""
import numpy as np
import pytest
import torch

from eqhyp_utils import ACTIVATIONS, InvalidInputError, UnsupportedError, get_activation

NAMES = sorted(ACTIVATIONS)


@pytest.mark.parametrize("name", NAMES)
def test_dphi_is_the_derivative_of_phi(name):
    act = get_activation(name)
    x = torch.linspace(-3, 3, 601, dtype=torch.float64)
    x = x[x.abs() > 1e-3].requires_grad_(True)          # away from ReLU's kink
    (grad,) = torch.autograd.grad(act.phi(x).sum(), x)
    assert torch.allclose(act.dphi(x.detach()), grad, atol=1e-12)


@pytest.mark.parametrize("name", NAMES)
def test_numpy_and_torch_versions_agree(name):
    act = get_activation(name)
    x = np.linspace(-3, 3, 101)
    xt = torch.tensor(x)
    assert np.allclose(act.phi_np(x), act.phi(xt).numpy(), atol=1e-12)
    assert np.allclose(act.dphi_np(x), act.dphi(xt).numpy(), atol=1e-12)


@pytest.mark.parametrize("name", NAMES)
def test_gaussian_expectations_match_monte_carlo(name):
    act = get_activation(name)
    rng = np.random.default_rng(0)
    q1, q2, c = 1.3, 0.7, 0.4
    z1, z2 = rng.standard_normal((2, 400_000))
    u = np.sqrt(q1) * z1
    v = np.sqrt(q2) * (c * z1 + np.sqrt(1 - c * c) * z2)
    # 4e5 samples: standard errors ≈ 2e-3 × the spread of the integrand; 5 standard errors allowed
    for f, g, exact in ((act.phi_np, act.phi_np, act.cross_moment(q1, q2, c)),
                        (act.dphi_np, act.dphi_np, act.derivative_cross_moment(q1, q2, c))):
        samples = f(u) * g(v)
        assert float(exact) == pytest.approx(samples.mean(), abs=5 * samples.std() / np.sqrt(samples.size))
    assert float(act.second_moment(q1)) == pytest.approx(float(act.cross_moment(q1, q1, 1.0)), rel=1e-9)


def test_relu_closed_forms_by_hand():
    relu = get_activation("relu")
    assert float(relu.second_moment(2.0)) == pytest.approx(1.0)              # E[relu(u)²] = q/2
    assert float(relu.cross_moment(1.0, 1.0, 0.0)) == pytest.approx(1 / (2 * np.pi))
    assert float(relu.derivative_cross_moment(1.0, 1.0, 0.0)) == pytest.approx(0.25)
    assert float(relu.derivative_cross_moment(1.0, 1.0, -1.0)) == pytest.approx(0.0)


def test_lookup_errors():
    assert get_activation("ReLU") is ACTIVATIONS["relu"]
    with pytest.raises(UnsupportedError, match="relu"):
        get_activation("swish")
    with pytest.raises(InvalidInputError):
        get_activation(3)
