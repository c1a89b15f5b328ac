"""Tables of results that fit the page: compact HTML in the notebooks and the book, aligned text elsewhere.

A notebook that prints rows of numbers with ``print`` gets a block of monospaced text that the book cannot
wrap: wide rows scroll sideways or are cut at the edge of the page. A :class:`Table` displays instead

* as HTML (``_repr_html_``, what JupyterLab and the book show): a compact table in a small font, numbers
  right-aligned and never broken, text allowed to wrap, styled inline (no style sheet is needed). A table
  too wide for the page is split into the same blocks of columns as the plain text (below), each repeating
  the leading ``index_columns``, and as a last resort a block scrolls sideways inside its own box rather
  than widening the page;
* as plain text (``__repr__``, the ``text/plain`` output, what a terminal shows): the same cells aligned in
  columns at most ``max_width`` characters wide (88 by default). A table wider than that is split into
  blocks of columns, each repeating the leading ``index_columns`` (like a wide data frame), and long text
  cells wrap at spaces. Every number appears whole, so nbval, which compares both representations
  exactly, keeps checking every number of the table.

Numbers are formatted by a fixed format specification per column (``formats``, default ``float_format`` =
``".3f"`` for floats and ``"d"`` for integers), never by ``repr``, so a table prints the same digits on every
machine. A cell is a string, a number, a bool (shown as yes/no), None (empty) or a flat sequence of numbers
(shown as ``a, b, c``, each number formatted like the column's)::

    from eqhyp_utils.tables import Table
    Table(["seed", "peak layer", "train accuracy"], [[0, 14, 0.704], [1, 11, 0.699]],
          formats={"train accuracy": ".3f"}, title="L = 16, final checkpoint")

:meth:`Table.from_markdown` reads a Markdown pipe table (as the package's report functions write them) and
:meth:`Table.transposed` turns a wide table with few rows into a narrow one.
"""
from __future__ import annotations

import html
import math
import numbers
import re
import textwrap
from typing import Any, Callable, Mapping, Sequence, Union

from .errors import InvalidInputError

__all__ = ["Table", "DEFAULT_MAX_WIDTH"]

#: Widest plain-text line a table prints: the book's code and output blocks show 88 characters without scrolling.
DEFAULT_MAX_WIDTH = 88

Format = Union[str, Callable[[Any], str]]

_GAP = "  "  # between two columns of the plain-text table
#: A text cell that is only numbers and the signs between them ("5.25 / 5% / 25%", "+0.40 [+0.11, +0.68]",
#: "8 → 11") is right-aligned like a number.
_NUMERIC_TEXT = re.compile(r"^[\s\d.,:;+\-−–%/\[\]()e×→<>=]*\d[\s\d.,:;+\-−–%/\[\]()e×→<>=]*$")

# Inline styles of the HTML table (the notebooks' and the book's pages apply their own style sheets to
# tables; inline declarations win, and need none of them).
_WRAPPER_STYLE = "margin:0.4em 0 0.8em 0;font-size:0.8em;line-height:1.35"
_SCROLL_STYLE = "overflow-x:auto;max-width:100%"
_TABLE_STYLE = "border-collapse:collapse;font-size:1em;width:auto;margin:0 0 0.5em 0;border:none"
_TITLE_STYLE = "font-weight:600;margin:0 0 0.3em 0"
_CELL_STYLE = "padding:0.12em 0.6em;border:none;vertical-align:top"
_HEAD_STYLE = "padding:0.12em 0.6em;border:none;border-bottom:1px solid #888;vertical-align:bottom;font-weight:600"
_NUMBER_STYLE = "text-align:right;white-space:nowrap;font-variant-numeric:tabular-nums"
_NUMERIC_TEXT_STYLE = "text-align:right;white-space:nowrap;font-variant-numeric:tabular-nums"
_NUMERIC_HEAD_STYLE = "text-align:right"
_TEXT_STYLE = "text-align:left"
_NOTE_STYLE = "margin:0.2em 0 0 0"


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not _is_bool(value)


def _is_bool(value: Any) -> bool:
    return isinstance(value, bool) or type(value).__name__ == "bool_"  # numpy.bool_ without importing numpy


def _is_sequence(value: Any) -> bool:
    """A list, tuple, range or array (not a string, a mapping or a set: their order or meaning is not a row's)."""
    if isinstance(value, (list, tuple, range)):
        return True
    return hasattr(value, "tolist") and getattr(value, "ndim", 0) >= 1


