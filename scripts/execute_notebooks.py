"""Execute the course notebooks top to bottom, store their outputs, and keep their MyST twins in sync.

    python scripts/execute_notebooks.py                 # every notebooks/*.ipynb
    python scripts/execute_notebooks.py notebooks/02_alignment.ipynb

Each notebook runs in a fresh kernel with one thread (as nbval re-runs it in the tests). What is
volatile without being a result (execution timestamps, the outputs of ``nbval-skip`` cells: live
widgets and wall-clock timings) is not stored, so re-executing a notebook changes its file only where
a result changes. Prints each notebook's execution time.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

REPO_ROOT = Path(__file__).resolve().parent.parent


def strip_volatile(notebook: nbformat.NotebookNode) -> None:
    """Remove what changes from one execution to the next without being a result.

    The ``metadata.execution`` timestamps of every cell; the outputs of cells tagged ``nbval-skip``
    (live widgets with random model ids, wall-clock timings: the prose states the measured figures);
    and the saved widget state.
    """
    for cell in notebook.cells:
        cell.metadata.pop("execution", None)
        if cell.cell_type == "code" and "nbval-skip" in cell.metadata.get("tags", []):
            cell.outputs = []
    notebook.metadata.pop("widgets", None)


SKIPPED_SOURCE = "None  # tagged nbval-skip: not run when the notebook's outputs are stored"


def execute(path: Path, timeout: int = 600) -> float:
    """Execute ``path`` in place; return the wall time in seconds.

    Cells tagged ``nbval-skip`` are run as a no-op (their source is restored before the notebook is
    written), as nbval skips them: their outputs are not stored anyway, and a cell that displays a live
    ipywidgets widget now and then leaves the client waiting on a kernel that has finished
    (jupyter/nbclient#312).
    """
    notebook = nbformat.read(path, as_version=4)
    skipped = {i: cell.source for i, cell in enumerate(notebook.cells)
               if cell.cell_type == "code" and "nbval-skip" in cell.metadata.get("tags", [])}
    for i in skipped:
        notebook.cells[i].source = SKIPPED_SOURCE
    start = time.perf_counter()
    try:
        NotebookClient(notebook, timeout=timeout, kernel_name="python3",
                       resources={"metadata": {"path": str(path.parent)}}).execute()
    finally:
        for i, source in skipped.items():
            notebook.cells[i].source = source
    elapsed = time.perf_counter() - start
    strip_volatile(notebook)
    nbformat.write(notebook, path)
    return elapsed


def main(argv: "list[str] | None" = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebooks", nargs="*", type=Path)
    args = parser.parse_args(argv)
    paths = args.notebooks or sorted((REPO_ROOT / "notebooks").glob("*.ipynb"))
    os.environ["OMP_NUM_THREADS"] = "1"
    total = 0.0
    for path in paths:
        elapsed = execute(path)
        total += elapsed
        print(f"{path.name:40s} {elapsed:6.1f} s", flush=True)
    print(f"{'all':40s} {total:6.1f} s")
    subprocess.run([sys.executable, "-m", "jupytext", "--sync", *map(str, paths)], check=True,
                   stdout=subprocess.DEVNULL)
    return 0


if __name__ == "__main__":
    sys.exit(main())
