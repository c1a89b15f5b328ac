"""Notebook 4's self-checks: the notebook's solutions pass, wrong answers fail, stubs raise."""
import numpy as np
import pytest

from eqhyp_utils.exercises import check


def step_kernel(c):
    return (np.pi - np.arccos(np.asarray(c, dtype=float))) / (2 * np.pi)


def relu_rho(c):
    return 1 - np.arccos(np.asarray(c, dtype=float)) / np.pi


def one_minus_rho_leading(c):
    return np.sqrt(2 * (1 - np.asarray(c, dtype=float))) / np.pi


def stub(*args):
    raise NotImplementedError("Exercise: stub")


@pytest.mark.parametrize("label, solution", [
    ("ex-04-step-kernel", step_kernel),
    ("ex-04-relu-rho", relu_rho),
    ("ex-04-rho-near-one", one_minus_rho_leading),
])
def test_solution_passes_and_stub_raises(label, solution):
    assert check(label, solution, quiet=True)
    with pytest.raises(NotImplementedError):
        check(label, stub, quiet=True)


def test_wrong_answers_fail():
    # ρ instead of the kernel (the factor 2 lost); the complementary wedge; the uncorrelated value
    assert not check("ex-04-step-kernel", lambda c: (np.pi - np.arccos(c)) / np.pi, quiet=True)
    assert not check("ex-04-step-kernel", lambda c: np.arccos(c) / (2 * np.pi), quiet=True)
    assert not check("ex-04-step-kernel", lambda c: np.full(np.shape(c), 0.25), quiet=True)
    # forgetting to divide by E[φ'²] = 1/2; using the forward map instead
    assert not check("ex-04-relu-rho", lambda c: (np.pi - np.arccos(c)) / (2 * np.pi), quiet=True)
    assert not check("ex-04-relu-rho", lambda c: np.asarray(c, dtype=float), quiet=True)
    # the factor √2 lost; a linear law; the exact value, which is not the leading term asked for
    assert not check("ex-04-rho-near-one", lambda c: np.sqrt(1 - np.asarray(c)) / np.pi, quiet=True)
    assert not check("ex-04-rho-near-one", lambda c: (1 - np.asarray(c)) / np.pi, quiet=True)
    assert not check("ex-04-rho-near-one", lambda c: np.arccos(c) / np.pi, quiet=True)
