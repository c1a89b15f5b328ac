"""Run a grid: train every configuration once, write one result file per run, skip finished runs.

Each run (:func:`run_one`) builds its data, probe set and network from its :class:`RunConfig`,
trains with :func:`eqhyp_utils.training.train`, and records the per-layer alignment at every
checkpoint, the accuracies, a subsampled loss curve, the Equilibrium-Hypothesis prediction for its
architecture and provenance. Every run uses exactly one thread
(``torch.set_num_threads(1)``): with a fixed seed this makes a run bit-for-bit repeatable on one
machine, and ``--jobs N`` give the same files as ``--jobs 1``.

:func:`run_grid` is resumable: a run whose result file exists and passes :func:`read_result`
is skipped; a file that fails (truncated, checksum or configuration mismatch) is reported with a
``RuntimeWarning`` naming it and the run is redone.
"""
from __future__ import annotations

import platform
import subprocess
import time
import warnings
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch

from ..errors import CorruptResultError, InvalidInputError
from .config import RunConfig
from .results import read_result, write_result

__all__ = ["LOSS_CURVE_POINTS", "result_path", "run_one", "run_and_save", "run_grid", "grid_status",
           "architecture_prediction"]

LOSS_CURVE_POINTS = 200
"""The mini-batch loss curve is stored as at most this many block means."""


def result_path(results_dir: "str | Path", config: RunConfig) -> Path:
    """Where ``config``'s result lives: ``results_dir/runs/<config.name>.json``."""
    return Path(results_dir) / "runs" / f"{config.name}.json"


def _git_commit() -> str:
    """HEAD's commit, with "-dirty" if the package differs from it; "unknown" outside a checkout."""
    package = Path(__file__).resolve().parents[1]
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=package, capture_output=True, text=True,
                              timeout=10)
        if head.returncode != 0 or not head.stdout.strip():
            return "unknown"
        status = subprocess.run(["git", "status", "--porcelain", "--", str(package)], cwd=package,
                                capture_output=True, text=True, timeout=10)
        return head.stdout.strip() + ("-dirty" if status.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def architecture_prediction(config: RunConfig) -> dict[str, Any]:
    """EH prediction and depth-only baselines for ``config``'s architecture (layers 1 … L + 1).

    ``equilibrium_layer``/``equilibrium_depth`` come from :mod:`eqhyp_utils.equilibrium` (signal
    propagation at initialisation only, no fitted constant); the baselines are the middle layer
    ⌈(L + 1)/2⌉ and the last hidden layer L.
    """
    L = config.depth
    out: dict[str, Any] = {"n_layers": L + 1, "middle_layer": (L + 2) // 2, "last_hidden_layer": L}
    try:
        from .. import equilibrium
    except ImportError as exc:
        out["equilibrium_error"] = f"eqhyp_utils.equilibrium unavailable ({exc})"
        return out
    kw = dict(activation=config.activation, sigma_w2=config.sigma_w2, sigma_b2=config.sigma_b2, depth=L,
              alpha=config.alpha)
    for name in ("equilibrium_layer", "equilibrium_depth"):
        try:
            value = getattr(equilibrium, name)(**kw)
            out[name] = None if value is None else (int(value) if name == "equilibrium_layer" else float(value))
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


def _load_data(config: RunConfig):
    from ..data import balanced_subset, load_dataset

    if config.dataset == "digits":
        train_set, test_set = load_dataset("digits", seed=config.data_seed)
    else:
        train_set, test_set = load_dataset(config.dataset, n_train=config.n_train, n_test=config.n_test,
                                           seed=config.data_seed)
    probe = balanced_subset(train_set, config.probe_per_class, seed=config.seed)
    return train_set, test_set, probe


def run_one(config: RunConfig, progress: bool = False) -> dict[str, Any]:
    """Train ``config`` (one thread) and return its result payload (not yet rounded or written)."""
    from .. import __version__
    from ..models import build_model
    from ..training import TrainConfig, checkpoint_schedule, train

    if not isinstance(config, RunConfig):
        raise InvalidInputError(f"config must be a RunConfig, got {type(config).__name__}.")
    torch.set_num_threads(1)
    start = time.perf_counter()
    train_set, test_set, probe = _load_data(config)
    model = build_model(train_set.n_features, train_set.n_classes, config.depth, config.width,
                        config.activation, config.sigma_w2, config.sigma_b2, alpha=config.alpha,
                        seed=config.seed)
    train_config = TrainConfig(optimizer=config.optimizer, lr=config.lr, momentum=config.momentum,
                               epochs=config.epochs, batch_size=config.batch_size, loss=config.loss,
                               grad_clip=config.grad_clip, seed=config.seed)
    steps_per_epoch = -(-len(train_set) // config.batch_size)
    checkpoints = checkpoint_schedule(config.epochs, steps_per_epoch, config.early_fractions)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # divergence is recorded in the history
        history = train(model, train_set, probe, train_config, test=test_set, checkpoints=checkpoints,
                        progress=progress)
    record = history.to_dict()
    loss_steps, loss_values = record.pop("loss_steps"), record.pop("loss_values")
    record.pop("config", None)
    return {
        "config": config.to_dict(),
        "config_hash": config.config_hash(),
        "name": config.name,
        "history": record,
        "loss_curve": _loss_curve(np.asarray(loss_steps, dtype=np.float64),
                                  np.array([np.nan if v is None else v for v in loss_values], dtype=np.float64)),
        "prediction": architecture_prediction(config),
        "provenance": {
            "package_version": __version__, "git_commit": _git_commit(), "torch_version": torch.__version__,
            "numpy_version": np.__version__, "python_version": platform.python_version(),
            "machine": platform.machine(), "seed": config.seed, "threads": torch.get_num_threads(),
            "runtime_s": time.perf_counter() - start, "n_train": len(train_set), "n_test": len(test_set),
            "n_probe": len(probe),
        },
    }


def run_and_save(config: RunConfig, results_dir: "str | Path", progress: bool = False) -> str:
    """Train ``config`` and write its result file; returns the file's path (as a string)."""
    path = result_path(results_dir, config)
    write_result(path, run_one(config, progress=progress))
    return str(path)


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
             progress: bool = True) -> dict[str, int]:
    """Run every configuration without a valid result file in ``results_dir``; return counts.

    ``jobs > 1`` runs configurations in parallel worker processes (joblib/loky), each with one
    thread; the files are identical to those of ``jobs = 1``. The longest runs start first.
    Progress: a bar over runs (tqdm) and, with ``jobs = 1``, each run's training bar.
    """
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise InvalidInputError(f"jobs must be an integer >= 1, got {jobs!r}.")
    from tqdm.auto import tqdm

    configs = list({c.config_hash(): c for c in configs}.values())
    todo, problems = grid_status(configs, results_dir)
    for message in problems:
        warnings.warn(message, RuntimeWarning, stacklevel=2)
    counts = {"total": len(configs), "skipped": len(configs) - len(todo), "redone": len(problems),
              "ran": len(todo)}
    todo.sort(key=lambda c: -(c.depth * c.width ** 2 * c.epochs))  # longest first balances the workers
    if not todo:
        return counts
    bar = tqdm(total=len(todo), desc="grid", unit="run", disable=not progress)
    if jobs == 1:
        for config in todo:
            run_and_save(config, results_dir, progress=progress)
            bar.update(1)
    else:
        from joblib import Parallel, delayed

        parallel = Parallel(n_jobs=jobs, backend="loky", return_as="generator_unordered")
        for _ in parallel(delayed(run_and_save)(c, results_dir, False) for c in todo):
            bar.update(1)
    bar.close()
    return counts
