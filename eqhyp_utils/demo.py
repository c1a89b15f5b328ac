"""The course's quick end-to-end demo: train a ReLU network at the edge of chaos and watch where
the tangent-kernel alignment peaks.

A ReLU MLP with σ_w² = 2, σ_b = 0 (ReLU's edge of chaos) is trained with SGD-momentum on
locally synthesised MNIST-1D. The alignment A_l of every layer (Baratin et al. 2021) is measured on
a class-balanced probe set of training points during training. The demo prints the profile at
initialisation and after training, the peak layer, and saves a figure. A few seconds on 2 cores.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from .data import balanced_subset, load_dataset
from .models import MLP
from .plotting import plot_alignment_during_training, plot_alignment_profile
from .training import TrainConfig, TrainingHistory, train

__all__ = ["run_demo", "alignment_table", "near_peak_layers"]


def near_peak_layers(alignment: np.ndarray, tolerance: float = 0.05) -> list[int]:
    """Layers (1-based) whose alignment is within ``tolerance`` (relative) of the highest one."""
    a = np.asarray(alignment, dtype=np.float64)
    return [int(l) + 1 for l in np.flatnonzero(a >= (1 - tolerance) * a.max())]


def alignment_table(history: TrainingHistory, digits: int = 4) -> str:
    """Plain-text table: one row per layer, alignment at initialisation and after training."""
    first, last = history.alignment[0], history.alignment[-1]
    n_layers = len(last)
    lines = [f"{'layer':>7}  {f'epoch {history.epochs[0]:g}':>10}  {f'epoch {history.epochs[-1]:g}':>10}",
             "-" * 31]
    for l in range(1, n_layers + 1):
        name = f"{l}" + ("*" if l == n_layers else "")
        lines.append(f"{name:>7}  {first[l - 1]:>10.{digits}f}  {last[l - 1]:>10.{digits}f}")
    lines.append("(* = output layer L+1)")
    return "\n".join(lines)


def run_demo(*, dataset: str = "mnist1d", depth: int = 6, width: int = 128, epochs: int = 3, seed: int = 0,
             out_dir: "str | os.PathLike" = "demo_output", progress: bool = True, n_train: int = 4000,
             n_test: int = 1000, n_probe_per_class: int = 20, lr: float = 0.03,
             cache_dir: "str | os.PathLike | None" = None) -> TrainingHistory:
    """Train a depth-``depth`` ReLU MLP at the edge of chaos and report its layer-wise alignment.

    Protocol: SGD-momentum (lr ``lr``, momentum 0.9, batch 128, gradient-norm clipping at 1),
    cross-entropy, standardised data, probe set of ``n_probe_per_class`` training points per
    class; alignment measured at initialisation, at 1/8, 1/4, 1/2 of the first epoch and at the
    end of every epoch. Writes ``alignment_profile.png`` and ``history.json`` to ``out_dir`` and
    returns the :class:`~eqhyp_utils.training.TrainingHistory`. ``dataset`` is any name accepted by
    :func:`eqhyp_utils.data.load_dataset` (MNIST-1D and digits use ``n_train``/``n_test`` where
    they apply).
    """
    if dataset == "mnist1d":
        train_set, test_set = load_dataset("mnist1d", n_train=n_train, n_test=n_test, seed=seed, cache_dir=cache_dir)
    elif dataset == "gaussian":
        train_set, test_set = load_dataset("gaussian", n_train=n_train, n_test=n_test, seed=seed)
    else:
        train_set, test_set = load_dataset(dataset, seed=seed)
    probe = balanced_subset(train_set, n_probe_per_class, seed=seed)
    model = MLP(train_set.n_features, train_set.n_classes, depth=depth, width=width, activation="relu",
                sigma_w2=2.0, sigma_b2=0.0, seed=seed)
    config = TrainConfig(optimizer="momentum", lr=lr, momentum=0.9, epochs=epochs, batch_size=128,
                         loss="cross_entropy", grad_clip=1.0, seed=seed)
    history = train(model, train_set, probe, config, test=test_set, progress=progress)

    print(f"ReLU MLP at the edge of chaos (σ_w² = 2, σ_b = 0): L = {depth} hidden layers of width {width}, "
          f"{dataset} ({len(train_set)} train / {len(test_set)} test), probe of {len(probe)} points, seed {seed}")
    print(f"train accuracy {history.train_accuracy[0]:.3f} -> {history.train_accuracy[-1]:.3f}, "
          f"test accuracy {history.test_accuracy[-1]:.3f}" + ("  [DIVERGED]" if history.diverged else ""))
    print("Layer-wise tangent-kernel alignment A_l on the probe set:")
    print(alignment_table(history))
    print(f"peak layer: {history.peak_layer(0)} of {history.n_layers} at initialisation, "
          f"{history.peak_layer(-1)} of {history.n_layers} after {history.epochs[-1]:g} epochs")
    print(f"layers within 5 % of the final peak: {', '.join(map(str, near_peak_layers(history.alignment[-1])))}"
          " (differences this small are within seed and probe-set noise)")

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    with plt.rc_context({"figure.dpi": 100}):
        fig, (ax_profile, ax_time) = plt.subplots(1, 2, figsize=(11, 3.8), layout="constrained")
        plot_alignment_profile(history.alignment[0], ax=ax_profile, label="initialisation")
        plot_alignment_profile(history.alignment[-1], ax=ax_profile, label=f"after {history.epochs[-1]:g} epochs",
                               mark_layer=history.peak_layer(-1), mark_label="peak after training",
                               title=f"Alignment, ReLU MLP L = {depth} (edge of chaos)")
        plot_alignment_during_training(history, ax=ax_time)
        figure_path = out / "alignment_profile.png"
        fig.savefig(figure_path, facecolor="white")
        plt.close(fig)
    (out / "history.json").write_text(json.dumps(history.to_dict(), indent=1))
    print(f"figure saved to {figure_path}")
    return history
