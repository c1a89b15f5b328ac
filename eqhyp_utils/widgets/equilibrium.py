r"""Demo of notebook 5: "where will this network align?"

:func:`equilibrium_figure` draws the Equilibrium Hypothesis's prediction for an architecture — the
forward information :math:`F_l = 1 - c_{l-1}`, the backward information
:math:`B_l = \prod_{k=l}^{L}\rho(c_k)` and their crossing :math:`l^*`
(:func:`eqhyp_utils.equilibrium.predict_equilibrium`) — and, when given, a measured alignment profile
:math:`A_l` of a trained network beside it. :func:`train_alignment_profile` trains a small network
on mnist1d (Greydanus 2020) for that purpose; :func:`equilibrium_widget` wires sliders and a
"train" checkbox to both.
"""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from ..equilibrium import baseline_predictions, predict_equilibrium
from ..errors import InvalidInputError
from ..experiments.config import RunConfig
from ..plotting import MARKERS, OKABE_ITO

ACTIVATION_CHOICES = ("relu", "leaky_relu", "tanh", "erf", "gelu")
#: The widget's live training run: short (about 3 s of CPU at L = 16), so only an illustration.
WIDGET_TRAINING = dict(width=64, epochs=5, n_train=2000, lr=0.02)


def equilibrium_run_config(activation: str = "relu", sigma_w2: float = 2.0, sigma_b2: float = 0.0,
                           depth: int = 8, *, width: int = 64, epochs: int = 3, n_train: int = 1000,
                           probe_per_class: int = 10, lr: float = 0.01, seed: int = 0) -> RunConfig:
    """The demo's run: an MLP trained on ``n_train`` mnist1d points with SGD-momentum 0.9, batch 128,
    clipping at 1, cross-entropy; probe of ``probe_per_class`` training points per class; the
    alignment recorded at initialisation and at the end of every epoch."""
    if not (isinstance(n_train, int) and n_train >= 10):
        raise InvalidInputError(f"n_train must be an integer >= 10, got {n_train!r}.")
    return RunConfig(dataset="mnist1d", n_train=n_train, activation=activation, sigma_w2=float(sigma_w2),
                     sigma_b2=float(sigma_b2), depth=int(depth), width=int(width), epochs=int(epochs), lr=float(lr),
                     grad_clip=1.0, probe_per_class=int(probe_per_class), early_fractions=(), seed=int(seed))


def train_alignment_profile(activation: str = "relu", sigma_w2: float = 2.0, sigma_b2: float = 0.0,
                            depth: int = 8, **kwargs):
    """Train :func:`equilibrium_run_config` with the course's one recipe (cached in memory) and return
    its :class:`~eqhyp_utils.training.TrainingHistory`; do not modify the returned object."""
    from ..experiments.runner import cached_train_run

    return cached_train_run(equilibrium_run_config(activation, sigma_w2, sigma_b2, depth, **kwargs))


