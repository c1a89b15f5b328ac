"""Figure functions shared by the demo, the experiments and the notebooks.

Every function draws labelled axes with a title on an opaque white background, uses colour-blind
safe colours (the Okabe–Ito palette for categories, ``viridis`` for ordered quantities such as
training time or depth) together with markers, and returns its Axes (or Figure for multi-panel
figures); none calls ``plt.show``. Layers are drawn at their index 1 … L + 1, output layer last.
"""
from __future__ import annotations

from typing import Sequence

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from ..errors import InvalidInputError

__all__ = ["OKABE_ITO", "MARKERS", "layer_axis", "plot_alignment_profile", "plot_alignment_during_training",
           "plot_curves_by_layer", "plot_training_curves"]

#: Okabe & Ito (2008) colour-blind safe palette (black first).
OKABE_ITO = ("#000000", "#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7")
#: Markers paired with the palette so that curves differ in shape as well as colour.
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")
_OUTPUT_SHADE = "#DDDDDD"


def _new_axes(ax: "Axes | None", figsize=(5.5, 3.6)) -> Axes:
    if ax is None:
        fig, ax = plt.subplots(figsize=figsize, layout="constrained")
    _white(ax.figure)
    ax.set_facecolor("white")
    return ax


def _white(fig: Figure) -> None:
    fig.patch.set_facecolor("white")
    fig.patch.set_alpha(1.0)


def _as_profile(values, name: str) -> np.ndarray:
    a = np.asarray(values, dtype=np.float64)
    if a.ndim != 1 or len(a) < 1:
        raise InvalidInputError(f"{name} must be a 1-D array with one value per layer (length L + 1), "
                                f"got shape {a.shape}.")
    return a


def layer_axis(ax: Axes, n_layers: int, *, label: str = "layer $l$ (output layer = $L+1$)") -> Axes:
    """Put integer layer ticks 1 … n_layers on the x axis (thinned for deep nets) and label it."""
    if isinstance(n_layers, bool) or not isinstance(n_layers, (int, np.integer)) or n_layers < 1:
        raise InvalidInputError(f"n_layers must be an integer >= 1, got {n_layers!r}.")
    ax.set_xlim(0.5, n_layers + 0.5)
    if n_layers <= 20:
        ax.set_xticks(np.arange(1, n_layers + 1))
    else:
        ax.xaxis.set_major_locator(MaxNLocator(nbins=10, integer=True, min_n_ticks=3))
    ax.set_xlabel(label)
    return ax


def _mark_output_layer(ax: Axes, n_layers: int) -> None:
    """Shade the output layer L + 1 (its kernel is block-diagonal, so its alignment is capped)."""
    if not any(getattr(p, "_eqhyp_output", False) for p in ax.patches):
        span = ax.axvspan(n_layers - 0.5, n_layers + 0.5, color=_OUTPUT_SHADE, alpha=0.6, zorder=0, lw=0)
        span._eqhyp_output = True
        ax.text(n_layers, 0.98, "output", transform=ax.get_xaxis_transform(), ha="center", va="top",
                fontsize="small", color="#444444")


def plot_alignment_profile(alignment, ax: "Axes | None" = None, label: "str | None" = None,
                           mark_layer: "int | None" = None, *, color: "str | None" = None,
                           marker: "str | None" = None, mark_label: str = "predicted layer",
                           title: str = "Layer-wise tangent-kernel alignment") -> Axes:
    """Alignment A_l against the layer index l = 1 … L + 1 (entry i of ``alignment`` is layer i + 1).

    The output layer is shaded; ``mark_layer`` (1-based) draws a dashed vertical line, e.g. at a
    predicted equilibrium layer. Call repeatedly on the same ``ax`` to overlay profiles: colours
    and markers cycle through :data:`OKABE_ITO` / :data:`MARKERS`. Returns the Axes.
    """
    a = _as_profile(alignment, "alignment")
    ax = _new_axes(ax)
    k = len(ax.lines)
    layers = np.arange(1, len(a) + 1)
    ax.plot(layers, a, color=color or OKABE_ITO[k % len(OKABE_ITO)], marker=marker or MARKERS[k % len(MARKERS)],
            ms=5, lw=1.6, label=label)
    if mark_layer is not None:
        if not (isinstance(mark_layer, (int, np.integer)) and 1 <= mark_layer <= len(a)):
            raise InvalidInputError(f"mark_layer must be a layer index in 1..{len(a)}, got {mark_layer!r}.")
        ax.axvline(mark_layer, color="#555555", ls="--", lw=1.2, label=mark_label)
    _mark_output_layer(ax, len(a))
    layer_axis(ax, len(a))
    ax.set_ylabel("alignment $A_l$")
    ax.set_title(title)
    if label is not None or mark_layer is not None:
        ax.legend(frameon=False, fontsize="small")
    return ax


