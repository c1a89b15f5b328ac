"""Notebook 4's self-checks: the notebook's solutions pass, wrong answers fail, stubs raise."""
import numpy as np
import pytest

from eqhyp_utils import signal_propagation as sp
from eqhyp_utils.exercises import check


def gradient_norm_ratio(activation, sigma_w2, sigma_b2, k):
    return sp.chi1(activation, sigma_w2, sigma_b2) ** k


def relu_rho(c):
    return 1 - np.arccos(np.asarray(c, dtype=float)) / np.pi


def gradient_correlation(rho):
    rho = np.asarray(rho, dtype=float)
    return np.concatenate([np.cumprod(rho[::-1])[::-1], [1.0]])


def stub(*args):
    raise NotImplementedError("Exercise: stub")


@pytest.mark.parametrize("label, solution", [
    ("ex-04-gradient-norm", gradient_norm_ratio),
    ("ex-04-relu-rho", relu_rho),
    ("ex-04-gradient-correlation", gradient_correlation),
])
def test_solution_passes_and_stub_raises(label, solution):
    assert check(label, solution, quiet=True)
    with pytest.raises(NotImplementedError):
        check(label, stub, quiet=True)


def test_wrong_answers_fail():
    # χ₁ k instead of χ₁^k; one layer too many
    assert not check("ex-04-gradient-norm", lambda a, w, b, k: sp.chi1(a, w, b) * k, quiet=True)
    assert not check("ex-04-gradient-norm", lambda a, w, b, k: sp.chi1(a, w, b) ** (k + 1), quiet=True)
    # forgetting to divide by E[φ'²] = 1/2; using the forward map instead
    assert not check("ex-04-relu-rho", lambda c: (np.pi - np.arccos(c)) / (2 * np.pi), quiet=True)
    assert not check("ex-04-relu-rho", lambda c: np.asarray(c, dtype=float), quiet=True)
    # prefix instead of suffix products; the output layer's 1 missing
    assert not check("ex-04-gradient-correlation",
                     lambda rho: np.concatenate([np.cumprod(rho), [1.0]]), quiet=True)
    assert not check("ex-04-gradient-correlation", lambda rho: np.cumprod(np.asarray(rho)[::-1])[::-1], quiet=True)
