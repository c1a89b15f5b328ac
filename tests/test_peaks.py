"""Peak estimators: argmax, the top of a profile, its centroid, the time average — by hand."""
import numpy as np
import pytest

from eqhyp_utils.errors import InvalidInputError
from eqhyp_utils.peaks import argmax_layer, near_peak_layers, time_averaged_profile, top_centroid_layer


def test_argmax_is_one_based_and_takes_the_first_of_ties():
    assert argmax_layer([0.1, 0.3, 0.2]) == 2
    assert argmax_layer([0.3, 0.1, 0.3]) == 1


def test_top_of_the_profile_and_its_centroid():
    profile = [0.01, 0.096, 0.1, 0.094, 0.02]
    assert near_peak_layers(profile) == [2, 3]                    # 0.096 ≥ 0.95 · 0.1 > 0.094
    assert near_peak_layers(profile, tolerance=0.07) == [2, 3, 4]
    assert top_centroid_layer(profile) == 2.5
    assert top_centroid_layer([0.0, 1.0, 0.0]) == 2.0             # a sharp peak: the argmax


def test_time_average_is_the_trapezoid_rule_from_epoch_one():
    epochs = [0.0, 0.5, 1.0, 2.0, 4.0]
    A = [[9, 9], [9, 9], [1, 0], [0, 1], [0, 3]]                   # rows before epoch 1 are left out
    # layer 1: (1·(1+0)/2 + 2·(0+0)/2)/3 = 1/6; layer 2: (1·(0+1)/2 + 2·(1+3)/2)/3 = 1.5
    np.testing.assert_allclose(time_averaged_profile(epochs, A), [1 / 6, 1.5])
    np.testing.assert_allclose(time_averaged_profile(epochs, A, from_epoch=4.0), [0, 3])


@pytest.mark.parametrize("bad", [[], [0.1, float("nan")], [[0.1, 0.2]]])
def test_bad_profiles_are_rejected(bad):
    with pytest.raises(InvalidInputError):
        argmax_layer(bad)


def test_time_average_needs_a_checkpoint_after_its_start():
    with pytest.raises(InvalidInputError, match="no checkpoint"):
        time_averaged_profile([0.0, 0.5], [[1, 2], [3, 4]])
