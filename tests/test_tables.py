"""Tables of results: fixed-digit numbers, aligned text within the page's width, compact inline-styled HTML."""
from __future__ import annotations

import re
from html.parser import HTMLParser

import numpy as np
import pytest

from eqhyp_utils.errors import InvalidInputError
from eqhyp_utils.tables import DEFAULT_MAX_WIDTH, Table


class _Cells(HTMLParser):
    """The text of every <th>/<td> of an HTML fragment, with its style attribute."""

    def __init__(self) -> None:
        super().__init__()
        self.cells: list[tuple[str, str, str]] = []  # (tag, style, text)
        self.tags: list[str] = []
        self._open: "tuple[str, str] | None" = None
        self._text = ""

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        if tag in ("th", "td"):
            self._open, self._text = (tag, dict(attrs).get("style", "")), ""

    def handle_endtag(self, tag):
        if tag in ("th", "td") and self._open:
            self.cells.append((*self._open, self._text))
            self._open = None

    def handle_data(self, data):
        if self._open:
            self._text += data


def _parse(fragment: str) -> _Cells:
    parser = _Cells()
    parser.feed(fragment)
    return parser


def _small() -> Table:
    return Table(["seed", "peak", "accuracy", "peaks per checkpoint"],
                 [[0, 14, 0.70449, [3, 5, 14]], [1, 11, np.float64(0.69851), (2, 11)]],
                 title="A small table", note="accuracy: training set")


def test_numbers_have_fixed_digits_and_numbers_are_right_aligned_in_text():
    text = repr(_small())
    assert text.splitlines() == [
        "A small table",
        "",
        "seed  peak  accuracy  peaks per checkpoint",
        "----  ----  --------  --------------------",
        "   0    14     0.704              3, 5, 14",
        "   1    11     0.699                 2, 11",
        "",
        "accuracy: training set",
    ]
    assert str(_small()) == text


def test_formats_per_column_apply_inside_sequences_and_to_numpy_scalars():
    table = Table(["name", "value", "values"], [["a", np.int64(3), [0.123456, 1]], ["b", -0.5, np.array([2.5])]],
                  formats={"value": "+.2f", "values": ".1e"}, float_format=".4f")
    rows = repr(table).splitlines()[2:]
    assert rows == ["a     +3.00  1.2e-01, 1.0e+00", "b     -0.50           2.5e+00"]


def test_a_callable_format_and_bools_none_and_nan():
    table = Table(["x", "ok", "y"], [[1, True, None], [2, False, float("nan")]],
                  formats={"x": lambda v: f"<{v}>"})
    assert repr(table).splitlines()[2:] == ["<1>  yes", "<2>  no   nan"]


def test_the_same_numbers_in_html_and_text_and_the_html_is_styled_inline():
    table = _small()
    html = table._repr_html_()
    parsed = _parse(html)
    assert "<style" not in html and "class=\"eqhyp-table\"" in html and "overflow-x:auto" in html
    assert "font-size:0.8em" in html
    heads = [text for tag, _, text in parsed.cells if tag == "th"]
    assert heads == ["seed", "peak", "accuracy", "peaks per checkpoint"]
    data = [(style, text) for tag, style, text in parsed.cells if tag == "td"]
    assert [t for _, t in data] == ["0", "14", "0.704", "3, 5, 14", "1", "11", "0.699", "2, 11"]
    numbers = [style for style, text in data if text in ("0.704", "14")]
    assert all("text-align:right" in s and "white-space:nowrap" in s for s in numbers)
    assert 'aria-label="A small table"' in html and html.count("<table") == 1
    assert html.index("A small table") < html.index("<table") and "accuracy: training set" in html


def test_text_is_left_aligned_and_may_wrap_in_html_and_is_escaped():
    table = Table(["config", "acc"], [["relu <b> & tanh", 0.5]])
    style, text = [(s, t) for tag, s, t in _parse(table.to_html()).cells if tag == "td"][0]
    assert text == "relu <b> & tanh" and "text-align:left" in style and "nowrap" not in style
    assert "<b>" not in table.to_html()


