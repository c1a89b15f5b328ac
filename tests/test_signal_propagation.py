"""Mean-field signal propagation: hand-checkable cases, docs/science.md §3 reference values, Monte Carlo checks."""
import math

import numpy as np
import pytest

from eqhyp_utils.activations import LEAKY_RELU_SLOPE, get_activation
from eqhyp_utils.errors import InvalidInputError, UnsupportedError
from eqhyp_utils.signal_propagation import (backward_signal, chi1, chi_c, correlation_fixed_point,
                                            correlation_map, covariance_map, depth_scales,
                                            edge_of_chaos_sigma_w2, forward_signal, mean_field_layer_ntk,
                                            phase, variance_fixed_point, variance_map)


def relu_correlation(c):
    """ReLU's correlation map at sigma_b = 0 (Cho & Saul 2009), written out independently."""
    return (math.sqrt(1 - c * c) + (math.pi - math.acos(c)) * c) / math.pi


# --- the maps, by hand ----------------------------------------------------------------------------
def test_relu_variance_map_is_half_sigma_w2_q_plus_sigma_b2():
    q = np.array([0.0, 0.5, 1.0, 3.0])
    np.testing.assert_allclose(variance_map("relu", q, 1.5, 0.1), 1.5 * q / 2 + 0.1, rtol=1e-14)


def test_relu_covariance_and_correlation_maps_by_hand():
    # orthogonal inputs: E[relu(u)relu(u')] = sqrt(q q')/(2π)
    assert covariance_map("relu", 1.0, 4.0, 0.0, 2.0, 0.0) == pytest.approx(2 * 2 / (2 * math.pi), rel=1e-14)
    assert correlation_map("relu", 1.0, 1.0, 0.0, 2.0, 0.0) == pytest.approx(1 / math.pi, rel=1e-14)
    for c in (-0.5, 0.2, 0.9):  # independent of sigma_w2 and q at sigma_b = 0
        assert correlation_map("relu", 0.3, 0.3, c, 5.0, 0.0) == pytest.approx(relu_correlation(c), rel=1e-13)
    assert correlation_map("tanh", 0.7, 0.7, 1.0, 1.5, 0.05) == pytest.approx(1.0, abs=1e-12)


# --- reference values (docs/science.md §3) ------------------------------------------------------------
@pytest.mark.parametrize("sigma_w2, q_star", [(1.0, 0.194), (1.5, 0.418), (2.0, 0.722)])
def test_tanh_variance_fixed_point_reference(sigma_w2, q_star):
    q = variance_fixed_point("tanh", sigma_w2, 0.05)
    assert round(q, 3) == q_star
    assert float(variance_map("tanh", q, sigma_w2, 0.05)) == pytest.approx(q, rel=1e-10)


@pytest.mark.parametrize("sigma_w2, expected", [(1.0, 0.759), (1.5, 0.939), (2.0, 1.048), (3.0, 1.209)])
def test_tanh_chi1_reference(sigma_w2, expected):
    assert round(chi1("tanh", sigma_w2, 0.05), 3) == expected


@pytest.mark.parametrize("sigma_w2, expected", [(2.0, 0.744), (3.0, 0.299)])
def test_tanh_correlation_fixed_point_reference(sigma_w2, expected):
    c = correlation_fixed_point("tanh", sigma_w2, 0.05)
    assert round(c, 3) == expected
    q = variance_fixed_point("tanh", sigma_w2, 0.05)
    assert float(correlation_map("tanh", q, q, c, sigma_w2, 0.05)) == pytest.approx(c, abs=1e-10)


EOC_REFERENCE = [(0.0, 1.000), (0.01, 1.424), (0.05, 1.761), (0.1, 1.986), (0.2, 2.285), (0.5, 2.843),
                 (1.0, 3.443)]


@pytest.mark.parametrize("sigma_b2, expected", EOC_REFERENCE)
def test_tanh_edge_of_chaos_reference(sigma_b2, expected):
    sigma_w2 = edge_of_chaos_sigma_w2("tanh", sigma_b2)
    assert abs(sigma_w2 - expected) < 5e-4  # three decimals
    assert chi1("tanh", sigma_w2, sigma_b2) == pytest.approx(1.0, abs=1e-8)


