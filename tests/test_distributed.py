"""The grid on a Dask cluster (``reproduce --scheduler``): same files as ``--jobs 1``, failures reported
the same way, and a worker that dies mid-grid costs no run.

One local cluster of two worker processes runs one small grid (four tiny runs and one that fails);
while it runs, one busy worker is killed (SIGKILL) right after the first result has been written.
The tests then read what that one grid left behind.
"""
from __future__ import annotations

import os
import signal
import time
import warnings
from pathlib import Path

import pytest

pytest.importorskip("distributed")

from eqhyp_utils.errors import InvalidInputError  # noqa: E402
from eqhyp_utils.experiments import runner  # noqa: E402
from eqhyp_utils.experiments.config import RunConfig  # noqa: E402
from eqhyp_utils.experiments.distributed import parse_scheduler, run_on_cluster  # noqa: E402
from eqhyp_utils.experiments.results import read_result  # noqa: E402
from eqhyp_utils.experiments.runner import result_path, run_grid  # noqa: E402

TINY = dict(dataset="gaussian", n_train=200, n_test=50, depth=2, width=8, epochs=1, batch_size=50,
            probe_per_class=2)
GOOD = [RunConfig(**TINY, seed=s) for s in range(4)]
# fails on the worker: the full MNIST is not in the (empty) cache and downloads are off
FAILING = RunConfig(**{**TINY, "dataset": "mnist_full"})


def _failures(caught) -> list[str]:
    return sorted(str(w.message) for w in caught if "failed and was not written" in str(w.message))


@pytest.fixture(scope="module")
def grids(tmp_path_factory):
    """The same grid with --jobs 1 and on 'local:2' (a worker killed mid-grid); what each left behind."""
    root = tmp_path_factory.mktemp("grids")
    runs = GOOD + [FAILING]
    out = {"killed": {}}
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("EQHYP_CACHE", str(root / "empty-cache"))   # inherited by the workers
        mp.delenv("EQHYP_DOWNLOAD", raising=False)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            out["counts_one"] = run_grid(runs, root / "one", progress=False)
        out["failures_one"] = _failures(caught)

        save = runner._save

        def save_then_kill_a_busy_worker(results_dir, config, payload, seconds):
            path = save(results_dir, config, payload, seconds)
            if not out["killed"]:
                import distributed

                client = distributed.default_client()
                deadline, busy = time.monotonic() + 5, {}
                while not busy and time.monotonic() < deadline:   # the scheduler may be assigning the next run
                    busy = {w: keys for w, keys in client.processing().items() if keys}
                    time.sleep(0 if busy else 0.05)
                if busy:
                    worker, keys = next(iter(busy.items()))
                    pid = client.run(os.getpid, workers=[worker])[worker]
                    os.kill(pid, signal.SIGKILL)
                    out["killed"] = {"worker": worker, "keys": list(keys)}
            return path

        mp.setattr(runner, "_save", save_then_kill_a_busy_worker)
        start = time.perf_counter()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            out["counts_cluster"] = run_grid(runs, root / "cluster", progress=False, scheduler="local:2")
        out["seconds"] = time.perf_counter() - start
        out["failures_cluster"] = _failures(caught)
    out["root"] = root
    return out


def test_cluster_files_equal_those_of_one_job_byte_for_byte(grids):
    root = grids["root"]
    assert grids["counts_cluster"] == grids["counts_one"] == \
        {"total": 5, "skipped": 0, "redone": 0, "ran": 4, "failed": 1}
    for config in GOOD:  # result files hold no wall time (that goes to runs/timings.jsonl)
        assert result_path(root / "cluster", config).read_bytes() == result_path(root / "one", config).read_bytes()
    timings = (root / "cluster" / "runs" / "timings.jsonl").read_text().splitlines()
    assert len(timings) == len(GOOD)


def test_a_failed_run_is_reported_as_with_jobs(grids):
    assert len(grids["failures_one"]) == 1 and FAILING.name in grids["failures_one"][0]
    assert "InvalidInputError" in grids["failures_one"][0]
    assert grids["failures_cluster"] == grids["failures_one"]
    assert not result_path(grids["root"] / "cluster", FAILING).exists()


def test_a_killed_worker_loses_no_run(grids):
    killed = grids["killed"]
    assert killed, "no worker was busy when the first result arrived: the grid was too short to test this"
    for config in GOOD:  # every run written and valid, the killed worker's run(s) retried elsewhere
        read_result(result_path(grids["root"] / "cluster", config), expected_config_hash=config.config_hash())
    names = {c.name for c in GOOD + [FAILING]}
    assert {k.removeprefix("eqhyp-run-") for k in killed["keys"]} <= names


def test_scheduler_strings():
    assert parse_scheduler("local:3") == 3
    assert parse_scheduler("tcp://10.0.0.5:8786") == "tcp://10.0.0.5:8786"
    assert parse_scheduler("node17:8786") == "node17:8786"
    for bad in ("local", "local:0", "local:x", "", "somewhere"):
        with pytest.raises(InvalidInputError):
            parse_scheduler(bad)


def test_an_unreachable_scheduler_is_a_clear_error():
    import dask

    with dask.config.set({"distributed.comm.timeouts.connect": "1s"}):
        with pytest.raises(InvalidInputError, match="cannot reach a Dask scheduler"):
            run_on_cluster(GOOD[:1], "tcp://127.0.0.1:9", lambda config, outcome: None)


# --------------------------------------------------------------------------------------------
# The command line: --scheduler with --jobs, a malformed address, --download
# --------------------------------------------------------------------------------------------
def _grid_file(tmp_path: Path) -> Path:
    grid = tmp_path / "grid.toml"
    grid.write_text("[defaults]\n" + "".join(f"{k} = {v!r}\n".replace("'", '"') for k, v in TINY.items())
                    + "[g]\nseeds = [0]\n")
    return grid


def test_reproduce_refuses_jobs_with_a_scheduler_and_bad_addresses(tmp_path, capsys):
    from eqhyp_utils.experiments.cli import main

    grid, out = _grid_file(tmp_path), tmp_path / "out"
    assert main(["--config", str(grid), "--results", str(out), "--jobs", "2", "--scheduler", "local:2"]) == 2
    assert "not both" in capsys.readouterr().err
    assert main(["--config", str(grid), "--results", str(out), "--scheduler", "local:two"]) == 1
    assert "local:N" in capsys.readouterr().err
    assert not out.exists()


def test_download_flag_sets_the_switch_the_loaders_read(tmp_path, monkeypatch, capsys):
    from eqhyp_utils.data import DOWNLOAD_ENV, downloads_allowed, load_idx_dataset
    from eqhyp_utils.experiments.cli import main

    monkeypatch.delenv(DOWNLOAD_ENV, raising=False)
    assert not downloads_allowed()
    with pytest.raises(InvalidInputError, match=f"{DOWNLOAD_ENV}=1"):   # off by default: nothing is fetched
        load_idx_dataset("mnist_full", cache_dir=tmp_path / "cache")
    for value, allowed in (("1", True), ("yes", True), ("0", False), ("", False)):
        monkeypatch.setenv(DOWNLOAD_ENV, value)
        assert downloads_allowed() is allowed
    monkeypatch.delenv(DOWNLOAD_ENV)
    assert main(["--config", str(_grid_file(tmp_path)), "--results", str(tmp_path / "out"), "--dry-run",
                 "--download"]) == 0
    assert os.environ.get(DOWNLOAD_ENV) == "1" and downloads_allowed()
    capsys.readouterr()
