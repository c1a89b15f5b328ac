r"""Fully connected networks in the standard parametrisation.

``MLP`` (L hidden layers, L + 1 weight layers; layer L + 1 is the output layer):

.. math::
    h_1 = W_1 x + b_1,\quad h_l = W_l\,\phi(h_{l-1}) + b_l\ (2\le l\le L),\quad
    f(x) = W_{L+1}\,\phi(h_L) + b_{L+1},

with :math:`W_l[i,j] \sim \mathcal N(0, \sigma_w^2/\text{fan\_in})` and
:math:`b_l \sim \mathcal N(0, \sigma_b^2)`. The draws come from numpy's platform-independent
generator (:mod:`eqhyp_utils.rng`), in float64, so a seed gives the same network on every machine;
parameters are float64 unless ``dtype`` says otherwise (float64 training does not amplify rounding
differences into visible ones, docs/science.md §7).

``ResidualMLP`` keeps the first and last layers and makes every hidden layer a residual block
with branch scale α:

.. math:: h_l = h_{l-1} + \alpha\,(W_l\,\phi(h_{l-1}) + b_l)\quad(2 \le l \le L).

In both, ``model.layers[l - 1]`` is weight layer ``l`` (an ``nn.Linear``): layers are numbered
1 … L + 1 everywhere in this package, output layer last.
"""
from __future__ import annotations

import math

import torch
from torch import nn

from .activations import Activation, get_activation
from .errors import InvalidInputError
from .rng import generator, standard_normal


def _check_architecture(in_features: int, depth: int, width: int, out_features: int,
                        sigma_w2: float, sigma_b2: float) -> None:
    for name, value in (("in_features", in_features), ("width", width), ("out_features", out_features)):
        if not isinstance(value, int) or value < 1:
            raise InvalidInputError(f"{name} must be a positive integer, got {value!r}.")
    if not isinstance(depth, int) or depth < 1:
        raise InvalidInputError(
            f"depth (number of hidden layers L) must be an integer >= 1, got {depth!r}."
        )
    if not (isinstance(sigma_w2, (int, float)) and math.isfinite(sigma_w2) and sigma_w2 > 0):
        raise InvalidInputError(f"sigma_w2 (weight variance σ_w²) must be a finite number > 0, got {sigma_w2!r}.")
    if not (isinstance(sigma_b2, (int, float)) and math.isfinite(sigma_b2) and sigma_b2 >= 0):
        raise InvalidInputError(f"sigma_b2 (bias variance σ_b²) must be a finite number >= 0, got {sigma_b2!r}.")


