"""The platform-independent random streams: pinned values, and streams that never coincide."""
import numpy as np
import pytest

from eqhyp_utils.errors import InvalidInputError
from eqhyp_utils.rng import PURPOSES, generator, permutation, standard_normal


def test_streams_are_pinned_bit_for_bit():
    """numpy's PCG64 and its samplers are defined independently of the CPU: these values hold everywhere."""
    assert generator(0, "init").standard_normal(3).tolist() == [-0.06311657310591103, -0.04542850636809884,
                                                                0.04290813254064343]
    assert generator(0, "batches").permutation(8).tolist() == [0, 3, 2, 1, 7, 4, 5, 6]


def test_streams_are_distinct_from_each_other_and_from_default_rng():
    """A stream that repeated np.random.default_rng(seed) would repeat the draws of the data and inputs."""
    for seed in (0, 1, 7):
        draws = {name: generator(seed, name).standard_normal(4).tolist() for name in PURPOSES}
        draws["default_rng"] = np.random.default_rng(seed).standard_normal(4).tolist()
        draws["other seed"] = generator(seed + 1, "init").standard_normal(4).tolist()
        assert len({tuple(v) for v in draws.values()}) == len(draws), draws


def test_tensor_helpers():
    t = standard_normal((2, 3), generator(3))
    assert t.shape == (2, 3) and str(t.dtype) == "torch.float64"
    p = permutation(5, generator(3, "batches"))
    assert sorted(p.tolist()) == [0, 1, 2, 3, 4] and str(p.dtype) == "torch.int64"


@pytest.mark.parametrize("seed, purpose", [(-1, "init"), (1.5, "init"), (True, "init"), (0, "dropout")])
def test_bad_streams_are_rejected(seed, purpose):
    with pytest.raises(InvalidInputError):
        generator(seed, purpose)
