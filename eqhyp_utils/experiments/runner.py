"""The course's one training recipe, and the grid runner built on it.

:func:`train_run` turns a :class:`~eqhyp_utils.experiments.config.RunConfig` into a trained
network's :class:`~eqhyp_utils.training.TrainingHistory`: it builds the data, the probe set(s) and
the network from the configuration, and trains with :func:`eqhyp_utils.training.train`. Everything
that trains a network in the course calls it — the demo, the widgets (through
:func:`cached_train_run`), the notebooks and the experiment grid — so that a recipe is written once
and cannot drift.

:func:`run_one` runs :func:`train_run` with exactly one thread and packages the history with the
Equilibrium-Hypothesis prediction for the architecture and the provenance (versions, commit, CPU,
BLAS) into a result payload. Initialisation and mini-batch order come from platform-independent
streams and training is in float64, so the payload is the same on every machine, with any thread
count and any ``--jobs``.

:func:`run_grid` is resumable: a run whose result file exists and passes :func:`read_result`
is skipped; a file that fails (truncated, checksum or configuration mismatch) is reported with a
``RuntimeWarning`` naming it and the run is redone. Workers return payloads; only this process
writes result files (atomically), and it appends each run's wall time to ``runs/timings.jsonl``.
"""
from __future__ import annotations

import contextlib
import json
import time
import warnings
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterator, Sequence

import numpy as np
import torch

from ..errors import CorruptResultError, InvalidInputError
from .config import RunConfig
from .results import read_result, write_result

__all__ = ["LOSS_CURVE_POINTS", "result_path", "adopt_finished_runs", "load_run_data", "build_run_model", "train_run",
           "cached_train_run", "run_one", "run_and_save", "run_grid", "grid_status", "architecture_prediction",
           "torch_threads"]

LOSS_CURVE_POINTS = 200
"""The mini-batch loss curve is stored as at most this many block means."""


def result_path(results_dir: "str | Path", config: RunConfig) -> Path:
    """Where ``config``'s result lives: ``results_dir/runs/<config.name>.json``."""
    return Path(results_dir) / "runs" / f"{config.name}.json"


@contextlib.contextmanager
def torch_threads(n: int) -> Iterator[None]:
    """Run the block with ``torch.set_num_threads(n)``, then restore the previous count."""
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def architecture_prediction(config: RunConfig) -> dict[str, Any]:
    """The EH readings and the depth-only baselines for ``config``'s architecture (layers 1 … L + 1).

    Signal propagation at initialisation only, nothing fitted (:mod:`eqhyp_utils.equilibrium`).
    A reading that does not cover the architecture is recorded as None with its error.
    """
    from ..equilibrium import BASELINES
    from .readings import READINGS

    out: dict[str, Any] = {"n_layers": config.depth + 1}
    out.update({name: rule(config.depth) for name, rule in BASELINES.items()})
    for name, reading in READINGS.items():
        try:
            out[name] = reading.layer(config)
        except Exception as exc:  # an unsupported case is recorded, not fatal to the run
            out[name] = None
            out[f"{name}_error"] = repr(exc)
    return out


