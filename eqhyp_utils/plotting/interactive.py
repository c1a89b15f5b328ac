"""The still image of an interactive figure (:mod:`eqhyp_utils.interactive`): its default state drawn by matplotlib.

The book's PDFs, printed pages and JupyterLab show this image; the online book replaces it on screen by
the interactive version once plotly.js has drawn. It is drawn from the very views and styles the
interactive version reads (:class:`~eqhyp_utils.interactive.figure.InteractiveFigure`), in the course's
print style (:func:`eqhyp_utils.plotting.for_print`), on a figure no pyplot registry holds.
"""
from __future__ import annotations

from typing import Any, Sequence

from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from ..interactive.figure import DASHES, MARKER_SYMBOLS, InteractiveFigure
from ..interactive.markup import to_mathtext
from . import LEGEND_PT, for_print, new_panels

__all__ = ["STILL_DPI", "still_figure"]

#: Resolution of the still image (dots per inch): the figure's ``still_size`` in inches times this, in pixels.
STILL_DPI = 100
_POINTS_PER_PIXEL = 72 / STILL_DPI  # plotly.js sizes are screen pixels, matplotlib's are points


@for_print
def still_figure(figure: InteractiveFigure, state: Sequence[Any] | None = None) -> Figure:
    """A matplotlib Figure of ``figure`` in ``state`` (default: its default state): every trace with its
    style, the vertical lines, the title, axis titles and ranges of that view."""
    state = figure.default_state if state is None else tuple(state)
    view = figure.view(state)
    layout = figure.layout
    width, height = layout.still_size
    fig, axes = new_panels(1, 1, width=width, height=height, pyplot=False)
    ax = axes[0, 0]
    for trace in view.traces:
        style = figure.styles[trace.style]
        label = to_mathtext(trace.name if trace.name is not None else style.name) if style.legend else None
        if style.kind == "bar":
            xs = [str(x) if isinstance(x, str) else x for x in trace.xs]
            bars = ax.bar(xs, trace.y, color=style.color, label=label, zorder=2)
            if style.values_format:
                ax.bar_label(bars, fmt="{:" + style.values_format + "}", padding=2)
            continue
        ax.plot(trace.xs, trace.y, label=label, color=style.color,
                linestyle=DASHES[style.dash] if "lines" in style.mode else "none",
                linewidth=style.width * _POINTS_PER_PIXEL,
                marker=MARKER_SYMBOLS[style.marker] if "markers" in style.mode else None,
                markersize=style.size * _POINTS_PER_PIXEL, zorder=3)
    for line in view.lines:
        ax.axvline(line.x, color=line.color, linestyle=DASHES[line.dash], linewidth=1.5, label=to_mathtext(line.label),
                   zorder=1)
    x_range, y_range = view.x_range or layout.x_range, view.y_range or layout.y_range
    if x_range is not None:
        ax.set_xlim(*x_range)
    if y_range is not None:
        ax.set_ylim(*y_range)
    if layout.x_integer:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True, steps=[1, 2, 5, 10]))
    if any(figure.styles[t.style].kind == "bar" for t in view.traces):
        ax.tick_params(axis="x", labelrotation=20)
        ax.margins(y=0.12)
    ax.set_xlabel(to_mathtext(layout.x_title))
    ax.set_ylabel(to_mathtext(layout.y_title))
    ax.set_title(to_mathtext(figure.title(state)))
    ax.grid(alpha=0.3, zorder=0)
    handles, labels = ax.get_legend_handles_labels()
    if handles:  # below the plot, as in the interactive version
        fig.legend(handles, labels, loc="outside lower center", ncols=min(3, len(handles)), fontsize=LEGEND_PT,
                   frameon=False)
    return fig

