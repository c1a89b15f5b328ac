"""The course's quick end-to-end demo: train a ReLU network at the edge of chaos and watch where
the tangent-kernel alignment peaks.

A ReLU MLP with σ_w² = 2, σ_b = 0 (ReLU's edge of chaos) is trained with SGD-momentum on
locally synthesised MNIST-1D — the course's one training recipe,
:func:`eqhyp_utils.experiments.runner.train_run`, with the settings of :data:`DEMO` — and the
alignment A_l of every layer (Baratin et al. 2021) is measured on a class-balanced probe set of
training points during training. The demo prints the profile at initialisation and after training,
the peak layer, and saves a figure. About ten seconds on 2 cores.
"""
from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

import matplotlib.pyplot as plt

from .experiments.config import RunConfig
from .peaks import near_peak_layers
from .plotting import plot_alignment_during_training, plot_alignment_profile
from .training import TrainingHistory

__all__ = ["DEMO", "run_demo", "alignment_table", "near_peak_layers"]

#: The demo's run: ReLU at the edge of chaos, L = 6, width 128, 3 epochs of SGD-momentum (lr 0.03,
#: batch 128, clipping at 1) on 4,000 MNIST-1D points, a probe of 20 training points per class.
DEMO = RunConfig(dataset="mnist1d", n_train=4000, n_test=1000, data_seed=0, activation="relu", sigma_w2=2.0,
                 sigma_b2=0.0, depth=6, width=128, optimizer="momentum", lr=0.03, momentum=0.9, epochs=3,
                 batch_size=128, grad_clip=1.0, probe_per_class=20, seed=0)


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


def run_demo(config: "RunConfig | None" = None, *, out_dir: "str | os.PathLike" = "demo_output",
             progress: bool = True, **overrides) -> TrainingHistory:
    """Train the demo's network and report its layer-wise alignment.

    ``config`` defaults to :data:`DEMO`; keyword ``overrides`` replace any of its fields (e.g.
    ``depth=10, epochs=5``). Writes ``alignment_profile.png`` and ``history.json`` to ``out_dir``
    and returns the :class:`~eqhyp_utils.training.TrainingHistory`.
    """
    from .experiments.runner import train_run

    config = dataclasses.replace(config or DEMO, **overrides)
    history = train_run(config, progress=progress)
    sizes = history.config
    print(f"{config.activation} MLP (σ_w² = {config.sigma_w2:g}, σ_b² = {config.sigma_b2:g}): L = {config.depth} "
          f"hidden layers of width {config.width}, {config.dataset} ({sizes['n_train']} train / {sizes['n_test']} "
          f"test), probe of {sizes['n_probe']} points, seed {config.seed}")
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
                               title=f"Alignment, {config.activation} MLP L = {config.depth}")
        plot_alignment_during_training(history, ax=ax_time)
        figure_path = out / "alignment_profile.png"
        fig.savefig(figure_path, facecolor="white")
        plt.close(fig)
    (out / "history.json").write_text(json.dumps(history.to_dict(), indent=1))
    print(f"figure saved to {figure_path}")
    return history
