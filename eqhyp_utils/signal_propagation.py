r"""Signal propagation in wide random networks (mean-field theory).

In the infinite-width limit every pre-activation :math:`h_l(x)` of a random network is a centred
Gaussian process, fully described by its variance :math:`q_l = \mathbb E[h_l(x)^2]` and, for two
inputs, by its correlation :math:`c_l` (Poole et al. 2016; Schoenholz et al. 2017). All Gaussian
expectations come from the :class:`~eqhyp_utils.activations.Activation` object, so the theory and
the networks of :mod:`eqhyp_utils.models` read one object.

Forward (plain network, :math:`z \sim \mathcal N(0, 1)`, :math:`(u, u')` Gaussian with variances
:math:`q, q'` and correlation :math:`c`):

.. math::
    q_1 = \sigma_w^2\,\|x\|^2/d + \sigma_b^2,\qquad
    q_l = V(q_{l-1}) = \sigma_w^2\,\mathbb E[\phi(\sqrt{q_{l-1}}\,z)^2] + \sigma_b^2,

    \Sigma_l(x, x') = \sigma_w^2\,\mathbb E[\phi(u)\phi(u')] + \sigma_b^2,\qquad
    c_l = \Sigma_l / \sqrt{q_l\, q_l'}.

Residual variant (``alpha`` = α, :class:`~eqhyp_utils.models.ResidualMLP`): for :math:`2 \le l \le L`,
:math:`h_l = h_{l-1} + \alpha(W_l\phi(h_{l-1}) + b_l)`. The branch has zero mean given :math:`h_{l-1}`
(:math:`W_l` and :math:`b_l` are independent of it), so the cross terms vanish and variances add:

.. math::
    q_l = q_{l-1} + \alpha^2 V(q_{l-1}),\qquad
    \Sigma_l = \Sigma_{l-1} + \alpha^2\big(\sigma_w^2\,\mathbb E[\phi(u)\phi(u')] + \sigma_b^2\big).

Backward, for :math:`\delta_l = \partial\langle v, f(x)\rangle / \partial h_l` with a fixed unit
output direction :math:`v` (:math:`\delta_{L+1} = v`) and the gradient-independence assumption
(the weights seen by the backward pass are independent of those of the forward pass):
:math:`\delta_{l} = \phi'(h_l)\odot W_{l+1}^\top\delta_{l+1}` gives

.. math::
    \|\delta_l\|^2 = \chi(q_l)\,\|\delta_{l+1}\|^2,\quad \chi(q) = \sigma_w^2\,\mathbb E[\phi'(\sqrt q\,z)^2],
    \qquad
    \langle\delta_l, \delta_l'\rangle = \sigma_w^2\,\mathbb E[\phi'(u)\phi'(u')]\,\langle\delta_{l+1}, \delta_{l+1}'\rangle,

so the gradient correlation is :math:`\prod_{k=l}^{L}\rho_k` with
:math:`\rho = \mathbb E[\phi'(u)\phi'(u')]/\sqrt{\mathbb E[\phi'(u)^2]\,\mathbb E[\phi'(u')^2]}`
(ReLU: :math:`\rho(c) = 1 - \arccos(c)/\pi`). In the residual blocks
:math:`\delta_{l-1} = \delta_l + \alpha\,\phi'(h_{l-1})\odot W_l^\top\delta_l`; the cross term has zero
mean, so each hidden layer :math:`k < L` multiplies :math:`\|\delta\|^2` by :math:`1 + \alpha^2\chi(q_k)`
and :math:`\langle\delta, \delta'\rangle` by :math:`1 + \alpha^2\sigma_w^2\,\mathbb E[\phi'(u)\phi'(u')]`.

Fixed points: :math:`q^* = V(q^*)`, :math:`\chi_1 = \chi(q^*)`; :math:`\chi_1 < 1` is the ordered phase
(:math:`c_l \to 1`), :math:`\chi_1 > 1` the chaotic phase (:math:`c_l \to c^* < 1`), :math:`\chi_1 = 1`
the edge of chaos. Per-layer results are numpy float64 arrays of length L + 1 whose entry ``i``
belongs to layer ``i + 1`` (layer L + 1 is the output layer).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.optimize import brentq

from .activations import Activation, LeakyReLU, get_activation
from .errors import InvalidInputError

PHASES = ("ordered", "edge of chaos", "chaotic")


# ------------------------------------------------------------------------------------------------
# Validation (public entry points only; the inner code trusts its inputs)
# ------------------------------------------------------------------------------------------------
def _is_real(value) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool) \
        and math.isfinite(float(value))


def _check_variances(sigma_w2: float, sigma_b2: float) -> tuple[float, float]:
    if not (_is_real(sigma_w2) and sigma_w2 > 0):
        raise InvalidInputError(f"sigma_w2 (weight variance σ_w²) must be a finite number > 0, got {sigma_w2!r}.")
    if not (_is_real(sigma_b2) and sigma_b2 >= 0):
        raise InvalidInputError(f"sigma_b2 (bias variance σ_b²) must be a finite number >= 0, got {sigma_b2!r}.")
    return float(sigma_w2), float(sigma_b2)


def _check_depth(depth: int) -> int:
    if not (isinstance(depth, (int, np.integer)) and not isinstance(depth, bool) and depth >= 1):
        raise InvalidInputError(
            f"depth (number of hidden layers L) must be an integer >= 1, got {depth!r}.")
    return int(depth)


def _check_alpha(alpha: "float | None") -> "float | None":
    if alpha is None:
        return None
    if not (_is_real(alpha) and alpha > 0):
        raise InvalidInputError(
            f"alpha (residual branch scale) must be a finite number > 0, or None for a plain network, got {alpha!r}.")
    return float(alpha)


def _check_correlation(c: float, name: str = "c0") -> float:
    if not (_is_real(c) and -1.0 < c < 1.0):
        raise InvalidInputError(
            f"{name} (correlation of the two inputs) must lie strictly between -1 and 1, got {c!r}; "
            "use two distinct, non-opposite inputs.")
    return float(c)


def _check_positive(value: float, name: str) -> float:
    if not (_is_real(value) and value > 0):
        raise InvalidInputError(f"{name} must be a finite number > 0, got {value!r}.")
    return float(value)


def _as_array(value, name: str, low: float, high: float = math.inf) -> np.ndarray:
    arr = np.asarray(value, dtype=np.float64)
    if not np.all(np.isfinite(arr)) or np.any(arr < low) or np.any(arr > high):
        raise InvalidInputError(f"{name} must be finite and within [{low}, {high}], got {value!r}.")
    return arr


# ------------------------------------------------------------------------------------------------
# The maps (docs/science.md §3)
# ------------------------------------------------------------------------------------------------
def _variance_map(act: Activation, q, sigma_w2: float, sigma_b2: float) -> np.ndarray:
    return sigma_w2 * act.second_moment(q) + sigma_b2


def _covariance_map(act: Activation, q1, q2, c, sigma_w2: float, sigma_b2: float) -> np.ndarray:
    return sigma_w2 * act.cross_moment(q1, q2, c) + sigma_b2


def _correlation_map(act: Activation, q1, q2, c, sigma_w2: float, sigma_b2: float) -> np.ndarray:
    cov = _covariance_map(act, q1, q2, c, sigma_w2, sigma_b2)
    var = np.sqrt(_variance_map(act, q1, sigma_w2, sigma_b2) * _variance_map(act, q2, sigma_w2, sigma_b2))
    return np.clip(cov / var, -1.0, 1.0)


def _chi(act: Activation, q, sigma_w2: float) -> np.ndarray:
    """χ(q) = σ_w² E[φ'(√q z)²]: the factor by which one layer multiplies ‖δ‖²."""
    return sigma_w2 * act.derivative_second_moment(q)


def variance_map(activation: "str | Activation", q: "float | np.ndarray", sigma_w2: float,
                 sigma_b2: float) -> np.ndarray:
    r"""Length map :math:`V(q) = \sigma_w^2\,\mathbb E[\phi(\sqrt q\,z)^2] + \sigma_b^2` (Poole et al. 2016).

    ReLU: :math:`V(q) = \sigma_w^2 q/2 + \sigma_b^2`. Vectorised over ``q``.
    """
    act = get_activation(activation)
    sigma_w2, sigma_b2 = _check_variances(sigma_w2, sigma_b2)
    return _variance_map(act, _as_array(q, "q", 0.0), sigma_w2, sigma_b2)


def covariance_map(activation: "str | Activation", q1: "float | np.ndarray", q2: "float | np.ndarray",
                   c: "float | np.ndarray", sigma_w2: float, sigma_b2: float) -> np.ndarray:
    r"""Covariance of the next layer, :math:`\sigma_w^2\,\mathbb E[\phi(u)\phi(u')] + \sigma_b^2`,
    for :math:`(u, u')` Gaussian with variances ``q1``, ``q2`` and correlation ``c`` (Poole et al. 2016).
    """
    act = get_activation(activation)
    sigma_w2, sigma_b2 = _check_variances(sigma_w2, sigma_b2)
    q1, q2 = _as_array(q1, "q1", 0.0), _as_array(q2, "q2", 0.0)
    return _covariance_map(act, q1, q2, _as_array(c, "c", -1.0, 1.0), sigma_w2, sigma_b2)


def correlation_map(activation: "str | Activation", q1: "float | np.ndarray", q2: "float | np.ndarray",
                    c: "float | np.ndarray", sigma_w2: float, sigma_b2: float) -> np.ndarray:
    r"""Correlation of the next layer, :math:`\Sigma/\sqrt{V(q_1)V(q_2)}` (Poole et al. 2016).

    ReLU with :math:`\sigma_b = 0`: :math:`c \mapsto (\sqrt{1-c^2} + (\pi - \arccos c)\,c)/\pi`
    whatever :math:`\sigma_w^2` and :math:`q`.
    """
    act = get_activation(activation)
    sigma_w2, sigma_b2 = _check_variances(sigma_w2, sigma_b2)
    q1, q2 = _as_array(q1, "q1", 0.0), _as_array(q2, "q2", 0.0)
    if sigma_b2 == 0 and (np.any(q1 == 0) or np.any(q2 == 0)):
        raise InvalidInputError("q1 and q2 must be > 0 when sigma_b2 = 0 (the correlation of zero signals is undefined).")
    return _correlation_map(act, q1, q2, _as_array(c, "c", -1.0, 1.0), sigma_w2, sigma_b2)


# ------------------------------------------------------------------------------------------------
# Fixed points, χ₁, depth scales, phase (docs/science.md §3)
# ------------------------------------------------------------------------------------------------
def _is_homogeneous(act: Activation) -> bool:
    """φ(λu) = λφ(u) for λ > 0 (ReLU, leaky ReLU): then V(q) = σ_w² E[φ(z)²] q + σ_b² is linear in q."""
    return isinstance(act, LeakyReLU)


def _variance_fixed_point(act: Activation, sigma_w2: float, sigma_b2: float) -> float:
    if _is_homogeneous(act):
        slope = sigma_w2 * float(act.second_moment(1.0))
        if slope < 1.0 - 1e-12:
            return sigma_b2 / (1.0 - slope)
        if abs(slope - 1.0) <= 1e-12 and sigma_b2 == 0:
            raise InvalidInputError(
                f"For {act.name} with sigma_b2 = 0 and sigma_w2 = {sigma_w2:g} the variance map is the identity: "
                "every q is a fixed point, none is attracting. chi1, correlation_fixed_point and chi_c do not "
                "need q* here (they do not depend on q); use forward_signal for the variances of given inputs.")
        raise InvalidInputError(
            f"For {act.name} with sigma_w2 = {sigma_w2:g}, sigma_b2 = {sigma_b2:g} the variance grows without bound "
            f"(V(q) = {slope:g} q + {sigma_b2:g}): there is no finite fixed point. Use sigma_w2 < "
            f"{sigma_w2 / slope:g}, or forward_signal for a finite depth.")
    # Smooth activations: first sign change of V(q) - q from + to - going up from q = 0, i.e. the
    # fixed point that the iteration reaches from small variances, polished by Brent's method.
    grid = np.concatenate([[0.0], np.geomspace(1e-12, 1e4, 161)])
    gap = _variance_map(act, grid, sigma_w2, sigma_b2) - grid
    if gap[1] <= 0 and sigma_b2 == 0:
        return 0.0  # V(q) < q for every q > 0: the signal dies, q* = 0 (e.g. tanh with sigma_w2 <= 1)
    down = np.flatnonzero((gap[:-1] > 0) & (gap[1:] <= 0))
    if down.size == 0:
        raise InvalidInputError(
            f"No finite variance fixed point below q = 1e4 for {act.name} with sigma_w2 = {sigma_w2:g}, "
            f"sigma_b2 = {sigma_b2:g}: the variance grows without bound. Use a smaller sigma_w2.")
    i = int(down[0])
    if gap[i + 1] == 0:
        return float(grid[i + 1])
    return float(brentq(lambda q: float(_variance_map(act, q, sigma_w2, sigma_b2)) - q,
                        grid[i], grid[i + 1], xtol=1e-15, rtol=1e-14, maxiter=200))


def _reference_variance(act: Activation, sigma_w2: float, sigma_b2: float) -> float:
    """q* where it exists; any q for homogeneous φ at σ_b = 0, whose χ and correlation map ignore q."""
    if _is_homogeneous(act) and sigma_b2 == 0:
        return 1.0
    return _variance_fixed_point(act, sigma_w2, sigma_b2)


def variance_fixed_point(activation: "str | Activation", sigma_w2: float, sigma_b2: float) -> float:
    r"""The attracting fixed point :math:`q^* = V(q^*)` of the variance map (Poole et al. 2016).

    Smooth φ: the fixed point reached from small variances (0 when :math:`V(q) < q` for all
    :math:`q > 0`, e.g. tanh with :math:`\sigma_b = 0,\ \sigma_w^2 \le 1`). ReLU / leaky ReLU:
    :math:`V(q) = m q + \sigma_b^2` with :math:`m = \sigma_w^2(1+s^2)/2`, so :math:`q^* = \sigma_b^2/(1-m)`
    when :math:`m < 1` (0 when :math:`\sigma_b = 0`: the signal dies). For :math:`m \ge 1` there is no
    finite attracting fixed point — except :math:`m = 1,\ \sigma_b = 0` (ReLU's edge of chaos
    :math:`\sigma_w^2 = 2`) where every q is fixed; both raise
    :class:`~eqhyp_utils.errors.InvalidInputError` saying so.
    """
    act = get_activation(activation)
    sigma_w2, sigma_b2 = _check_variances(sigma_w2, sigma_b2)
    return _variance_fixed_point(act, sigma_w2, sigma_b2)


def _chi1(act: Activation, sigma_w2: float, sigma_b2: float) -> float:
    return float(_chi(act, _reference_variance(act, sigma_w2, sigma_b2), sigma_w2))


def chi1(activation: "str | Activation", sigma_w2: float, sigma_b2: float) -> float:
    r""":math:`\chi_1 = \sigma_w^2\,\mathbb E[\phi'(\sqrt{q^*}z)^2]` (Schoenholz et al. 2017): the slope of the
    correlation map at :math:`c = 1` and the per-layer growth of :math:`\|\delta\|^2` at :math:`q^*`.

    ReLU: :math:`\chi_1 = \sigma_w^2/2` for every q, so no fixed point is needed at :math:`\sigma_b = 0`.
    """
    act = get_activation(activation)
    sigma_w2, sigma_b2 = _check_variances(sigma_w2, sigma_b2)
    return _chi1(act, sigma_w2, sigma_b2)


def _correlation_fixed_point(act: Activation, sigma_w2: float, sigma_b2: float) -> float:
    q = _reference_variance(act, sigma_w2, sigma_b2)
    if float(_chi(act, q, sigma_w2)) <= 1.0:
        return 1.0  # c = 1 is stable: ordered phase or edge of chaos
    # Chaotic: c = 1 repels. C(0) - 0 = σ_w² E[φ(u)]² + σ_b² >= 0 and C(c) < c just below 1, so the
    # first sign change from + to - on [0, 1) is the attracting c*.
    grid = np.concatenate([np.linspace(0.0, 0.99, 100), 1.0 - np.geomspace(1e-2, 1e-9, 36)[1:]])
    gap = _correlation_map(act, q, q, grid, sigma_w2, sigma_b2) - grid
    if gap[0] <= 0:
        return 0.0
    down = np.flatnonzero((gap[:-1] > 0) & (gap[1:] <= 0))
    if down.size == 0:
        raise InvalidInputError(
            f"Could not bracket the correlation fixed point of {act.name} at sigma_w2 = {sigma_w2:g}, "
            f"sigma_b2 = {sigma_b2:g} (chi1 is too close to 1); treat this point as the edge of chaos.")
    i = int(down[0])
    return float(brentq(lambda c: float(_correlation_map(act, q, q, c, sigma_w2, sigma_b2)) - c,
                        grid[i], grid[i + 1], xtol=1e-14, rtol=1e-14, maxiter=200))


def correlation_fixed_point(activation: "str | Activation", sigma_w2: float, sigma_b2: float) -> float:
    r"""The attracting fixed point :math:`c^*` of the correlation map at :math:`q^*` (Schoenholz et al. 2017).

    :math:`c = 1` is always fixed; it attracts when :math:`\chi_1 \le 1` (returned as 1.0). When
    :math:`\chi_1 > 1` the returned :math:`c^* \in [0, 1)` solves :math:`C(c^*) = c^*`.
    """
    act = get_activation(activation)
    sigma_w2, sigma_b2 = _check_variances(sigma_w2, sigma_b2)
    return _correlation_fixed_point(act, sigma_w2, sigma_b2)


def _chi_c(act: Activation, sigma_w2: float, sigma_b2: float) -> float:
    q = _reference_variance(act, sigma_w2, sigma_b2)
    c_star = _correlation_fixed_point(act, sigma_w2, sigma_b2)
    return float(sigma_w2 * act.derivative_cross_moment(q, q, c_star))


def chi_c(activation: "str | Activation", sigma_w2: float, sigma_b2: float) -> float:
    r"""Slope of the correlation map at :math:`c^*`: :math:`\chi_c = \sigma_w^2\,\mathbb E[\phi'(u)\phi'(u')]`
    at :math:`(q^*, q^*, c^*)`, using :math:`\partial_c\,\mathbb E[\phi(u)\phi(u')] = q\,\mathbb E[\phi'(u)\phi'(u')]`
    (Schoenholz et al. 2017, eq. 5). Equals :math:`\chi_1` when :math:`c^* = 1`.
    """
    act = get_activation(activation)
    sigma_w2, sigma_b2 = _check_variances(sigma_w2, sigma_b2)
    return _chi_c(act, sigma_w2, sigma_b2)


@dataclass(frozen=True)
class DepthScales:
    r""":math:`\xi_q = -1/\log V'(q^*)` and :math:`\xi_c = -1/\log\chi_c`: number of layers over which
    the variance and the correlation approach their fixed points (``inf`` when the slope is >= 1)."""

    xi_q: float
    xi_c: float


def _depth_scale(slope: float) -> float:
    return math.inf if slope >= 1.0 or slope <= 0.0 else -1.0 / math.log(slope)


def depth_scales(activation: "str | Activation", sigma_w2: float, sigma_b2: float) -> DepthScales:
    r"""Depth scales :math:`\xi_q = -1/\log V'(q^*)` and :math:`\xi_c = -1/\log\chi_c` (Schoenholz et al. 2017).

    :math:`V'(q^*)` is a central finite difference of :func:`variance_map` (exact for ReLU, where
    :math:`V'(q) = \sigma_w^2/2`). :math:`\xi_c` diverges at the edge of chaos.
    """
    act = get_activation(activation)
    sigma_w2, sigma_b2 = _check_variances(sigma_w2, sigma_b2)
    q = _reference_variance(act, sigma_w2, sigma_b2)
    if _is_homogeneous(act):
        slope_q = sigma_w2 * float(act.second_moment(1.0))
    else:
        h = max(1e-5, 1e-4 * q)
        lo = max(q - h, 0.0)
        slope_q = float(_variance_map(act, q + h, sigma_w2, sigma_b2) - _variance_map(act, lo, sigma_w2, sigma_b2)) \
            / (q + h - lo)
    return DepthScales(xi_q=_depth_scale(slope_q), xi_c=_depth_scale(_chi_c(act, sigma_w2, sigma_b2)))


def edge_of_chaos_sigma_w2(activation: "str | Activation", sigma_b2: float) -> float:
    r"""The weight variance :math:`\sigma_w^2` at which :math:`\chi_1 = 1`, for a given :math:`\sigma_b^2`.

    Brent's method on :math:`\sigma_w^2 \mapsto \chi_1 - 1`. ReLU / leaky ReLU: :math:`\chi_1 = \sigma_w^2(1+s^2)/2`
    so the edge of chaos is :math:`\sigma_w^2 = 2/(1+s^2)`, and it exists only at :math:`\sigma_b = 0`
    (with :math:`\sigma_b > 0` the variance diverges there): other :math:`\sigma_b^2` raise
    :class:`~eqhyp_utils.errors.InvalidInputError`.
    """
    act = get_activation(activation)
    if not (_is_real(sigma_b2) and sigma_b2 >= 0):
        raise InvalidInputError(f"sigma_b2 (bias variance σ_b²) must be a finite number >= 0, got {sigma_b2!r}.")
    sigma_b2 = float(sigma_b2)
    if _is_homogeneous(act):
        if sigma_b2 != 0:
            raise InvalidInputError(
                f"{act.name} has an edge of chaos only at sigma_b2 = 0 (chi1 = 1 makes the variance grow "
                f"linearly when sigma_b2 > 0), got sigma_b2 = {sigma_b2:g}.")
        return 1.0 / float(act.second_moment(1.0))

    def gap(sigma_w2: float) -> float:
        return _chi1(act, sigma_w2, sigma_b2) - 1.0

    lo, hi = 0.25, 1.0
    while gap(lo) > 0:
        lo /= 2
        if lo < 1e-6:
            raise InvalidInputError(f"{act.name} is chaotic for every sigma_w2 at sigma_b2 = {sigma_b2:g}.")
    try:
        while gap(hi) <= 0:
            lo, hi = hi, 2 * hi
            if hi > 1e3:
                raise InvalidInputError(f"{act.name} is ordered for every sigma_w2 <= 1e3 at sigma_b2 = {sigma_b2:g}.")
    except InvalidInputError as err:
        raise InvalidInputError(
            f"No edge of chaos for {act.name} at sigma_b2 = {sigma_b2:g}: chi1 stays below 1 until sigma_w2 = "
            f"{lo:g}, and at sigma_w2 = {hi:g}: {err}") from None
    return float(brentq(gap, lo, hi, xtol=1e-12, rtol=1e-12, maxiter=200))


def phase(activation: "str | Activation", sigma_w2: float, sigma_b2: float, *, tol: float = 1e-6) -> str:
    """"ordered" if χ₁ < 1 − tol, "chaotic" if χ₁ > 1 + tol, else "edge of chaos" (Schoenholz et al. 2017)."""
    act = get_activation(activation)
    sigma_w2, sigma_b2 = _check_variances(sigma_w2, sigma_b2)
    value = _chi1(act, sigma_w2, sigma_b2)
    if value < 1.0 - tol:
        return "ordered"
    if value > 1.0 + tol:
        return "chaotic"
    return "edge of chaos"


# ------------------------------------------------------------------------------------------------
# Finite depth: forward and backward signals through L layers (docs/science.md §3–4)
# ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ForwardSignal:
    """Mean-field statistics of the pre-activations h_1 … h_L and the output h_{L+1} = f for two inputs.

    ``q``, ``q_prime``, ``c``: arrays of length L + 1, entry i for layer i + 1 (variance of h_l(x),
    of h_l(x'), and their correlation). ``q0``, ``q0_prime`` = ‖x‖²/d, ‖x'‖²/d and ``c0`` describe the inputs.
    """

    q: np.ndarray
    q_prime: np.ndarray
    c: np.ndarray
    q0: float
    q0_prime: float
    c0: float

    @property
    def depth(self) -> int:
        return len(self.c) - 1

    @property
    def c_before(self) -> np.ndarray:
        """c_{l−1} for l = 1 … L + 1: the correlation entering layer l (c0 first)."""
        return np.concatenate([[self.c0], self.c[:-1]])


def _forward_signal(act: Activation, sigma_w2: float, sigma_b2: float, depth: int, q0: float,
                    q0_prime: float, c0: float, alpha: "float | None") -> ForwardSignal:
    q = np.empty(depth + 1)
    qp = np.empty(depth + 1)
    cov = np.empty(depth + 1)
    q[0] = sigma_w2 * q0 + sigma_b2
    qp[0] = sigma_w2 * q0_prime + sigma_b2
    cov[0] = sigma_w2 * math.sqrt(q0 * q0_prime) * c0 + sigma_b2
    for i in range(1, depth + 1):  # i = layer - 1
        ql, qpl = q[i - 1], qp[i - 1]
        cl = min(max(cov[i - 1] / math.sqrt(ql * qpl), -1.0), 1.0)
        new_q = float(_variance_map(act, ql, sigma_w2, sigma_b2))
        new_qp = new_q if qpl == ql else float(_variance_map(act, qpl, sigma_w2, sigma_b2))
        new_cov = float(_covariance_map(act, ql, qpl, cl, sigma_w2, sigma_b2))
        residual = alpha is not None and i < depth  # layers 2 … L are residual blocks; L + 1 is plain
        if residual:
            a2 = alpha * alpha
            new_q, new_qp, new_cov = ql + a2 * new_q, qpl + a2 * new_qp, cov[i - 1] + a2 * new_cov
        q[i], qp[i], cov[i] = new_q, new_qp, new_cov
    c = np.clip(cov / np.sqrt(q * qp), -1.0, 1.0)
    return ForwardSignal(q=q, q_prime=qp, c=c, q0=q0, q0_prime=q0_prime, c0=c0)


def _check_signal_args(activation, sigma_w2, sigma_b2, depth, q0, q0_prime, c0, alpha):
    act = get_activation(activation)
    sigma_w2, sigma_b2 = _check_variances(sigma_w2, sigma_b2)
    depth = _check_depth(depth)
    q0 = _check_positive(q0, "q0 (‖x‖²/d of the first input)")
    q0_prime = q0 if q0_prime is None else _check_positive(q0_prime, "q0_prime (‖x'‖²/d of the second input)")
    return act, sigma_w2, sigma_b2, depth, q0, q0_prime, _check_correlation(c0), _check_alpha(alpha)


def forward_signal(activation: "str | Activation", sigma_w2: float, sigma_b2: float, depth: int, *,
                   q0: float = 1.0, q0_prime: "float | None" = None, c0: float = 0.2,
                   alpha: "float | None" = None) -> ForwardSignal:
    r"""Variances and correlation of :math:`h_1 … h_{L+1}` for two inputs with
    :math:`\|x\|^2/d = q_0`, :math:`\|x'\|^2/d = q_0'` (default :math:`q_0`) and correlation :math:`c_0`.

    :math:`q_1 = \sigma_w^2 q_0 + \sigma_b^2`, :math:`\Sigma_1 = \sigma_w^2\sqrt{q_0q_0'}\,c_0 + \sigma_b^2`,
    then the maps of the module docstring (residual blocks at layers 2 … L when ``alpha`` is given;
    the output layer L + 1 is plain in both networks).
    """
    args = _check_signal_args(activation, sigma_w2, sigma_b2, depth, q0, q0_prime, c0, alpha)
    return _forward_signal(*args)


@dataclass(frozen=True)
class BackwardSignal:
    r"""Mean-field statistics of :math:`\delta_l = \partial\langle v, f\rangle/\partial h_l` (fixed unit v).

    ``norm_ratio`` (and ``norm_ratio_prime`` for x'): :math:`\|\delta_l\|^2/\|\delta_{L+1}\|^2`;
    ``correlation``: :math:`\langle\delta_l(x), \delta_l(x')\rangle/(\|\delta_l(x)\|\|\delta_l(x')\|)`.
    Arrays of length L + 1, entry i for layer i + 1 (entry L, the output layer, is 1).
    ``forward`` holds the forward signal they were computed from.
    """

    norm_ratio: np.ndarray
    norm_ratio_prime: np.ndarray
    correlation: np.ndarray
    forward: ForwardSignal


def _layer_factors(act: Activation, fwd: ForwardSignal, sigma_w2: float, alpha: "float | None"):
    """Per hidden layer k = 1 … L: the factors multiplying ‖δ‖², ‖δ'‖² and ⟨δ, δ'⟩ from k+1 to k."""
    q, qp, c = fwd.q[:-1], fwd.q_prime[:-1], fwd.c[:-1]
    chi, chi_p = _chi(act, q, sigma_w2), _chi(act, qp, sigma_w2)
    cross = sigma_w2 * act.derivative_cross_moment(q, qp, c)
    if alpha is not None:  # residual blocks at k = 1 … L−1 (δ_k = δ_{k+1} + α φ'(h_k) ⊙ W_{k+1}ᵀ δ_{k+1})
        a2 = alpha * alpha
        chi, chi_p, cross = chi.copy(), chi_p.copy(), cross.copy()
        chi[:-1], chi_p[:-1], cross[:-1] = 1 + a2 * chi[:-1], 1 + a2 * chi_p[:-1], 1 + a2 * cross[:-1]
    return chi, chi_p, cross


def _suffix_product(factors: np.ndarray) -> np.ndarray:
    """[∏_{k=l}^{L} factors_k for l = 1 … L] followed by the empty product 1 (layer L + 1)."""
    return np.concatenate([np.cumprod(factors[::-1])[::-1], [1.0]])


def backward_signal(activation: "str | Activation", sigma_w2: float, sigma_b2: float, depth: int, *,
                    q0: float = 1.0, q0_prime: "float | None" = None, c0: float = 0.2,
                    alpha: "float | None" = None) -> BackwardSignal:
    r"""Gradient norms and correlations per layer (Schoenholz et al. 2017, gradient independence).

    .. math::
        \frac{\|\delta_l\|^2}{\|\delta_{L+1}\|^2} = \prod_{k=l}^{L}\chi(q_k),\qquad
        \mathrm{corr}(\delta_l, \delta_l') = \prod_{k=l}^{L}\rho_k,\quad
        \rho_k = \frac{\mathbb E[\phi'(u)\phi'(u')]}{\sqrt{\mathbb E[\phi'(u)^2]\,\mathbb E[\phi'(u')^2]}}
        \Big|_{q_k, q_k', c_k},

    with each layer's own :math:`q_k` (not only :math:`q^*`). Residual (``alpha``): hidden layers
    :math:`k < L` use :math:`1 + \alpha^2\chi(q_k)` and
    :math:`(1 + \alpha^2\sigma_w^2\mathbb E[\phi'\phi'])/\sqrt{(1+\alpha^2\chi(q_k))(1+\alpha^2\chi(q_k'))}` instead.
    """
    act, sigma_w2, sigma_b2, depth, q0, q0_prime, c0, alpha = _check_signal_args(
        activation, sigma_w2, sigma_b2, depth, q0, q0_prime, c0, alpha)
    fwd = _forward_signal(act, sigma_w2, sigma_b2, depth, q0, q0_prime, c0, alpha)
    chi, chi_p, cross = _layer_factors(act, fwd, sigma_w2, alpha)
    return BackwardSignal(norm_ratio=_suffix_product(chi), norm_ratio_prime=_suffix_product(chi_p),
                          correlation=_suffix_product(cross / np.sqrt(chi * chi_p)), forward=fwd)


# ------------------------------------------------------------------------------------------------
# Infinite-width per-layer NTK at initialisation (docs/science.md §4)
# ------------------------------------------------------------------------------------------------
def _pairwise(fn, cov: np.ndarray) -> np.ndarray:
    """fn(q_i, q_j, c_ij) over the upper triangle of a covariance matrix, mirrored."""
    n = cov.shape[0]
    d = np.sqrt(np.diag(cov))
    i, j = np.triu_indices(n)
    c = np.clip(cov[i, j] / (d[i] * d[j]), -1.0, 1.0)
    c[i == j] = 1.0  # exactly: rounding to 1 − 1e-16 would move arccos(c) by 1e-8
    out = np.empty((n, n))
    vals = fn(cov[i, i], cov[j, j], c)
    out[i, j] = vals
    out[j, i] = vals
    return out


def mean_field_layer_ntk(activation: "str | Activation", sigma_w2: float, sigma_b2: float, depth: int,
                         x: "np.ndarray | None" = None, *, input_gram: "np.ndarray | None" = None,
                         alpha: "float | None" = None) -> np.ndarray:
    r"""Infinite-width tangent kernel of each layer at initialisation (Jacot et al. 2018), shape (L+1, n, n).

    Entry ``l − 1`` is :math:`\Theta_l`, the contribution of layer l's weights and bias in the NTK
    parametrisation (:math:`W = \sigma_w\tilde W/\sqrt{\text{fan\_in}}`, :math:`b = \sigma_b\tilde b`,
    gradients taken with respect to :math:`\tilde W, \tilde b`):

    .. math::
        \Theta_l = \big(\sigma_w^2\,\Sigma^a_{l-1} + \sigma_b^2\big)\odot\Sigma^\delta_l,\qquad
        \Sigma^a_{l-1}(x, x') = \mathbb E[\phi(h_{l-1})\phi(h'_{l-1})]\ (\Sigma^a_0 = G = XX^\top/d),

        \Sigma^\delta_{L+1} = 1,\qquad \Sigma^\delta_k = \sigma_w^2\,\dot\Sigma_k\odot\Sigma^\delta_{k+1},\qquad
        \dot\Sigma_k(x, x') = \mathbb E[\phi'(h_k)\phi'(h'_k)].

    In a plain network :math:`\sigma_w^2\Sigma^a_{l-1} + \sigma_b^2 = \Sigma_l`, so
    :math:`\Theta_l = \Sigma_l\odot\prod_{k=l}^{L}\sigma_w^2\dot\Sigma_k` and :math:`\sum_l\Theta_l` is Jacot's NTK.
    For C outputs the kernel of layer l is :math:`\Theta_l\otimes I_C`. Residual (``alpha``): hidden layers
    2 … L carry a factor :math:`\alpha^2` and :math:`\Sigma^\delta_k = (1 + \alpha^2\sigma_w^2\dot\Sigma_k)\odot\Sigma^\delta_{k+1}`
    for :math:`k < L`. The package's networks use the standard parametrisation; their layer kernel
    :math:`K_l = \langle\delta_l, \delta_l'\rangle(\langle a_{l-1}, a'_{l-1}\rangle + 1)` tends to
    :math:`\text{fan\_in}_l/\sigma_w^2\cdot\Theta_l` with :math:`\sigma_b^2` replaced by :math:`\sigma_w^2/\text{fan\_in}_l`.

    Give either the inputs ``x`` (n, d) or ``input_gram`` = :math:`XX^\top/d` (n, n).
    """
    act = get_activation(activation)
    sigma_w2, sigma_b2 = _check_variances(sigma_w2, sigma_b2)
    depth = _check_depth(depth)
    alpha = _check_alpha(alpha)
    if (x is None) == (input_gram is None):
        raise InvalidInputError("Give exactly one of x (inputs, shape (n, d)) or input_gram (XXᵀ/d, shape (n, n)).")
    if x is not None:
        x = np.asarray(x, dtype=np.float64)
        if x.ndim != 2 or x.shape[0] < 1 or x.shape[1] < 1 or not np.all(np.isfinite(x)):
            raise InvalidInputError(f"x must be a finite array of shape (n, d), got shape {x.shape}.")
        gram = x @ x.T / x.shape[1]
    else:
        gram = np.asarray(input_gram, dtype=np.float64)
        if gram.ndim != 2 or gram.shape[0] != gram.shape[1] or not np.all(np.isfinite(gram)) \
                or not np.allclose(gram, gram.T) or np.any(np.diag(gram) < 0):
            raise InvalidInputError(
                f"input_gram must be a finite symmetric (n, n) matrix with a non-negative diagonal, got shape {gram.shape}.")
    if sigma_b2 == 0 and np.any(np.diag(gram) == 0):
        raise InvalidInputError("An input has zero norm and sigma_b2 = 0: its correlations are undefined. Remove it.")

    a2 = 1.0 if alpha is None else alpha * alpha
    # Forward: covariance Σ_l of h_l (l = 1 … L), activation kernels Σ^a_l and derivative kernels Σ̇_l.
    branch = [sigma_w2 * gram + sigma_b2]            # σ_w² Σ^a_{l−1} + σ_b², l = 1 … L + 1
    sigma = branch[0]
    dots = []
    for l in range(1, depth + 1):
        act_kernel = _pairwise(act.cross_moment, sigma)
        dots.append(_pairwise(act.derivative_cross_moment, sigma))
        branch.append(sigma_w2 * act_kernel + sigma_b2)
        if l < depth:
            sigma = sigma + a2 * branch[-1] if alpha is not None else branch[-1]
    # Backward: Σ^δ_{L+1} = 1, then down to layer 1.
    n = gram.shape[0]
    kernels = np.empty((depth + 1, n, n))
    sigma_delta = np.ones((n, n))
    kernels[depth] = branch[depth]
    for k in range(depth, 0, -1):  # layer k
        factor = sigma_w2 * dots[k - 1]
        if alpha is not None and k < depth:
            factor = 1.0 + a2 * factor
        sigma_delta = factor * sigma_delta
        scale = a2 if (alpha is not None and 2 <= k <= depth) else 1.0
        kernels[k - 1] = scale * branch[k - 1] * sigma_delta
    return kernels
