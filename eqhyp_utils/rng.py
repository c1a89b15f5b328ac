r"""Random numbers that are the same on every machine.

SGD is chaotic at the rounding level (docs/science.md §7): a difference in the last bit of one
initial weight grows, over a few epochs, into a different peak layer. A torch seed does not pin the
initial weights across machines, because torch's CPU ``normal_`` takes different code paths (and
gives different last bits) on different vector instruction sets. numpy's :class:`numpy.random.Generator`
does not: its bit generator (PCG64) and its samplers are defined bit for bit, independently of the
CPU, so every random draw of the course goes through this module.

Every stream is named by a seed and a *purpose*, so that the initial weights, the order of the
mini-batches and the probe sets of one run are independent streams, and changing one of them (say,
the number of epochs) never changes another:

.. math:: \text{stream}(s, p) = \text{PCG64}(\text{SeedSequence}(s,\ \text{spawn\_key} = (\text{TAG}, p)))

with ``p`` a small integer per purpose (:data:`PURPOSES`). The spawn key keeps every stream distinct
from ``np.random.default_rng(s)`` — which data splits and synthetic inputs use — and from each other.
(``SeedSequence([s, 0])`` would not do: numpy treats trailing zero words as absent, so it equals
``SeedSequence(s)``, and the weights would repeat the draws of the inputs.)
"""
from __future__ import annotations

import numpy as np
import torch

from .errors import InvalidInputError

__all__ = ["PURPOSES", "generator", "standard_normal", "permutation"]

#: The purposes a run draws random numbers for, and the integer that names each stream.
PURPOSES: dict[str, int] = {"init": 1, "batches": 2, "probe": 3, "test_probe": 4}
_TAG = 0x6571  # "eq": the course's streams, apart from every numpy default_rng(seed)


def generator(seed: int, purpose: str = "init") -> np.random.Generator:
    """The numpy Generator of ``(seed, purpose)``: the same bits on every machine."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise InvalidInputError(f"seed must be a non-negative integer, got {seed!r}.")
    if purpose not in PURPOSES:
        raise InvalidInputError(f"purpose must be one of {sorted(PURPOSES)}, got {purpose!r}.")
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(int(seed), spawn_key=(_TAG, PURPOSES[purpose]))))


def standard_normal(shape: "tuple[int, ...] | int", rng: np.random.Generator,
                    dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """A tensor of independent N(0, 1) draws, drawn in float64 by numpy and then cast to ``dtype``."""
    return torch.from_numpy(rng.standard_normal(shape)).to(dtype)


def permutation(n: int, rng: np.random.Generator) -> torch.Tensor:
    """A uniformly random permutation of 0 … n − 1 as an int64 tensor."""
    return torch.from_numpy(rng.permutation(int(n)).astype(np.int64))
