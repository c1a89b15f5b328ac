"""The course's figures: every function that draws a figure lives in this package.

This module holds the shared style and the generic figures (alignment profiles, training curves);
the topic modules hold the figures of the notebooks and of the experiment report:

* :mod:`~eqhyp_utils.plotting.explorer`: the alignment explorer of notebook 2;
* :mod:`~eqhyp_utils.plotting.signal_propagation`: mean field against finite networks (notebooks 3, 4);
* :mod:`~eqhyp_utils.plotting.equilibrium`: the Equilibrium Hypothesis's prediction (notebook 5);
* :mod:`~eqhyp_utils.plotting.experiments`: the experiments against the prediction (notebooks 6, 7);
* :mod:`~eqhyp_utils.plotting.report`: the figures written by the experiment report;
* :mod:`~eqhyp_utils.plotting.interactive`: the still image of an interactive book figure.

The widgets in :mod:`eqhyp_utils.widgets` only wire controls to these functions.

Every function draws labelled axes with a title on an opaque white background, uses colour-blind
safe colours (the Okabe–Ito palette for categories, ``viridis`` for ordered quantities such as
training time or depth) together with markers, puts integer ticks on every axis that counts layers
(:func:`layer_axis`), and returns its Axes (or Figure for multi-panel figures); none calls
``plt.show`` or changes global matplotlib settings. Layers are drawn at their index 1 … L + 1,
output layer last.

**Print sizes.** Chapters are printed with figures of 10–11 inches scaled to the text width
(about 6.5 inches), so every figure function is wrapped by :func:`for_print`: it draws inside
:func:`print_style` (a temporary ``rc_context`` with the sizes of :data:`PRINT_SIZES`) and then
raises any text of the axes it drew that is still smaller than :data:`MIN_FONT_PT` (9 pt), tick
labels created later included. Global ``rcParams`` are never changed.
"""
from __future__ import annotations

import functools
import inspect
from typing import Callable, Sequence, TypeVar

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.text import Text
from matplotlib.ticker import MaxNLocator

from ..errors import InvalidInputError

__all__ = ["OKABE_ITO", "MARKERS", "PRINT_SIZES", "MIN_FONT_PT", "LEGEND_PT", "print_style", "for_print",
           "new_panels", "layer_axis", "integer_ticks", "plot_alignment_profile", "plot_alignment_during_training",
           "plot_curves_by_layer", "plot_training_curves"]

#: Okabe & Ito (2008) colour-blind safe palette (black first).
OKABE_ITO = ("#000000", "#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7")
#: Markers paired with the palette so that curves differ in shape as well as colour.
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")
_OUTPUT_SHADE = "#DDDDDD"

#: Font sizes (points) of the figures, chosen for a figure of 10–11 inches printed at ~6.5 inches.
PRINT_SIZES = {"font.size": 10.0, "axes.titlesize": 11.0, "axes.labelsize": 10.0, "xtick.labelsize": 10.0,
               "ytick.labelsize": 10.0, "legend.fontsize": 9.0, "legend.title_fontsize": 9.0,
               "figure.titlesize": 12.0, "figure.labelsize": 10.0}
#: No text of a figure is smaller than this (points).
MIN_FONT_PT = 9.0
#: Legend font size (points) used by the figure functions.
LEGEND_PT = PRINT_SIZES["legend.fontsize"]

_F = TypeVar("_F", bound=Callable)


def print_style():
    """A temporary matplotlib ``rc_context`` with the print sizes of :data:`PRINT_SIZES`.

    ``with print_style(): ...`` draws with these sizes and restores every setting afterwards; the
    figure functions of this package use it through :func:`for_print`.
    """
    return mpl.rc_context(PRINT_SIZES)


def _at_least(text: Text, size: float) -> None:
    if text.get_text() and text.get_fontsize() < size:
        text.set_fontsize(size)


def _print_sizes(fig: Figure, axes: Sequence[Axes]) -> None:
    """Tick labels at the print size (also those created at draw time) and no text under MIN_FONT_PT."""
    for ax in axes:
        ax.tick_params(axis="both", which="both", labelsize=PRINT_SIZES["xtick.labelsize"])
        for text in ax.findobj(Text):
            _at_least(text, MIN_FONT_PT)
    for text in [*fig.texts, getattr(fig, "_suptitle", None), getattr(fig, "_supxlabel", None),
                 getattr(fig, "_supylabel", None)]:
        if text is not None:
            _at_least(text, MIN_FONT_PT)
    for legend in fig.legends:
        for text in legend.findobj(Text):
            _at_least(text, MIN_FONT_PT)


