"""Notebook 5's self-checks: the notebook's solutions pass, wrong answers fail, stubs raise."""
import numpy as np
import pytest
from scipy.optimize import brentq

from eqhyp_utils import equilibrium as eq
from eqhyp_utils.exercises import check


def equilibrium_layer(forward, backward):
    crossed = np.flatnonzero(np.asarray(backward) >= np.asarray(forward))
    return int(crossed[0]) + 1 if crossed.size else len(forward)


def asymptotic_crossing(L):
    def gap(l):
        return np.log(9 * np.pi**2 / (2 * l**2)) - 3 * np.log(l / L)
    return float(brentq(gap, 1e-3, 1e6, xtol=1e-14, rtol=1e-14))


def shift_direction(activation, sigma_w2, depth, sigma_b2_low, sigma_b2_high):
    low = eq.equilibrium_layer(activation, sigma_w2, sigma_b2_low, depth)
    high = eq.equilibrium_layer(activation, sigma_w2, sigma_b2_high, depth)
    return int(np.sign(high - low))


def stub(*args):
    raise NotImplementedError("Exercise: stub")


@pytest.mark.parametrize("label, solution", [
    ("ex-05-equilibrium-layer", equilibrium_layer),
    ("ex-05-asymptotic-crossing", asymptotic_crossing),
    ("ex-05-bias-shift", shift_direction),
])
def test_solution_passes_and_stub_raises(label, solution):
    assert check(label, solution, quiet=True)
    with pytest.raises(NotImplementedError):
        check(label, stub, quiet=True)


def test_the_asymptotic_crossing_has_slope_three_fifths():
    slope = np.log(asymptotic_crossing(1000) / asymptotic_crossing(10)) / np.log(100)
    assert abs(slope - 0.6) < 1e-9


def test_wrong_answers_fail():
    # 0-based index; strict inequality (ties not crossed); last crossing instead of first
    assert not check("ex-05-equilibrium-layer",
                     lambda f, b: int(np.flatnonzero(np.asarray(b) >= np.asarray(f))[0]), quiet=True)
    def strict(f, b):
        crossed = np.flatnonzero(np.asarray(b) > np.asarray(f))
        return int(crossed[0]) + 1 if crossed.size else len(f)
    assert not check("ex-05-equilibrium-layer", strict, quiet=True)
    # forgetting the exponent: l = L^{3/5}; using the middle layer
    assert not check("ex-05-asymptotic-crossing", lambda L: L**0.6, quiet=True)
    assert not check("ex-05-asymptotic-crossing", lambda L: (L + 1) / 2, quiet=True)
    # a fixed guess, and the sign reversed
    assert not check("ex-05-bias-shift", lambda *a: -1, quiet=True)
    assert not check("ex-05-bias-shift", lambda *a: -shift_direction(*a), quiet=True)
