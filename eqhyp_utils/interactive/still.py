"""The PNG bytes of an interactive figure's still image (drawn by
:func:`eqhyp_utils.plotting.interactive.still_figure`).

The book's PDFs, printed pages and JupyterLab show this image; the online book replaces it on screen by
the interactive version once plotly.js has drawn.
"""
from __future__ import annotations

import io
from typing import Any, Sequence

from ..plotting.interactive import STILL_DPI, still_figure
from .figure import InteractiveFigure

__all__ = ["STILL_DPI", "still_figure", "still_png"]


def still_png(figure: InteractiveFigure, state: Sequence[Any] | None = None) -> bytes:
    """The PNG bytes of :func:`still_figure` at :data:`STILL_DPI` dots per inch, on white."""
    buffer = io.BytesIO()
    still_figure(figure, state).savefig(buffer, format="png", dpi=STILL_DPI, facecolor="white")
    return buffer.getvalue()
