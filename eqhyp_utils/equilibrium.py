r"""The Equilibrium Hypothesis as a prediction from signal propagation alone (docs/science.md §5).

Lou, Mingard, Nam & Hayou (ICML 2022): the layers that align most with the labels are those where
the information lost in the forward pass balances the information lost in the backward pass. This
module states one precise reading of that sentence and computes it from the mean-field recursions of
:mod:`eqhyp_utils.signal_propagation` — nothing is fitted to measured alignment peaks.

For two inputs with correlation :math:`c_0` and layers :math:`l = 1 … L+1` (output layer last):

* forward information still present at layer l: :math:`F_l = 1 - c_{l-1}`, how far the two inputs
  entering layer l still are from being identical (:math:`c_{l-1}` is the correlation of
  :math:`h_{l-1}`, with :math:`h_0 = x`). It starts at :math:`1 - c_0` and decreases with depth when
  correlations converge to 1.
* backward information still present at layer l: :math:`B_l = \prod_{k=l}^{L}\rho_k`, the correlation of
  the two inputs' backpropagated errors :math:`\delta_l` (:func:`~eqhyp_utils.signal_propagation.backward_signal`),
  1 at the output layer and decreasing towards the input.

**Normalised reading** (``normalised=True``): both informations are measured as the *fraction still
present* of what their own pass started with, :math:`\hat F_l = (1 - c_{l-1})/(1 - c_0)` (1 at the input)
against :math:`B_l` (1 at the output): "lost in the forward pass" is then
:math:`1 - \hat F_l` and "lost in the backward pass" :math:`1 - B_l`, and the balance
:math:`1 - \hat F_l = 1 - B_l` is again a crossing. It moves the crossing deeper (:math:`\hat F \ge F`), by a
constant factor asymptotically, so the :math:`L^{3/5}` law below holds for both readings.

**Equilibrium layer** :math:`l^*`: the first layer l with :math:`B_l \ge F_l` (ties count as crossed);
if there is none (only possible when :math:`c_L < 0`), :math:`l^* = L + 1`. **Equilibrium depth**
(continuous): the crossing of the two piecewise-linear curves through the points
:math:`(l, F_l)` and :math:`(l, B_l)`, a number in :math:`(l^*-1, l^*]` (1.0 when already
:math:`B_1 \ge F_1`); use it for scaling laws.

**Asymptotic law (ReLU at the edge of chaos,** :math:`\sigma_w^2 = 2,\ \sigma_b = 0`). With
:math:`c = \cos\theta` the correlation map is :math:`c' = (\sin\theta + (\pi - \theta)c)/\pi`; expanding in
:math:`\varepsilon = 1 - c` (:math:`\theta = \sqrt{2\varepsilon}(1 + O(\varepsilon))`),

.. math::
    \varepsilon' = \varepsilon - a\,\varepsilon^{3/2} + O(\varepsilon^{5/2}),\qquad a = \frac{2\sqrt2}{3\pi}.

In the continuum :math:`d\varepsilon/dl = -a\varepsilon^{3/2}`, so :math:`\varepsilon^{-1/2} = a l/2 + \text{const}` and

.. math:: 1 - c_l \approx \frac{4}{a^2 l^2} = \frac{9\pi^2}{2\,l^2}.

The backward factor is :math:`\rho(c) = 1 - \arccos(c)/\pi = 1 - \theta/\pi \approx 1 - \sqrt{2\varepsilon}/\pi`,
hence :math:`\rho(c_k) \approx 1 - 3/k` and :math:`\log\prod_{k=l}^{L}\rho_k \approx -3\sum_{k=l}^{L} 1/k \approx 3\log(l/L)`:

.. math:: B_l \approx (l/L)^3,\qquad F_l \approx \frac{9\pi^2}{2\,l^2}
    \;\Longrightarrow\; l^{*5} \approx \frac{9\pi^2}{2}L^3,\qquad l^* \approx \Big(\frac{9\pi^2}{2}\Big)^{1/5}L^{3/5}.

The constants hidden in ":math:`\approx`" (the offset of :math:`\varepsilon^{-1/2}`, fixed by :math:`c_0`,
and the :math:`O(1/k^2)` terms of :math:`\log\rho_k`) shift :math:`l` by O(1) layers, a relative correction
of order :math:`1/l^* \propto L^{-3/5}`: the local log–log slope approaches 3/5 from above, slowly —
0.69 (L = 16→64), 0.66 (64→1024), 0.61 (4096→16384) with the exact recursions at :math:`c_0 = 0.2`.
At trainable depths the prediction to compare with measurements is the exact crossing, not the power law.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from .activations import Activation
from .errors import InvalidInputError
from .signal_propagation import (_check_depth, _check_signal_args, _forward_signal, _layer_factors,
                                 _suffix_product)


@dataclass(frozen=True)
class EquilibriumPrediction:
    """Both information curves and their crossing, ready to plot.

    ``layers``: 1 … L + 1. ``forward``, ``backward``: F_l and B_l, entry i for layer i + 1.
    ``layer``: the equilibrium layer l* (int); ``depth``: the continuous crossing in (l* − 1, l*].
    """

    layers: np.ndarray
    forward: np.ndarray
    backward: np.ndarray
    layer: int
    depth: float


def _curves(activation, sigma_w2, sigma_b2, depth, q0, c0, alpha,
            normalised: bool = False) -> tuple[np.ndarray, np.ndarray]:
    act, sigma_w2, sigma_b2, depth, q0, q0_prime, c0, alpha = _check_signal_args(
        activation, sigma_w2, sigma_b2, depth, q0, None, c0, alpha)
    if normalised and c0 >= 1:
        raise InvalidInputError("the normalised reading needs c0 < 1 (identical inputs carry no information).")
    fwd = _forward_signal(act, sigma_w2, sigma_b2, depth, q0, q0_prime, c0, alpha)
    chi, chi_p, cross = _layer_factors(act, fwd, sigma_w2, alpha)
    forward = 1.0 - fwd.c_before
    if normalised:
        forward = forward / (1.0 - c0)
    return forward, _suffix_product(cross / np.sqrt(chi * chi_p))


def forward_information(activation: "str | Activation", sigma_w2: float, sigma_b2: float, depth: int, *,
                        c0: float = 0.2, q0: float = 1.0, alpha: "float | None" = None) -> np.ndarray:
    r"""Forward information still present at layer l: :math:`F_l = 1 - c_{l-1}`, for l = 1 … L + 1.

    Entry i belongs to layer i + 1; entry 0 is :math:`1 - c_0`. Values lie in [0, 2] (above 1 only for
    anti-correlated signals). Both inputs have :math:`\|x\|^2/d = q_0`.
    """
    return _curves(activation, sigma_w2, sigma_b2, depth, q0, c0, alpha)[0]


def backward_information(activation: "str | Activation", sigma_w2: float, sigma_b2: float, depth: int, *,
                         c0: float = 0.2, q0: float = 1.0, alpha: "float | None" = None) -> np.ndarray:
    r"""Backward information still present at layer l: :math:`B_l = \prod_{k=l}^{L}\rho_k`, l = 1 … L + 1.

    The gradient correlation of :func:`~eqhyp_utils.signal_propagation.backward_signal`; entry i belongs
    to layer i + 1 and the last entry (output layer) is the empty product 1. ReLU:
    :math:`\rho(c) = 1 - \arccos(c)/\pi`.
    """
    return _curves(activation, sigma_w2, sigma_b2, depth, q0, c0, alpha)[1]


def _crossing(forward: np.ndarray, backward: np.ndarray) -> tuple[int, float]:
    gap = backward - forward
    crossed = np.flatnonzero(gap >= 0)
    if crossed.size == 0:
        return len(gap), float(len(gap))
    i = int(crossed[0])  # layer i + 1
    if i == 0:
        return 1, 1.0
    before, after = gap[i - 1], gap[i]  # before < 0 <= after
    return i + 1, float(i + (-before) / (after - before))


def predict_equilibrium(activation: "str | Activation", sigma_w2: float, sigma_b2: float, depth: int, *,
                        c0: float = 0.2, q0: float = 1.0, alpha: "float | None" = None,
                        normalised: bool = False) -> EquilibriumPrediction:
    """Forward and backward information curves and their crossing (see the module docstring).

    ``normalised=True`` uses the forward fraction :math:`(1 - c_{l-1})/(1 - c_0)` (the normalised reading).
    """
    forward, backward = _curves(activation, sigma_w2, sigma_b2, depth, q0, c0, alpha, normalised)
    layer, continuous = _crossing(forward, backward)
    return EquilibriumPrediction(layers=np.arange(1, len(forward) + 1), forward=forward, backward=backward,
                                 layer=layer, depth=continuous)


def equilibrium_layer(activation: "str | Activation", sigma_w2: float, sigma_b2: float, depth: int, *,
                      c0: float = 0.2, q0: float = 1.0, alpha: "float | None" = None,
                      normalised: bool = False) -> int:
    """l*: the first layer l in 1 … L + 1 with B_l ≥ F_l (L + 1 if none); F̂_l when ``normalised``.

    ReLU, σ_w² = 2, σ_b = 0, c0 = 0.2: l* = 5, 6, 8, 11, 13, 21, 33 for L = 6, 10, 16, 24, 32, 64, 128.
    """
    return predict_equilibrium(activation, sigma_w2, sigma_b2, depth, c0=c0, q0=q0, alpha=alpha,
                               normalised=normalised).layer


def equilibrium_depth(activation: "str | Activation", sigma_w2: float, sigma_b2: float, depth: int, *,
                      c0: float = 0.2, q0: float = 1.0, alpha: "float | None" = None,
                      normalised: bool = False) -> float:
    """The continuous crossing of the piecewise-linear F and B curves, in (l* − 1, l*]; ∝ L^{3/5} asymptotically
    for ReLU at the edge of chaos."""
    return predict_equilibrium(activation, sigma_w2, sigma_b2, depth, c0=c0, q0=q0, alpha=alpha,
                               normalised=normalised).depth


# ------------------------------------------------------------------------------------------------
# Depth-only baselines: what any prediction has to beat
# ------------------------------------------------------------------------------------------------
def depth_fraction_baseline(depth: int, fraction: float) -> int:
    """The layer at a fixed fraction of the network: round(fraction · (L + 1)) (halves up), kept in 1 … L + 1."""
    depth = _check_depth(depth)
    if not (isinstance(fraction, (int, float, np.floating)) and not isinstance(fraction, bool)
            and 0.0 <= fraction <= 1.0):
        raise InvalidInputError(f"fraction must be a number in [0, 1], got {fraction!r}.")
    return int(min(max(np.floor(fraction * (depth + 1) + 0.5), 1), depth + 1))


#: The depth-only baselines, by name: each maps the depth L to a layer in 1 … L + 1. The one
#: definition the scoreboard, the result files, the widgets and the notebooks use.
BASELINES: dict[str, "Callable[[int], int]"] = {
    "middle": lambda depth: (depth + 2) // 2,      # ⌈(L + 1)/2⌉, the lower middle when L + 1 is even
    "last hidden": lambda depth: depth,            # L
}


def baseline_predictions(depth: int, fractions: Sequence[float] = ()) -> dict[str, int]:
    """Depth-only predictions of the best-aligned layer among 1 … L + 1.

    Every rule of :data:`BASELINES` ("middle": ⌈(L + 1)/2⌉; "last hidden": L), plus
    "fraction f" = :func:`depth_fraction_baseline` for each f in ``fractions``.
    """
    depth = _check_depth(depth)
    out = {name: rule(depth) for name, rule in BASELINES.items()}
    for f in fractions:
        out[f"fraction {f:g}"] = depth_fraction_baseline(depth, f)
    return out
