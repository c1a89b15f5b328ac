"""The student edition of the course: the same notebooks with every solution removed.

Solutions are marked in the notebooks with sphinx-exercise's gated directives, so that the book
shows them collapsed and this module can drop them::

    ```{solution-start} ex-01-kernel          <- markdown cell opening the solution
    :class: dropdown
    ```
    ... code and markdown cells of the solution ...
    ```{solution-end}                          <- markdown cell closing it
    ```

The exercise's stub (a function whose body raises ``NotImplementedError``) stays, so a student
edition executes top to bottom until the first self-check that calls an unfinished stub.
"""
from __future__ import annotations

import json
from pathlib import Path

from .errors import InvalidInputError

SOLUTION_START = "```{solution-start}"
SOLUTION_END = "```{solution-end}"


def _source(cell: dict) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def strip_solutions(notebook: dict, *, keep_outputs: bool = False) -> dict:
    """Return a copy of ``notebook`` (nbformat JSON) without solution blocks.

    The student edition also clears every output (``keep_outputs=False``); the book's class edition
    keeps the other cells' outputs (``keep_outputs=True``).

    Raises InvalidInputError if a solution block is opened and never closed (or closed twice).
    """
    cells_out, inside, opened_at = [], False, None
    for i, cell in enumerate(notebook.get("cells", [])):
        text = _source(cell).lstrip()
        is_start = cell.get("cell_type") == "markdown" and text.startswith(SOLUTION_START)
        is_end = cell.get("cell_type") == "markdown" and text.startswith(SOLUTION_END)
        if is_start:
            if inside:
                raise InvalidInputError(f"cell {i}: a solution starts inside the solution opened at cell {opened_at}.")
            inside, opened_at = True, i
            continue
        if is_end:
            if not inside:
                raise InvalidInputError(f"cell {i}: solution-end without a matching solution-start.")
            inside = False
            continue
        if inside:
            continue
        cell = dict(cell)
        if cell.get("cell_type") == "code" and not keep_outputs:
            cell["outputs"] = []
            cell["execution_count"] = None
        cells_out.append(cell)
    if inside:
        raise InvalidInputError(f"the solution opened at cell {opened_at} is never closed with {SOLUTION_END}.")
    out = dict(notebook)
    out["cells"] = cells_out
    return out


def count_solutions(notebook: dict) -> int:
    """Number of solution blocks in ``notebook``."""
    return sum(1 for c in notebook.get("cells", [])
               if c.get("cell_type") == "markdown" and _source(c).lstrip().startswith(SOLUTION_START))


def write_student_edition(notebooks_dir: Path, out_dir: Path) -> list[Path]:
    """Write every ``notebooks_dir/*.ipynb`` without solutions to ``out_dir``; return the paths written."""
    notebooks_dir, out_dir = Path(notebooks_dir), Path(out_dir)
    sources = sorted(notebooks_dir.glob("*.ipynb"))
    if not sources:
        raise InvalidInputError(f"no .ipynb notebooks found in {notebooks_dir}.")
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for path in sources:
        student = strip_solutions(json.loads(path.read_text(encoding="utf-8")))
        target = out_dir / path.name
        target.write_text(json.dumps(student, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        written.append(target)
    return written
