"""Mini-batch training that records every layer's tangent-kernel alignment along the way.

:func:`train` runs plain mini-batch training (SGD, SGD with momentum or Adam) and, at *checkpoint
steps* (:func:`checkpoint_schedule`) and at *loss milestones*, measures on a fixed probe set (and
optionally on a second, held-out probe set) the alignment A_l = yᵀK_l y / (‖K_l‖_F ‖y‖²) of every
layer l = 1 … L + 1 (Baratin et al. 2021, via :func:`eqhyp_utils.alignment.layerwise_alignment`),
together with the loss and accuracy on the training and test sets. The result is a
:class:`TrainingHistory`, which converts to and from JSON-safe dictionaries for result files.

Two ways to end a run:

* a fixed budget: ``config.epochs`` epochs;
* *run to threshold* (the paper's protocol, docs/science.md §7): the *running training loss* of an
  epoch is the mean of its mini-batch losses; a milestone m in ``config.milestone_losses`` is reached
  at the end of the first epoch that closes ``config.patience`` consecutive epochs of running loss
  below m, and a checkpoint is recorded there; training stops at the milestone ``config.stop_loss``.
  ``config.epochs`` is then the cap: a run that hits it first is recorded with
  ``stop_reason = "epoch_cap"`` and its unreached milestones as ``None``, never dropped.

Runs are the same on every machine for a given seed: the model's initialisation and the order of the
mini-batches come from platform-independent numpy streams (:mod:`eqhyp_utils.rng`), and training in
float64 keeps rounding-level differences between CPUs from growing into visible ones. A loss that
becomes NaN or infinite stops training and sets ``history.diverged``.
"""
from __future__ import annotations

import math
import warnings
from dataclasses import asdict, dataclass, field
from typing import Any, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .data import Dataset
from .errors import CorruptResultError, InvalidInputError, TrainingDivergedError, UnsupportedError

__all__ = ["TrainConfig", "TrainingHistory", "checkpoint_schedule", "evaluate", "train",
           "OPTIMIZERS", "LOSSES"]

OPTIMIZERS = ("sgd", "momentum", "adam")
LOSSES = ("cross_entropy", "mse")


