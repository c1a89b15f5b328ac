r"""The readings of the Equilibrium Hypothesis that the experiments score, declared before the grids ran.

The hypothesis is a sentence ("the most aligned layers are those where the information lost in the
forward pass and in the backward pass balance"); a prediction needs a precise reading of it. Every
reading here is computed from signal propagation at initialisation (:mod:`eqhyp_utils.equilibrium`)
and, for one of them, from the geometry of the input data; none sees a measured alignment peak.
They were fixed, with their derivations in docs/science.md §5, before the paper-protocol grid was
run, and every one is reported:

``EH`` (the crossing)
    The first layer l with :math:`B_l = \prod_{k=l}^{L}\rho(c_k) \ge F_l = 1 - c_{l-1}`, for two
    inputs of correlation :math:`c_0 = 0.2` and :math:`q_0 = 1`.
``EH normalised``
    Each pass's information as the fraction still present of what it started with: the first layer
    with :math:`B_l \ge (1 - c_{l-1})/(1 - c_0)`, :math:`c_0 = 0.2`.
``EH data c0``
    The crossing of ``EH``, with :math:`(q_0, c_0)` measured on the run's training inputs instead of
    fixed: :math:`q_0` the mean of :math:`\|x\|^2/d`, and :math:`c_0` the mean cosine similarity of
    pairs of training inputs *of different classes* — the pairs whose difference the network has to
    carry forward. (ReLU is positively homogeneous, so :math:`q_0` only matters for other activations.)
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Callable, Mapping

import numpy as np

from ..equilibrium import equilibrium_layer

__all__ = ["Reading", "READINGS", "DEFAULT_C0", "input_geometry", "data_input_geometry"]

DEFAULT_C0 = 0.2
"""The input correlation of the fixed-c₀ readings (docs/science.md §5)."""

_GEOMETRY_SAMPLE = 1000


@dataclass(frozen=True)
class Reading:
    """A named reading of the hypothesis: ``predict(config) -> layer`` (1 … L + 1) for a configuration
    (a :class:`~eqhyp_utils.experiments.config.RunConfig` or its dictionary)."""
    name: str
    summary: str
    predict: Callable[[Mapping[str, Any]], int]

    def layer(self, config: Any) -> int:
        return int(self.predict(config.to_dict() if hasattr(config, "to_dict") else config))


def input_geometry(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """(q₀, c₀) of inputs ``x`` (n, d) with labels ``y``: mean ‖x‖²/d, and the mean cosine similarity
    over pairs of inputs with different labels."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y)
    q0 = float(np.mean(np.sum(x * x, axis=1)) / x.shape[1])
    unit = x / np.linalg.norm(x, axis=1, keepdims=True)
    cos = unit @ unit.T
    different = y[:, None] != y[None, :]
    return q0, float(cos[different].mean())


@lru_cache(maxsize=32)
def data_input_geometry(dataset: str, n_train: int, n_test: int, data_seed: int) -> tuple[float, float]:
    """:func:`input_geometry` of the first 1,000 standardised training inputs of a data set (cached)."""
    from ..data import load_dataset

    if dataset == "digits":
        train, _ = load_dataset("digits", seed=data_seed)
    else:
        train, _ = load_dataset(dataset, n_train=n_train, n_test=n_test, seed=data_seed)
    return input_geometry(train.x[:_GEOMETRY_SAMPLE].numpy(), train.y[:_GEOMETRY_SAMPLE].numpy())


def _architecture(c: Mapping[str, Any]) -> tuple:
    return c["activation"], c["sigma_w2"], c["sigma_b2"], int(c["depth"])


def _crossing(c: Mapping[str, Any]) -> int:
    return equilibrium_layer(*_architecture(c), c0=DEFAULT_C0, alpha=c.get("alpha"))


def _normalised(c: Mapping[str, Any]) -> int:
    return equilibrium_layer(*_architecture(c), c0=DEFAULT_C0, alpha=c.get("alpha"), normalised=True)


def _data_c0(c: Mapping[str, Any]) -> int:
    q0, c0 = data_input_geometry(c["dataset"], int(c["n_train"]), int(c["n_test"]), int(c["data_seed"]))
    return equilibrium_layer(*_architecture(c), c0=c0, q0=q0, alpha=c.get("alpha"))


#: Every declared reading, by the name the scoreboard uses. "EH" is the course's primary reading.
READINGS: dict[str, Reading] = {r.name: r for r in (
    Reading("EH", "first layer with ∏ρ ≥ 1 − c_{l−1}, c₀ = 0.2", _crossing),
    Reading("EH normalised", "first layer with ∏ρ ≥ (1 − c_{l−1})/(1 − c₀), c₀ = 0.2", _normalised),
    Reading("EH data c0", "first layer with ∏ρ ≥ 1 − c_{l−1}, (q₀, c₀) of the training inputs", _data_c0),
)}