def for_print(func: _F) -> _F:
    """Decorator of the figure functions: draw inside :func:`print_style`, then make the tick labels of
    every axes the function drew (the ``ax`` it was given, new axes such as colourbars) print-sized and
    raise any text still under :data:`MIN_FONT_PT`. The function must return a Figure or an Axes."""
    signature = inspect.signature(func)

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            given = signature.bind_partial(*args, **kwargs).arguments.get("ax")
        except TypeError:
            given = None
        before = set(given.figure.axes) if isinstance(given, Axes) else set()
        with print_style():
            result = func(*args, **kwargs)
        fig = result if isinstance(result, Figure) else result.figure
        _print_sizes(fig, [a for a in fig.axes if a not in before or a is given])
        return result

    wrapper.for_print = True
    return wrapper  # type: ignore[return-value]


def new_panels(n_rows: int = 1, n_cols: int = 1, *, width: float = 5.5, height: float = 3.6,
               pyplot: bool = True, **subplots_kw) -> tuple[Figure, np.ndarray]:
    """A white constrained-layout Figure of ``n_rows`` × ``n_cols`` panels (each ``width`` × ``height``
    inches) and its Axes as a 2-D array. ``pyplot=True`` registers it with pyplot (``plt.show`` displays it,
    as the notebooks do); ``pyplot=False`` gives a plain :class:`~matplotlib.figure.Figure` that no global
    registry holds, for figures written to files."""
    size = (width * n_cols, height * n_rows)
    if pyplot:
        fig = plt.figure(figsize=size, layout="constrained")
    else:
        fig = Figure(figsize=size, layout="constrained")
    _white(fig)
    axes = np.array(fig.subplots(n_rows, n_cols, squeeze=False, **subplots_kw))
    for ax in axes.flat:
        ax.set_facecolor("white")
    return fig, axes


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


def layer_axis(ax: Axes, n_layers: int, *, label: str = "layer $l$ (output layer = $L+1$)", first: int = 1,
               axis: str = "x") -> Axes:
    """Put integer layer ticks ``first`` … n_layers on the x (or y) axis and label it.

    Every layer gets a tick when the labels fit side by side at the print size (at most 20 ticks);
    otherwise the ticks are thinned to integers 2, 5 or 10 apart. The limits are ``first - 0.5`` …
    ``n_layers + 0.5``; ``first=0`` includes the input (layer 0).
    """
    if isinstance(n_layers, bool) or not isinstance(n_layers, (int, np.integer)) or n_layers < 1:
        raise InvalidInputError(f"n_layers must be an integer >= 1, got {n_layers!r}.")
    if isinstance(first, bool) or not isinstance(first, (int, np.integer)) or not 0 <= first <= n_layers:
        raise InvalidInputError(f"first must be an integer in 0..n_layers, got {first!r}.")
    if axis not in ("x", "y"):
        raise InvalidInputError(f"axis must be 'x' or 'y', got {axis!r}.")
    which = ax.xaxis if axis == "x" else ax.yaxis
    if axis == "x":
        ax.set_xlim(first - 0.5, n_layers + 0.5)
        ax.set_xlabel(label)
    else:
        ax.set_ylim(first - 0.5, n_layers + 0.5)
        ax.set_ylabel(label)
    # every layer if the labels fit side by side at the print size (at most 20), else every 2nd, 5th, …
    box = ax.get_position()
    length = (box.width * ax.figure.get_figwidth()) if axis == "x" else (box.height * ax.figure.get_figheight())
    per_label = PRINT_SIZES["xtick.labelsize"] * ((0.6 * len(str(n_layers)) + 0.8) if axis == "x" else 1.8)
    room = int(length * 72 / per_label)
    if n_layers - first + 1 <= min(20, room):
        which.set_ticks(np.arange(first, n_layers + 1))
    else:
        which.set_major_locator(MaxNLocator(nbins=max(3, min(10, room)), integer=True, steps=[1, 2, 5, 10],
                                            min_n_ticks=3))
    return ax


def integer_ticks(*axes) -> None:
    """Integer-only major ticks on each given matplotlib Axis (e.g. ``ax.xaxis``), for axes that count
    layers without spanning 1 … L + 1 (shifts of the peak, a colourbar over the layers)."""
    for axis in axes:
        axis.set_major_locator(MaxNLocator(integer=True))


def _mark_output_layer(ax: Axes, n_layers: int) -> None:
    """Shade the output layer L + 1 (its kernel is block-diagonal, so its alignment is capped)."""
    if not any(getattr(p, "_eqhyp_output", False) for p in ax.patches):
        span = ax.axvspan(n_layers - 0.5, n_layers + 0.5, color=_OUTPUT_SHADE, alpha=0.6, zorder=0, lw=0)
        span._eqhyp_output = True
        ax.text(n_layers, 0.98, "output", transform=ax.get_xaxis_transform(), ha="center", va="top",
                fontsize=MIN_FONT_PT, color="#444444")


@for_print
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
        ax.legend(frameon=False, fontsize=LEGEND_PT)
    return ax


@for_print
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


@for_print
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
    integer_ticks(bar.ax.yaxis)
    return ax


@for_print
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
        ax.legend(frameon=False, fontsize=LEGEND_PT)
    fig.suptitle(title)
    return fig