def _loss_curve(steps: np.ndarray, values: np.ndarray, points: int = LOSS_CURVE_POINTS) -> dict[str, Any]:
    """Block means of the mini-batch loss: at most ``points`` (step, mean loss) pairs."""
    n = len(values)
    if n == 0:
        return {"block": 0, "steps": [], "loss": []}
    block = max(1, -(-n // points))
    starts = np.arange(0, n, block)
    means = [float(np.mean(values[s:s + block])) for s in starts]
    centres = [float(np.mean(steps[s:s + block])) for s in starts]
    return {"block": int(block), "steps": centres, "loss": means}


def load_run_data(config: RunConfig):
    """(train, test, probe, test_probe or None) of ``config``: the data of the recipe."""
    from ..data import balanced_subset, load_dataset, random_subset

    if config.dataset == "digits":
        train_set, test_set = load_dataset("digits", seed=config.data_seed)
    else:
        train_set, test_set = load_dataset(config.dataset, n_train=config.n_train, n_test=config.n_test,
                                           seed=config.data_seed)
    from ..rng import generator

    probe = balanced_subset(train_set, config.probe_per_class, seed=generator(config.seed, "probe"))
    test_probe = (random_subset(test_set, config.test_probe, seed=generator(config.seed, "test_probe"))
                  if config.test_probe else None)
    return train_set, test_set, probe, test_probe


def build_run_model(config: RunConfig, n_features: int, n_classes: int, device: "str | torch.device" = "cpu"):
    """The network of ``config`` (float64, platform-independent initialisation), on ``device``."""
    from ..models import build_model

    model = build_model(n_features, n_classes, config.depth, config.width, config.activation, config.sigma_w2,
                        config.sigma_b2, alpha=config.alpha, seed=config.seed)
    return model.to(device)


def train_run(config: RunConfig, *, progress: bool = False, device: "str | torch.device" = "cpu"):
    """Train the run ``config`` describes and return its :class:`~eqhyp_utils.training.TrainingHistory`.

    Data: :func:`load_run_data`; network: :func:`build_run_model`; optimiser, loss, budget or
    thresholds: :meth:`RunConfig.train_config`; checkpoints: step 0, ``early_fractions`` of the
    first epoch, every epoch's end when ``every_epoch``, and the loss milestones. Divergence is
    recorded in the history (``diverged``), not raised. ``device`` ("cpu", "cuda", "mps", or a
    torch.device) is where the tensors live; the CPU is the reference the stored numbers come from.
    """
    from ..training import checkpoint_schedule, train

    if not isinstance(config, RunConfig):
        raise InvalidInputError(f"config must be a RunConfig, got {type(config).__name__}.")
    from ..devices import resolve_device

    device = resolve_device(device)
    train_set, test_set, probe, test_probe = load_run_data(config)
    model = build_run_model(config, train_set.n_features, train_set.n_classes, device)
    steps_per_epoch = -(-len(train_set) // config.batch_size)
    checkpoints = checkpoint_schedule(config.epochs, steps_per_epoch, config.early_fractions,
                                      every_epoch=config.every_epoch)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # divergence is recorded in the history
        history = train(model, train_set, probe, config.train_config(), test=test_set, test_probe=test_probe,
                        checkpoints=checkpoints, progress=progress)
    history.config.update(run=config.to_dict(), n_train=len(train_set), n_test=len(test_set), n_probe=len(probe),
                          n_test_probe=0 if test_probe is None else len(test_probe),
                          n_classes=train_set.n_classes)
    return history


@lru_cache(maxsize=64)
def cached_train_run(config: RunConfig):
    """:func:`train_run` (CPU) once per configuration and process; the widgets' in-memory cache.

    Identical configurations return the *same* history object: do not modify it.
    """
    return train_run(config)


def run_one(config: RunConfig, progress: bool = False, device: "str | torch.device" = "cpu") -> dict[str, Any]:
    """Train ``config`` (one thread) and return its result payload (not yet rounded or written)."""
    from ..devices import resolve_device
    from ..provenance import machine_provenance

    if not isinstance(config, RunConfig):
        raise InvalidInputError(f"config must be a RunConfig, got {type(config).__name__}.")
    device = resolve_device(device)
    with torch_threads(1):
        history = train_run(config, progress=progress, device=device)
    record = history.to_dict()
    loss_steps, loss_values = record.pop("loss_steps"), record.pop("loss_values")
    sizes = {k: record["config"][k] for k in ("n_train", "n_test", "n_probe", "n_test_probe")}
    record.pop("config", None)
    return {
        "config": config.to_dict(),
        "config_hash": config.config_hash(),
        "name": config.name,
        "history": record,
        "loss_curve": _loss_curve(np.asarray(loss_steps, dtype=np.float64),
                                  np.array([np.nan if v is None else v for v in loss_values], dtype=np.float64)),
        "prediction": architecture_prediction(config),
        "provenance": {**machine_provenance(), "device": str(device), "seed": config.seed, "threads": 1, **sizes},
    }


def _timed_run(config: RunConfig, device: "str | torch.device" = "cpu") -> tuple[dict[str, Any], float]:
    """(payload, wall seconds): what a worker sends back."""
    start = time.perf_counter()
    payload = run_one(config, device=device)
    return payload, time.perf_counter() - start


def _save(results_dir: "str | Path", config: RunConfig, payload: dict[str, Any], seconds: float) -> str:
    path = result_path(results_dir, config)
    write_result(path, payload)
    with open(Path(results_dir) / "runs" / "timings.jsonl", "a") as log:
        log.write(json.dumps({"name": config.name, "config_hash": config.config_hash(),
                              "seconds": round(seconds, 2), "cpu_model": payload["provenance"]["cpu_model"],
                              "device": payload["provenance"]["device"]}) + "\n")
    return str(path)


def run_and_save(config: RunConfig, results_dir: "str | Path", progress: bool = False,
                 device: "str | torch.device" = "cpu") -> str:
    """Train ``config`` and write its result file; returns the file's path (as a string)."""
    start = time.perf_counter()
    payload = run_one(config, progress=progress, device=device)
    return _save(results_dir, config, payload, time.perf_counter() - start)


def adopt_finished_runs(configs: Sequence[RunConfig], results_dir: "str | Path", source_dir: "str | Path") -> int:
    """Copy into ``results_dir`` the valid result files of ``configs`` that ``source_dir`` holds and
    ``results_dir`` lacks (with their lines of ``runs/timings.jsonl``); return how many were copied.

    A run is a configuration, whatever grid asks for it: a grid that shares runs with another (the
    factorial study's hub with the paper's depth series) takes the very same files. A source file
    that fails :func:`read_result` is not copied (the run is then trained here).
    """
    import shutil

    copied: set[str] = set()
    for config in configs:
        target, source = result_path(results_dir, config), result_path(source_dir, config)
        if target.exists() or not source.exists() or source.resolve() == target.resolve():
            continue
        try:
            read_result(source, expected_config_hash=config.config_hash())
        except CorruptResultError:
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(target.name + ".adopting")
        shutil.copyfile(source, tmp)
        tmp.replace(target)
        copied.add(config.config_hash())
    timings = Path(source_dir) / "runs" / "timings.jsonl"
    if copied and timings.exists():
        lines = [line for line in timings.read_text().splitlines()
                 if line.strip() and json.loads(line).get("config_hash") in copied]
        with open(Path(results_dir) / "runs" / "timings.jsonl", "a") as log:
            log.writelines(line + "\n" for line in lines)
    return len(copied)


def grid_status(configs: Sequence[RunConfig], results_dir: "str | Path") -> tuple[list[RunConfig], list[str]]:
    """(runs still to do, warnings about rejected files) for ``configs`` in ``results_dir``.

    A run is done when its file exists and passes :func:`read_result` with its configuration hash.
    """
    todo, problems = [], []
    for config in configs:
        path = result_path(results_dir, config)
        if not path.exists():
            todo.append(config)
            continue
        try:
            read_result(path, expected_config_hash=config.config_hash())
        except CorruptResultError as exc:
            problems.append(f"invalid result file, the run will be redone: {exc}")
            todo.append(config)
    return todo, problems


def run_grid(configs: Sequence[RunConfig], results_dir: "str | Path", *, jobs: int = 1,
             progress: bool = True, device: "str | torch.device" = "cpu",
             scheduler: "str | None" = None) -> dict[str, int]:
    """Run every configuration without a valid result file in ``results_dir``; return counts.

    ``jobs > 1`` runs configurations in parallel worker processes (joblib/loky), each with one
    thread; ``scheduler`` (an address such as ``"tcp://host:8786"``, or ``"local:N"``) sends them to a
    dask.distributed cluster instead (:func:`eqhyp_utils.experiments.distributed.run_on_cluster`;
    ``jobs`` is then ignored). Either way workers return payloads and this process writes the files,
    identical to those of ``jobs = 1``. The longest runs (:func:`estimated_cost`) start first.
    A run that raises is reported (``counts["failed"]``, with a warning naming it) and the others go on.
    ``device`` ("cpu", the default, "cuda", "auto", …) is checked here before anything runs, except
    with a scheduler, whose workers check it (they may have GPUs this machine lacks).
    Progress: a bar over runs (tqdm) and, with ``jobs = 1``, each run's training bar.
    """
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise InvalidInputError(f"jobs must be an integer >= 1, got {jobs!r}.")
    from tqdm.auto import tqdm

    if scheduler is None:
        from ..devices import resolve_device

        device = resolve_device(device)  # once, rather than as one failure per run

    configs = list({c.config_hash(): c for c in configs}.values())
    todo, problems = grid_status(configs, results_dir)
    for message in problems:
        warnings.warn(message, RuntimeWarning, stacklevel=2)
    counts = {"total": len(configs), "skipped": len(configs) - len(todo), "redone": len(problems),
              "ran": 0, "failed": 0}
    todo.sort(key=estimated_cost, reverse=True)  # longest first balances the workers
    if not todo:
        return counts
    bar = tqdm(total=len(todo), desc="grid", unit="run", disable=not progress)

    def done(config: RunConfig, outcome: "tuple[dict, float] | BaseException") -> None:
        if isinstance(outcome, BaseException):
            counts["failed"] += 1
            warnings.warn(f"run {config.name} failed and was not written: {outcome!r}", RuntimeWarning, stacklevel=3)
        else:
            _save(results_dir, config, *outcome)
            counts["ran"] += 1
        bar.update(1)

    try:
        if scheduler is not None:
            from .distributed import run_on_cluster

            run_on_cluster(todo, scheduler, done, device=device)
        elif jobs == 1:
            for config in todo:
                try:
                    start = time.perf_counter()
                    outcome = (run_one(config, progress=progress, device=device), time.perf_counter() - start)
                except Exception as exc:
                    outcome = exc
                done(config, outcome)
        else:
            from joblib import Parallel, delayed

            parallel = Parallel(n_jobs=jobs, backend="loky", return_as="generator_unordered")
            for config, outcome in parallel(delayed(_guarded_run)(c, device) for c in todo):
                done(config, outcome)
    finally:
        bar.close()
    return counts


def _guarded_run(config: RunConfig, device: "str | torch.device" = "cpu"):
    """(config, (payload, seconds)) or (config, exception): a worker's answer, never a raise.

    The one per-run function of the parallel backends (loky and dask). An exception that cannot be
    pickled back to the client is replaced by a RuntimeError carrying its repr.
    """
    try:
        return config, _timed_run(config, device)
    except Exception as exc:
        import pickle

        try:
            pickle.dumps(exc)
        except Exception:
            exc = RuntimeError(repr(exc))
        return config, exc


def estimated_cost(config: RunConfig) -> float:
    """A run's relative cost, to order grids (longest first): :func:`eqhyp_utils.experiments.cost.estimate_run`
    with the fixed :data:`~eqhyp_utils.experiments.cost.REFERENCE` costs, in seconds of a typical core.

    For a run to a loss threshold the epoch cap counts (an upper bound). ``reproduce --dry-run``
    prices the same model with costs measured on the machine at hand.
    """
    from .cost import REFERENCE, estimate_run

    return estimate_run(config, REFERENCE).total
