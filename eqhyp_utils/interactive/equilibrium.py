r"""The Equilibrium Hypothesis explorer: :math:`F_l`, :math:`B_l` and :math:`l^*` for every setting of a grid.

:func:`equilibrium_explorer` precomputes, for every activation × :math:`\sigma_b^2` × :math:`\sigma_w^2` × depth
:math:`L` of its grid, the forward information :math:`F_l = 1 - c_{l-1}`, the backward information
:math:`B_l = \prod_{k=l}^{L}\rho_k` and their crossing :math:`l^*`, with
:func:`eqhyp_utils.equilibrium.predict_equilibrium` — the function notebook 5's figure and sliders call
(:func:`eqhyp_utils.plotting.equilibrium.equilibrium_figure`) — and returns them as an
:class:`~eqhyp_utils.interactive.figure.InteractiveFigure`: an activation selector and sliders for
:math:`\sigma_b^2`, :math:`\sigma_w^2` and :math:`L`.

The :math:`\sigma_w^2` values of an activation are multiples of its edge of chaos at that :math:`\sigma_b^2`
(:func:`eqhyp_utils.signal_propagation.edge_of_chaos_sigma_w2`), so the slider always runs from the ordered
phase through the edge of chaos to the chaotic one; ReLU and leaky ReLU have an edge of chaos only at
:math:`\sigma_b = 0`, and keep its :math:`\sigma_w^2` values at every :math:`\sigma_b^2`. Each value's label
gives its phase (:func:`eqhyp_utils.signal_propagation.phase`: ordered, edge of chaos or chaotic, by
:math:`\chi_1`; for ReLU-like activations :math:`\chi_1 = \sigma_w^2(1+s^2)/2` does not depend on :math:`\sigma_b^2`).
"""
from __future__ import annotations

import math
from typing import Sequence

from ..activations import ACTIVATIONS
from ..equilibrium import predict_equilibrium
from ..errors import InvalidInputError
from ..plotting import OKABE_ITO
from ..signal_propagation import edge_of_chaos_sigma_w2, phase
from .figure import Control, InteractiveFigure, Layout, Trace, TraceStyle, VerticalLine, View

__all__ = ["EXPLORER_ACTIVATIONS", "EXPLORER_SIGMA_B2", "EXPLORER_SIGMA_W2_FACTORS", "EXPLORER_DEPTHS",
           "explorer_sigma_w2", "equilibrium_explorer"]

#: The explorer's default grid: activations, bias variances, multiples of the edge of chaos, depths.
EXPLORER_ACTIVATIONS = ("relu", "tanh", "erf")
EXPLORER_SIGMA_B2 = (0.0, 0.05, 0.2)
EXPLORER_SIGMA_W2_FACTORS = (0.8, 0.9, 1.0, 1.1, 1.25)
EXPLORER_DEPTHS = (6, 10, 16, 24, 32, 48, 64)


def _numbers(values: Sequence[float], what: str, *, low: float, integer: bool = False) -> tuple:
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence) or not values:
        raise InvalidInputError(f"{what} must be a non-empty sequence, got {values!r}.")
    out = []
    for v in values:
        ok = (isinstance(v, int) if integer else isinstance(v, (int, float))) and not isinstance(v, bool)
        if not ok or not math.isfinite(v) or not v >= low:
            kind = "integers" if integer else "finite numbers"
            raise InvalidInputError(f"{what} must be {kind} >= {low:g}, got {v!r}.")
        out.append(int(v) if integer else float(v))
    if len(set(out)) != len(out):
        raise InvalidInputError(f"{what} must be distinct, got {values!r}.")
    return tuple(out)


def explorer_sigma_w2(activation: str, sigma_b2: float,
                      factors: Sequence[float] = EXPLORER_SIGMA_W2_FACTORS) -> list[float]:
    r"""The :math:`\sigma_w^2` values of ``activation`` at ``sigma_b2``: ``factors`` times its edge of chaos there
    (at :math:`\sigma_b = 0` for ReLU-like activations, which have no edge of chaos when :math:`\sigma_b > 0`)."""
    try:
        centre = edge_of_chaos_sigma_w2(activation, sigma_b2)
    except InvalidInputError:
        try:
            centre = edge_of_chaos_sigma_w2(activation, 0.0)
        except InvalidInputError as err:
            raise InvalidInputError(f"{activation!r} has no edge of chaos to centre the σ_w² values on ({err}); "
                                    f"choose among {EXPLORER_ACTIVATIONS}.") from None
    return [float(f) * centre for f in factors]


def _phase(activation: str, sigma_w2: float, sigma_b2: float) -> str:
    """The phase of a setting; for ReLU-like activations, whose χ₁ = σ_w²(1 + s²)/2 does not depend on σ_b²
    (and whose variance has no fixed point when σ_w² ≥ 2/(1 + s²) and σ_b > 0), the phase at σ_b = 0."""
    try:
        return phase(activation, sigma_w2, sigma_b2)
    except InvalidInputError:
        return phase(activation, sigma_w2, 0.0)