def test_numeric_text_cells_are_right_aligned():
    table = Table(["predictor", "score"], [["EH", "5.25 / 5% / 25%"], ["middle", "+0.40 [+0.11, +0.68]"]])
    styles = [s for tag, s, t in _parse(table.to_html()).cells if tag == "td" and ("/" in t or "[" in t)]
    assert styles and all("text-align:right" in s and "white-space:nowrap" in s for s in styles)
    assert repr(table).splitlines()[2:] == ["EH              5.25 / 5% / 25%", "middle     +0.40 [+0.11, +0.68]"]


def test_a_wide_table_is_split_into_blocks_that_repeat_the_index_columns():
    columns = ["configuration"] + [f"layer {k}" for k in range(1, 21)]
    rows = [[f"run {s}"] + list(np.linspace(0.01, 0.2, 20) * (s + 1)) for s in range(3)]
    text = repr(Table(columns, rows))
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= DEFAULT_MAX_WIDTH
    blocks = text.split("\n\n")
    assert len(blocks) > 1
    for block in blocks:  # each block is labelled by the index column
        assert [line.split()[0] for line in block.splitlines()[-3:]] == ["run", "run", "run"]
        assert any(line.startswith("configuration") for line in block.splitlines())
    for s, row in enumerate(rows):  # every number is there, whole
        for value in row[1:]:
            assert re.search(rf"(?<![\d.]){value:.3f}(?!\d)", text), value


def test_a_table_too_wide_for_the_page_is_split_in_html_too():
    columns = ["configuration"] + [f"layer {k}" for k in range(1, 31)]
    rows = [[f"run {s}"] + [0.001 * k * (s + 1) for k in range(1, 31)] for s in range(2)]
    html = Table(columns, rows, title="Wide").to_html()
    parsed = _parse(html)
    assert html.count("<table") > 1 and html.count("<table") == html.count("overflow-x:auto")
    assert 'aria-label="Wide (columns, part 1 of' in html
    heads = [text for tag, _, text in parsed.cells if tag == "th"]
    assert heads.count("configuration") == html.count("<table")  # each block repeats the index column
    assert [h for h in heads if h != "configuration"] == columns[1:]  # every other column once, in order
    data = [text for tag, _, text in parsed.cells if tag == "td" and not text.startswith("run")]
    assert sorted(data) == sorted(f"{v:.3f}" for row in rows for v in row[1:])
    narrow = Table(columns[:10], [row[:10] for row in rows]).to_html()  # 9 numbers fit the page
    assert narrow.count("<table") == 1


def test_long_text_wraps_at_spaces_within_the_width():
    blas = "MKL 2024.2-Product Build 20240605 for Intel(R) 64 architecture applications, and a few more words"
    table = Table(["setting", "value"], [["torch_blas", blas], ["threads", 1]], max_width=60)
    lines = repr(table).splitlines()
    assert max(len(line) for line in lines) <= 60
    assert " ".join(line[len("torch_blas  "):].strip() for line in lines[2:-1]) == blas


def test_headers_wrap_before_a_table_is_split():
    table = Table(["a very long header for a short column", "another long header"], [[1, 2]], max_width=30)
    lines = repr(table).splitlines()
    assert max(len(line) for line in lines) <= 30 and "\n\n" not in repr(table)
    assert lines[-1].split() == ["1", "2"]


def test_a_table_that_cannot_fit_is_refused():
    table = Table(["x", "y"], [[1.0, 2.0]], formats={"x": ".30f", "y": ".30f"}, max_width=40)
    with pytest.raises(InvalidInputError, match="cannot be printed within 40"):
        repr(table)


