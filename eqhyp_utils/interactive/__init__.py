"""Interactive figures for the static book: every state precomputed, drawn without a kernel.

The notebooks' live widgets (:mod:`eqhyp_utils.widgets`) need a running kernel, which the published book does
not have. The figures of this package compute everything in Python when the notebook runs — every setting a
reader can choose — and are shown

* in the book, as plotly.js figures with dropdowns and sliders: moving a control looks the precomputed view
  up and draws it (the book bundles plotly.js and loads it from itself, only on pages with such a figure);
* printed, in the PDFs and in JupyterLab, as a still image of the default view, drawn by matplotlib from the
  same data.

Modules, one concept each:

* :mod:`~eqhyp_utils.interactive.figure`: what an interactive figure is (:class:`InteractiveFigure`, its
  :class:`Control`, :class:`View`, :class:`Trace`, :class:`TraceStyle`, :class:`VerticalLine`, :class:`Layout`);
* :mod:`~eqhyp_utils.interactive.markup`: the text of its labels (subscripts, superscripts);
* :mod:`~eqhyp_utils.interactive.still`: its still image (matplotlib);
* :mod:`~eqhyp_utils.interactive.html`: its interactive version (an HTML snippet with its data and script);
* :mod:`~eqhyp_utils.interactive.display`: showing it in a notebook (two outputs: still image, then HTML);
* :mod:`~eqhyp_utils.interactive.equilibrium`, :mod:`~eqhyp_utils.interactive.alignment`,
  :mod:`~eqhyp_utils.interactive.scoreboard`: the course's three figures.

In a notebook cell, the last expression displays the figure::

    from eqhyp_utils.interactive import equilibrium_explorer
    equilibrium_explorer()

For the still image in the book to have a text alternative, give the cell the metadata
``"mystnb": {"image": {"alt": "..."}}`` (e.g. the figure's ``alt``).
"""
from .alignment import ALIGNMENT_GRIDS, alignment_profile_explorer
from .display import display_interactive, figure_outputs
from .equilibrium import equilibrium_explorer
from .figure import Control, InteractiveFigure, Layout, Trace, TraceStyle, VerticalLine, View
from .html import figure_html, plotly_data
from .scoreboard import SCOREBOARD_GRIDS, scoreboard_explorer
from .still import still_figure, still_png

__all__ = ["InteractiveFigure", "Control", "View", "Trace", "TraceStyle", "VerticalLine", "Layout",
           "equilibrium_explorer", "alignment_profile_explorer", "scoreboard_explorer", "ALIGNMENT_GRIDS",
           "SCOREBOARD_GRIDS", "display_interactive", "figure_outputs", "figure_html", "plotly_data", "still_figure",
           "still_png"]
