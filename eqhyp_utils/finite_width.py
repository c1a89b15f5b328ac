r"""The quantities of :mod:`eqhyp_utils.signal_propagation`, measured on finite random networks.

For a network of width N and two inputs x, x' we measure, per layer l = 1 … L + 1 (output last):

* forward: :math:`q_l = \|h_l(x)\|^2/N_l`, :math:`q_l'` likewise, and
  :math:`c_l = \langle h_l(x), h_l(x')\rangle / (\|h_l(x)\|\,\|h_l(x')\|)`;
* backward: :math:`\delta_l = \partial\langle v, f(x)\rangle/\partial h_l` for a **fixed** unit output
  direction v (default :math:`e_1`, the first output; the same v for both inputs), and
  :math:`\|\delta_l\|^2/\|\delta_{L+1}\|^2` and :math:`\mathrm{corr}(\delta_l(x), \delta_l(x'))`.

Each statistic is averaged over independently initialised networks. Mean-field theory predicts the
averages up to O(1/N) and each network's value up to fluctuations of order :math:`1/\sqrt N` per layer
(which add up over layers). The output layer has only C units, so its q and c are noisy for small C.
Per-layer results are numpy float64 arrays of length L + 1, entry i for layer i + 1.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np
import torch

from .activations import Activation
from .errors import InvalidInputError
from .models import MLP, build_model
from .signal_propagation import _check_correlation, _check_positive


def random_networks(in_features: int, out_features: int, depth: int, width: int, *,
                    activation: "str | Activation" = "relu", sigma_w2: float = 2.0, sigma_b2: float = 0.0,
                    alpha: "float | None" = None, seeds: Iterable[int] = (0, 1, 2)) -> list[MLP]:
    """One freshly initialised network per seed (an MLP, or a ResidualMLP when ``alpha`` is given)."""
    seeds = list(seeds)
    if not seeds:
        raise InvalidInputError("seeds must contain at least one seed.")
    return [build_model(in_features, out_features, depth, width, activation, sigma_w2, sigma_b2, alpha, seed)
            for seed in seeds]


def input_pair(dim: int, *, q0: float = 1.0, c0: float = 0.2, q0_prime: "float | None" = None,
               seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Two random inputs of dimension ``dim`` with exactly ‖x‖²/d = q0, ‖x'‖²/d = q0_prime (default q0) and
    correlation c0 (Gram–Schmidt on two seeded Gaussian vectors), as float64 tensors of shape (dim,)."""
    if not (isinstance(dim, int) and dim >= 2):
        raise InvalidInputError(f"dim must be an integer >= 2 (two inputs need two directions), got {dim!r}.")
    q0 = _check_positive(q0, "q0")
    q0_prime = q0 if q0_prime is None else _check_positive(q0_prime, "q0_prime")
    c0 = _check_correlation(c0)
    g = np.random.default_rng(seed)
    u, v = g.standard_normal(dim), g.standard_normal(dim)
    u /= np.linalg.norm(u)
    v -= (v @ u) * u
    v /= np.linalg.norm(v)
    x1 = math.sqrt(q0 * dim) * u
    x2 = math.sqrt(q0_prime * dim) * (c0 * u + math.sqrt(1.0 - c0 * c0) * v)
    return torch.as_tensor(x1, dtype=torch.float64), torch.as_tensor(x2, dtype=torch.float64)


def _check_models_and_inputs(models: "MLP | Sequence[MLP]", x1, x2) -> tuple[list[MLP], torch.Tensor]:
    models = [models] if isinstance(models, MLP) else list(models)
    if not models or not all(isinstance(m, MLP) for m in models):
        raise InvalidInputError("models must be an MLP or a non-empty sequence of MLPs (see random_networks).")
    first = models[0]
    if any(m.depth != first.depth or m.in_features != first.in_features for m in models):
        raise InvalidInputError("All models must have the same depth and input dimension.")
    xs = []
    for name, x in (("x1", x1), ("x2", x2)):
        x = torch.as_tensor(x)
        if x.shape != (first.in_features,) or not torch.all(torch.isfinite(x)):
            raise InvalidInputError(
                f"{name} must be a finite vector of shape ({first.in_features},), got shape {tuple(x.shape)}.")
        xs.append(x)
    return models, torch.stack(xs)