# --------------------------------------------------------------------------------------------
# Configuration
# --------------------------------------------------------------------------------------------
@dataclass
class TrainConfig:
    """Hyper-parameters of one training run.

    optimizer : ``"sgd"`` (plain), ``"momentum"`` (SGD with heavy-ball momentum ``momentum``) or
        ``"adam"`` (β = (0.9, 0.999)).
    lr, epochs, batch_size, weight_decay : as usual (weight decay is the optimiser's L2 term).
    loss : ``"cross_entropy"`` (softmax cross-entropy) or ``"mse"``: the mean over samples of
        ½‖f(x) − e_y‖² with one-hot targets e_y.
    grad_clip : if set, rescale the gradient to total Euclidean norm ≤ grad_clip at every step.
    seed : seeds the order of the mini-batches (the ``"batches"`` stream of :mod:`eqhyp_utils.rng`).
    milestone_losses : running-loss thresholds at which to record a checkpoint (see the module
        docstring); ``stop_loss`` (one of them, or not) ends training when reached; ``patience``
        is the number of consecutive epochs below a threshold that reaching it takes.
        With ``stop_loss`` set, ``epochs`` is the cap.
    """
    optimizer: str = "momentum"
    lr: float = 0.01
    momentum: float = 0.9
    epochs: int = 10
    batch_size: int = 128
    loss: str = "cross_entropy"
    grad_clip: "float | None" = None
    weight_decay: float = 0.0
    seed: int = 0
    milestone_losses: tuple = ()
    stop_loss: "float | None" = None
    patience: int = 2

    def __post_init__(self) -> None:
        if self.optimizer not in OPTIMIZERS:
            raise UnsupportedError(f"optimizer must be one of {', '.join(OPTIMIZERS)}, got {self.optimizer!r}.")
        if self.loss not in LOSSES:
            raise UnsupportedError(f"loss must be one of {', '.join(LOSSES)}, got {self.loss!r}.")
        _positive_number("lr", self.lr)
        if not (_is_number(self.momentum) and 0 <= self.momentum < 1):
            raise InvalidInputError(f"momentum must be a number in [0, 1), got {self.momentum!r}.")
        for name in ("epochs", "batch_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise InvalidInputError(f"{name} must be an integer >= 1, got {value!r}.")
        if self.grad_clip is not None:
            _positive_number("grad_clip", self.grad_clip, hint="or None to disable clipping")
        if not (_is_number(self.weight_decay) and self.weight_decay >= 0):
            raise InvalidInputError(f"weight_decay must be a finite number >= 0, got {self.weight_decay!r}.")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise InvalidInputError(f"seed must be a non-negative integer, got {self.seed!r}.")
        self.milestone_losses = tuple(self.milestone_losses)
        for m in self.milestone_losses:
            _positive_number("each milestone loss", m)
        if self.stop_loss is not None:
            _positive_number("stop_loss", self.stop_loss, hint="or None for a fixed number of epochs")
        if isinstance(self.patience, bool) or not isinstance(self.patience, int) or self.patience < 1:
            raise InvalidInputError(f"patience must be an integer >= 1, got {self.patience!r}.")

    @property
    def thresholds(self) -> tuple[float, ...]:
        """Every running-loss threshold watched: the milestones and the stop loss, largest first."""
        extra = () if self.stop_loss is None else (self.stop_loss,)
        return tuple(sorted(set(self.milestone_losses) | set(extra), reverse=True))

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["milestone_losses"] = list(self.milestone_losses)
        return d

    def make_optimizer(self, params) -> torch.optim.Optimizer:
        """The torch optimiser this configuration describes."""
        if self.optimizer == "adam":
            return torch.optim.Adam(params, lr=self.lr, weight_decay=self.weight_decay)
        momentum = self.momentum if self.optimizer == "momentum" else 0.0
        return torch.optim.SGD(params, lr=self.lr, momentum=momentum, weight_decay=self.weight_decay)


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _positive_number(name: str, value, hint: str = "") -> None:
    if not (_is_number(value) and value > 0):
        raise InvalidInputError(f"{name} must be a finite number > 0{' ' + hint if hint else ''}, got {value!r}.")


def loss_function(name: str, outputs: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Mean loss over the batch: softmax cross-entropy, or ½‖f(x) − e_y‖² for ``"mse"``."""
    if name == "cross_entropy":
        return F.cross_entropy(outputs, labels)
    targets = F.one_hot(labels, outputs.shape[1]).to(outputs.dtype)
    return 0.5 * (outputs - targets).pow(2).sum(1).mean()


# --------------------------------------------------------------------------------------------
# When to measure
# --------------------------------------------------------------------------------------------
def checkpoint_schedule(epochs: int, steps_per_epoch: int,
                        early_fractions: Sequence[float] = (0.125, 0.25, 0.5), *,
                        every_epoch: bool = True) -> list[int]:
    """Steps (numbers of parameter updates done) at which to measure, sorted and without repeats.

    Step 0 (initialisation); ``round(f · steps_per_epoch)`` for each fraction f of the *first*
    epoch in ``early_fractions`` (the alignment moves fastest early on); then, if ``every_epoch``,
    the end of every epoch, k · steps_per_epoch for k = 1 … epochs. Fractions that round to step 0
    or to the end of the first epoch merge with those.

    >>> checkpoint_schedule(3, 8)
    [0, 1, 2, 4, 8, 16, 24]
    >>> checkpoint_schedule(3, 8, (), every_epoch=False)
    [0]
    """
    for name, value in (("epochs", epochs), ("steps_per_epoch", steps_per_epoch)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise InvalidInputError(f"{name} must be an integer >= 1, got {value!r}.")
    for f in early_fractions:
        if not (_is_number(f) and 0 < f < 1):
            raise InvalidInputError(f"early_fractions must lie strictly between 0 and 1, got {f!r}.")
    early = {int(round(f * steps_per_epoch)) for f in early_fractions}
    ends = {k * int(steps_per_epoch) for k in range(1, int(epochs) + 1)} if every_epoch else set()
    return sorted({0} | early | ends)


# --------------------------------------------------------------------------------------------
# The record of a run
# --------------------------------------------------------------------------------------------
_ARRAY_FIELDS = ("epochs", "alignment", "train_loss", "train_accuracy", "test_loss", "test_accuracy",
                 "loss_values", "epoch_loss")
STOP_REASONS = ("epochs", "stop_loss", "epoch_cap", "diverged")


@dataclass
class TrainingHistory:
    """What :func:`train` measured.

    Checkpoint quantities (one entry per checkpoint, in time order):
      steps (int, updates done), epochs (float, steps / steps_per_epoch), alignment (float64 array
      of shape (n_checkpoints, L + 1); column i is layer i + 1, the last column the output layer),
      test_alignment (the same on the held-out probe set, or None without one),
      train_loss / train_accuracy on the whole training set, test_loss / test_accuracy (NaN
      without a test set).
    Per-step quantities: loss_values[i] is the mini-batch loss computed after loss_steps[i]
      updates (i.e. the loss of update loss_steps[i] + 1, before it is applied).
    Per-epoch quantity: epoch_loss[k] is the running training loss of epoch k + 1 (the mean of its
      mini-batch losses, weighted by batch size).
    milestones : one dict per watched running-loss threshold, ``{"loss": m, "step": s, "epoch": e}``
      with the checkpoint step where it was reached, or ``step = epoch = None`` if never.
    stop_reason : ``"epochs"`` (the fixed budget ran out), ``"stop_loss"`` (reached),
      ``"epoch_cap"`` (the cap came first) or ``"diverged"``.
    diverged : the loss became NaN/inf at step ``diverged_at_step``; training stopped there.
    """
    steps: np.ndarray
    epochs: np.ndarray
    alignment: np.ndarray
    train_loss: np.ndarray
    train_accuracy: np.ndarray
    test_loss: np.ndarray
    test_accuracy: np.ndarray
    loss_steps: np.ndarray
    loss_values: np.ndarray
    steps_per_epoch: int
    diverged: bool = False
    diverged_at_step: "int | None" = None
    config: dict = field(default_factory=dict)
    test_alignment: "np.ndarray | None" = None
    epoch_loss: np.ndarray = field(default_factory=lambda: np.zeros(0))
    milestones: list = field(default_factory=list)
    stop_reason: str = "epochs"

    @property
    def n_checkpoints(self) -> int:
        return len(self.steps)

    @property
    def n_layers(self) -> int:
        """Number of weight layers L + 1."""
        return self.alignment.shape[1]

    def checkpoint_index(self, checkpoint: int) -> int:
        """A valid non-negative index for ``checkpoint`` (negative counts from the end)."""
        if self.n_checkpoints == 0:
            raise InvalidInputError("this history has no checkpoint (training diverged before the first one).")
        if isinstance(checkpoint, bool) or not isinstance(checkpoint, (int, np.integer)) \
                or not -self.n_checkpoints <= checkpoint < self.n_checkpoints:
            raise InvalidInputError(
                f"checkpoint index {checkpoint} out of range for {self.n_checkpoints} checkpoints.")
        return int(checkpoint) % self.n_checkpoints

    def milestone_index(self, loss: float) -> "int | None":
        """The checkpoint index where the running loss first stayed below ``loss`` (None if never)."""
        for m in self.milestones:
            if math.isclose(m["loss"], loss) and m["step"] is not None:
                return int(np.flatnonzero(self.steps == m["step"])[0])
        if not any(math.isclose(m["loss"], loss) for m in self.milestones):
            raise InvalidInputError(f"{loss} is not a watched milestone; this run watched "
                                    f"{[m['loss'] for m in self.milestones]}.")
        return None

    def peak_layer(self, checkpoint: int = -1) -> int:
        """The layer (1-based, 1 … L + 1) of highest alignment at checkpoint index ``checkpoint``."""
        from .peaks import argmax_layer

        return argmax_layer(self.alignment[self.checkpoint_index(checkpoint)])

    def time_averaged_alignment(self, from_epoch: float = 1.0) -> np.ndarray:
        """The alignment averaged over training time from epoch ``from_epoch`` on; shape (L + 1,).

        See :func:`eqhyp_utils.peaks.time_averaged_profile`.
        """
        from .peaks import time_averaged_profile

        return time_averaged_profile(self.epochs, self.alignment, from_epoch=from_epoch)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dictionary (lists of Python floats/ints; NaN and ±inf written as None)."""
        out: dict[str, Any] = {name: _to_json(getattr(self, name)) for name in _ARRAY_FIELDS}
        out["steps"] = [int(s) for s in self.steps]
        out["loss_steps"] = [int(s) for s in self.loss_steps]
        out["test_alignment"] = None if self.test_alignment is None else _to_json(self.test_alignment)
        out.update(steps_per_epoch=int(self.steps_per_epoch), diverged=bool(self.diverged),
                   diverged_at_step=None if self.diverged_at_step is None else int(self.diverged_at_step),
                   config=dict(self.config), milestones=[dict(m) for m in self.milestones],
                   stop_reason=self.stop_reason)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "TrainingHistory":
        """Inverse of :meth:`to_dict`; raises :class:`CorruptResultError` on a malformed record."""
        try:
            arrays = {name: np.array(_from_json(data[name]), dtype=np.float64) for name in _ARRAY_FIELDS}
            n_ckpt = len(data["alignment"])
            n_layers = len(data["alignment"][0]) if data["alignment"] else 0
            arrays["alignment"] = arrays["alignment"].reshape(n_ckpt, n_layers)
            test_alignment = data.get("test_alignment")
            if test_alignment is not None:
                test_alignment = np.array(_from_json(test_alignment), dtype=np.float64).reshape(n_ckpt, n_layers)
            history = cls(steps=np.array(data["steps"], dtype=np.int64),
                          loss_steps=np.array(data["loss_steps"], dtype=np.int64),
                          steps_per_epoch=int(data["steps_per_epoch"]), diverged=bool(data["diverged"]),
                          diverged_at_step=data.get("diverged_at_step"), config=dict(data.get("config", {})),
                          test_alignment=test_alignment, milestones=list(data["milestones"]),
                          stop_reason=str(data["stop_reason"]), **arrays)
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            raise CorruptResultError(f"not a valid TrainingHistory record ({exc!r}).") from exc
        n = len(history.steps)
        if any(len(getattr(history, name)) != n for name in _ARRAY_FIELDS if name not in ("loss_values", "epoch_loss")) \
                or len(history.loss_steps) != len(history.loss_values) or history.stop_reason not in STOP_REASONS:
            raise CorruptResultError("TrainingHistory record has fields of inconsistent lengths or values.")
        return history


def _to_json(a: np.ndarray) -> list:
    return [_to_json(row) for row in a] if np.ndim(a) > 1 else \
        [float(v) if math.isfinite(v) else None for v in np.asarray(a, dtype=np.float64)]


def _from_json(a: list) -> list:
    return [_from_json(v) if isinstance(v, list) else (math.nan if v is None else float(v)) for v in a]


# --------------------------------------------------------------------------------------------
# Training
# --------------------------------------------------------------------------------------------
@torch.no_grad()
def evaluate(model: nn.Module, dataset: Dataset, loss: str = "cross_entropy",
             batch_size: int = 4096) -> tuple[float, float]:
    """(mean loss, accuracy) of ``model`` on ``dataset``."""
    was_training = model.training
    model.eval()
    device, dtype = _device_dtype(model)
    total_loss, correct = 0.0, 0
    for start in range(0, len(dataset), batch_size):
        x = dataset.x[start:start + batch_size].to(device, dtype)
        y = dataset.y[start:start + batch_size].to(device)
        out = model(x)
        total_loss += float(loss_function(loss, out, y)) * len(y)
        correct += int((out.argmax(1) == y).sum())
    model.train(was_training)
    return total_loss / len(dataset), correct / len(dataset)


def _device_dtype(model: nn.Module) -> tuple[torch.device, torch.dtype]:
    p = next(model.parameters())
    return p.device, p.dtype


def _check_train_inputs(model, train_set, probe, test, test_probe, config, checkpoints) -> tuple[list[int], int]:
    """Validate :func:`train`'s arguments; return the sorted checkpoint steps and the steps per epoch."""
    if not isinstance(model, nn.Module) or not any(True for _ in model.parameters()):
        raise InvalidInputError(f"model must be a torch nn.Module with parameters, got {type(model).__name__}.")
    if not isinstance(config, TrainConfig):
        raise InvalidInputError(f"config must be a TrainConfig, got {type(config).__name__}.")
    named = [("train", train_set), ("probe", probe)] + ([("test", test)] if test is not None else []) \
        + ([("test_probe", test_probe)] if test_probe is not None else [])
    for name, d in named:
        if not isinstance(d, Dataset):
            raise InvalidInputError(f"{name} must be an eqhyp_utils.data.Dataset, got {type(d).__name__}.")
        if (d.n_features, d.n_classes) != (train_set.n_features, train_set.n_classes):
            raise InvalidInputError(
                f"{name} set has {d.n_features} features and {d.n_classes} classes, but the training set has "
                f"{train_set.n_features} and {train_set.n_classes}; all sets must come from the same task.")
    for attr, expected in (("in_features", train_set.n_features), ("out_features", train_set.n_classes)):
        if getattr(model, attr, expected) != expected:
            raise InvalidInputError(
                f"model.{attr} is {getattr(model, attr)} but the data need {expected}; "
                "build the model with in_features=train.n_features and out_features=train.n_classes.")
    steps_per_epoch = math.ceil(len(train_set) / config.batch_size)
    total_steps = config.epochs * steps_per_epoch
    if checkpoints is None:
        return checkpoint_schedule(config.epochs, steps_per_epoch), steps_per_epoch
    ckpts = sorted({int(s) for s in checkpoints})
    if not ckpts or ckpts[0] < 0 or ckpts[-1] > total_steps:
        raise InvalidInputError(
            f"checkpoints must be a non-empty list of steps in 0..{total_steps} (epochs × steps per epoch), "
            f"got {list(checkpoints)!r}.")
    return ckpts, steps_per_epoch


class _Recorder:
    """Measures the model at checkpoints and keeps the per-checkpoint records of a run."""

    def __init__(self, model, train_set, probe, test, test_probe, config, align_kw, device):
        from .alignment import layerwise_alignment

        self._align = layerwise_alignment
        self.model, self.train_set, self.test, self.config = model, train_set, test, config
        self.probes = [(probe.x.to(device), probe.y.to(device), probe.n_classes)]
        if test_probe is not None:
            self.probes.append((test_probe.x.to(device), test_probe.y.to(device), test_probe.n_classes))
        self.align_kw = align_kw
        self.rows: dict[str, list] = {k: [] for k in ("steps", "alignment", "test_alignment", "train_loss",
                                                      "train_accuracy", "test_loss", "test_accuracy")}

    def __call__(self, step: int) -> bool:
        """Measure at ``step`` (once per step); False if the model has diverged."""
        if self.rows["steps"] and self.rows["steps"][-1] == step:
            return True
        train_loss, train_acc = evaluate(self.model, self.train_set, self.config.loss)
        if not math.isfinite(train_loss):
            return False
        test_loss, test_acc = (evaluate(self.model, self.test, self.config.loss) if self.test is not None
                               else (math.nan, math.nan))
        alignments = [np.asarray(self._align(self.model, x, y, n_classes=c, **self.align_kw), dtype=np.float64)
                      for x, y, c in self.probes]
        self.rows["steps"].append(step)
        self.rows["alignment"].append(alignments[0])
        if len(alignments) > 1:
            self.rows["test_alignment"].append(alignments[1])
        for key, value in (("train_loss", train_loss), ("train_accuracy", train_acc),
                           ("test_loss", test_loss), ("test_accuracy", test_acc)):
            self.rows[key].append(value)
        return True


def train(model: nn.Module, train: Dataset, probe: Dataset, config: TrainConfig, *,
          test: "Dataset | None" = None, test_probe: "Dataset | None" = None,
          checkpoints: "Sequence[int] | None" = None, alignment_kwargs: "dict | None" = None,
          progress: bool = True, raise_on_divergence: bool = False) -> TrainingHistory:
    """Train ``model`` in place with mini-batches and record the layer-wise alignment on ``probe``.

    One epoch is one pass over a fresh random permutation of ``train`` (drawn from the
    platform-independent stream ``rng.generator(config.seed, "batches")``) in batches of
    ``config.batch_size`` (the last batch may be smaller): ⌈n / batch_size⌉ steps. At every step
    in ``checkpoints`` (default :func:`checkpoint_schedule`), and at the end of each epoch where a
    running-loss milestone of ``config`` is reached, the history receives the alignment of every
    layer on ``probe`` (and on ``test_probe`` when given) — ``layerwise_alignment(model, probe.x,
    probe.y, n_classes=C, **alignment_kwargs)`` — and the loss and accuracy on the training and test
    sets. Data go to the model's device and dtype.

    If a mini-batch loss (or the training-set loss at a checkpoint) is NaN or infinite, training
    stops and the history is returned with ``diverged=True`` after a ``RuntimeWarning``, or
    :class:`TrainingDivergedError` is raised when ``raise_on_divergence`` is set.
    """
    from tqdm.auto import tqdm

    from .rng import generator, permutation

    checkpoints, steps_per_epoch = _check_train_inputs(model, train, probe, test, test_probe, config, checkpoints)
    total_steps = config.epochs * steps_per_epoch
    align_kw = {"progress": False, **(alignment_kwargs or {})}
    device, dtype = _device_dtype(model)
    align_kw.setdefault("dtype", dtype)
    x_train, y_train = train.x.to(device, dtype), train.y.to(device)
    record = _Recorder(model, train, probe, test, test_probe, config, align_kw, device)

    loss_steps: list[int] = []
    loss_values: list[float] = []
    epoch_loss: list[float] = []
    thresholds = config.thresholds
    below = {m: 0 for m in thresholds}                      # consecutive epochs below each threshold
    reached: dict[float, "int | None"] = {m: None for m in thresholds}
    diverged_at: "int | None" = None
    stop_reason = "epochs" if config.stop_loss is None else "epoch_cap"

    batches = generator(config.seed, "batches")
    optimizer = config.make_optimizer(model.parameters())
    pending = set(checkpoints)
    step = 0
    model.train()
    with tqdm(total=total_steps, disable=not progress, desc="training", unit="step") as bar:
        if 0 in pending and not record(0):
            diverged_at = 0
        for _ in range(config.epochs if diverged_at is None else 0):
            order = permutation(len(train), batches).to(device)
            running, seen = 0.0, 0
            for batch in order.split(config.batch_size):
                optimizer.zero_grad(set_to_none=True)
                loss = loss_function(config.loss, model(x_train[batch]), y_train[batch])
                value = float(loss.detach())
                loss_steps.append(step)
                loss_values.append(value)
                if not math.isfinite(value):
                    diverged_at = step
                    break
                running += value * len(batch)
                seen += len(batch)
                loss.backward()
                if config.grad_clip is not None:
                    nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
                optimizer.step()
                step += 1
                bar.update(1)
                if step in pending:
                    if not record(step):
                        diverged_at = step
                        break
                    bar.set_postfix(loss=f"{value:.3g}", train_acc=f"{record.rows['train_accuracy'][-1]:.3f}")
            if diverged_at is not None:
                break
            epoch_loss.append(running / seen)
            newly = []
            for m in thresholds:
                below[m] = below[m] + 1 if epoch_loss[-1] < m else 0
                if reached[m] is None and below[m] >= config.patience:
                    reached[m] = step
                    newly.append(m)
            if newly and not record(step):
                diverged_at = step
                break
            if config.stop_loss is not None and reached[config.stop_loss] is not None:
                stop_reason = "stop_loss"
                break

    rows = record.rows
    n_layers = len(rows["alignment"][0]) if rows["alignment"] else len(getattr(model, "layers", []))
    n_ckpt = len(rows["steps"])
    history = TrainingHistory(
        steps=np.array(rows["steps"], dtype=np.int64),
        epochs=np.array(rows["steps"], dtype=np.float64) / steps_per_epoch,
        alignment=np.array(rows["alignment"], dtype=np.float64).reshape(n_ckpt, n_layers),
        test_alignment=(np.array(rows["test_alignment"], dtype=np.float64).reshape(n_ckpt, n_layers)
                        if test_probe is not None else None),
        train_loss=np.array(rows["train_loss"], dtype=np.float64),
        train_accuracy=np.array(rows["train_accuracy"], dtype=np.float64),
        test_loss=np.array(rows["test_loss"], dtype=np.float64),
        test_accuracy=np.array(rows["test_accuracy"], dtype=np.float64),
        loss_steps=np.array(loss_steps, dtype=np.int64), loss_values=np.array(loss_values, dtype=np.float64),
        epoch_loss=np.array(epoch_loss, dtype=np.float64),
        milestones=[{"loss": float(m), "step": reached[m],
                     "epoch": None if reached[m] is None else reached[m] / steps_per_epoch} for m in thresholds],
        stop_reason="diverged" if diverged_at is not None else stop_reason,
        steps_per_epoch=steps_per_epoch, diverged=diverged_at is not None, diverged_at_step=diverged_at,
        config=config.to_dict())
    if diverged_at is not None:
        message = (f"training diverged: the loss became NaN or infinite at step {diverged_at} "
                   f"(epoch {diverged_at / steps_per_epoch:.2f}) with {config.optimizer} lr={config.lr:g}; "
                   "lower the learning rate or set grad_clip. The history up to that point is kept "
                   "and marked diverged=True.")
        if raise_on_divergence:
            raise TrainingDivergedError(message)
        warnings.warn(message, RuntimeWarning, stacklevel=2)
    return history
