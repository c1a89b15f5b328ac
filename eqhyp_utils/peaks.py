r"""Where is the peak? Estimators of the best-aligned layer from alignment profiles.

An alignment profile is a vector :math:`(A_1, …, A_{L+1})` (entry i for layer i + 1, output layer
last). "The peak layer" needs a stated estimator, because the top of a profile is often broad
(docs/science.md §7: in most runs several layers lie within 5 % of the maximum) and a profile moves
during training. The estimators, each defined once here and used by the training record, the
scoreboard, the demo and the notebooks:

* :func:`argmax_layer`: :math:`\arg\max_l A_l` (1-based);
* :func:`near_peak_layers`: every layer with :math:`A_l \ge (1 - \tau)\max_k A_k`;
* :func:`top_centroid_layer`: the mean of those layers — an estimate that uses the whole top of
  the profile and so moves less than the argmax when two layers are nearly tied (a real number);
* :func:`time_averaged_profile`: :math:`\frac{1}{T - t_0}\int_{t_0}^{T} A_l(t)\,dt` over the
  recorded training time, by the trapezoid rule over the checkpoints at :math:`t \ge t_0`.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from .errors import InvalidInputError

__all__ = ["TOP_TOLERANCE", "argmax_layer", "near_peak_layers", "top_centroid_layer", "time_averaged_profile"]

#: Relative tolerance of "the top of the profile" (5 %), declared before any grid was scored with it.
TOP_TOLERANCE = 0.05


def _profile(alignment: "Sequence[float] | np.ndarray") -> np.ndarray:
    raw = np.asarray(alignment, dtype=object)
    if raw.ndim != 1 or raw.size == 0:
        raise InvalidInputError(f"an alignment profile is a non-empty 1-D array, got shape {raw.shape}.")
    a = np.array([np.nan if v is None else v for v in raw], dtype=np.float64)
    if a.ndim != 1:
        raise InvalidInputError(f"an alignment profile is a non-empty 1-D array, got shape {np.shape(alignment)}.")
    if not np.isfinite(a).all():
        raise InvalidInputError(f"the alignment profile is not finite: {a}.")
    return a


def argmax_layer(alignment: "Sequence[float] | np.ndarray") -> int:
    """The layer (1 … L + 1) of highest alignment; the first one on exact ties."""
    return int(np.argmax(_profile(alignment))) + 1


def near_peak_layers(alignment: "Sequence[float] | np.ndarray", tolerance: float = TOP_TOLERANCE) -> list[int]:
    """Layers (1-based) whose alignment is within ``tolerance`` (relative) of the highest one."""
    a = _profile(alignment)
    if not 0 <= tolerance < 1:
        raise InvalidInputError(f"tolerance must lie in [0, 1), got {tolerance!r}.")
    return [int(l) + 1 for l in np.flatnonzero(a >= (1 - tolerance) * a.max())]


def top_centroid_layer(alignment: "Sequence[float] | np.ndarray", tolerance: float = TOP_TOLERANCE) -> float:
    """The mean of :func:`near_peak_layers` — e.g. 7.5 when layers 7 and 8 are within 5 % of the top."""
    return float(np.mean(near_peak_layers(alignment, tolerance)))


def time_averaged_profile(epochs: "Sequence[float] | np.ndarray", alignment: "Sequence | np.ndarray",
                          from_epoch: float = 1.0) -> np.ndarray:
    """(1/(T − t₀)) ∫_{t₀}^{T} A_l(t) dt over the checkpoints at epochs t ≥ t₀ (trapezoid rule); shape (L + 1,).

    ``epochs`` holds one training time (in epochs) per row of ``alignment`` (checkpoints × layers).
    The average does not depend on how densely the checkpoints sample time. With a single
    checkpoint at t ≥ t₀ it is that checkpoint's profile. t₀ = 1 by default: the first epoch, when
    the profile forms, is left out.
    """
    t = np.asarray(epochs, dtype=np.float64)
    A = np.array([[np.nan if v is None else v for v in row] for row in alignment], dtype=np.float64)
    if A.ndim != 2 or A.shape[0] != t.shape[0] or A.shape[0] == 0:
        raise InvalidInputError(f"need one epoch per alignment row, got {t.shape[0]} epochs and shape {A.shape}.")
    keep = t >= from_epoch - 1e-12
    if not keep.any():
        raise InvalidInputError(f"no checkpoint at or after epoch {from_epoch:g}; cannot average over time.")
    A, t = A[keep], t[keep]
    if not np.isfinite(A).all():
        raise InvalidInputError("the alignment history is not finite; cannot average over time.")
    if len(t) == 1 or t[-1] == t[0]:
        return A[-1].copy()
    return (0.5 * (A[1:] + A[:-1]) * np.diff(t)[:, None]).sum(0) / (t[-1] - t[0])