def test_relu_and_leaky_relu_edge_of_chaos():
    assert edge_of_chaos_sigma_w2("relu", 0.0) == pytest.approx(2.0, rel=1e-14)
    assert edge_of_chaos_sigma_w2("leaky_relu", 0.0) == pytest.approx(2 / (1 + LEAKY_RELU_SLOPE**2), rel=1e-14)
    assert chi1("relu", 2.0, 0.0) == pytest.approx(1.0, rel=1e-14)
    assert chi1("relu", 1.2, 0.3) == pytest.approx(0.6, rel=1e-14)  # σ_w²/2, whatever q*
    with pytest.raises(InvalidInputError, match="only at sigma_b2 = 0"):
        edge_of_chaos_sigma_w2("relu", 0.1)


def test_relu_variance_fixed_point_closed_form_and_failures():
    assert variance_fixed_point("relu", 1.0, 0.5) == pytest.approx(1.0, rel=1e-14)  # q = q/2 + 0.5
    assert variance_fixed_point("relu", 1.0, 0.0) == 0.0  # the signal dies
    with pytest.raises(InvalidInputError, match="every q is a fixed point"):
        variance_fixed_point("relu", 2.0, 0.0)
    with pytest.raises(InvalidInputError, match="without bound"):
        variance_fixed_point("relu", 3.0, 0.0)
    with pytest.raises(InvalidInputError, match="without bound"):
        variance_fixed_point("relu", 2.0, 0.1)


def test_phase_and_correlation_fixed_point():
    assert phase("relu", 2.0, 0.0) == "edge of chaos"
    assert phase("relu", 1.5, 0.0) == "ordered"
    assert phase("tanh", 1.0, 0.05) == "ordered"
    assert phase("tanh", 3.0, 0.05) == "chaotic"
    assert phase("tanh", edge_of_chaos_sigma_w2("tanh", 0.05), 0.05) == "edge of chaos"
    assert correlation_fixed_point("tanh", 1.0, 0.05) == 1.0
    assert correlation_fixed_point("tanh", 2.0, 0.0) == pytest.approx(0.0, abs=1e-12)  # odd φ, no bias


def test_chi_c_is_the_slope_of_the_correlation_map():
    sigma_w2, sigma_b2, h = 2.5, 0.05, 1e-5
    q = variance_fixed_point("tanh", sigma_w2, sigma_b2)
    c = correlation_fixed_point("tanh", sigma_w2, sigma_b2)
    slope = (correlation_map("tanh", q, q, c + h, sigma_w2, sigma_b2)
             - correlation_map("tanh", q, q, c - h, sigma_w2, sigma_b2)) / (2 * h)
    assert chi_c("tanh", sigma_w2, sigma_b2) == pytest.approx(float(slope), rel=1e-6)
    assert chi_c("tanh", 1.0, 0.05) == pytest.approx(chi1("tanh", 1.0, 0.05), rel=1e-14)  # c* = 1


def test_depth_scales():
    scales = depth_scales("relu", 1.0, 0.1)  # V'(q) = χ_c = 1/2
    assert scales.xi_q == pytest.approx(1 / math.log(2), rel=1e-12)
    assert scales.xi_c == pytest.approx(1 / math.log(2), rel=1e-12)
    assert math.isinf(depth_scales("relu", 2.0, 0.0).xi_c)
    assert depth_scales("tanh", 3.0, 0.05).xi_c == pytest.approx(-1 / math.log(chi_c("tanh", 3.0, 0.05)), rel=1e-12)


# --- Gaussian expectations against Monte Carlo ----------------------------------------------------
CASES = [(1.0, 1.0, 0.3), (0.5, 2.0, -0.6), (1.5, 0.8, 0.95)]


@pytest.mark.parametrize("name", ["relu", "leaky_relu", "tanh", "erf", "gelu"])
@pytest.mark.parametrize("q1, q2, c", CASES)
def test_expectations_match_monte_carlo(name, q1, q2, c):
    act = get_activation(name)
    rng = np.random.default_rng(12345)
    z1, z2 = rng.standard_normal((2, 400_000))
    u = math.sqrt(q1) * z1
    v = math.sqrt(q2) * (c * z1 + math.sqrt(1 - c * c) * z2)
    for method, f in (("cross_moment", act.phi_np), ("derivative_cross_moment", act.dphi_np)):
        samples = f(u) * f(v)
        se = samples.std() / math.sqrt(samples.size)
        assert abs(float(getattr(act, method)(q1, q2, c)) - samples.mean()) < 5 * se, method
    for method, f in (("second_moment", act.phi_np), ("derivative_second_moment", act.dphi_np)):
        samples = f(u) ** 2
        se = samples.std() / math.sqrt(samples.size) + 1e-15
        assert abs(float(getattr(act, method)(q1)) - samples.mean()) < 5 * se, method


