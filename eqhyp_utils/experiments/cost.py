r"""What a grid will cost, before it runs: a cost model calibrated on this machine.

``python -m eqhyp_utils reproduce --dry-run`` prints how many runs a grid has (and how many are
done), an estimated CPU time for each run still to do and the total, and runs nothing. Every run
uses one thread, so a run's CPU time is its wall time on a free core.

The model counts the work of a run and prices it with costs measured on this machine, in the same
invocation, by :func:`calibrate` (about a second on one thread: a few training steps of three small
networks, a few alignment tiles, one small all-layer alignment). The costs are CPU time
(``time.process_time``), so that other work on shared cores inflates them little; the wall time of
a run on a busy machine is longer by the share of the core it gets. With layer shapes
(n_in, n_out) = (d, N), (N, N) × (L − 1), (N, C) and M = Σ n_in·n_out multiply-adds per sample:

* training, per epoch of n samples in ⌈n / b⌉ steps:
  ⌈n/b⌉ · (c_step + c_layer · (L + 1)) + c_mac · 3 n M (forward, and a backward twice as dear);
* evaluation, at each checkpoint, of the training and test sets (forward only):
  c_mac · (n_train + n_test) M plus a third of c_layer per layer and batch of 4096;
* alignment, at each checkpoint and for each probe of p points: the factors and the label gradient,
  c_mac · (C + 2) p M + c_align · (L + 1), and for every layer the tiles of the Gram norm
  (blocks of 128 samples, only J ≥ I): with S = Σ_{I ≤ J} |I|·|J| sample pairs and T tiles,
  T · c_tile + S C² · c_entry + c_tile_mac · (S C² N_l + S (N_{l-1} + 1) + p C N_l (2 N_{l-1} + 2 + C));
* and c_run per run (data, prediction, provenance, the file).

Checkpoints are those of the run's schedule (step 0, the early fractions, every epoch's end) and the
milestones. A run to a loss threshold (``stop_loss``) has no known length: its estimate uses the
mean number of epochs of finished runs of the same configuration (other seeds) found in the
results folder, or else the epoch cap, and is then an upper bound (the report says which).

:func:`estimate_run` is the one definition of a run's cost; the runner orders grids by it
(:func:`eqhyp_utils.experiments.runner.estimated_cost`, with the fixed :data:`REFERENCE` costs, so
that the order does not depend on a measurement).
"""
from __future__ import annotations

import json
import math
import os
import statistics
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

import torch

from .config import RunConfig

__all__ = ["Calibration", "RunEstimate", "REFERENCE", "calibrate", "layer_shapes", "data_sizes",
           "estimate_run", "expected_epochs", "dry_run_report", "format_seconds"]

N_CLASSES = 10
"""Every data set of the course has 10 classes."""
BLOCK_SIZE = 128
"""The alignment's tile size (the default of :func:`eqhyp_utils.alignment.layerwise_alignment`)."""
EVAL_BATCH = 4096
"""Batch size of :func:`eqhyp_utils.training.evaluate`."""
_INPUTS = {"mnist1d": 40, "digits": 64, "gaussian": 20, "mnist": 784, "mnist_full": 784, "fashion_mnist": 784}
_DIGITS_SIZES = (1437, 360)   # scikit-learn's 1797 digits, 20 % stratified test split


@dataclass(frozen=True)
class Calibration:
    """Measured costs (seconds) of the operations the model counts; see the module docstring.

    step, layer, mac : a training step's fixed part, its part per layer, and one multiply-add of
        the training's matrix products (float64, one thread).
    tile, entry, tile_mac, align : an alignment tile's fixed part, its element-wise work per entry,
        one multiply-add of the tiles' matrix products, and the fixed work per layer of one alignment.
    run : the fixed part of a run (not measured: 0.01 s).
    seconds : how long the calibration took (wall time); load : the 1-minute load average when it
        ran (None for fixed costs). All costs are CPU seconds (``time.process_time``).
    """
    step: float
    layer: float
    mac: float
    tile: float
    entry: float
    tile_mac: float
    align: float
    run: float = 0.01
    seconds: float = 0.0
    load: "float | None" = None

    def describe(self) -> str:
        """One line of what was measured, in readable units."""
        where = ("CPU time measured on this machine in {:.1f} s, one thread, load average {:.2f} on {} cores"
                 .format(self.seconds, self.load, os.cpu_count()) if self.load is not None else "fixed reference costs")
        return (f"cost model ({where}): training {1e-9 / self.mac:.1f} G multiply-adds/s, "
                f"{1e6 * self.layer:.0f} µs per layer and step; alignment tiles {1e-9 / self.tile_mac:.1f} G "
                f"multiply-adds/s, {1e6 * self.tile:.0f} µs per tile")