def equilibrium_explorer(activations: Sequence[str] = EXPLORER_ACTIVATIONS,
                         sigma_b2_values: Sequence[float] = EXPLORER_SIGMA_B2,
                         sigma_w2_factors: Sequence[float] = EXPLORER_SIGMA_W2_FACTORS,
                         depths: Sequence[int] = EXPLORER_DEPTHS, *, c0: float = 0.2) -> InteractiveFigure:
    r"""The EH's prediction for every setting of a grid, as an interactive figure (notebook 5).

    For each activation, :math:`\sigma_b^2` in ``sigma_b2_values``, :math:`\sigma_w^2` in
    :func:`explorer_sigma_w2` (``sigma_w2_factors`` times the edge of chaos) and depth :math:`L` in ``depths``:
    :math:`F_l` and :math:`B_l` for :math:`l = 1 … L + 1` and the equilibrium layer :math:`l^*`, from
    :func:`~eqhyp_utils.equilibrium.predict_equilibrium` with input correlation ``c0``. The default grid
    (3 × 3 × 5 × 7 = 315 settings) takes a few seconds and adds about 190 kB to a page.

    Example (a notebook cell; it shows a still image, and the interactive figure in the book)::

        from eqhyp_utils.interactive import equilibrium_explorer
        equilibrium_explorer()
    """
    if isinstance(activations, str) or not isinstance(activations, Sequence) or not activations:
        raise InvalidInputError(f"activations must be a non-empty sequence of names, got {activations!r}.")
    if len(set(activations)) != len(activations):
        raise InvalidInputError(f"activations must be distinct, got {activations!r}.")
    unknown = [a for a in activations if a not in ACTIVATIONS]
    if unknown:
        raise InvalidInputError(f"unsupported activation(s) {unknown}; choose among {sorted(ACTIVATIONS)} that have "
                                f"an edge of chaos, e.g. {list(EXPLORER_ACTIVATIONS)}.")
    sigma_b2_values = _numbers(sigma_b2_values, "sigma_b2_values", low=0.0)
    factors = _numbers(sigma_w2_factors, "sigma_w2_factors", low=1e-3)
    depths = _numbers(depths, "depths", low=1, integer=True)
    if 1.0 not in factors:
        raise InvalidInputError(f"sigma_w2_factors must contain 1 (the edge of chaos itself), "
                                f"got {sigma_w2_factors!r}.")

    weights: dict[float, str] = {}
    views = {}
    for activation in activations:
        for sigma_b2 in sigma_b2_values:
            for sigma_w2 in explorer_sigma_w2(activation, sigma_b2, factors):
                label = f"{sigma_w2:.4g} ({_phase(activation, sigma_w2, sigma_b2)})"
                if weights.setdefault(sigma_w2, label) != label:
                    raise InvalidInputError(f"σ_w² = {sigma_w2!r} would be labelled both {weights[sigma_w2]!r} and "
                                            f"{label!r}; change sigma_w2_factors slightly.")
                for depth in depths:
                    prediction = predict_equilibrium(activation, sigma_w2, sigma_b2, depth, c0=c0)
                    views[(activation, sigma_b2, sigma_w2, depth)] = View(
                        traces=(Trace("forward", prediction.forward), Trace("backward", prediction.backward)),
                        lines=(VerticalLine(prediction.layer, f"equilibrium layer l* = {prediction.layer}"),),
                        x_range=(0.5, depth + 1.5))

    ordered = sorted(weights)
    sigma_w2 = "σ<sub>w</sub><sup>2</sup>"
    sigma_b2 = "σ<sub>b</sub><sup>2</sup>"
    controls = (
        Control("activation", "activation", tuple(activations)),
        Control("sigma_b2", sigma_b2, sigma_b2_values, kind="slider"),
        Control("sigma_w2", sigma_w2, tuple(ordered), kind="slider", labels=tuple(weights[w] for w in ordered),
                default=explorer_sigma_w2(activations[0], sigma_b2_values[0], factors)[factors.index(1.0)]),
        Control("depth", "depth L", depths, kind="slider", default=min(depths, key=lambda L: (abs(L - 16), L))),
    )
    styles = {
        "forward": TraceStyle("forward information F<sub>l</sub> = 1 − c<sub>l−1</sub>", color=OKABE_ITO[5],
                              marker="square", size=5),
        "backward": TraceStyle("backward information B<sub>l</sub> = ∏<sub>k≥l</sub> ρ<sub>k</sub>",
                               color=OKABE_ITO[6], dash="dash", marker="triangle-up", size=6),
    }
    layout = Layout(x_title="layer l (output layer = L + 1)", y_title="information still present",
                    title=f"{{activation}}: {sigma_w2} = {{sigma_w2}}, {sigma_b2} = {{sigma_b2}}, L = {{depth}}",
                    x_integer=True, y_range=(0.0, 1.05))
    alt = ("Forward information F_l and backward information B_l against the layer l, with the equilibrium "
           "layer l* where the backward curve first reaches the forward one; controls choose the activation, "
           "the bias variance, the weight variance and the depth L.")
    return InteractiveFigure("Where will this network align? The equilibrium layer l*", controls, views, styles,
                             layout, alt)