# --- forward and backward signals -----------------------------------------------------------------
def test_forward_signal_relu_edge_of_chaos_by_hand():
    fwd = forward_signal("relu", 2.0, 0.0, 4, q0=0.7, c0=0.2)
    np.testing.assert_allclose(fwd.q, 1.4, rtol=1e-14)  # q_1 = 2 q0, then V(q) = q
    expected = [0.2]
    for _ in range(4):
        expected.append(relu_correlation(expected[-1]))
    np.testing.assert_allclose(fwd.c, expected, rtol=1e-13)
    np.testing.assert_allclose(fwd.c_before, [0.2] + expected[:-1], rtol=1e-13)
    assert fwd.depth == 4 and fwd.q.dtype == np.float64


def test_forward_signal_residual_by_hand():
    alpha, q0, L = 0.5, 0.7, 5
    fwd = forward_signal("relu", 2.0, 0.0, L, q0=q0, alpha=alpha)
    expected = [2 * q0 * (1 + alpha**2) ** (l - 1) for l in range(1, L + 1)]
    np.testing.assert_allclose(fwd.q, expected + [expected[-1]], rtol=1e-13)  # output layer is plain
    # residual covariance: Σ_2 = Σ_1 + α² σ_w² E[relu(u)relu(u')]
    sigma1 = 2 * q0 * 0.2
    sigma2 = sigma1 + alpha**2 * 2 * float(covariance_map("relu", 2 * q0, 2 * q0, 0.2, 1.0, 0.0))
    assert fwd.c[1] == pytest.approx(sigma2 / expected[1], rel=1e-13)


def test_forward_signal_unequal_inputs():
    fwd = forward_signal("tanh", 1.5, 0.05, 3, q0=0.5, q0_prime=2.0, c0=0.3)
    assert fwd.q[0] == pytest.approx(1.5 * 0.5 + 0.05) and fwd.q_prime[0] == pytest.approx(1.5 * 2.0 + 0.05)
    assert fwd.c[0] == pytest.approx((1.5 * 1.0 * 0.3 + 0.05) / math.sqrt(fwd.q[0] * fwd.q_prime[0]))
    assert fwd.q[1] == pytest.approx(float(variance_map("tanh", fwd.q[0], 1.5, 0.05)), rel=1e-14)


def test_backward_signal_relu_by_hand():
    L = 5
    b = backward_signal("relu", 2.0, 0.0, L, c0=0.2)
    np.testing.assert_allclose(b.norm_ratio, 1.0, rtol=1e-14)  # χ = 1 at every layer
    rho = 1 - np.arccos(b.forward.c[:-1]) / np.pi
    expected = [np.prod(rho[l - 1:]) for l in range(1, L + 1)] + [1.0]
    np.testing.assert_allclose(b.correlation, expected, rtol=1e-13)
    ordered = backward_signal("relu", 1.0, 0.0, L)
    np.testing.assert_allclose(ordered.norm_ratio, 0.5 ** np.arange(L, -1, -1), rtol=1e-14)
    residual = backward_signal("relu", 2.0, 0.0, L, alpha=0.5)  # factors 1 + α²χ below layer L
    np.testing.assert_allclose(residual.norm_ratio, [1.25 ** (L - l) for l in range(1, L + 1)] + [1.0], rtol=1e-13)


def test_backward_signal_uses_each_layer_variance():
    sigma_w2, sigma_b2, L = 1.5, 0.05, 4
    b = backward_signal("tanh", sigma_w2, sigma_b2, L, q0=3.0)  # far from q*: χ(q_k) differs per layer
    act = get_activation("tanh")
    chis = sigma_w2 * act.derivative_second_moment(b.forward.q[:-1])
    np.testing.assert_allclose(b.norm_ratio[:-1], np.cumprod(chis[::-1])[::-1], rtol=1e-12)
    assert not np.allclose(chis, chis[0])


# --- the infinite-width per-layer NTK -------------------------------------------------------------
def test_layer_ntk_single_input_by_hand():
    x = np.full((1, 4), math.sqrt(0.7))  # ‖x‖²/d = 0.7
    ntk = mean_field_layer_ntk("relu", 2.0, 0.0, 3, x)
    np.testing.assert_allclose(ntk[:, 0, 0], 1.4, rtol=1e-13)  # every layer contributes 2‖x‖²/d
    a2, L = 0.25, 4
    res = mean_field_layer_ntk("relu", 2.0, 0.0, L, x, alpha=0.5)[:, 0, 0]
    top = 1.4 * (1 + a2) ** (L - 1)
    np.testing.assert_allclose(res, [top] + [1.4 * a2 * (1 + a2) ** (L - 2)] * (L - 1) + [top], rtol=1e-13)