REFERENCE = Calibration(step=4e-4, layer=1.3e-4, mac=9.5e-11, tile=6e-5, entry=4e-9, tile_mac=5.5e-11, align=9e-4)
"""Fixed costs (CPU seconds measured on one core of a 2020s x86-64 server): used to order runs, not to report time."""


# ----------------------------------------------------------------------------------------------
# what a run does

def layer_shapes(config: RunConfig) -> list[tuple[int, int]]:
    """(n_in, n_out) of each of the L + 1 dense layers of ``config``'s network."""
    d, N, L = _INPUTS[config.dataset], config.width, config.depth
    return [(d, N)] + [(N, N)] * (L - 1) + [(N, N_CLASSES)]


def data_sizes(config: RunConfig) -> tuple[int, int, list[int]]:
    """(n_train, n_test, probe sizes) of ``config``: the training probe, then the test probe if any."""
    n_train, n_test = _DIGITS_SIZES if config.dataset == "digits" else (config.n_train, config.n_test)
    probes = [config.probe_per_class * N_CLASSES] + ([config.test_probe] if config.test_probe else [])
    return n_train, n_test, probes


@dataclass(frozen=True)
class RunEstimate:
    """Estimated seconds of one run, by part, and the epochs it assumes (``epochs_from`` says why)."""
    train: float
    evaluate: float
    align: float
    overhead: float
    epochs: float
    epochs_from: str          # "budget", "cap" (an upper bound) or "results" (mean of finished runs)
    checkpoints: int

    @property
    def total(self) -> float:
        return self.train + self.evaluate + self.align + self.overhead

    @property
    def upper_bound(self) -> bool:
        return self.epochs_from == "cap"


def _gram_seconds(p: int, n_in: int, n_out: int, cal: Calibration) -> float:
    """Seconds of the Gram norm of one layer on p probe points (tiles of BLOCK_SIZE, J ≥ I)."""
    blocks = [min(BLOCK_SIZE, p - s) for s in range(0, p, BLOCK_SIZE)]
    k = len(blocks)
    pairs = (p * p + sum(b * b for b in blocks)) / 2                    # Σ_{I ≤ J} |I||J|
    C, P = N_CLASSES, n_in + 1
    macs = pairs * C * C * n_out + pairs * P + p * C * n_out * (2 * P + C)
    return k * (k + 1) / 2 * cal.tile + pairs * C * C * cal.entry + macs * cal.tile_mac


def alignment_seconds(shapes: Sequence[tuple[int, int]], p: int, cal: Calibration) -> float:
    """Seconds of one all-layer alignment on p probe points (factors, numerators, Gram norms)."""
    M = sum(a * b for a, b in shapes)
    return ((N_CLASSES + 2) * p * M * cal.mac + len(shapes) * cal.align
            + sum(_gram_seconds(p, a, b, cal) for a, b in shapes))


def _checkpoint_count(config: RunConfig, epochs: int, steps_per_epoch: int) -> int:
    from ..training import checkpoint_schedule

    scheduled = len(checkpoint_schedule(epochs, steps_per_epoch, config.early_fractions,
                                        every_epoch=config.every_epoch))
    thresholds = set(config.milestone_losses) | ({config.stop_loss} if config.stop_loss is not None else set())
    # a milestone adds a checkpoint at the end of an epoch, already one when every epoch is measured
    return scheduled + (0 if config.every_epoch else len(thresholds))


