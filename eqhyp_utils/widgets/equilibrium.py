r"""Demo of notebook 5: "where will this network align?"

:func:`~eqhyp_utils.plotting.equilibrium.equilibrium_figure` (drawn in :mod:`eqhyp_utils.plotting`,
importable from here as well) draws the Equilibrium Hypothesis's prediction for an architecture — the
forward information :math:`F_l = 1 - c_{l-1}`, the backward information
:math:`B_l = \prod_{k=l}^{L}\rho(c_k)` and their crossing :math:`l^*`
(:func:`eqhyp_utils.equilibrium.predict_equilibrium`) — and, when given, a measured alignment profile
:math:`A_l` of a trained network beside it. :func:`train_alignment_profile` trains a small network
on mnist1d (Greydanus 2020) for that purpose; :func:`equilibrium_widget` wires sliders and a
"train" checkbox to both.
"""
from __future__ import annotations

import matplotlib.pyplot as plt

from ..errors import InvalidInputError
from ..experiments.config import RunConfig
from ..plotting.equilibrium import equilibrium_figure

__all__ = ["ACTIVATION_CHOICES", "WIDGET_TRAINING", "equilibrium_run_config", "train_alignment_profile",
           "equilibrium_figure", "equilibrium_widget"]

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
            equilibrium_figure(activation, sigma_w2, sigma_b2, depth, measured=measured,
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