def test_from_markdown_reads_the_first_pipe_table_and_transposed_swaps_rows_and_columns():
    markdown = ("**Protocol** — MAE\n\n| group | configs | EH: MAE |\n|---|---|---|\n"
                "| all | 25 | 5.25 / 5% |\n| dataset = digits | 2 | 3.67 / 17% |\n\nafter the table")
    table = Table.from_markdown(markdown, title="scores")
    assert table.columns == ["group", "configs", "EH: MAE"]
    assert table.rows == [["all", "25", "5.25 / 5%"], ["dataset = digits", "2", "3.67 / 17%"]]
    flipped = table.transposed("predictor")
    assert flipped.columns == ["predictor", "all", "dataset = digits"] and flipped.title == "scores"
    assert flipped.rows == [["configs", "25", "2"], ["EH: MAE", "5.25 / 5%", "3.67 / 17%"]]


def test_from_markdown_takes_the_text_before_the_table_as_its_title():
    markdown = "Reference peaks per seed\n[14, 11, 14].\n\n| a | b |\n|---|---|\n| x | 1 |"
    assert Table.from_markdown(markdown).title == "Reference peaks per seed [14, 11, 14]."
    assert Table.from_markdown("| a | b |\n|---|---|\n| x | 1 |").title is None


def test_from_markdown_keeps_escaped_pipes():
    table = Table.from_markdown("| a | b |\n| --- | --- |\n| x \\| y | 1 |")
    assert table.rows == [["x | y", "1"]]


@pytest.mark.parametrize("kwargs, message", [
    ({"columns": [], "rows": []}, "non-empty sequence"),
    ({"columns": ["a", "a"], "rows": []}, "distinct"),
    ({"columns": ["a", ""], "rows": []}, "non-empty string"),
    ({"columns": ["a", "b"], "rows": [[1]]}, "row 0 has 1 cells"),
    ({"columns": ["a"], "rows": [[{"x": 1}]]}, "cannot show a dict"),
    ({"columns": ["a"], "rows": [[[1, "two"]]]}, "real numbers only"),
    ({"columns": ["a"], "rows": [["two\nlines"]]}, "line break"),
    ({"columns": ["a"], "rows": [[1.0]], "formats": {"b": ".2f"}}, "does not have"),
    ({"columns": ["a"], "rows": [[1.5]], "formats": {"a": "d"}}, "does not apply"),
    ({"columns": ["a"], "rows": [[1.5]], "formats": {"a": 3}}, "format specification"),
    ({"columns": ["a"], "rows": [[1j]]}, "cannot show a complex"),
    ({"columns": ["a", "b"], "rows": [], "index_columns": 3}, "index_columns"),
    ({"columns": ["a"], "rows": [], "max_width": 5}, "max_width"),
    ({"columns": ["a"], "rows": 3}, "sequence of rows"),
])
def test_bad_input_is_refused_with_a_clear_error(kwargs, message):
    with pytest.raises(InvalidInputError, match=message):
        Table(**kwargs)


def test_no_pipe_table_in_markdown_is_an_error():
    with pytest.raises(InvalidInputError, match="no Markdown pipe table"):
        Table.from_markdown("just a paragraph | with a bar")


def test_a_column_that_also_holds_text_is_left_aligned_throughout():
    table = Table(["setting", "value"], [["threads", 1], ["blas", "MKL"]])
    assert repr(table).splitlines()[2:] == ["threads  1", "blas     MKL"]
    styles = [s for tag, s, t in _parse(table.to_html()).cells if tag == "td" and t in ("1", "MKL")]
    assert styles and all("text-align:left" in s for s in styles)


def test_wrapped_headers_take_the_room_left_to_stay_low():
    table = Table(["L", "loss < 0.1: runs", "loss < 0.1: at epochs", "stop"],
                  [[9, "5/5", [6.0, 6.0, 6.0, 6.0, 6.0], "stop_loss × 5"]], formats={"loss < 0.1: at epochs": "g"},
                  max_width=50)
    lines = repr(table).splitlines()
    assert max(len(line) for line in lines) <= 50
    rule = next(i for i, line in enumerate(lines) if line.startswith("-"))
    assert rule == 2  # two header lines: at the narrowest, "loss < 0.1: runs" alone would take three
    assert lines[-1].split() == ["9", "5/5", "6,", "6,", "6,", "6,", "6", "stop_loss", "×", "5"]
