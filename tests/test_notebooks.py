"""Every notebook has a MyST markdown twin in sync, and its student edition runs up to the first stub.

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
