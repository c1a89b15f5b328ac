"""Every notebook has a MyST markdown twin in sync, and its student edition runs up to the first stub.

The notebooks also read like a book's pages: no code line and no stored text output line is wider than
the page (``PAGE_WIDTH`` characters), the setup cell (the first code cell) is folded in the book, and every
figure has alt text.

The notebooks' stored outputs themselves are checked by nbval (``pytest`` collects notebooks/*.ipynb
with ``--nbval``, see pyproject.toml).
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import without_nbval_skip_cells

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
IPYNBS = sorted(NOTEBOOKS.glob("*.ipynb"))
#: The widest code or output line the book shows without scrolling (black's default line length).
PAGE_WIDTH = 88
#: The tag with which myst-nb folds a cell's code in the book (the cell's output stays visible).
FOLD_TAG = "hide-input"


def _cells(nb) -> list[tuple[str, str]]:
    return [(c.cell_type, c.source.strip()) for c in nb.cells]


@pytest.mark.parametrize("path", IPYNBS, ids=lambda p: p.stem)
def test_notebook_and_markdown_twin_are_in_sync(path: Path):
    jupytext = pytest.importorskip("jupytext")
    twin = path.with_suffix(".md")
    assert twin.exists(), f"{path.name} has no MyST twin {twin.name}: run `jupytext --sync {path}`"
    from_ipynb = jupytext.read(path)
    from_md = jupytext.read(twin)
    assert _cells(from_ipynb) == _cells(from_md), (
        f"{path.name} and {twin.name} differ: edit one and run `jupytext --sync notebooks/*.ipynb`")


@pytest.mark.parametrize("path", IPYNBS, ids=lambda p: p.stem)
def test_notebook_was_executed_top_to_bottom(path: Path):
    nb = json.loads(path.read_text())
    counts = [c.get("execution_count") for c in nb["cells"] if c["cell_type"] == "code"]
    assert counts and all(isinstance(n, int) for n in counts), f"{path.name}: unexecuted code cells"
    assert counts == list(range(1, len(counts) + 1)), f"{path.name}: not executed top to bottom in one go"
    timed = [i for i, c in enumerate(nb["cells"]) if "execution" in c.get("metadata", {})]
    assert not timed, (f"{path.name}: cells {timed} store execution timestamps; "
                       "execute with `python scripts/execute_notebooks.py`")
    skipped_with_output = [i for i, c in enumerate(nb["cells"]) if c["cell_type"] == "code" and c.get("outputs")
                           and "nbval-skip" in c.get("metadata", {}).get("tags", [])]
    assert not skipped_with_output, (f"{path.name}: nbval-skip cells {skipped_with_output} store outputs "
                                     "(timings or live widgets); execute with `python scripts/execute_notebooks.py`")


@pytest.mark.parametrize("path", IPYNBS, ids=lambda p: p.stem)
def test_student_edition_runs_until_the_first_stub(path: Path, tmp_path: Path):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    from eqhyp_utils.student_edition import count_solutions, strip_solutions

    nb_json = json.loads(path.read_text())
    if count_solutions(nb_json) == 0:
        pytest.skip(f"{path.name} has no exercises")
    student = without_nbval_skip_cells(nbformat.reads(json.dumps(strip_solutions(nb_json)), as_version=4))
    client = nbclient.NotebookClient(student, timeout=300, kernel_name="python3",
                                     resources={"metadata": {"path": str(NOTEBOOKS)}})
    with pytest.raises(nbclient.exceptions.CellExecutionError) as info:
        client.execute()
    assert info.value.ename == "NotImplementedError", (
        f"{path.name}: the student edition failed before reaching an exercise stub:\n{info.value}")


# ------------------------------------------------------------------------------------------ the book's pages

def _source(cell: dict) -> str:
    return cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])


def _text(value) -> str:
    return value if isinstance(value, str) else "".join(value)


def long_code_lines(nb: dict, width: int = PAGE_WIDTH) -> list[str]:
    """Every code line of ``nb`` (a notebook's JSON) longer than ``width``: cell index, line number, length."""
    found = []
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] != "code":
            continue
        for j, line in enumerate(_source(cell).splitlines(), start=1):
            if len(line) > width:
                found.append(f"cell {i}, line {j} ({len(line)} characters): {line.strip()[:60]}…")
    return found


def long_output_lines(nb: dict, width: int = PAGE_WIDTH) -> list[str]:
    """Every stored stream or text/plain output line of ``nb`` longer than ``width``."""
    found = []
    for i, cell in enumerate(nb["cells"]):
        for output in cell.get("outputs", []) if cell["cell_type"] == "code" else []:
            if output["output_type"] == "stream":
                texts = [("stream", _text(output["text"]))]
            else:
                texts = [(mime, _text(output.get("data", {})[mime])) for mime in ("text/plain",)
                         if mime in output.get("data", {})]
            for kind, text in texts:
                for line in text.splitlines():
                    if len(line) > width:
                        found.append(f"cell {i}, {kind} output ({len(line)} characters): {line[:60]}…")
    return found