class MLP(nn.Module):
    """A fully connected network with ``depth`` hidden layers of size ``width``.

    Parameters
    ----------
    in_features, out_features : input dimension d and number of outputs C.
    depth : number of hidden layers L (the network has L + 1 weight layers).
    width : hidden width N.
    activation : a name from :data:`eqhyp_utils.activations.ACTIVATIONS` or an Activation.
    sigma_w2, sigma_b2 : initialisation variances (σ_w², σ_b²); ReLU's edge of chaos is (2, 0).
    seed : seeds the initialisation (the ``"init"`` stream of :func:`eqhyp_utils.rng.generator`).
    dtype : parameter dtype, float64 by default.
    """

    def __init__(self, in_features: int, out_features: int, depth: int, width: int,
                 activation: "str | Activation" = "relu", sigma_w2: float = 2.0,
                 sigma_b2: float = 0.0, seed: int = 0, *, dtype: torch.dtype = torch.float64) -> None:
        super().__init__()
        _check_architecture(in_features, depth, width, out_features, sigma_w2, sigma_b2)
        self.activation = get_activation(activation)
        self.depth = depth
        self.width = width
        self.in_features = in_features
        self.out_features = out_features
        self.sigma_w2 = float(sigma_w2)
        self.sigma_b2 = float(sigma_b2)
        sizes = [in_features] + [width] * depth + [out_features]
        if dtype not in (torch.float32, torch.float64):
            raise InvalidInputError(f"dtype must be torch.float32 or torch.float64, got {dtype!r}.")
        # skip_init: no draw from torch's global generator (reset_parameters draws every value)
        self.layers = nn.ModuleList(nn.utils.skip_init(nn.Linear, a, b, dtype=dtype)
                                    for a, b in zip(sizes[:-1], sizes[1:]))
        self.reset_parameters(seed)

    @property
    def n_layers(self) -> int:
        """Number of weight layers, L + 1."""
        return len(self.layers)

    @torch.no_grad()
    def reset_parameters(self, seed: int = 0) -> None:
        """Draw W ~ N(0, σ_w²/fan_in) and b ~ N(0, σ_b²), layer by layer (weights, then bias), from the
        platform-independent stream ``generator(seed, "init")``; the products are taken in float64."""
        rng = generator(seed, "init")
        for layer in self.layers:
            fan_in = layer.in_features
            layer.weight.copy_(standard_normal(tuple(layer.weight.shape), rng) * math.sqrt(self.sigma_w2 / fan_in))
            layer.bias.copy_(standard_normal(tuple(layer.bias.shape), rng) * math.sqrt(self.sigma_b2))

    def hidden_update(self, l: int, h: torch.Tensor) -> torch.Tensor:
        """h_l from h_{l-1} for a hidden layer l ≥ 2."""
        return self.layers[l - 1](self.activation.phi(h))

    def preactivations(self, x: torch.Tensor) -> list[torch.Tensor]:
        """[h_1, …, h_L, f(x)]: the output of every weight layer's block, layer order."""
        h = self.layers[0](x)
        out = [h]
        for l in range(2, self.depth + 1):
            h = self.hidden_update(l, h)
            out.append(h)
        out.append(self.layers[-1](self.activation.phi(h)))
        return out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.preactivations(x)[-1]

    def extra_repr(self) -> str:
        return (f"depth={self.depth}, width={self.width}, activation={self.activation.name!r}, "
                f"sigma_w2={self.sigma_w2:g}, sigma_b2={self.sigma_b2:g}")


class ResidualMLP(MLP):
    """MLP whose hidden layers 2 … L are residual blocks h_l = h_{l-1} + α (W_l φ(h_{l-1}) + b_l).

    ``alpha`` is the branch scale: α → 0 makes every layer close to the identity (weak forward
    information loss); α = 1 with σ_w² = 2 is an unnormalised ReLU ResNet.
    """

    def __init__(self, in_features: int, out_features: int, depth: int, width: int,
                 activation: "str | Activation" = "relu", sigma_w2: float = 2.0,
                 sigma_b2: float = 0.0, alpha: float = 0.5, seed: int = 0, *,
                 dtype: torch.dtype = torch.float64) -> None:
        if not (isinstance(alpha, (int, float)) and math.isfinite(alpha) and alpha > 0):
            raise InvalidInputError(f"alpha (residual branch scale) must be a finite number > 0, got {alpha!r}.")
        self.alpha = float(alpha)
        super().__init__(in_features, out_features, depth, width, activation, sigma_w2, sigma_b2, seed, dtype=dtype)

    def hidden_update(self, l: int, h: torch.Tensor) -> torch.Tensor:
        return h + self.alpha * self.layers[l - 1](self.activation.phi(h))

    def extra_repr(self) -> str:
        return super().extra_repr() + f", alpha={self.alpha:g}"


def build_model(in_features: int, out_features: int, depth: int, width: int,
                activation: "str | Activation" = "relu", sigma_w2: float = 2.0, sigma_b2: float = 0.0,
                alpha: "float | None" = None, seed: int = 0, *, dtype: torch.dtype = torch.float64) -> MLP:
    """An :class:`MLP`, or a :class:`ResidualMLP` when a branch scale ``alpha`` is given."""
    if alpha is None:
        return MLP(in_features, out_features, depth, width, activation, sigma_w2, sigma_b2, seed, dtype=dtype)
    return ResidualMLP(in_features, out_features, depth, width, activation, sigma_w2, sigma_b2, alpha, seed,
                       dtype=dtype)
