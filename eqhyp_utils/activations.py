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

Every other activation (tanh, erf, GELU) goes through the base class, which computes the
expectations with the package's generic rule, :data:`QUADRATURE_NAME`: the trapezoid rule on
equispaced nodes in [−10, 10] weighted by the Gaussian density, with a spacing that shrinks as the
variance grows (see :func:`gaussian_rule`). For smooth integrands it is accurate to ~1e-9 relative
at any variance, which Gauss–Hermite quadrature with a fixed number of nodes is not (80 nodes are
off by 2e-4 for E[tanh′(√q z)²] at q = 3 and by 4.7 % at q = 10). ``gaussian_rule("gauss-hermite")``
is there for comparison.

Neither rule can integrate ReLU's *step* derivative: a fixed grid does not see where inside a cell
the step falls. The trapezoid grid at q = 1 has 81 nodes, one of them at z = 0 where the step
jumps (it counts there as 0), so E[1_{u>0} 1_{u'>0}] at c = 0 comes out as (1/2 − w₀/2)² ≈ 0.2026
instead of 1/4; 80-node Gauss–Hermite has no node at 0 and is exact at c = 0, but off by up to a
few per cent elsewhere. Near c = 1 both rules report no loss of gradient correlation at all
(1 − ρ = 0 for 1 − c below about 1e-3, where the truth, arccos(c)/π, is about 1e-2): no node falls in
the thin wedge where the two steps differ. Closed forms are not optional for ReLU.

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

QUADRATURE = "trapezoid"
"""The rule :class:`Activation` uses for the Gaussian expectations of activations without closed forms."""

QUADRATURE_NAME = "trapezoid rule"
"""How the course's text names :data:`QUADRATURE` (notebook 3, §3.6, and this module's docstring)."""

QUADRATURE_RULES = ("trapezoid", "gauss-hermite")
"""The rules :func:`gaussian_rule` knows."""

GAUSS_HERMITE_NODES = 80
"""Default number of Gauss–Hermite nodes per dimension (exact for polynomials up to degree 159)."""

_Z_MAX = 10.0


@lru_cache(maxsize=None)
def _trapezoid_rule(m: int) -> tuple[np.ndarray, np.ndarray]:
    """The trapezoid rule on m equispaced nodes in [−10, 10], weighted by the Gaussian density.

    For integrands analytic in a strip |Im z| < d it converges like exp(−2π d / h) (h the spacing),
    far faster than its order suggests. Odd m puts a node at z = 0.
    """
    z = np.linspace(-_Z_MAX, _Z_MAX, m)
    w = np.exp(-0.5 * z * z)
    return z, w / w.sum()


@lru_cache(maxsize=None)
def _gauss_hermite_rule(m: int) -> tuple[np.ndarray, np.ndarray]:
    """m-node Gauss–Hermite rule for the weight exp(−z²/2) (probabilists' Hermite polynomials)."""
    from numpy.polynomial.hermite_e import hermegauss

    z, w = hermegauss(m)
    return z, w / w.sum()


def _trapezoid_nodes(q_max: float) -> int:
    """Number of trapezoid nodes fine enough for φ(√q z) with q ≤ q_max.

    tanh's poles at ±iπ/2 sit at distance d = π/(2√q) from the real z axis, so the spacing must
    shrink like 1/√q: h = min(0.25, 0.3/√q) keeps the relative error of E[tanh′(√q z)²] below 1e-9
    for q ≤ 10 (measured against adaptive quadrature). Entire functions (erf, GELU) converge faster.
    At least 81 nodes (h = 0.25), always an odd number, so that z = 0 is a node.
    """
    h = min(0.25, 0.3 / math.sqrt(max(q_max, 1e-12)))
    m = int(math.ceil(2 * _Z_MAX / h)) + 1
    m += (m + 1) % 2
    return max(m, 81)


def gaussian_rule(rule: str = QUADRATURE, *, q_max: float = 1.0,
                  nodes: "int | None" = None) -> tuple[np.ndarray, np.ndarray]:
    r"""Nodes :math:`z_i` and weights :math:`w_i` with :math:`\sum_i w_i\,g(z_i) pprox \mathbb E[g(Z)]`,
    :math:`Z \sim \mathcal N(0, 1)`.

    ``rule="trapezoid"`` (the package's :data:`QUADRATURE`): equispaced nodes on [−10, 10]; by
    default as many as integrands :math:`\phi(\sqrt q\,z)` with :math:`q \le` ``q_max`` need
    (81 for ``q_max`` ≤ 1.44, one of them at z = 0), or exactly ``nodes`` of them.
    ``rule="gauss-hermite"``: the ``nodes``-point Gauss–Hermite rule (default
    :data:`GAUSS_HERMITE_NODES`), exact for polynomials of degree up to 2·nodes − 1; ``q_max`` is
    ignored. The weights sum to 1.
    """
    if rule not in QUADRATURE_RULES:
        raise UnsupportedError(f"Unknown quadrature rule {rule!r}; choose one of {QUADRATURE_RULES}.")
    if nodes is not None and (isinstance(nodes, bool) or not isinstance(nodes, (int, np.integer)) or nodes < 2):
        raise InvalidInputError(f"nodes must be an integer >= 2 or None, got {nodes!r}.")
    if not (isinstance(q_max, (int, float, np.floating)) and math.isfinite(q_max) and q_max >= 0):
        raise InvalidInputError(f"q_max must be a finite number >= 0, got {q_max!r}.")
    if rule == "gauss-hermite":
        return _gauss_hermite_rule(int(nodes or GAUSS_HERMITE_NODES))
    return _trapezoid_rule(int(nodes) if nodes is not None else _trapezoid_nodes(float(q_max)))


def gaussian_cross_moment(f: Callable[[np.ndarray], np.ndarray], q1, q2, c, *, rule: str = QUADRATURE,
                          nodes: "int | None" = None) -> np.ndarray:
    r""":math:`\mathbb E[f(u)f(u')]` for :math:`(u, u')` centred Gaussian with variances ``q1``, ``q2`` and
    correlation ``c``, by the two-dimensional product of :func:`gaussian_rule`.

    Writes :math:`u = \sqrt{q_1}\,z_1`, :math:`u' = \sqrt{q_2}\,(c z_1 + \sqrt{1-c^2}\,z_2)` with independent
    standard :math:`z_1, z_2` and sums over the grid of nodes. Broadcasts over ``q1``, ``q2``, ``c``.
    """
    q1, q2, c = _broadcast(q1, q2, c)
    c = np.clip(c, -1.0, 1.0)
    shape = q1.shape
    q1f, q2f, cf = q1.reshape(-1), q2.reshape(-1), c.reshape(-1)
    out = np.empty_like(q1f)
    for i in range(q1f.size):
        z, w = gaussian_rule(rule, q_max=max(q1f[i], q2f[i]), nodes=nodes)
        z1 = z[:, None]
        z2 = z[None, :]
        ww = w[:, None] * w[None, :]
        u = math.sqrt(q1f[i]) * z1
        v = math.sqrt(q2f[i]) * (cf[i] * z1 + math.sqrt(max(0.0, 1.0 - cf[i] ** 2)) * z2)
        out[i] = np.sum(ww * f(u) * f(v))
    return out.reshape(shape)


def gaussian_second_moment(f: Callable[[np.ndarray], np.ndarray], q, *, rule: str = QUADRATURE,
                           nodes: "int | None" = None) -> np.ndarray:
    r""":math:`\mathbb E[f(\sqrt q\,z)^2]`, :math:`z \sim \mathcal N(0, 1)`, by :func:`gaussian_rule`.

    Vectorised over ``q``.
    """
    q = np.asarray(q, dtype=np.float64)
    z, w = gaussian_rule(rule, q_max=float(np.max(q)) if q.size else 1.0, nodes=nodes)
    return np.sum(w * f(np.sqrt(q)[..., None] * z) ** 2, axis=-1)


def _broadcast(*xs: "float | np.ndarray") -> list[np.ndarray]:
    return list(np.broadcast_arrays(*[np.asarray(x, dtype=np.float64) for x in xs]))


@dataclass(frozen=True)
class Activation:
    """An elementwise nonlinearity with its mean-field kernel maps.

    Subclasses override the Gaussian expectations where a closed form exists; the base class
    computes them from ``phi_np``/``dphi_np`` with the package's generic rule, the trapezoid rule
    (:data:`QUADRATURE_NAME`, :func:`gaussian_rule`).
    """

    name: str
    phi: Callable[[torch.Tensor], torch.Tensor]
    dphi: Callable[[torch.Tensor], torch.Tensor]
    phi_np: Callable[[np.ndarray], np.ndarray]
    dphi_np: Callable[[np.ndarray], np.ndarray]

    # --- mean-field expectations (numpy, float64, broadcasting) -------------------------------
    def _quad2(self, f: Callable[[np.ndarray], np.ndarray], q1, q2, c) -> np.ndarray:
        return gaussian_cross_moment(f, q1, q2, c, rule=QUADRATURE)

    def _quad1(self, f: Callable[[np.ndarray], np.ndarray], q) -> np.ndarray:
        return gaussian_second_moment(f, q, rule=QUADRATURE)

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
