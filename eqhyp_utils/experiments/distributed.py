"""The experiment grid on a Dask cluster: ``python -m eqhyp_utils reproduce --scheduler …``.

:func:`run_on_cluster` sends one task per run to a dask.distributed scheduler — ``"local:N"`` starts
(and closes) a :class:`distributed.LocalCluster` of N single-threaded worker processes on this
machine; an address such as ``"tcp://host:8786"`` uses a cluster started elsewhere (``dask
scheduler`` and ``dask worker`` by hand, dask-jobqueue's ``SLURMCluster`` …). Each task calls the
same per-run function as ``--jobs`` (:func:`eqhyp_utils.experiments.runner._guarded_run`), and its
result — the payload, not a file — comes back to this process, which writes every result file: the
workers need the package and its data, but no shared filesystem, and the files are identical to
those of ``--jobs 1``.

Failures: a run that raises comes back as its exception and is reported as failed, exactly as
with ``--jobs``. A worker that dies mid-run (killed, out of memory, pre-empted) loses nothing that
has finished: finished runs are already written here, and the scheduler gives the dead worker's
run to another worker (a run whose workers die ``distributed.scheduler.allowed-failures`` + 1
times, 4 by default, is reported as failed). Ctrl-C cancels the runs not yet finished and closes
a local cluster.
"""
from __future__ import annotations

import contextlib
import os
import re
import signal
import threading
from typing import Callable, Iterator, Sequence

from ..errors import InvalidInputError, UnsupportedError
from .config import RunConfig

__all__ = ["run_on_cluster", "parse_scheduler", "FORWARDED_ENVIRONMENT"]

FORWARDED_ENVIRONMENT = ("EQHYP_DOWNLOAD",)
"""Environment variables of this process that the workers get too (when set): the download switch."""

_LOCAL = re.compile(r"^local:(\d+)$")


def parse_scheduler(scheduler: str) -> "int | str":
    """The worker count N of ``"local:N"``, or the address itself; InvalidInputError otherwise."""
    if not isinstance(scheduler, str) or not scheduler.strip():
        raise InvalidInputError(f"scheduler must be 'local:N' or an address such as 'tcp://host:8786', "
                                f"got {scheduler!r}.")
    scheduler = scheduler.strip()
    match = _LOCAL.match(scheduler)
    if match:
        n = int(match.group(1))
        if n < 1:
            raise InvalidInputError(f"'local:N' needs N >= 1 workers, got {scheduler!r}.")
        return n
    if scheduler.startswith("local"):
        raise InvalidInputError(f"write a local cluster as 'local:N' with N workers (e.g. 'local:4'), "
                                f"got {scheduler!r}.")
    if "://" not in scheduler and not re.match(r"^[\w.\-]+:\d+$", scheduler):
        raise InvalidInputError(f"scheduler must be 'local:N' or an address such as 'tcp://host:8786', "
                                f"got {scheduler!r}.")
    return scheduler


def _import_distributed():
    try:
        import distributed
    except ImportError as exc:  # the optional extra
        raise UnsupportedError("--scheduler needs dask.distributed: pip install 'eqhyp_utils[cluster]' "
                               f"(or pip install distributed) ({exc}).") from exc
    return distributed


def _worker_device(device) -> str:
    """On a worker: the device the runs will use there (raises if it has none such)."""
    from ..devices import resolve_device

    return str(resolve_device(device))


def _environment_plugin(environ: dict[str, str]):
    """A WorkerPlugin that sets ``environ`` on every worker, those that join later included."""
    from distributed.diagnostics.plugin import WorkerPlugin

    class Environment(WorkerPlugin):
        name = "eqhyp-environment"

        def __init__(self, environ: dict[str, str]) -> None:
            self.environ = dict(environ)

        def setup(self, worker) -> None:
            os.environ.update(self.environ)

    return Environment(environ)


@contextlib.contextmanager
def _workers_ignore_ctrl_c() -> Iterator[None]:
    """Ignore SIGINT while local worker processes start, so that they inherit it ignored.

    Ctrl-C reaches every process of the terminal's process group; this way only this process sees
    it, cancels the runs and closes the cluster, instead of each worker dying with a traceback.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def run_on_cluster(configs: Sequence[RunConfig], scheduler: str,
                   done: "Callable[[RunConfig, object], None]", *, device: "str | object" = "cpu",
                   retries: int = 1) -> None:
    """Run ``configs`` on a Dask cluster; call ``done(config, outcome)`` here as each finishes.

    ``scheduler``: ``"local:N"`` (a LocalCluster of N worker processes with one thread each, started
    and closed here) or the address of a running scheduler. ``configs`` arrive sorted longest first
    and are submitted in that order and priority. ``outcome`` is ``(payload, seconds)`` or the
    exception the run raised (or the scheduler's, e.g. ``KilledWorker``); ``done`` runs in this
    process only, in the order results arrive. ``device`` is resolved on each worker (a worker
    without it fails the check before any run is submitted). ``retries``: how many times a task
    that errors outside the run (e.g. the worker cannot unpickle it) is resubmitted; a dead
    worker's tasks are reassigned by the scheduler regardless.
    """
    distributed = _import_distributed()
    from .runner import _guarded_run

    target = parse_scheduler(scheduler)
    configs = list(configs)
    if not configs:
        return
    cluster = None
    client = None
    futures: list = []
    try:
        if isinstance(target, int):
            with _workers_ignore_ctrl_c():
                cluster = distributed.LocalCluster(n_workers=target, threads_per_worker=1, processes=True)
            client = distributed.Client(cluster)
        else:
            try:
                client = distributed.Client(target)
            except (OSError, TimeoutError) as exc:
                raise InvalidInputError(f"cannot reach a Dask scheduler at {target} ({exc}); start one "
                                        "(`dask scheduler`) and its workers, or use --scheduler local:N.") from exc
        environ = {k: os.environ[k] for k in FORWARDED_ENVIRONMENT if k in os.environ}
        if environ:
            client.register_plugin(_environment_plugin(environ))
        checks = client.run(_worker_device, device, on_error="return")
        refused = {worker: result for worker, result in checks.items() if isinstance(result, BaseException)}
        if refused:
            worker, error = next(iter(refused.items()))
            raise UnsupportedError(f"{len(refused)} of {len(checks)} workers cannot use device {str(device)!r} "
                                   f"(e.g. {worker}: {error})")
        by_key = {}
        for rank, config in enumerate(configs):
            future = client.submit(_guarded_run, config, device, key=f"eqhyp-run-{config.name}", pure=False,
                                   retries=retries, priority=len(configs) - rank)
            by_key[future.key] = config
            futures.append(future)
        for future in distributed.as_completed(futures):
            config = by_key[future.key]
            try:
                _, outcome = future.result()
            except Exception as exc:  # the task itself failed: e.g. its workers kept dying (KilledWorker)
                outcome = exc
            future.release()
            done(config, outcome)
    except BaseException:
        if client is not None and futures:
            try:
                client.cancel(futures)
            except Exception:
                pass
        raise
    finally:
        if client is not None:
            client.close()
        if cluster is not None:
            cluster.close()
