"""The Equilibrium Hypothesis predictor: definitions by hand, docs/science.md §5 values, the L^{3/5} law."""
import math

import numpy as np
import pytest

from eqhyp_utils.equilibrium import (backward_information, baseline_predictions, depth_fraction_baseline,
                                     equilibrium_depth, equilibrium_layer, forward_information,
                                     predict_equilibrium)
from eqhyp_utils.errors import InvalidInputError, UnsupportedError

RELU_EOC = ("relu", 2.0, 0.0)


def test_one_hidden_layer_by_hand():
    # L = 1, σ_b = 0: c_1 = c_0 = 0.2, so F = [0.8, 0.8] and B = [ρ(0.2), 1], ρ(c) = 1 − arccos(c)/π.
    rho = 1 - math.acos(0.2) / math.pi
    p = predict_equilibrium(*RELU_EOC, 1, c0=0.2)
    np.testing.assert_allclose(p.forward, [0.8, 0.8], rtol=1e-14)
    np.testing.assert_allclose(p.backward, [rho, 1.0], rtol=1e-14)
    assert p.layer == 2  # B_1 ≈ 0.564 < 0.8 ≤ B_2
    assert p.depth == pytest.approx(1 + (0.8 - rho) / ((1 - 0.8) + (0.8 - rho)), rel=1e-14)
    np.testing.assert_array_equal(p.layers, [1, 2])


@pytest.mark.parametrize("depth, expected", [(6, 5), (10, 6), (16, 8), (24, 11), (32, 13), (64, 21), (128, 33)])
def test_relu_crossing_reproduces_science_md(depth, expected):
    assert equilibrium_layer(*RELU_EOC, depth, c0=0.2) == expected
    continuous = equilibrium_depth(*RELU_EOC, depth, c0=0.2)
    assert expected - 1 < continuous <= expected


def test_curves_shape_ends_and_monotonicity():
    L = 20
    f = forward_information(*RELU_EOC, L, c0=0.3)
    b = backward_information(*RELU_EOC, L, c0=0.3)
    assert f.shape == b.shape == (L + 1,) and f.dtype == np.float64
    assert f[0] == pytest.approx(0.7) and b[-1] == 1.0
    assert np.all(np.diff(f) <= 0) and np.all(np.diff(b) > 0)


def test_crossing_definition_is_first_layer_with_backward_at_least_forward():
    for args in [RELU_EOC, ("tanh", 1.761, 0.05), ("tanh", 3.0, 0.05), ("relu", 2.0, 0.2)]:
        p = predict_equilibrium(*args, 16)
        crossed = p.backward >= p.forward
        assert crossed[p.layer - 1] and not crossed[: p.layer - 1].any()
        assert p.layer - 1 < p.depth <= p.layer


def test_residual_variant_moves_the_crossing():
    plain = equilibrium_layer(*RELU_EOC, 16)
    residual = [equilibrium_layer(*RELU_EOC, 16, alpha=a) for a in (0.2, 0.5, 1.0)]
    assert all(1 <= l <= 17 for l in residual)
    assert residual != [plain] * 3


def test_asymptotic_ingredients_for_relu_at_the_edge_of_chaos():
    L = 4096
    f = forward_information(*RELU_EOC, L)
    b = backward_information(*RELU_EOC, L)
    l = 2048  # 1 − c_l ≈ 9π²/(2 l²) and 1 − ρ(c_l) ≈ 3/l, up to O(1/l) corrections
    assert f[l] * 2 * l**2 / (9 * math.pi**2) == pytest.approx(1.0, abs=0.02)
    rho_l = b[l - 1] / b[l]
    assert (1 - rho_l) * l / 3 == pytest.approx(1.0, abs=0.02)


def test_equilibrium_depth_approaches_three_fifths_law():
    depths = [64, 256, 1024, 4096, 16384]
    values = np.array([equilibrium_depth(*RELU_EOC, L) for L in depths])
    slopes = np.diff(np.log(values)) / np.diff(np.log(depths))
    # The exact recursions approach 3/5 from above, slowly (relative correction O(1/l*)):
    # 0.677, 0.647, 0.626, 0.613 for the factor-4 steps above. 64 → 1024 gives 0.662, not within 0.05 of 3/5.
    assert np.all(np.diff(slopes) < 0) and np.all(slopes > 0.6)
    assert abs(slopes[-1] - 0.6) < 0.02
    assert math.log(values[2] / values[0]) / math.log(16) == pytest.approx(0.662, abs=0.005)
    prefactor = (9 * math.pi**2 / 2) ** 0.2  # l* ≈ (9π²/2)^{1/5} L^{3/5}
    assert values[-1] / (prefactor * depths[-1] ** 0.6) == pytest.approx(1.0, abs=0.03)


def test_baselines():
    assert baseline_predictions(6) == {"middle": 4, "last hidden": 6}
    assert baseline_predictions(5)["middle"] == 3  # six layers: the lower middle
    assert baseline_predictions(16, fractions=(0.65,))["fraction 0.65"] == 11  # round(0.65 · 17) = round(11.05)
    assert depth_fraction_baseline(10, 0.5) == 6  # 5.5 rounds up
    assert depth_fraction_baseline(10, 0.0) == 1 and depth_fraction_baseline(10, 1.0) == 11
    with pytest.raises(InvalidInputError, match="fraction"):
        depth_fraction_baseline(10, 1.5)
    with pytest.raises(InvalidInputError, match="depth"):
        baseline_predictions(0)


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(depth=0), InvalidInputError, "depth"),
    (dict(sigma_w2=0.0), InvalidInputError, "sigma_w2"),
    (dict(sigma_w2=-1.0), InvalidInputError, "sigma_w2"),
    (dict(sigma_b2=-0.1), InvalidInputError, "sigma_b2"),
    (dict(c0=1.0), InvalidInputError, "c0"),
    (dict(c0=-1.0), InvalidInputError, "c0"),
    (dict(c0=float("nan")), InvalidInputError, "c0"),
    (dict(q0=0.0), InvalidInputError, "q0"),
    (dict(alpha=-0.5), InvalidInputError, "alpha"),
    (dict(activation="swish"), UnsupportedError, "swish"),
])
def test_bad_inputs(kwargs, error, match):
    args = dict(activation="relu", sigma_w2=2.0, sigma_b2=0.0, depth=8)
    args.update(kwargs)
    positional = [args.pop(k) for k in ("activation", "sigma_w2", "sigma_b2", "depth")]
    for fn in (equilibrium_layer, equilibrium_depth, forward_information, backward_information, predict_equilibrium):
        with pytest.raises(error, match=match):
            fn(*positional, **args)
