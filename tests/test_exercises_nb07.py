"""Notebook 7's self-checks: the notebook's solutions pass, wrong answers fail, stubs raise."""
import numpy as np
import pytest

from eqhyp_utils import signal_propagation as sp
from eqhyp_utils.exercises import check


# --- the notebook's solutions -----------------------------------------------------------------
def residual_variances(depth, alpha, sigma_w2, sigma_b2, q0):
    q = [sigma_w2 * q0 + sigma_b2]
    for _ in range(2, depth + 1):
        q.append(q[-1] + alpha ** 2 * (sigma_w2 * q[-1] / 2 + sigma_b2))
    q.append(sigma_w2 * q[-1] / 2 + sigma_b2)
    return np.array(q)


def residual_lstar(depth, alpha):
    F = 1 - sp.forward_signal("relu", 2.0, 0.0, depth, alpha=alpha).c_before
    B = sp.backward_signal("relu", 2.0, 0.0, depth, alpha=alpha).correlation
    crossed = np.flatnonzero(B >= F)
    return int(crossed[0]) + 1 if crossed.size else depth + 1


def design():
    return {"activation": "relu", "sigma_w2": 2.0, "sigma_b2": 0.0, "alpha": 0.25}


def stub(*args):
    raise NotImplementedError("Exercise: stub")


@pytest.mark.parametrize("label, solution", [
    ("ex-07-residual-variance", residual_variances),
    ("ex-07-residual-lstar", residual_lstar),
    ("ex-07-design", design),
])
def test_solution_passes_and_stub_raises(label, solution):
    assert check(label, solution, quiet=True)
    with pytest.raises(NotImplementedError):
        check(label, stub, quiet=True)


def test_wrong_residual_variances_fail():
    # branch scale α instead of α², and a residual output layer
    def alpha_not_squared(depth, alpha, w, b, q0):
        q = [w * q0 + b]
        for _ in range(2, depth + 1):
            q.append(q[-1] + alpha * (w * q[-1] / 2 + b))
        q.append(w * q[-1] / 2 + b)
        return np.array(q)

    def residual_output(depth, alpha, w, b, q0):
        q = residual_variances(depth, alpha, w, b, q0)
        q[-1] = q[-2] + alpha ** 2 * (w * q[-2] / 2 + b)
        return q
    assert not check("ex-07-residual-variance", alpha_not_squared, quiet=True)
    assert not check("ex-07-residual-variance", residual_output, quiet=True)


def test_wrong_lstar_fails():
    # 0-based layer; a plain network's crossing regardless of α; a float
    assert not check("ex-07-residual-lstar", lambda L, a: residual_lstar(L, a) - 1, quiet=True)
    assert not check("ex-07-residual-lstar", lambda L, a: residual_lstar(L, None), quiet=True)
    assert not check("ex-07-residual-lstar", lambda L, a: float(residual_lstar(L, a)), quiet=True)


def test_wrong_designs_fail():
    # chaotic tanh moves l* later but has χ₁ ≈ 1.21; a bias moves it earlier; a malformed answer
    assert not check("ex-07-design", lambda: {"activation": "tanh", "sigma_w2": 3.0, "sigma_b2": 0.05,
                                              "alpha": None}, quiet=True)
    assert not check("ex-07-design", lambda: {"activation": "relu", "sigma_w2": 1.8, "sigma_b2": 0.1,
                                              "alpha": None}, quiet=True)
    assert not check("ex-07-design", lambda: {"activation": "relu"}, quiet=True)
    assert not check("ex-07-design", lambda: {"activation": "swish", "sigma_w2": 2.0, "sigma_b2": 0.0,
                                              "alpha": 0.25}, quiet=True)
