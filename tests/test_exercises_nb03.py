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


def phase(activation, sigma_w2, sigma_b2):
    q_star = sp.variance_fixed_point(activation, sigma_w2, sigma_b2)
    chi_1 = sigma_w2 * float(get_activation(activation).derivative_second_moment(q_star))
    return "chaotic" if chi_1 > 1 else "ordered"


def stub(*args):
    raise NotImplementedError("Exercise: stub")


@pytest.mark.parametrize("label, solution", [
    ("ex-03-relu-variance", relu_variance_map),
    ("ex-03-fixed-point", variance_fixed_point),
    ("ex-03-phase", phase),
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
    # a fixed answer, and χ₁ compared with the wrong threshold
    assert not check("ex-03-phase", lambda a, w, b: "ordered", quiet=True)
    def wrong_threshold(activation, w, b):
        q_star = sp.variance_fixed_point(activation, w, b)
        return "chaotic" if w * float(get_activation(activation).derivative_second_moment(q_star)) > 0.8 else "ordered"
    assert not check("ex-03-phase", wrong_threshold, quiet=True)