def equilibrium_figure(activation: str = "relu", sigma_w2: float = 2.0, sigma_b2: float = 0.0, depth: int = 16,
                       *, c0: float = 0.2, measured: "np.ndarray | None" = None,
                       measured_label: str = "measured alignment") -> Figure:
    r"""Left: :math:`F_l` and :math:`B_l` against the layer l = 1 … L + 1 with :math:`l^*` marked.
    Right: the measured alignment profile ``measured`` (length L + 1, entry i = layer i + 1) with
    :math:`l^*`, its argmax and the depth-only baselines marked — or, without ``measured``, a note.
    """
    prediction = predict_equilibrium(activation, sigma_w2, sigma_b2, depth, c0=c0)
    layers = prediction.layers
    if measured is not None:
        measured = np.asarray(measured, dtype=np.float64)
        if measured.shape != (depth + 1,) or not np.all(np.isfinite(measured)):
            raise InvalidInputError(
                f"measured must be a finite alignment profile of length L + 1 = {depth + 1}, got shape {measured.shape}.")

    fig, axes = plt.subplots(1, 2, figsize=(10.5, 3.9), layout="constrained")
    fig.patch.set_facecolor("white")
    ax = axes[0]
    ax.plot(layers, prediction.forward, color=OKABE_ITO[5], marker=MARKERS[1], markersize=4,
            label=r"forward information $1 - c_{l-1}$")
    ax.plot(layers, prediction.backward, color=OKABE_ITO[6], marker=MARKERS[2], markersize=4, linestyle="--",
            label=r"backward information $\prod_{k=l}^{L}\rho(c_k)$")
    ax.axvline(prediction.layer, color="black", linestyle=":", label=rf"equilibrium layer $l^*$ = {prediction.layer}")
    ax.set(xlabel="layer $l$ (output layer = $L+1$)", ylabel="information still present", ylim=(0, 1.05),
           title=rf"{activation}: $\sigma_w^2$ = {sigma_w2:g}, $\sigma_b^2$ = {sigma_b2:g}, $L$ = {depth}")
    ax.legend(fontsize=8, loc="center right")

    ax = axes[1]
    if measured is None:
        ax.text(0.5, 0.5, "no measured profile:\ntrain a network to compare", ha="center", va="center",
                transform=ax.transAxes, fontsize=11, color="grey")
        ax.set(xlabel="layer $l$", ylabel="alignment $A_l$", title="measured alignment")
        ax.set_xlim(0.5, depth + 1.5)
    else:
        ax.plot(layers, measured, color="black", marker="o", markersize=4, label=measured_label)
        peak = int(np.argmax(measured)) + 1
        ax.axvline(prediction.layer, color="black", linestyle=":", label=rf"predicted $l^*$ = {prediction.layer}")
        ax.axvline(peak, color=OKABE_ITO[3], linestyle="-", alpha=0.7, label=f"measured peak = {peak}")
        for i, (name, layer) in enumerate(baseline_predictions(depth).items()):
            ax.plot([layer], [measured[layer - 1]], marker=MARKERS[4 + i], markersize=9, linestyle="none",
                    color=OKABE_ITO[1 + 6 * i], label=f"{name} = {layer}")
        ax.set(xlabel="layer $l$ (output layer = $L+1$)", ylabel="alignment $A_l$", title="measured alignment")
        ax.legend(fontsize=8)
    return fig


def equilibrium_widget():
    """Sliders for the architecture and a checkbox that trains a small network (:data:`WIDGET_TRAINING`:
    width 64, 5 epochs on 2000 mnist1d points, a few seconds) and overlays its final alignment profile."""
    import ipywidgets as w

    def draw(activation, sigma_w2, sigma_b2, depth, train_network):
        try:
            measured, label = None, ""
            if train_network:
                history = train_alignment_profile(activation, sigma_w2, sigma_b2, depth, **WIDGET_TRAINING)
                measured = history.alignment[-1]
                label = f"after {int(history.epochs[-1])} epochs (train acc. {history.train_accuracy[-1]:.2f})"
            fig = equilibrium_figure(activation, sigma_w2, sigma_b2, depth, measured=measured,
                                     measured_label=label or "measured alignment")
        except InvalidInputError as err:
            print(f"Cannot draw this setting: {err}")
            return
        plt.show()

    return w.interactive(
        draw,
        activation=w.Dropdown(options=ACTIVATION_CHOICES, value="relu", description="activation"),
        sigma_w2=w.FloatSlider(value=2.0, min=0.5, max=4.0, step=0.05, description="σ_w²"),
        sigma_b2=w.FloatSlider(value=0.0, min=0.0, max=1.0, step=0.01, description="σ_b²"),
        depth=w.IntSlider(value=16, min=2, max=64, description="depth L"),
        train_network=w.Checkbox(value=False, description="train a small network (a few seconds)"),
    )