def plot_alignment_during_training(history, ax: "Axes | None" = None, *, cmap: str = "viridis",
                                   title: str = "Alignment profile during training") -> Axes:
    """One alignment profile per checkpoint of a :class:`~eqhyp_utils.training.TrainingHistory`,
    coloured by training time (epochs) with a colourbar. Returns the Axes."""
    alignment = np.asarray(history.alignment, dtype=np.float64)
    epochs = np.asarray(history.epochs, dtype=np.float64)
    if alignment.ndim != 2 or len(alignment) == 0:
        raise InvalidInputError(f"history.alignment must have shape (n_checkpoints >= 1, L + 1), "
                                f"got {alignment.shape}.")
    ax = _new_axes(ax)
    norm = mpl.colors.Normalize(vmin=epochs.min(), vmax=max(epochs.max(), epochs.min() + 1e-12))
    colormap = mpl.colormaps[cmap]
    layers = np.arange(1, alignment.shape[1] + 1)
    for t, row in zip(epochs, alignment):
        ax.plot(layers, row, color=colormap(norm(t)), marker="o", ms=3, lw=1.2)
    _mark_output_layer(ax, alignment.shape[1])
    layer_axis(ax, alignment.shape[1])
    ax.set_ylabel("alignment $A_l$")
    ax.set_title(title)
    bar = ax.figure.colorbar(mpl.cm.ScalarMappable(norm=norm, cmap=colormap), ax=ax)
    bar.set_label("training time (epochs)")
    return ax


def plot_curves_by_layer(times, values, *, layers: "Sequence[int] | None" = None, ax: "Axes | None" = None,
                         cmap: str = "viridis", xlabel: str = "training time (epochs)",
                         ylabel: str = "alignment $A_l$", title: str = "Alignment of each layer during training",
                         log_x: bool = False) -> Axes:
    """One curve per layer of ``values`` (shape (n_times, L + 1); column i is layer i + 1) against
    ``times``, coloured by depth with a colourbar. ``layers`` (1-based) selects a subset. Returns the Axes.

    Typical use: ``plot_curves_by_layer(history.epochs, history.alignment)``.
    """
    t = np.asarray(times, dtype=np.float64)
    v = np.asarray(values, dtype=np.float64)
    if v.ndim != 2 or t.ndim != 1 or len(t) != len(v):
        raise InvalidInputError(f"values must have shape (len(times), L + 1) and times be 1-D; got times "
                                f"{t.shape} and values {v.shape}.")
    n_layers = v.shape[1]
    chosen = list(range(1, n_layers + 1)) if layers is None else [int(l) for l in layers]
    if not chosen or any(not 1 <= l <= n_layers for l in chosen):
        raise InvalidInputError(f"layers must be indices in 1..{n_layers}, got {layers!r}.")
    ax = _new_axes(ax)
    norm = mpl.colors.Normalize(vmin=1, vmax=max(n_layers, 2))
    colormap = mpl.colormaps[cmap]
    for l in chosen:
        ax.plot(t, v[:, l - 1], color=colormap(norm(l)), marker=MARKERS[(l - 1) % len(MARKERS)], ms=3, lw=1.3,
                label=f"layer {l}" + (" (output)" if l == n_layers else ""))
    if log_x:
        ax.set_xscale("symlog", linthresh=max(float(np.min(t[t > 0])) if (t > 0).any() else 1.0, 1e-3))
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    bar = ax.figure.colorbar(mpl.cm.ScalarMappable(norm=norm, cmap=colormap), ax=ax)
    bar.set_label("layer $l$")
    return ax


def plot_training_curves(history, *, title: str = "Training curves") -> Figure:
    """Two panels: the loss (per-step mini-batch loss and checkpoint train/test loss, log scale) and
    the train/test accuracy at the checkpoints, both against epochs. Returns the Figure."""
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10, 3.6), layout="constrained")
    _white(fig)
    spe = max(int(history.steps_per_epoch), 1)
    if len(history.loss_values):
        ax_loss.plot(np.asarray(history.loss_steps) / spe, history.loss_values, color=OKABE_ITO[2], lw=0.8,
                     alpha=0.8, label="mini-batch")
    ax_loss.plot(history.epochs, history.train_loss, color=OKABE_ITO[0], marker="o", ms=4, label="train set")
    ax_acc.plot(history.epochs, history.train_accuracy, color=OKABE_ITO[0], marker="o", ms=4, label="train")
    if np.isfinite(np.asarray(history.test_loss, dtype=float)).any():
        ax_loss.plot(history.epochs, history.test_loss, color=OKABE_ITO[6], marker="s", ms=4, label="test set")
        ax_acc.plot(history.epochs, history.test_accuracy, color=OKABE_ITO[6], marker="s", ms=4, label="test")
    finite = np.asarray(history.loss_values, dtype=float)
    if len(finite) and (finite[np.isfinite(finite)] > 0).all():
        ax_loss.set_yscale("log")
    if history.diverged:
        for ax in (ax_loss, ax_acc):
            ax.axvline(history.diverged_at_step / spe, color=OKABE_ITO[6], ls=":", label="diverged")
    ax_loss.set(xlabel="training time (epochs)", ylabel="loss", title="Loss")
    ax_acc.set(xlabel="training time (epochs)", ylabel="accuracy", title="Accuracy", ylim=(0, 1.02))
    for ax in (ax_loss, ax_acc):
        ax.set_facecolor("white")
        ax.legend(frameon=False, fontsize="small")
    fig.suptitle(title)
    return fig
