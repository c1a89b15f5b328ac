"""Showing an interactive figure in a notebook: two outputs, the still image first, then the interactive version.

:func:`display_interactive` publishes

1. a ``display_data`` with ``image/png`` (:func:`~eqhyp_utils.interactive.still.still_png`) and a short
   ``text/plain`` — what JupyterLab, the PDFs and printed pages show;
2. a ``display_data`` with ``text/html`` (:func:`~eqhyp_utils.interactive.html.figure_html`) and a short
   ``text/plain`` — the interactive version, which the book draws and JupyterLab shows as a one-line note.

Both ``text/plain`` strings (no line wider than :data:`TEXT_WIDTH`) and the HTML are the same on every run and
machine, so the notebooks' stored outputs can be compared exactly; only the PNG varies with the matplotlib build.
"""
from __future__ import annotations

import base64
import textwrap

from ..errors import InvalidInputError
from .figure import InteractiveFigure
from .html import figure_html
from .markup import to_text
from .still import still_png

__all__ = ["TEXT_WIDTH", "figure_outputs", "display_interactive"]


#: The widest line of the ``text/plain`` outputs (the book's page width for printed text).
TEXT_WIDTH = 88


def _plain(text: str) -> str:
    """``text`` as plain text (``x<sub>i</sub>`` → ``x_i``), wrapped at :data:`TEXT_WIDTH` characters."""
    return textwrap.fill(to_text(text), TEXT_WIDTH, break_long_words=False)


def figure_outputs(figure: InteractiveFigure) -> list[dict]:
    """The two output bundles of :func:`display_interactive`, ``[{"data": …, "metadata": …}, …]``, the PNG
    base64-encoded."""
    if not isinstance(figure, InteractiveFigure):
        raise InvalidInputError(f"figure must be an InteractiveFigure (e.g. from equilibrium_explorer()), "
                                f"got {type(figure).__name__}.")
    png = base64.b64encode(still_png(figure)).decode("ascii")
    return [
        {"data": {"image/png": png, "text/plain": _plain(f"Still image: {figure.name}")}, "metadata": {}},
        {"data": {"text/html": figure_html(figure),
                  "text/plain": _plain(f"Interactive in the course book ({len(figure.views)} views): {figure.name}")},
         "metadata": {}},
    ]


def display_interactive(figure: InteractiveFigure) -> None:
    """Publish ``figure`` as two outputs of the running cell: its still image, then its interactive version."""
    from IPython.display import publish_display_data

    for output in figure_outputs(figure):
        publish_display_data(data=output["data"], metadata=output["metadata"])
