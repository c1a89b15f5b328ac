"""Notebook 6's self-checks: the notebook's solutions pass, wrong answers fail, stubs raise."""
import numpy as np
import pytest

from eqhyp_utils.exercises import check


# --- the notebook's solutions -----------------------------------------------------------------
def peak_layer(alignment, epochs, protocol):
    A, t = np.asarray(alignment, dtype=float), np.asarray(epochs, dtype=float)
    if protocol == "final":
        return int(np.argmax(A[-1])) + 1
    keep = t >= 1.0
    A, t = A[keep], t[keep]
    profile = A[0] if len(t) == 1 else np.trapezoid(A, t, axis=0) / (t[-1] - t[0])
    return int(np.argmax(profile)) + 1


def scores(predicted, measured):
    e = np.abs(np.asarray(predicted) - np.asarray(measured))
    return float(e.mean()), float((e == 0).mean()), float((e <= 1).mean())


def fit_exponent(depths, peaks):
    return float(np.polyfit(np.log(depths), np.log(peaks), 1)[0])


def ceiling_ratio(k):
    return float(np.sqrt((k - 1) / k))


def stub(*args):
    raise NotImplementedError("Exercise: stub")


@pytest.mark.parametrize("label, solution", [
    ("ex-06-peak-layer", peak_layer),
    ("ex-06-scores", scores),
    ("ex-06-exponent", fit_exponent),
    ("ex-06-noise-ceiling", ceiling_ratio),
])
def test_solution_passes_and_stub_raises(label, solution):
    assert check(label, solution, quiet=True)
    with pytest.raises(NotImplementedError):
        check(label, stub, quiet=True)


def test_wrong_peak_layers_fail():
    # 0-based layers, and a time average over all checkpoints (including the first epoch)
    assert not check("ex-06-peak-layer", lambda A, t, p: peak_layer(A, t, p) - 1, quiet=True)

    def average_everything(A, t, protocol):
        A = np.asarray(A)
        return int(np.argmax(A[-1] if protocol == "final" else A.mean(0))) + 1
    assert not check("ex-06-peak-layer", average_everything, quiet=True)


def test_wrong_scores_fail():
    # signed instead of absolute errors; percentages instead of fractions
    assert not check("ex-06-scores", lambda p, m: (float(np.mean(np.asarray(p) - m)),) + scores(p, m)[1:], quiet=True)
    assert not check("ex-06-scores", lambda p, m: (scores(p, m)[0], 100 * scores(p, m)[1], 100 * scores(p, m)[2]),
                     quiet=True)


def test_wrong_exponents_fail():
    # a fit in linear space, and the mean-per-depth slope of peak/L
    assert not check("ex-06-exponent", lambda d, p: float(np.polyfit(d, p, 1)[0]), quiet=True)
    assert not check("ex-06-exponent", lambda d, p: 0.6, quiet=True)


def test_wrong_ceiling_ratios_fail():
    assert not check("ex-06-noise-ceiling", lambda k: 1 / ceiling_ratio(k), quiet=True)   # inverted
    assert not check("ex-06-noise-ceiling", lambda k: (k - 1) / k, quiet=True)           # a variance ratio


def test_the_ceiling_ratio_by_monte_carlo():
    """Gaussian peaks, k seeds: E|μ − P| / E|mean(others) − P| → √((k−1)/k) (200 000 draws: ±0.5 %)."""
    rng = np.random.default_rng(0)
    for k in (3, 5):
        P = rng.normal(0.0, 1.0, size=(200_000, k))
        loo = (P.sum(1, keepdims=True) - P) / (k - 1)
        ratio = np.abs(P).mean() / np.abs(loo - P).mean()
        assert ratio == pytest.approx(ceiling_ratio(k), rel=0.01)