def test_layer_ntk_sums_to_jacot_recursion():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((5, 7))
    act, sw, sb, L = get_activation("tanh"), 1.7, 0.1, 4
    ntk = mean_field_layer_ntk(act, sw, sb, L, x)
    # Jacot et al. 2018: Θ^(1) = Σ_1, Θ^(l+1) = Θ^(l) ⊙ σ_w² Σ̇_l + Σ_{l+1}
    sigma = sw * x @ x.T / x.shape[1] + sb
    theta = sigma.copy()
    for _ in range(L):
        d = np.sqrt(np.diag(sigma))
        c = np.clip(sigma / np.outer(d, d), -1, 1)
        np.fill_diagonal(c, 1.0)  # exactly 1, as rounding would perturb √(1 − c²) by ~1e-8
        qq1, qq2 = np.meshgrid(np.diag(sigma), np.diag(sigma), indexing="ij")
        # upper triangle mirrored: the 2-D quadrature is not exactly symmetric in (q1, q2) (~1e-7 at q ≈ 3)
        upper = lambda m: np.triu(m) + np.triu(m, 1).T  # noqa: E731
        dot = upper(act.derivative_cross_moment(qq1, qq2, c))
        sigma = upper(sw * act.cross_moment(qq1, qq2, c) + sb)
        theta = theta * sw * dot + sigma
    np.testing.assert_allclose(ntk.sum(0), theta, rtol=1e-11)
    assert ntk.shape == (L + 1, 5, 5)
    np.testing.assert_allclose(ntk, np.transpose(ntk, (0, 2, 1)), rtol=0, atol=0)
    gram = x @ x.T / x.shape[1]
    np.testing.assert_allclose(mean_field_layer_ntk(act, sw, sb, L, input_gram=gram), ntk, rtol=1e-13)
    fwd = forward_signal(act, sw, sb, L, q0=float(gram[0, 0]), q0_prime=float(gram[1, 1]),
                         c0=float(gram[0, 1] / math.sqrt(gram[0, 0] * gram[1, 1])))
    assert ntk[-1, 0, 1] == pytest.approx(fwd.c[-1] * math.sqrt(fwd.q[-1] * fwd.q_prime[-1]), rel=1e-11)


# --- validation -----------------------------------------------------------------------------------
def test_bad_inputs_raise_specific_errors():
    with pytest.raises(InvalidInputError, match="depth"):
        forward_signal("relu", 2.0, 0.0, 0)
    with pytest.raises(InvalidInputError, match="depth"):
        backward_signal("relu", 2.0, 0.0, True)
    with pytest.raises(InvalidInputError, match="sigma_w2"):
        chi1("tanh", 0.0, 0.05)
    with pytest.raises(InvalidInputError, match="sigma_b2"):
        variance_map("tanh", 1.0, 1.0, -0.1)
    with pytest.raises(InvalidInputError, match="c0"):
        forward_signal("tanh", 1.0, 0.05, 3, c0=1.0)
    with pytest.raises(InvalidInputError, match="alpha"):
        forward_signal("tanh", 1.0, 0.05, 3, alpha=0.0)
    with pytest.raises(InvalidInputError, match="q"):
        variance_map("tanh", -1.0, 1.0, 0.0)
    with pytest.raises(UnsupportedError, match="sigmoid"):
        phase("sigmoid", 1.0, 0.0)
    with pytest.raises(InvalidInputError, match="exactly one"):
        mean_field_layer_ntk("relu", 2.0, 0.0, 2)


@pytest.mark.parametrize("q", [0.5, 3.0, 10.0])
def test_smooth_quadrature_matches_adaptive_integration(q):
    """The variance-adaptive trapezoid rule of activations.py agrees with scipy's adaptive quadrature."""
    import math

    from scipy.integrate import quad

    from eqhyp_utils.activations import get_activation

    def density(z):
        return math.exp(-0.5 * z * z) / math.sqrt(2 * math.pi)

    tanh = get_activation("tanh")
    ref = quad(lambda z: (1 - math.tanh(math.sqrt(q) * z) ** 2) ** 2 * density(z), -30, 30, limit=500)[0]
    assert float(tanh.derivative_second_moment(q)) == pytest.approx(ref, rel=1e-8)
    # the two-dimensional rule reduces to the one-dimensional one at c = 1
    assert float(tanh.derivative_cross_moment(q, q, 1.0)) == pytest.approx(ref, rel=1e-8)
