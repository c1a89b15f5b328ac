"""The text of an interactive figure's labels: plain text with subscripts and superscripts.

Titles, axis titles, legend names and control labels are written once and shown twice — by plotly.js in
the book and by matplotlib in the still image — so they use a markup both can show: plain text in which
``<sub>…</sub>`` and ``<sup>…</sup>`` (not nested) mark subscripts and superscripts, e.g.
``"σ<sub>w</sub><sup>2</sup> = 2"``. Any other ``<``, ``>`` or ``&`` is an ordinary character
(``"loss < 0.1"`` is fine).

* :func:`to_html` gives the HTML that plotly.js and the page's controls show (``<``, ``>``, ``&`` escaped,
  the two tags kept);
* :func:`to_mathtext` gives the string matplotlib draws (the tags as mathtext ``$_{…}$`` / ``$^{…}$``, any
  ``$`` escaped);
* :func:`to_text` gives plain text, for places that cannot show markup (a dropdown's options, an ``aria-*``
  attribute, a ``text/plain`` output): ``σ<sub>w</sub><sup>2</sup>`` becomes ``σ_w^2``.
"""
from __future__ import annotations

import html
import re

from ..errors import InvalidInputError

__all__ = ["check_markup", "to_html", "to_mathtext", "to_text"]

_TAG = re.compile(r"<(sub|sup)>(.*?)</\1>", re.S)


def check_markup(text: str, what: str = "text") -> str:
    """``text`` if it is a string whose only tags are well-formed, non-nested ``<sub>``/``<sup>``; else raise."""
    if not isinstance(text, str):
        raise InvalidInputError(f"{what} must be a string, got {type(text).__name__} {text!r}.")
    for inner in (m.group(2) for m in _TAG.finditer(text)):
        if re.search(r"</?(sub|sup)>", inner):
            raise InvalidInputError(f"{what}: <sub>/<sup> cannot be nested, got {text!r}.")
    rest = _TAG.sub("", text)
    if re.search(r"</?(sub|sup)>", rest):
        raise InvalidInputError(f"{what}: unbalanced <sub>/<sup> tag in {text!r}.")
    return text


def _split(text: str) -> list[tuple[str, str]]:
    """(kind, piece) pairs: kind is "", "sub" or "sup"."""
    out, start = [], 0
    for match in _TAG.finditer(text):
        out.append(("", text[start:match.start()]))
        out.append((match.group(1), match.group(2)))
        start = match.end()
    out.append(("", text[start:]))
    return [(kind, piece) for kind, piece in out if piece]


def to_html(text: str) -> str:
    """``text`` as HTML: special characters escaped, ``<sub>``/``<sup>`` kept (what plotly.js draws)."""
    return "".join(f"<{kind}>{html.escape(piece, quote=False)}</{kind}>" if kind else html.escape(piece, quote=False)
                   for kind, piece in _split(check_markup(text)))


def _math_escape(piece: str) -> str:
    return re.sub(r"([\\{}_^$%#&])", r"\\\1", piece)


def to_mathtext(text: str) -> str:
    r"""``text`` as matplotlib draws it: ``<sub>w</sub>`` becomes ``$_{\mathregular{w}}$``, ``$`` becomes ``\$``."""
    parts = []
    for kind, piece in _split(check_markup(text)):
        if not kind:
            parts.append(piece.replace("$", r"\$"))
        else:
            parts.append(f"${'_' if kind == 'sub' else '^'}{{\\mathregular{{{_math_escape(piece)}}}}}$")
    return "".join(parts)


def to_text(text: str) -> str:
    """``text`` as plain text: ``<sub>w</sub>`` becomes ``_w`` and ``<sup>2</sup>`` becomes ``^2``."""
    return "".join({"sub": "_", "sup": "^"}.get(kind, "") + piece for kind, piece in _split(check_markup(text)))