def _format_number(value: Any, spec: Format, column: str) -> str:
    if callable(spec):
        text = spec(value)
        if not isinstance(text, str):
            raise InvalidInputError(f"the format of column {column!r} returned {type(text).__name__}, not a str.")
        return text
    value = int(value) if isinstance(value, numbers.Integral) else float(value)
    try:
        return format(value, spec)
    except ValueError as exc:
        raise InvalidInputError(f"column {column!r}: format {spec!r} does not apply to {value!r} ({exc}).") from None


class Table:
    """A table of results with a compact HTML display and an aligned plain-text display.

    Parameters
    ----------
    columns
        The column headers: non-empty, distinct strings.
    rows
        One sequence of cells per row, each as long as ``columns``. A cell is a str, a real number, a bool
        (shown as yes/no), None (shown empty) or a flat sequence of real numbers (shown as ``a, b, c``).
    formats
        Format specification per column name (``".3f"``, ``"+.2f"``, ``".1e"``, ``"d"`` …) or a function
        from the number to its text. It applies to every number of the column, inside sequences too.
    float_format
        The format of floats in the columns that ``formats`` does not name. Integers are shown whole.
    title
        Shown above the table (the HTML caption; the first lines of the text).
    note
        Shown below the table, e.g. what the columns mean.
    index_columns
        How many leading columns label a row. When the plain text is too wide and is split into blocks of
        columns, each block repeats them.
    max_width
        The widest line of the plain text, in characters.
    """

    def __init__(self, columns: Sequence[str], rows: Sequence[Sequence[Any]], *,
                 formats: "Mapping[str, Format] | None" = None, float_format: str = ".3f",
                 title: "str | None" = None, note: "str | None" = None, index_columns: int = 1,
                 max_width: int = DEFAULT_MAX_WIDTH) -> None:
        columns = list(columns) if _is_sequence(columns) else columns
        if not isinstance(columns, list) or not columns:
            raise InvalidInputError(f"columns must be a non-empty sequence of strings, got {columns!r}.")
        for name in columns:
            if not isinstance(name, str) or not name.strip():
                raise InvalidInputError(f"every column header must be a non-empty string, got {name!r}.")
            if "\n" in name:
                raise InvalidInputError(f"column header {name!r} contains a line break; the table wraps headers "
                                        "itself.")
        duplicated = sorted({c for c in columns if columns.count(c) > 1})
        if duplicated:
            raise InvalidInputError(f"column headers must be distinct; repeated: {duplicated}.")
        formats = dict(formats or {})
        unknown = sorted(set(formats) - set(columns))
        if unknown:
            raise InvalidInputError(f"formats name columns the table does not have: {unknown}; columns: {columns}.")
        for name, spec in {**formats, "float_format": float_format}.items():
            if not (isinstance(spec, str) or callable(spec)):
                raise InvalidInputError(f"the format of {name!r} must be a format specification string or a "
                                        f"function, got {spec!r}.")
        if not isinstance(index_columns, int) or isinstance(index_columns, bool) \
                or not 0 <= index_columns <= len(columns):
            raise InvalidInputError(f"index_columns must be an integer in 0 … {len(columns)} (the number of "
                                    f"columns), got {index_columns!r}.")
        if not isinstance(max_width, int) or isinstance(max_width, bool) or max_width < 20:
            raise InvalidInputError(f"max_width must be an integer of at least 20 characters, got {max_width!r}.")
        for text, what in ((title, "title"), (note, "note")):
            if text is not None and not isinstance(text, str):
                raise InvalidInputError(f"{what} must be a string or None, got {type(text).__name__}.")
        if not _is_sequence(rows):
            raise InvalidInputError(f"rows must be a sequence of rows, got {type(rows).__name__}.")
        self.columns: list[str] = columns
        self.title, self.note = title, note
        self.index_columns, self.max_width = index_columns, max_width
        self._formats = formats
        self._float_format = float_format
        self.rows: list[list[Any]] = []
        for i, row in enumerate(rows):
            if not _is_sequence(row):
                raise InvalidInputError(f"row {i} must be a sequence of {len(columns)} cells, got "
                                        f"{type(row).__name__}.")
            row = list(row)
            if len(row) != len(columns):
                raise InvalidInputError(f"row {i} has {len(row)} cells, the table has {len(columns)} columns "
                                        f"({columns}).")
            self.rows.append(row)
        # Format every cell once: a malformed cell fails here, where the table is made.
        self._text: list[list[str]] = [[self._cell_text(cell, columns[j], i) for j, cell in enumerate(row)]
                                       for i, row in enumerate(self.rows)]
        self._kind: list[list[str]] = [[self._cell_kind(cell, text) for cell, text in zip(row, texts)]
                                       for row, texts in zip(self.rows, self._text)]

    # ------------------------------------------------------------------------------------------- cells

    def _spec(self, column: str, value: Any) -> Format:
        if column in self._formats:
            return self._formats[column]
        if isinstance(value, numbers.Integral):
            return "d"
        return self._float_format

    def _cell_text(self, cell: Any, column: str, row: int) -> str:
        if cell is None:
            return ""
        if isinstance(cell, str):
            if "\n" in cell or "\r" in cell:
                raise InvalidInputError(f"row {row}, column {column!r}: the text {cell!r} contains a line break; "
                                        "the table wraps long text itself.")
            return cell
        if _is_bool(cell):
            return "yes" if cell else "no"
        if _is_number(cell):
            return _format_number(cell, self._spec(column, cell), column)
        if _is_sequence(cell):
            items = list(cell)
            if not all(_is_number(v) for v in items):
                raise InvalidInputError(f"row {row}, column {column!r}: a sequence cell must hold real numbers "
                                        f"only, got {cell!r}.")
            return ", ".join(_format_number(v, self._spec(column, v), column) for v in items)
        raise InvalidInputError(f"row {row}, column {column!r}: cannot show a {type(cell).__name__} ({cell!r}); "
                                "a cell is a str, a number, a bool, None or a sequence of numbers.")

    @staticmethod
    def _cell_kind(cell: Any, text: str) -> str:
        """'number' (right-aligned, never broken), 'numeric text' (right-aligned) or 'text' (left-aligned)."""
        if _is_number(cell):
            return "number"
        if (_is_sequence(cell) and not isinstance(cell, str)) or (isinstance(cell, str) and _NUMERIC_TEXT.match(cell)):
            return "numeric text"
        return "text"

    def _column_is_numeric(self, j: int) -> bool:
        kinds = [self._kind[i][j] for i in range(len(self.rows)) if self._text[i][j]]
        return bool(kinds) and all(k != "text" for k in kinds)

    # -------------------------------------------------------------------------------------- constructors

    @classmethod
    def from_markdown(cls, markdown: str, **options: Any) -> "Table":
        """The first pipe table of ``markdown`` (``| a | b |`` rows, a ``|---|`` rule under the header).

        The cells stay text, as written; ``options`` are those of :class:`Table`. Without a ``title`` in
        ``options``, the text before the table (if any, its whitespace collapsed) becomes the title. Raises
        :class:`~eqhyp_utils.errors.InvalidInputError` when there is no pipe table.
        """
        if not isinstance(markdown, str):
            raise InvalidInputError(f"markdown must be a string, got {type(markdown).__name__}.")
        lines = markdown.splitlines()
        rule = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$")
        for k in range(1, len(lines)):
            if rule.match(lines[k]) and "|" in lines[k - 1]:
                header = _split_pipe_row(lines[k - 1])
                body = []
                for line in lines[k + 1:]:
                    if "|" not in line or not line.strip():
                        break
                    body.append(_split_pipe_row(line))
                preamble = " ".join(" ".join(lines[: k - 1]).split())
                if preamble and "title" not in options:
                    options = {**options, "title": preamble}
                return cls(header, body, **options)
        raise InvalidInputError("no Markdown pipe table found (a header row, then a |---| rule).")

    def transposed(self, header: str = "", **options: Any) -> "Table":
        """The table with rows and columns swapped: the first column's cells become the column headers.

        ``header`` heads the new first column (the old headers); the new table keeps this one's formats,
        title, note and width unless ``options`` say otherwise. The old first column must be distinct,
        non-empty text (it becomes the headers).
        """
        names = [self._text[i][0] for i in range(len(self.rows))]
        if not names:
            raise InvalidInputError("a table without rows cannot be transposed.")
        first = header or self.columns[0]
        rows = [[self.columns[j]] + [self._text[i][j] for i in range(len(self.rows))]
                for j in range(1, len(self.columns))]
        kwargs = {"title": self.title, "note": self.note, "max_width": self.max_width, "index_columns": 1}
        kwargs.update(options)
        return Table([first] + names, rows, **kwargs)

    # ------------------------------------------------------------------------------------------- displays

    def _repr_html_(self) -> str:
        return self.to_html()

    def __repr__(self) -> str:
        return self.to_text()

    def __str__(self) -> str:
        return self.to_text()

    def to_html(self) -> str:
        """The table as one self-contained HTML fragment with inline styles (see the module's docstring)."""
        numeric = [self._column_is_numeric(j) for j in range(len(self.columns))]
        parts = [f'<div class="eqhyp-table" style="{_WRAPPER_STYLE}">']
        if self.title:
            parts.append(f'<div style="{_TITLE_STYLE}">{html.escape(self.title)}</div>')
        blocks = self._html_blocks()
        for b, block in enumerate(blocks):
            label = self.title or "table"
            if len(blocks) > 1:
                label += f" (columns, part {b + 1} of {len(blocks)})"
            parts.append(f'<div style="{_SCROLL_STYLE}"><table style="{_TABLE_STYLE}" '
                         f'aria-label="{html.escape(label)}">')
            heads = "".join(f'<th style="{_HEAD_STYLE};{_NUMERIC_HEAD_STYLE if numeric[j] else _TEXT_STYLE}">'
                            f"{html.escape(self.columns[j])}</th>" for j in block)
            parts.append(f"<thead><tr>{heads}</tr></thead>")
            parts.append("<tbody>")
            for texts, kinds in zip(self._text, self._kind):
                cells = []
                for j in block:
                    if not numeric[j]:
                        align = _TEXT_STYLE  # a column that also holds text is left-aligned throughout
                    else:
                        align = _NUMBER_STYLE if kinds[j] == "number" else _NUMERIC_TEXT_STYLE
                    cells.append(f'<td style="{_CELL_STYLE};{align}">{html.escape(texts[j])}</td>')
                parts.append(f"<tr>{''.join(cells)}</tr>")
            parts.append("</tbody></table></div>")
        if self.note:
            parts.append(f'<p style="{_NOTE_STYLE}">{html.escape(self.note)}</p>')
        parts.append("</div>")
        return "\n".join(parts)

    def to_text(self) -> str:
        """The table as aligned plain text, no line wider than ``max_width`` (see the module's docstring)."""
        width = self.max_width
        lines: list[str] = []
        if self.title:
            lines += textwrap.wrap(self.title, width, break_long_words=True, break_on_hyphens=False)
        blocks = self._column_blocks()
        for block, widths in blocks:
            if lines:
                lines.append("")
            lines += self._render_block(block, widths)
        if self.note:
            lines.append("")
            lines += textwrap.wrap(self.note, width, break_long_words=True, break_on_hyphens=False)
        return "\n".join(lines)

    # ------------------------------------------------------------------------------------ plain-text layout

    def _natural_width(self, j: int) -> int:
        return max([len(self.columns[j])] + [len(row[j]) for row in self._text])

    def _min_width(self, j: int, *, wrap_numeric: bool) -> int:
        """The narrowest column j can be: numbers never break; text and headers wrap at spaces, and so does
        numeric text (``5.25 / 5% / 25%``) if ``wrap_numeric``."""
        words = [len(w) for w in self.columns[j].split()]
        for row, kinds in zip(self._text, self._kind):
            whole = kinds[j] == "number" or (kinds[j] == "numeric text" and not wrap_numeric)
            words += [len(row[j])] if whole else [len(w) for w in row[j].split()]
        return max(words + [1])

    def _header_lines(self, j: int, width: int) -> int:
        return len(textwrap.wrap(self.columns[j], width, break_long_words=False, break_on_hyphens=False))

    def _data_width(self, j: int) -> int:
        return max([1] + [len(row[j]) for row in self._text])

    def _fit(self, columns: list[int], *, keep: float = 0.0, wrap_numeric: bool = True,
             width: "int | None" = None) -> "list[int] | None":
        """Widths for ``columns`` within max_width, or None if they cannot fit.

        Headers wrap first (down to the width of their data or of their longest word); then the widest column
        that can wrap gives up one character at a time, never below its longest word nor below ``keep`` of its
        one-line width. Numbers never wrap. The room left then goes to the tallest headers, as long as it
        makes the header row lower.
        """
        budget = (width or self.max_width) - len(_GAP) * (len(columns) - 1)
        natural = {j: self._natural_width(j) for j in columns}
        if sum(natural.values()) <= budget:
            return [natural[j] for j in columns]
        widths = {j: max(self._data_width(j), max(len(w) for w in self.columns[j].split())) for j in columns}
        floors = {j: max(self._min_width(j, wrap_numeric=wrap_numeric), math.ceil(keep * widths[j]))
                  for j in columns}
        while sum(widths.values()) > budget:
            shrinkable = [j for j in columns if widths[j] > floors[j]]
            if not shrinkable:
                return None
            widest = max(shrinkable, key=lambda j: (widths[j], -j))
            widths[widest] -= 1
        while True:  # lower the header row while there is room
            height = max(self._header_lines(j, widths[j]) for j in columns)
            if height == 1:
                break
            cost = {}
            for j in (j for j in columns if self._header_lines(j, widths[j]) == height):
                w = widths[j]
                while w < natural[j] and self._header_lines(j, w) >= height:
                    w += 1
                cost[j] = w - widths[j]
            if sum(cost.values()) > budget - sum(widths.values()):
                break
            for j, extra in cost.items():
                widths[j] += extra
        return [widths[j] for j in columns]

    def _partition(self, width: int) -> list[list[int]]:
        """The columns in one block if they fit ``width`` with text wrapped to no less than half its width;
        otherwise in blocks of as many columns as fit on one line each, every block led by the index columns."""
        everything = list(range(len(self.columns)))
        if self._fit(everything, keep=0.5, wrap_numeric=False, width=width) is not None:
            return [everything]
        index = everything[: self.index_columns]
        blocks: list[list[int]] = []
        current: list[int] = []
        for j in everything[self.index_columns:]:
            if current and self._fit(index + current + [j], keep=1.0, wrap_numeric=False, width=width) is None:
                blocks.append(index + current)
                current = [j]
            else:
                current.append(j)
        blocks.append(index + current)
        return blocks

    def _column_blocks(self) -> list[tuple[list[int], list[int]]]:
        """The plain text's blocks of columns, with their widths."""
        return [self._block(block) for block in self._partition(self.max_width)]

    def _html_blocks(self) -> list[list[int]]:
        """The HTML's blocks of columns: those of the plain text. (The HTML's font is smaller, but its cells
        are padded: ``max_width`` characters of it take about the width of the book's code blocks.)"""
        return self._partition(self.max_width)

    def _block(self, columns: list[int]) -> tuple[list[int], list[int]]:
        widths = self._fit(columns)
        if widths is None:
            raise InvalidInputError(
                f"the table cannot be printed within {self.max_width} characters: columns "
                f"{[self.columns[j] for j in columns]} need more even with their text wrapped; use fewer index "
                "columns, shorter headers or a larger max_width.")
        return columns, widths

    def _render_block(self, columns: list[int], widths: list[int]) -> list[str]:
        numeric = {j: self._column_is_numeric(j) for j in columns}

        def wrap(text: str, width: int) -> list[str]:
            return textwrap.wrap(text, width, break_long_words=False, break_on_hyphens=False) or [""]

        def line(cells: list[list[str]], k: int, right: list[bool]) -> str:
            out = []
            for cell, w, r in zip(cells, widths, right):
                text = cell[k] if k < len(cell) else ""
                out.append(text.rjust(w) if r else text.ljust(w))
            return _GAP.join(out).rstrip()

        heads = [wrap(self.columns[j], w) for j, w in zip(columns, widths)]
        height = max(len(h) for h in heads)
        heads = [[""] * (height - len(h)) + h for h in heads]  # headers sit on the rule
        right_head = [numeric[j] for j in columns]
        lines = [line(heads, k, right_head) for k in range(height)]
        lines.append(_GAP.join("-" * w for w in widths))
        for texts, kinds in zip(self._text, self._kind):
            cells, right = [], []
            for j, w in zip(columns, widths):
                cells.append([texts[j]] if kinds[j] == "number" else wrap(texts[j], w))
                right.append(numeric[j])  # a column that also holds text is left-aligned throughout
            for k in range(max(len(c) for c in cells)):
                lines.append(line(cells, k, right))
        return lines


def _split_pipe_row(line: str) -> list[str]:
    text = line.strip()
    if text.startswith("|"):
        text = text[1:]
    if text.endswith("|") and not text.endswith("\\|"):
        text = text[:-1]
    return [cell.strip().replace("\\|", "|") for cell in re.split(r"(?<!\\)\|", text)]

