"""Explore the layer-wise alignment profile: depth × activation × data set × checkpoint.

The figure answers one question at a time: *for this network, trained on this data, where along
the depth is the tangent-kernel alignment A_l highest, and when?* Training is short and cached, so
the notebook trains a small grid once (:func:`train_alignment_histories`) and the widget only
selects among the stored :class:`~eqhyp_utils.training.TrainingHistory` objects.

* :func:`train_alignment_history` — one cached run of the course's training recipe (a few seconds).
* :func:`alignment_explorer_widget` — ipywidgets controls wired to the drawing function
  :func:`eqhyp_utils.plotting.explorer.plot_alignment_explorer` (the profile A_l at a chosen
  checkpoint against the profile at initialisation, with the output layer's ceiling 1/√(C(C−1))
  and, beside it, the accuracy during training), importable from here as well.

Per-layer arrays follow the package convention: entry i belongs to layer i + 1 (output layer last).
"""
from __future__ import annotations

from typing import Iterable

import matplotlib.pyplot as plt
import numpy as np

from ..alignment import output_layer_ceiling
from ..errors import InvalidInputError, UnsupportedError
from ..experiments.config import RunConfig
from ..experiments.runner import cached_train_run
from ..plotting.explorer import plot_alignment_explorer
from ..training import TrainingHistory

__all__ = ["ACTIVATION_SETTINGS", "output_layer_ceiling", "alignment_run_config", "train_alignment_history",
           "train_alignment_histories", "plot_alignment_explorer", "alignment_explorer_widget"]

#: Initialisation (σ_w², σ_b²) per activation: both at the edge of chaos (χ₁ = 1).
#: ReLU: (2, 0) (He initialisation); tanh: σ_b² = 0.05 and σ_w² = 1.761 (docs/science.md §3).
ACTIVATION_SETTINGS: dict[str, tuple[float, float]] = {"relu": (2.0, 0.0), "tanh": (1.761, 0.05)}

_DATASETS = ("mnist1d", "digits")


def _check_setting(dataset: str, activation: str, depth: int) -> None:
    if dataset not in _DATASETS:
        raise UnsupportedError(f"dataset must be one of {', '.join(_DATASETS)}, got {dataset!r}.")
    if activation not in ACTIVATION_SETTINGS:
        raise UnsupportedError(
            f"activation must be one of {', '.join(ACTIVATION_SETTINGS)}, got {activation!r}.")
    if isinstance(depth, bool) or not isinstance(depth, (int, np.integer)) or depth < 1:
        raise InvalidInputError(f"depth (number of hidden layers L) must be an integer >= 1, got {depth!r}.")


def alignment_run_config(dataset: str = "mnist1d", activation: str = "relu", depth: int = 6, *,
                         width: int = 128, epochs: int = 10, n_per_class: int = 10, lr: float = 0.01,
                         seed: int = 0) -> RunConfig:
    """The explorer's run: the activation's (σ_w², σ_b²) from :data:`ACTIVATION_SETTINGS`, SGD-momentum 0.9,
    batch 128, clipping at 1, cross-entropy, data seed 0, a probe of ``n_per_class`` training points per
    class, the default checkpoint schedule."""
    _check_setting(dataset, activation, depth)
    for name, value in (("width", width), ("epochs", epochs), ("n_per_class", n_per_class)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise InvalidInputError(f"{name} must be an integer >= 1, got {value!r}.")
    sigma_w2, sigma_b2 = ACTIVATION_SETTINGS[activation]
    return RunConfig(dataset=dataset, activation=activation, sigma_w2=sigma_w2, sigma_b2=sigma_b2, depth=int(depth),
                     width=int(width), epochs=int(epochs), probe_per_class=int(n_per_class), lr=float(lr),
                     grad_clip=1.0, seed=int(seed))


def train_alignment_history(dataset: str = "mnist1d", activation: str = "relu", depth: int = 6, *,
                            width: int = 128, epochs: int = 10, n_per_class: int = 10, lr: float = 0.01,
                            seed: int = 0) -> TrainingHistory:
    """Train one MLP at the edge of chaos and record its alignment profile during training (cached).

    The run is :func:`alignment_run_config`, trained by the course's one recipe
    (:func:`eqhyp_utils.experiments.runner.cached_train_run`). Identical arguments return the *same*
    history object (an in-memory cache): do not modify it.
    """
    return cached_train_run(alignment_run_config(dataset, activation, depth, width=width, epochs=epochs,
                                                 n_per_class=n_per_class, lr=lr, seed=seed))


def train_alignment_histories(datasets: Iterable[str] = _DATASETS, activations: Iterable[str] = ("relu", "tanh"),
                              depths: Iterable[int] = (6, 10), **kwargs) -> dict[tuple[str, str, int], TrainingHistory]:
    """Every combination of ``datasets`` × ``activations`` × ``depths``, keyed (dataset, activation, depth).

    Keyword arguments go to :func:`train_alignment_history`.
    """
    return {(d, a, int(L)): train_alignment_history(d, a, int(L), **kwargs)
            for d in datasets for a in activations for L in depths}


def alignment_explorer_widget(histories: "dict[tuple[str, str, int], TrainingHistory]"):
    """An ``ipywidgets.interactive`` over the runs in ``histories`` (run it in JupyterLab)."""
    import ipywidgets as widgets

    if not histories:
        raise InvalidInputError("histories is empty; train some runs with train_alignment_histories first.")
    keys = sorted(histories)
    n_max = max(h.n_checkpoints for h in histories.values())

    def show(dataset, activation, depth, checkpoint):
        key = (dataset, activation, depth)
        if key not in histories:
            print(f"no stored run for {key}")
            return
        h = histories[key]
        plot_alignment_explorer(histories, dataset, activation, depth, min(checkpoint, h.n_checkpoints - 1))
        plt.show()

    return widgets.interactive(
        show,
        dataset=widgets.Dropdown(options=sorted({k[0] for k in keys}), description="data set"),
        activation=widgets.Dropdown(options=sorted({k[1] for k in keys}), description="activation"),
        depth=widgets.Dropdown(options=sorted({k[2] for k in keys}), description="depth L"),
        checkpoint=widgets.IntSlider(value=n_max - 1, min=0, max=n_max - 1, description="checkpoint"),
    )