def estimate_run(config: RunConfig, calibration: Calibration = REFERENCE,
                 epochs: "float | None" = None) -> RunEstimate:
    """Estimated seconds of ``config`` on one thread, with ``calibration``'s costs.

    ``epochs``: the expected number of epochs of a run to threshold (default: its cap, an upper
    bound); ignored for a fixed budget.
    """
    cal = calibration
    shapes = layer_shapes(config)
    M, layers = sum(a * b for a, b in shapes), len(shapes)
    n_train, n_test, probes = data_sizes(config)
    if config.runs_to_threshold and epochs is not None:
        epochs_from, epochs = "results", min(float(epochs), float(config.epochs))
    else:
        epochs_from, epochs = ("cap" if config.runs_to_threshold else "budget"), float(config.epochs)
    steps_per_epoch = -(-n_train // config.batch_size)
    checkpoints = _checkpoint_count(config, max(1, math.ceil(epochs)), steps_per_epoch)
    train = epochs * (steps_per_epoch * (cal.step + cal.layer * layers) + cal.mac * 3 * n_train * M)
    eval_batches = -(-n_train // EVAL_BATCH) + -(-n_test // EVAL_BATCH)
    evaluate = checkpoints * (cal.mac * (n_train + n_test) * M + eval_batches * layers * cal.layer / 3)
    align = checkpoints * sum(alignment_seconds(shapes, p, cal) for p in probes)
    return RunEstimate(train=train, evaluate=evaluate, align=align, overhead=cal.run, epochs=epochs,
                       epochs_from=epochs_from, checkpoints=checkpoints)


# ----------------------------------------------------------------------------------------------
# measuring the costs

def _median_seconds(fn, repeats: int = 5, min_block: float = 0.01) -> float:
    """Median over ``repeats`` blocks of the CPU seconds of one call of ``fn`` (blocks of ≥ min_block s).

    CPU time (``time.process_time``), not wall time: on cores shared with other work a run's wall
    time stretches with the load, its CPU time much less, and the model estimates CPU time.
    """
    fn()                                                                # warm up
    start = time.process_time()
    fn()
    once = max(time.process_time() - start, 1e-6)
    per_block = max(1, math.ceil(min_block / once))
    times = []
    for _ in range(repeats):
        start = time.process_time()
        for _ in range(per_block):
            fn()
        times.append((time.process_time() - start) / per_block)
    return statistics.median(times)


def _training_step(depth: int, width: int, d: int = 40, batch: int = 128):
    from ..models import MLP
    from ..training import loss_function

    model = MLP(d, N_CLASSES, depth, width, "relu", 2.0, 0.0, seed=0)
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(batch, d, generator=gen, dtype=torch.float64)
    y = torch.randint(0, N_CLASSES, (batch,), generator=gen)
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)

    def step() -> None:
        optimizer.zero_grad(set_to_none=True)
        loss = loss_function("cross_entropy", model(x), y)
        float(loss.detach())
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()

    macs = batch * 3 * sum(a * b for a, b in [(d, width)] + [(width, width)] * (depth - 1) + [(width, N_CLASSES)])
    return step, depth + 1, macs


def _gram_call(p: int, n_in: int, n_out: int, block: int):
    from ..alignment import _centred_gram_norm2
    from ..tangent_kernels import LayerFactors

    gen = torch.Generator().manual_seed(0)
    factors = LayerFactors(l=1, inputs=torch.randn(p, n_in, generator=gen, dtype=torch.float64),
                           deltas=torch.randn(p, N_CLASSES, n_out, generator=gen, dtype=torch.float64))
    blocks = [min(block, p - s) for s in range(0, p, block)]
    pairs = (p * p + sum(b * b for b in blocks)) / 2
    C, P = N_CLASSES, n_in + 1
    row = [len(blocks) * (len(blocks) + 1) / 2, pairs * C * C,
           pairs * C * C * n_out + pairs * P + p * C * n_out * (2 * P + C)]
    return (lambda: _centred_gram_norm2(factors, True, True, block)), row


def calibrate(repeats: int = 5) -> Calibration:
    """Measure the costs of :class:`Calibration` on this machine, on one thread (about a second)."""
    import numpy as np

    from ..alignment import layerwise_alignment
    from ..models import MLP
    from .runner import torch_threads

    start = time.perf_counter()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    with torch_threads(1):
        # training: t = c_step + c_layer · layers + c_mac · macs, from three networks
        rows, times = [], []
        for depth, width in ((2, 8), (16, 8), (2, 256)):
            step, layers, macs = _training_step(depth, width)
            rows.append([1.0, layers, macs])
            times.append(_median_seconds(step, repeats))
        step_s, layer_s, mac_s = np.linalg.solve(np.array(rows), np.array(times))
        # alignment tiles: t = fixed + c_tile · tiles + c_entry · entries + c_tile_mac · macs
        rows, times = [], []
        for p, n_in, n_out, block in ((16, 8, 8, 16), (128, 8, 8, 16), (128, 8, 8, 128), (128, 128, 128, 128)):
            call, row = _gram_call(p, n_in, n_out, block)
            rows.append([1.0] + row)
            times.append(_median_seconds(call, repeats))
        fixed_s, tile_s, entry_s, tile_mac_s = np.linalg.solve(np.array(rows), np.array(times))
        mac_s, tile_mac_s = max(mac_s, 1e-12), max(tile_mac_s, 1e-12)
        partial = Calibration(step=max(step_s, 0.0), layer=max(layer_s, 0.0), mac=mac_s, tile=max(tile_s, 0.0),
                              entry=max(entry_s, 0.0), tile_mac=tile_mac_s, align=0.0)
        # the fixed work per layer of a whole alignment: a small network, all layers
        depth, width, p = 4, 8, 20
        model = MLP(40, N_CLASSES, depth, width, "relu", 2.0, 0.0, seed=0)
        x = torch.randn(p, 40, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
        labels = torch.arange(p) % N_CLASSES
        whole = _median_seconds(lambda: layerwise_alignment(model, x, labels), repeats)
        shapes = [(40, width)] + [(width, width)] * (depth - 1) + [(width, N_CLASSES)]
        align_s = max(whole - alignment_seconds(shapes, p, partial), 0.0) / len(shapes)
    return Calibration(step=float(partial.step), layer=float(partial.layer), mac=float(mac_s),
                       tile=float(partial.tile), entry=float(partial.entry), tile_mac=float(tile_mac_s),
                       align=float(align_s), seconds=time.perf_counter() - start, load=float(load))


# ----------------------------------------------------------------------------------------------
# runs to threshold: how long finished ones took

def expected_epochs(results_dir: "str | Path") -> dict[tuple, tuple[float, int]]:
    """{configuration key without seed: (mean epochs trained, number of runs)} of the finished
    run-to-threshold runs in ``results_dir/runs`` (files that do not parse are ignored)."""
    sums: dict[tuple, list[float]] = {}
    for path in sorted((Path(results_dir) / "runs").glob("*.json")):
        try:
            payload = json.loads(path.read_text())["payload"]
            config = RunConfig.from_dict(payload["config"])
            trained = len(payload["history"]["epoch_loss"])
        except Exception:  # a damaged or foreign file says nothing about run lengths
            continue
        if config.runs_to_threshold and trained > 0:
            sums.setdefault(config.architecture_key(), []).append(float(trained))
    return {key: (sum(v) / len(v), len(v)) for key, v in sums.items()}


# ----------------------------------------------------------------------------------------------
# the dry-run report

def format_seconds(seconds: float) -> str:
    """``42 s``, ``3.1 min`` or ``2.4 h``."""
    if seconds < 100:
        return f"{seconds:.2g} s" if seconds < 10 else f"{seconds:.0f} s"
    if seconds < 6000:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def _label(config: RunConfig) -> str:
    alpha = "mlp" if config.alpha is None else f"res α={config.alpha:g}"
    return (f"{config.dataset} {config.activation} σw²={config.sigma_w2:g} σb²={config.sigma_b2:g} "
            f"L={config.depth} N={config.width} {alpha} lr={config.lr:g}")


def _runs(n: int) -> str:
    return f"{n} run" + ("" if n == 1 else "s")


def _makespan(costs: Iterable[float], workers: int) -> float:
    """Wall time of the longest-first schedule of ``costs`` on ``workers`` (each run on the least loaded)."""
    loads = [0.0] * max(1, workers)
    for c in sorted(costs, reverse=True):
        loads[loads.index(min(loads))] += c
    return max(loads)


def _measured_seconds(results_dir: Path) -> dict[str, float]:
    """{run name: last recorded seconds} from ``runs/timings.jsonl`` (empty without one)."""
    out: dict[str, float] = {}
    try:
        lines = (results_dir / "runs" / "timings.jsonl").read_text().splitlines()
    except OSError:
        return out
    for line in lines:
        try:
            record = json.loads(line)
            out[str(record["name"])] = float(record["seconds"])
        except (ValueError, KeyError, TypeError):
            continue
    return out


def dry_run_report(configs: Sequence[RunConfig], results_dir: "str | Path", *,
                   calibration: "Calibration | None" = None, workers: "int | None" = 1,
                   device: str = "cpu") -> str:
    """The text ``reproduce --dry-run`` prints: runs, done, estimated CPU time per run and in total.

    ``calibration`` defaults to :func:`calibrate` (measured now). ``workers``: parallel runs for the
    wall-time line (``--jobs`` or the N of ``local:N``; None when unknown). Runs nothing.
    """
    from .runner import grid_status

    results_dir = Path(results_dir)
    cal = calibration if calibration is not None else calibrate()
    configs = list({c.config_hash(): c for c in configs}.values())
    todo, problems = grid_status(configs, results_dir)
    todo_hashes = {c.config_hash() for c in todo}
    known = expected_epochs(results_dir)
    groups: dict[tuple, dict] = {}
    estimates = {}
    for config in configs:
        key = config.architecture_key()
        seen = known.get(key) if config.runs_to_threshold else None
        estimate = estimate_run(config, cal, epochs=seen[0] if seen else None)
        estimates[config.config_hash()] = estimate
        group = groups.setdefault(key, {"label": _label(config), "estimate": estimate, "runs": 0, "todo": 0,
                                        "from_results": seen[1] if seen else 0})
        group["runs"] += 1
        group["todo"] += config.config_hash() in todo_hashes

    lines = [f"dry run: nothing is trained. {_runs(len(configs))} → {results_dir / 'runs'}: "
             f"{len(configs) - len(todo)} done, {len(todo)} to run"
             + (f" ({len(problems)} of them because their file is invalid)" if problems else "") + ".",
             cal.describe() + ".",
             "Estimated CPU seconds per run (one thread each); epochs: the budget, '≤ cap' for a run to a loss "
             "threshold estimated at its epoch cap (an upper bound), '~' for the mean of finished runs of the "
             "same configuration."]
    header = f"{'to run':>6} {'of':>4} {'epochs':>8} {'ckpts':>5} {'train':>7} {'eval':>7} {'align':>7} " \
             f"{'per run':>8}  configuration"
    lines += ["", header, "-" * len(header)]
    for group in sorted(groups.values(), key=lambda g: -g["estimate"].total):
        e = group["estimate"]
        epochs = {"budget": f"{e.epochs:g}", "cap": f"≤ {e.epochs:g}",
                  "results": f"~{e.epochs:.3g}"}[e.epochs_from]
        lines.append(f"{group['todo']:>6} {group['runs']:>4} {epochs:>8} {e.checkpoints:>5} {e.train:>7.1f} "
                     f"{e.evaluate:>7.1f} {e.align:>7.1f} {e.total:>8.1f}  {group['label']}")
    costs = [estimates[c.config_hash()].total for c in todo]
    bounded = sum(estimates[c.config_hash()].upper_bound for c in todo)
    total = sum(costs)
    lines.append("")
    lines.append(f"estimated CPU time to run: {format_seconds(total)} for {_runs(len(todo))}"
                 + (f" (per run: {format_seconds(min(costs))} to {format_seconds(max(costs))})" if costs else "")
                 + (f"; an upper bound: {bounded} of them run to a threshold and are counted at their epoch cap"
                    if bounded else "") + ".")
    if costs and workers:
        lines.append(f"wall time with {workers} parallel run{'s' if workers > 1 else ''}, longest first: about "
                     f"{format_seconds(_makespan(costs, workers))} if {workers} core{'s are' if workers > 1 else ' is'} "
                     "free (longer on shared cores).")
    measured = _measured_seconds(results_dir)
    done = [c for c in configs if c.config_hash() not in todo_hashes and c.name in measured]
    if done:
        spent = sum(measured[c.name] for c in done)
        predicted = sum(estimates[c.config_hash()].total for c in done)
        lines.append(f"the {len(done)} finished runs recorded in runs/timings.jsonl took {format_seconds(spent)} of "
                     f"wall time (more than their CPU time if the cores were shared, and the first run of each "
                     f"worker process also imports the libraries, a few seconds); this model gives them "
                     f"{format_seconds(predicted)} of CPU time (recorded / estimated = {spent / predicted:.2f}).")
    if str(device) != "cpu":
        lines.append(f"(--device {device}: the estimates are for the CPU path.)")
    return "\n".join(lines)
