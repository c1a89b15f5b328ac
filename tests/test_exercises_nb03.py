"""Notebook 3's self-checks: the notebook's solutions pass, wrong answers fail, stubs raise."""
import numpy as np
import pytest

from eqhyp_utils import get_activation
from eqhyp_utils import signal_propagation as sp
from eqhyp_utils.exercises import check


# --- the notebook's solutions -----------------------------------------------------------------
def relu_variance_map(q, sigma_w2, sigma_b2):
    return sigma_w2 * np.asarray(q, dtype=float) / 2 + sigma_b2


def variance_fixed_point(activation, sigma_w2, sigma_b2):
    q = 1.0
    for _ in range(10_000):
        q_next = float(sp.variance_map(activation, q, sigma_w2, sigma_b2))
        if abs(q_next - q) < 1e-12:
            return q_next
        q = q_next
    return q


def correlation_slope(activation, sigma_w2, sigma_b2, c):
    q_star = sp.variance_fixed_point(activation, sigma_w2, sigma_b2)
    return sigma_w2 * float(get_activation(activation).derivative_cross_moment(q_star, q_star, c))


def stub(*args):
    raise NotImplementedError("Exercise: stub")


@pytest.mark.parametrize("label, solution", [
    ("ex-03-relu-variance", relu_variance_map),
    ("ex-03-fixed-point", variance_fixed_point),
    ("ex-03-correlation-slope", correlation_slope),
])
def test_solution_passes_and_stub_raises(label, solution):
    assert check(label, solution, quiet=True)
    with pytest.raises(NotImplementedError):
        check(label, stub, quiet=True)


def test_wrong_answers_fail():
    # forgetting the factor 1/2 of E[relu²], or the bias
    assert not check("ex-03-relu-variance", lambda q, w, b: w * np.asarray(q) + b, quiet=True)
    assert not check("ex-03-relu-variance", lambda q, w, b: w * np.asarray(q) / 2, quiet=True)
    # stopping after a few iterations
    def few_iterations(activation, w, b):
        q = 1.0
        for _ in range(3):
            q = float(sp.variance_map(activation, q, w, b))
        return q
    assert not check("ex-03-fixed-point", few_iterations, quiet=True)
    # Price's theorem without σ_w², with the variance's factor q* kept, or χ₁ whatever the correlation
    def without_sigma_w2(activation, w, b, c):
        q = sp.variance_fixed_point(activation, w, b)
        return float(get_activation(activation).derivative_cross_moment(q, q, c))
    assert not check("ex-03-correlation-slope", without_sigma_w2, quiet=True)
    def times_q(activation, w, b, c):
        q = sp.variance_fixed_point(activation, w, b)
        return q * w * float(get_activation(activation).derivative_cross_moment(q, q, c))
    assert not check("ex-03-correlation-slope", times_q, quiet=True)
    assert not check("ex-03-correlation-slope", lambda a, w, b, c: sp.chi1(a, w, b), quiet=True)
