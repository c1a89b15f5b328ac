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


# --- the generic quadrature: what it is, and that the course names it correctly ---------------------
def test_gauss_hermite_rule_is_exact_for_polynomials_up_to_degree_2m_minus_1():
    from scipy.special import factorial2

    from eqhyp_utils.activations import GAUSS_HERMITE_NODES, gaussian_rule

    z, w = gaussian_rule("gauss-hermite")
    assert len(z) == GAUSS_HERMITE_NODES == 80 and w.sum() == pytest.approx(1.0, rel=1e-14)
    for k in range(0, 2 * GAUSS_HERMITE_NODES - 1, 2):  # E[Z^k] = (k − 1)!! for even k
        exact = 1.0 if k == 0 else float(factorial2(k - 1))
        assert float(np.sum(w * z**k)) == pytest.approx(exact, rel=1e-12), k
    assert not np.any(z == 0.0)  # an even number of symmetric nodes: none at the origin


def test_trapezoid_rule_is_the_default_and_adapts_to_the_variance():
    from eqhyp_utils.activations import QUADRATURE, gaussian_rule

    assert QUADRATURE == "trapezoid"
    z, w = gaussian_rule()
    assert len(z) == 81 and z[0] == -10.0 and z[-1] == 10.0 and z[40] == 0.0
    assert np.allclose(np.diff(z), 0.25) and w.sum() == pytest.approx(1.0, rel=1e-14)
    assert len(gaussian_rule(q_max=10.0)[0]) > 81           # finer for larger variances
    assert len(gaussian_rule(nodes=11)[0]) == 11
    with pytest.raises(UnsupportedError, match="trapezoid"):
        gaussian_rule("simpson")
    with pytest.raises(InvalidInputError, match="nodes"):
        gaussian_rule("gauss-hermite", nodes=1)


def test_relu_step_kernel_by_each_rule_at_c_equal_zero():
    """The numbers notebook 3 quotes: the trapezoid node at z = 0 costs 19 %, Gauss–Hermite is exact there."""
    from eqhyp_utils.activations import gaussian_cross_moment, gaussian_rule

    step = get_activation("relu").dphi_np
    z, w = gaussian_rule("trapezoid")
    w0 = w[z == 0.0][0]                                       # ≈ 0.0997 = h/√(2π) for h = 0.25
    assert float(gaussian_cross_moment(step, 1.0, 1.0, 0.0)) == pytest.approx((0.5 - w0 / 2) ** 2, rel=1e-12)
    assert float(gaussian_cross_moment(step, 1.0, 1.0, 0.0)) == pytest.approx(0.2026, abs=1e-4)
    assert float(gaussian_cross_moment(step, 1.0, 1.0, 0.0, rule="gauss-hermite")) == pytest.approx(0.25, rel=1e-12)


def test_the_base_class_uses_the_rule_the_course_names():
    import re
    from pathlib import Path

    import eqhyp_utils.activations as activations
    from eqhyp_utils.activations import QUADRATURE, QUADRATURE_NAME, Activation, gaussian_cross_moment

    tanh = get_activation("tanh")
    plain = Activation("tanh-copy", tanh.phi, tanh.dphi, tanh.phi_np, tanh.dphi_np)
    c = np.array([-0.3, 0.4, 0.9])
    np.testing.assert_array_equal(plain.derivative_cross_moment(1.2, 0.8, c),
                                  gaussian_cross_moment(tanh.dphi_np, 1.2, 0.8, c, rule=QUADRATURE))
    assert QUADRATURE in QUADRATURE_NAME
    assert QUADRATURE_NAME in activations.__doc__ and QUADRATURE_NAME in Activation.__doc__
    # notebook 3's section on quadrature names the same rule and does not attribute Gauss–Hermite to the package
    text = (Path(__file__).resolve().parent.parent / "notebooks" / "03_forward_propagation.md").read_text()
    start = text.index("Closed forms or quadrature?")
    section = text[start:text.index("\n## ", start)]
    assert QUADRATURE_NAME in section and "QUADRATURE_NAME" in section
    assert not re.search(r"package uses[^.]*Gauss", section)