def first_code_cell_problem(nb: dict) -> "str | None":
    """Why the first code cell (the setup cell) would not be folded in the book, or None."""
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    if not code:
        return "no code cell"
    tags = code[0].get("metadata", {}).get("tags", [])
    return None if FOLD_TAG in tags else f"the first code cell has tags {tags}, not {FOLD_TAG!r}"


def figures_without_alt_text(nb: dict) -> list[str]:
    """Every code cell with an image/png output whose metadata gives myst-nb no alt text for it."""
    found = []
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] != "code" or not any("image/png" in o.get("data", {}) for o in cell.get("outputs", [])):
            continue
        alt = cell.get("metadata", {}).get("mystnb", {}).get("image", {}).get("alt")
        if not isinstance(alt, str) or not alt.strip():
            found.append(f"cell {i} ({_source(cell).strip().splitlines()[0][:50]}…)")
    return found


@pytest.mark.parametrize("path", IPYNBS, ids=lambda p: p.stem)
def test_no_code_line_is_wider_than_the_page(path: Path):
    long = long_code_lines(json.loads(path.read_text()))
    assert not long, (f"{path.name}: code lines over {PAGE_WIDTH} characters scroll sideways in the book; break "
                      "them the way black would (edit the .md twin, then `jupytext --sync`):\n  " + "\n  ".join(long))


@pytest.mark.parametrize("path", IPYNBS, ids=lambda p: p.stem)
def test_no_stored_text_output_is_wider_than_the_page(path: Path):
    long = long_output_lines(json.loads(path.read_text()))
    assert not long, (f"{path.name}: printed lines over {PAGE_WIDTH} characters are cut or scroll in the book; "
                      "show rows of numbers as an eqhyp_utils.tables.Table, wrap other lines:\n  "
                      + "\n  ".join(long))


@pytest.mark.parametrize("path", IPYNBS, ids=lambda p: p.stem)
def test_the_setup_cell_is_folded_in_the_book(path: Path):
    problem = first_code_cell_problem(json.loads(path.read_text()))
    assert problem is None, f"{path.name}: {problem}; tag the setup cell {FOLD_TAG!r} so myst-nb folds its code"


@pytest.mark.parametrize("path", IPYNBS, ids=lambda p: p.stem)
def test_every_figure_has_alt_text(path: Path):
    missing = figures_without_alt_text(json.loads(path.read_text()))
    assert not missing, (f"{path.name}: figures without alt text; give the cell the metadata "
                         "mystnb: {image: {alt: ...}} (in the .md twin, the code cell's YAML header): "
                         + ", ".join(missing))


def test_the_page_checks_find_what_they_look_for():
    """The four checks above on a made-up notebook that breaks each rule once (so they can fail)."""
    figure = {"output_type": "display_data", "metadata": {}, "data": {"image/png": "iVBOR", "text/plain": "<Figure>"}}
    nb = {"cells": [
        {"cell_type": "markdown", "metadata": {}, "source": "x" * 200},
        {"cell_type": "code", "metadata": {"tags": ["nbval-skip"]}, "source": "import numpy\n" + "y = 1  #" + "-" * 90,
         "outputs": [{"output_type": "stream", "name": "stdout", "text": ["short\n", "w" * 89 + "\n"]}]},
        {"cell_type": "code", "metadata": {}, "source": "plot()",
         "outputs": [figure, {"output_type": "execute_result", "metadata": {}, "execution_count": 2,
                              "data": {"text/plain": "v" * 100, "text/html": "<p>" + "h" * 200 + "</p>"}}]},
        {"cell_type": "code", "metadata": {"mystnb": {"image": {"alt": "A rising curve."}}}, "source": "plot()",
         "outputs": [figure]},
    ]}
    assert [f.split(" (")[0] for f in long_code_lines(nb)] == ["cell 1, line 2"]
    assert [f.split(" (")[0] for f in long_output_lines(nb)] == ["cell 1, stream output", "cell 2, text/plain output"]
    assert "nbval-skip" in first_code_cell_problem(nb)
    assert [f.split(" (")[0] for f in figures_without_alt_text(nb)] == ["cell 2"]
    nb["cells"][1]["metadata"]["tags"].append(FOLD_TAG)
    nb["cells"][2]["metadata"]["mystnb"] = {"image": {"alt": " "}}
    assert first_code_cell_problem(nb) is None and figures_without_alt_text(nb) == ["cell 2 (plot()…)"]