def _cosine(a: torch.Tensor, b: torch.Tensor) -> float:
    a, b = a.double(), b.double()
    return float(a @ b / (a.norm() * b.norm()))


@dataclass(frozen=True)
class MeasuredForwardSignal:
    """Per-layer averages over ``n_networks`` networks; ``c_std`` is the spread of c between networks."""

    q: np.ndarray
    q_prime: np.ndarray
    c: np.ndarray
    c_std: np.ndarray
    n_networks: int


@torch.no_grad()
def measure_forward_signal(models: "MLP | Sequence[MLP]", x1: torch.Tensor, x2: torch.Tensor) -> MeasuredForwardSignal:
    """q_l = ‖h_l(x)‖²/N_l, q_l' and c_l = cos(h_l(x), h_l(x')) for l = 1 … L + 1, averaged over ``models``."""
    models, x = _check_models_and_inputs(models, x1, x2)
    rows = []
    for model in models:
        hs = model.preactivations(x.to(model.layers[0].weight.dtype))
        rows.append([(float(h[0].double().pow(2).mean()), float(h[1].double().pow(2).mean()), _cosine(h[0], h[1]))
                     for h in hs])
    stats = np.array(rows)  # (networks, layers, 3)
    return MeasuredForwardSignal(q=stats[:, :, 0].mean(0), q_prime=stats[:, :, 1].mean(0), c=stats[:, :, 2].mean(0),
                                 c_std=stats[:, :, 2].std(0), n_networks=len(models))


@dataclass(frozen=True)
class MeasuredBackwardSignal:
    """Per-layer averages over ``n_networks`` networks of ‖δ_l‖²/‖δ_{L+1}‖² (for x and x') and of
    corr(δ_l(x), δ_l(x')); ``correlation_std`` is the spread between networks."""

    norm_ratio: np.ndarray
    norm_ratio_prime: np.ndarray
    correlation: np.ndarray
    correlation_std: np.ndarray
    n_networks: int


def measure_backward_signal(models: "MLP | Sequence[MLP]", x1: torch.Tensor, x2: torch.Tensor, *,
                            output_direction: "np.ndarray | torch.Tensor | None" = None) -> MeasuredBackwardSignal:
    """Backpropagated errors δ_l = ∂⟨v, f(x)⟩/∂h_l of two inputs, for l = 1 … L + 1, averaged over ``models``.

    ``output_direction`` v: a fixed vector of length C, normalised here (default e_1, the first output);
    δ_{L+1} = v for both inputs, so the output layer's ratio and correlation are 1.
    """
    models, x = _check_models_and_inputs(models, x1, x2)
    n_out = models[0].out_features
    if output_direction is None:
        v = torch.zeros(n_out, dtype=torch.float64)
        v[0] = 1.0
    else:
        v = torch.as_tensor(output_direction, dtype=torch.float64)
        if v.shape != (n_out,) or not torch.all(torch.isfinite(v)) or float(v.norm()) == 0:
            raise InvalidInputError(
                f"output_direction must be a finite non-zero vector of shape ({n_out},), got {tuple(v.shape)}.")
        v = v / v.norm()
    rows = []
    for model in models:
        dtype = model.layers[0].weight.dtype
        hs = model.preactivations(x.to(dtype))
        # The two inputs do not interact, so one backward pass gives both samples' δ_l.
        deltas = torch.autograd.grad((hs[-1] * v.to(dtype)).sum(), hs)
        top = [float(deltas[-1][i].double().pow(2).sum()) for i in range(2)]
        rows.append([(float(d[0].double().pow(2).sum()) / top[0], float(d[1].double().pow(2).sum()) / top[1],
                      _cosine(d[0], d[1])) for d in deltas])
    stats = np.array(rows)
    return MeasuredBackwardSignal(norm_ratio=stats[:, :, 0].mean(0), norm_ratio_prime=stats[:, :, 1].mean(0),
                                  correlation=stats[:, :, 2].mean(0), correlation_std=stats[:, :, 2].std(0),
                                  n_networks=len(models))
