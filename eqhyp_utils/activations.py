r"""Activation functions, each with its finite-network and its infinite-width view.

One :class:`Activation` object knows

* ``phi`` and ``dphi``: the elementwise function and its derivative, on torch tensors
  (used by :mod:`eqhyp_utils.models`);
* the Gaussian expectations that mean-field theory needs (used by
  :mod:`eqhyp_utils.signal_propagation`), for :math:`(u, u')` centred Gaussian with variances
  :math:`q_1, q_2` and correlation :math:`c`:

  - ``cross_moment(q1, q2, c)``            :math:`= \mathbb E[\phi(u)\phi(u')]`
  - ``derivative_cross_moment(q1, q2, c)`` :math:`= \mathbb E[\phi'(u)\phi'(u')]`
  - ``second_moment(q)``                   :math:`= \mathbb E[\phi(\sqrt q z)^2]`
  - ``derivative_second_moment(q)``        :math:`= \mathbb E[\phi'(\sqrt q z)^2]`

ReLU and leaky ReLU use the arc-cosine closed forms (Cho & Saul 2009):

.. math::
    \mathbb E[\mathrm{relu}(u)\mathrm{relu}(u')] = \frac{\sqrt{q_1 q_2}}{2\pi}
        \left(\sqrt{1-c^2} + (\pi - \arccos c)\, c\right),\qquad
    \mathbb E[\mathbf 1_{u>0}\mathbf 1_{u'>0}] = \frac{\pi - \arccos c}{2\pi}.

Quadrature is badly wrong on ReLU's discontinuous derivative, so closed forms are not optional there.
Smooth activations (tanh, erf, GELU) use a trapezoid rule against the Gaussian density whose
spacing shrinks as the variance grows (see :func:`_rule_for`): accurate to ~1e-9 relative for any
variance, which Gauss–Hermite with a fixed number of nodes is not (80 nodes are off by 2e-4 for
tanh′ at q = 3).

Because the network and the theory read the same object, they cannot drift apart
(the neural-tangents ``stax`` idea).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable

import numpy as np
import torch

from .errors import InvalidInputError, UnsupportedError

ArrayLike = "float | np.ndarray"

LEAKY_RELU_SLOPE = 0.1
"""Negative-side slope of the ``leaky_relu`` activation."""

_Z_MAX = 10.0


@lru_cache(maxsize=None)
def _gaussian_rule(m: int) -> tuple[np.ndarray, np.ndarray]:
    """Nodes z and weights w with sum_i w_i g(z_i) ≈ E[g(Z)], Z ~ N(0, 1).

    The trapezoid rule on m equispaced nodes in [−10, 10]. For integrands analytic in a strip
    |Im z| < d it converges like exp(−2π d / h) (h the spacing), far faster than its order suggests.
    """
    z = np.linspace(-_Z_MAX, _Z_MAX, m)
    w = np.exp(-0.5 * z * z)
    return z, w / w.sum()


def _rule_for(q_max: float) -> tuple[np.ndarray, np.ndarray]:
    """A rule fine enough for φ(√q z) with q ≤ q_max.

    tanh's poles at ±iπ/2 sit at distance d = π/(2√q) from the real z axis, so the spacing must
    shrink like 1/√q: h = min(0.25, 0.3/√q) keeps the relative error of E[tanh′(√q z)²] below 1e-9
    for q ≤ 10 (measured against adaptive quadrature). Entire functions (erf, GELU) converge faster.
    """
    h = min(0.25, 0.3 / math.sqrt(max(q_max, 1e-12)))
    m = int(math.ceil(2 * _Z_MAX / h)) + 1
    m += (m + 1) % 2  # odd, so that z = 0 is a node
    return _gaussian_rule(max(m, 81))


def _broadcast(*xs: "float | np.ndarray") -> list[np.ndarray]:
    return list(np.broadcast_arrays(*[np.asarray(x, dtype=np.float64) for x in xs]))


@dataclass(frozen=True)
class Activation:
    """An elementwise nonlinearity with its mean-field kernel maps.

    Subclasses override the Gaussian expectations where a closed form exists; the base class
    computes them by Gauss–Hermite quadrature from ``phi_np``/``dphi_np``.
    """

    name: str
    phi: Callable[[torch.Tensor], torch.Tensor]
    dphi: Callable[[torch.Tensor], torch.Tensor]
    phi_np: Callable[[np.ndarray], np.ndarray]
    dphi_np: Callable[[np.ndarray], np.ndarray]

    # --- mean-field expectations (numpy, float64, broadcasting) -------------------------------
    def _quad2(self, f: Callable[[np.ndarray], np.ndarray], q1, q2, c) -> np.ndarray:
        q1, q2, c = _broadcast(q1, q2, c)
        c = np.clip(c, -1.0, 1.0)
        shape = q1.shape
        q1f, q2f, cf = q1.reshape(-1), q2.reshape(-1), c.reshape(-1)
        out = np.empty_like(q1f)
        for i in range(q1f.size):
            z, w = _rule_for(max(q1f[i], q2f[i]))
            z1 = z[:, None]
            z2 = z[None, :]
            ww = w[:, None] * w[None, :]
            u = math.sqrt(q1f[i]) * z1
            v = math.sqrt(q2f[i]) * (cf[i] * z1 + math.sqrt(max(0.0, 1.0 - cf[i] ** 2)) * z2)
            out[i] = np.sum(ww * f(u) * f(v))
        return out.reshape(shape)

    def _quad1(self, f: Callable[[np.ndarray], np.ndarray], q) -> np.ndarray:
        q = np.asarray(q, dtype=np.float64)
        z, w = _rule_for(float(np.max(q)) if q.size else 1.0)
        return np.sum(w * f(np.sqrt(q)[..., None] * z) ** 2, axis=-1)

    def cross_moment(self, q1, q2, c) -> np.ndarray:
        r"""E[φ(u)φ(u')] for (u, u') Gaussian with variances q1, q2 and correlation c."""
        return self._quad2(self.phi_np, q1, q2, c)

    def derivative_cross_moment(self, q1, q2, c) -> np.ndarray:
        r"""E[φ'(u)φ'(u')] for (u, u') Gaussian with variances q1, q2 and correlation c."""
        return self._quad2(self.dphi_np, q1, q2, c)

    def second_moment(self, q) -> np.ndarray:
        r"""E[φ(√q z)²], z ~ N(0, 1)."""
        return self._quad1(self.phi_np, q)

    def derivative_second_moment(self, q) -> np.ndarray:
        r"""E[φ'(√q z)²], z ~ N(0, 1)."""
        return self._quad1(self.dphi_np, q)

    def __repr__(self) -> str:  # short and stable (no memory addresses in notebook outputs)
        return f"Activation({self.name!r})"


# ------------------------------------------------------------------------------------------------
# Closed forms for piecewise-linear activations
# ------------------------------------------------------------------------------------------------
def _relu_kernel(q1, q2, c) -> np.ndarray:
    """Arc-cosine kernel of degree 1: E[relu(u) relu(u')]."""
    q1, q2, c = _broadcast(q1, q2, c)
    c = np.clip(c, -1.0, 1.0)
    return np.sqrt(q1 * q2) / (2 * np.pi) * (np.sqrt(1 - c**2) + (np.pi - np.arccos(c)) * c)


def _step_kernel(c) -> np.ndarray:
    """Arc-cosine kernel of degree 0: P(u > 0, u' > 0) = (π − arccos c) / (2π)."""
    c = np.clip(np.asarray(c, dtype=np.float64), -1.0, 1.0)
    return (np.pi - np.arccos(c)) / (2 * np.pi)


@dataclass(frozen=True, repr=False)
class LeakyReLU(Activation):
    r"""φ(u) = max(u, s·u), 0 ≤ s < 1 (s = 0 is ReLU).

    Writing φ(u) = relu(u) − s·relu(−u) and noting that (−u, −u') has correlation c while
    (u, −u') has correlation −c:

    .. math::
        \mathbb E[\phi(u)\phi(u')] = (1+s^2)\,k_1(c) - 2s\,k_1(-c),\qquad
        \mathbb E[\phi'(u)\phi'(u')] = (1+s^2)\,k_0(c) + s\,\frac{\arccos c}{\pi},

    with :math:`k_1` the degree-1 and :math:`k_0` the degree-0 arc-cosine kernels.
    """

    slope: float = 0.0

    def cross_moment(self, q1, q2, c) -> np.ndarray:
        s = self.slope
        return (1 + s * s) * _relu_kernel(q1, q2, c) - 2 * s * _relu_kernel(q1, q2, -np.asarray(c, dtype=np.float64))

    def derivative_cross_moment(self, q1, q2, c) -> np.ndarray:
        s = self.slope
        q1, q2, c = _broadcast(q1, q2, c)
        c = np.clip(c, -1.0, 1.0)
        return (1 + s * s) * _step_kernel(c) + s * np.arccos(c) / np.pi

    def second_moment(self, q) -> np.ndarray:
        return (1 + self.slope**2) / 2 * np.asarray(q, dtype=np.float64)

    def derivative_second_moment(self, q) -> np.ndarray:
        return (1 + self.slope**2) / 2 * np.ones_like(np.asarray(q, dtype=np.float64))


# ------------------------------------------------------------------------------------------------
# The registry
# ------------------------------------------------------------------------------------------------
def _np_erf(x: np.ndarray) -> np.ndarray:
    from scipy.special import erf

    return erf(x)


def _np_gelu(x: np.ndarray) -> np.ndarray:
    from scipy.special import ndtr

    return x * ndtr(x)


def _np_dgelu(x: np.ndarray) -> np.ndarray:
    from scipy.special import ndtr

    return ndtr(x) + x * np.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)


_SQRT_2_OVER_PI = 2.0 / math.sqrt(math.pi)


def _make_registry() -> dict[str, Activation]:
    relu = LeakyReLU(
        name="relu",
        phi=torch.relu,
        dphi=lambda x: (x > 0).to(x.dtype),
        phi_np=lambda x: np.maximum(x, 0.0),
        dphi_np=lambda x: (x > 0).astype(np.float64),
        slope=0.0,
    )
    s = LEAKY_RELU_SLOPE
    leaky = LeakyReLU(
        name="leaky_relu",
        phi=lambda x: torch.nn.functional.leaky_relu(x, s),
        dphi=lambda x: torch.where(x > 0, torch.ones_like(x), torch.full_like(x, s)),
        phi_np=lambda x: np.where(x > 0, x, s * x),
        dphi_np=lambda x: np.where(x > 0, 1.0, s),
        slope=s,
    )
    tanh = Activation(
        name="tanh",
        phi=torch.tanh,
        dphi=lambda x: 1 - torch.tanh(x) ** 2,
        phi_np=np.tanh,
        dphi_np=lambda x: 1 - np.tanh(x) ** 2,
    )
    erf = Activation(
        name="erf",
        phi=torch.special.erf,
        dphi=lambda x: _SQRT_2_OVER_PI * torch.exp(-x * x),
        phi_np=_np_erf,
        dphi_np=lambda x: _SQRT_2_OVER_PI * np.exp(-x * x),
    )
    gelu = Activation(
        name="gelu",
        phi=lambda x: torch.nn.functional.gelu(x),
        dphi=lambda x: torch.special.ndtr(x) + x * torch.exp(-0.5 * x * x) / math.sqrt(2 * math.pi),
        phi_np=_np_gelu,
        dphi_np=_np_dgelu,
    )
    return {a.name: a for a in (relu, leaky, tanh, erf, gelu)}


ACTIVATIONS: dict[str, Activation] = _make_registry()
"""Every supported activation, by name."""


def get_activation(activation: "str | Activation") -> Activation:
    """Return the :class:`Activation` called ``activation`` (or ``activation`` itself).

    Raises :class:`~eqhyp_utils.errors.UnsupportedError` naming the supported choices.
    """
    if isinstance(activation, Activation):
        return activation
    if not isinstance(activation, str):
        raise InvalidInputError(
            f"activation must be a name such as 'relu' or an Activation, got {type(activation).__name__}."
        )
    try:
        return ACTIVATIONS[activation.lower()]
    except KeyError:
        raise UnsupportedError(
            f"Unsupported activation {activation!r}; choose one of {sorted(ACTIVATIONS)}."
        ) from None
