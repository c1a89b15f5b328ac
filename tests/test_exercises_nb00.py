"""Notebook 0's self-check: the solution passes, an off-by-one answer fails, a stub raises."""
import numpy as np
import pytest

from eqhyp_utils.exercises import check


def solution_peak_layer(alignment):
    return int(np.argmax(alignment)) + 1


def test_solution_passes():
    assert check("ex-00-peak-layer", solution_peak_layer, quiet=True)


def test_zero_based_index_fails_with_a_hint(capsys):
    assert not check("ex-00-peak-layer", lambda a: int(np.argmax(a)))
    assert "numbered from 1" in capsys.readouterr().out


def test_non_integer_answer_fails():
    assert not check("ex-00-peak-layer", lambda a: float(np.argmax(a) + 1), quiet=True)


def test_stub_raises():
    def stub(alignment):
        raise NotImplementedError("Exercise 00.1")

    with pytest.raises(NotImplementedError):
        check("ex-00-peak-layer", stub, quiet=True)
