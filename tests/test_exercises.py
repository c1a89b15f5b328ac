"""The self-check framework: a right answer passes, a wrong one fails, a stub raises."""
import numpy as np
import pytest

from eqhyp_utils.errors import InvalidInputError
from eqhyp_utils.exercises import check, close_enough, exercise_labels


def test_close_enough_compares_values_and_shapes():
    assert close_enough(np.ones(3), np.ones(3))[0]
    ok, msg = close_enough(np.ones(3) * 1.1, np.ones(3))
    assert not ok and "difference" in msg
    ok, msg = close_enough(np.ones(2), np.ones(3))
    assert not ok and "shape" in msg
    assert not close_enough("abc", 1.0)[0]
    assert not close_enough(np.array([np.nan]), np.array([1.0]))[0]


def test_unknown_label_is_an_error():
    with pytest.raises(InvalidInputError, match="unknown exercise"):
        check("no-such-exercise", 1)


def test_labels_are_listed():
    labels = exercise_labels()
    assert labels == sorted(set(labels))
