"""Shared test settings: one thread, a non-interactive matplotlib backend, and the second pass.

The backend is chosen with ``matplotlib.use`` rather than the MPLBACKEND variable, which would leak
into the notebook kernels that nbval starts and stop them from storing figures.

The second pass (tests/test_other_numeric_path.py) re-runs the stored-number tests — every notebook
under nbval and tests/test_reproduction.py — in a subprocess with the environment of
:func:`eqhyp_utils.provenance.other_numeric_path`. It is started in the background as soon as the
session has collected that test, so it uses the second core while the first pass runs; that test
runs last, waits for it and reports its result.
"""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import matplotlib  # noqa: E402

matplotlib.use("Agg")

import torch  # noqa: E402

torch.set_num_threads(1)

REPO = Path(__file__).resolve().parent.parent
#: The second pass: one background process beside the first pass, so that each has a core.
OTHER_PATH_PARTS = {"notebooks and reproductions": ["notebooks", "tests/test_reproduction.py"]}
_OTHER_PATH_TEST_NAME = "test_stored_numbers_reproduce_under_another_numeric_code_path"
_OTHER_PATH_TIMEOUT_S = 1500


def _start_other_path(config) -> None:
    from eqhyp_utils.provenance import other_numeric_path

    env = {**os.environ, **other_numeric_path(), "EQHYP_NUMERIC_PATH": "other", "OMP_NUM_THREADS": "1"}
    started = {}
    for part, paths in OTHER_PATH_PARTS.items():
        log = tempfile.NamedTemporaryFile("w+", prefix=f"eqhyp-other-path-{part}-", suffix=".log", delete=False)
        command = [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", *paths]
        started[part] = (subprocess.Popen(command, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT), log)
    config._eqhyp_other_path = started


def pytest_collection_modifyitems(session, config, items) -> None:
    """The test that waits for the second pass goes last, so the first pass never idles waiting."""
    items.sort(key=lambda item: item.name == _OTHER_PATH_TEST_NAME)


def pytest_collection_finish(session) -> None:
    """Start the second pass in the background if this session will wait for it."""
    if os.environ.get("EQHYP_NUMERIC_PATH") == "other":
        return
    if any(item.name == _OTHER_PATH_TEST_NAME for item in session.items) and not session.config.option.collectonly:
        _start_other_path(session.config)


def other_path_run(config) -> dict[str, tuple[int, str]]:
    """{part: (return code, output)} of the second pass, started now if it was not started at collection."""
    if not hasattr(config, "_eqhyp_other_path"):
        _start_other_path(config)
    finished = {}
    for part, (process, log) in config._eqhyp_other_path.items():
        try:
            returncode = process.wait(timeout=_OTHER_PATH_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            returncode = -9
        log.seek(0)
        finished[part] = (returncode, log.read())
    return finished


def without_nbval_skip_cells(nb):
    """``nb`` without the cells tagged ``nbval-skip`` (live widgets, timings), as nbval runs a notebook.

    Executed by a bare nbclient, a cell that displays an ipywidgets widget now and then leaves the
    client waiting on a kernel that has finished (jupyter/nbclient#312); nbval never runs those cells.
    """
    nb.cells = [c for c in nb.cells if "nbval-skip" not in c.get("metadata", {}).get("tags", [])]
    return nb


def pytest_unconfigure(config) -> None:
    """Never leave the second pass running (e.g. after Ctrl-C or -x)."""
    for process, log in getattr(config, "_eqhyp_other_path", {}).values():
        if process.poll() is None:
            process.kill()
            process.wait()
        log.close()
        os.unlink(log.name)
