"""The alignment explorer of notebook 2 (wired to sliders by :mod:`eqhyp_utils.widgets.alignment`).

:func:`plot_alignment_explorer` draws the profile A_l at a chosen checkpoint against the profile at
initialisation, with the output layer's ceiling 1/√(C(C−1)) and, beside it, the accuracy during
training with the checkpoint marked. Per-layer arrays follow the package convention: entry i
belongs to layer i + 1 (output layer last).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from ..alignment import output_layer_ceiling
from ..errors import InvalidInputError
from . import LEGEND_PT, OKABE_ITO, _white, for_print, plot_alignment_profile

if TYPE_CHECKING:
    from ..training import TrainingHistory

__all__ = ["plot_alignment_explorer"]


@for_print
def plot_alignment_explorer(histories: "dict[tuple[str, str, int], TrainingHistory]", dataset: str = "mnist1d",
                            activation: str = "relu", depth: int = 10, checkpoint: int = -1) -> Figure:
    """Two panels for the run ``histories[(dataset, activation, depth)]``.

    Left: A_l at checkpoint index ``checkpoint`` (negative counts from the end) and at
    initialisation, against the layer l = 1 … L + 1, with its highest layer marked and the
    output-layer ceiling 1/√(C(C−1)) drawn as a dotted line. Right: train and test accuracy
    against training time, with the chosen checkpoint marked. Returns the Figure.
    """
    key = (dataset, activation, int(depth) if isinstance(depth, (int, np.integer)) else depth)
    if key not in histories:
        raise InvalidInputError(
            f"no run for (dataset, activation, depth) = {key}; available: {sorted(histories)}. "
            "Train it first with train_alignment_history.")
    history = histories[key]
    n = history.n_checkpoints
    if isinstance(checkpoint, bool) or not isinstance(checkpoint, (int, np.integer)) or not -n <= checkpoint < n:
        raise InvalidInputError(f"checkpoint must be an index in {-n}..{n - 1} (this run has {n}), got {checkpoint!r}.")
    k = int(checkpoint) % n
    epoch = float(history.epochs[k])

    fig, (ax, ax_acc) = plt.subplots(1, 2, figsize=(10.5, 3.8), layout="constrained",
                                     gridspec_kw={"width_ratios": [1.6, 1]})
    _white(fig)
    plot_alignment_profile(history.alignment[0], ax=ax, label="initialisation", color=OKABE_ITO[2], marker="s")
    plot_alignment_profile(history.alignment[k], ax=ax, label=f"epoch {epoch:.3g}", color=OKABE_ITO[6],
                           marker="o", mark_layer=history.peak_layer(k), mark_label="highest layer",
                           title=f"{activation}, L = {depth}, {dataset}: alignment profile")
    ceiling = output_layer_ceiling(int(history.config.get("n_classes", 10)))
    ax.axhline(ceiling, color="#555555", ls=":", lw=1.2, label="output-layer ceiling $1/\\sqrt{C(C-1)}$")
    ax.set_ylim(bottom=0)
    ax.legend(frameon=False, fontsize=LEGEND_PT)

    ax_acc.plot(history.epochs, history.train_accuracy, color=OKABE_ITO[0], marker="o", ms=4, label="train")
    ax_acc.plot(history.epochs, history.test_accuracy, color=OKABE_ITO[6], marker="s", ms=4, label="test")
    ax_acc.axvline(epoch, color="#555555", ls="--", lw=1.2, label="checkpoint shown")
    ax_acc.set(xlabel="training time (epochs)", ylabel="accuracy", ylim=(0, 1.02), title="Accuracy")
    ax_acc.set_facecolor("white")
    ax_acc.legend(frameon=False, fontsize=LEGEND_PT)
    return fig
