"""Mini-batch training that records every layer's tangent-kernel alignment along the way.

:func:`train` runs plain mini-batch training (SGD, SGD with momentum or Adam) and, at a list of
*checkpoint steps* (:func:`checkpoint_schedule`), measures on a fixed probe set the alignment
A_l = yᵀK_l y / (‖K_l‖_F ‖y‖²) of every layer l = 1 … L + 1 (Baratin et al. 2021, via
:func:`eqhyp_utils.alignment.layerwise_alignment`), together with the loss and accuracy on the
training and test sets. The result is a :class:`TrainingHistory`, which converts to and from
JSON-safe dictionaries for result files.

Runs are deterministic for a given seed and thread count: the model's initialisation has its own
seed, and mini-batches are shuffled with a ``torch.Generator`` seeded with ``config.seed``.
A loss that becomes NaN or infinite stops training and sets ``history.diverged``.
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
    seed : seeds the shuffling of the mini-batches (the model's initialisation has its own seed).
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

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

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
                        early_fractions: Sequence[float] = (0.125, 0.25, 0.5)) -> list[int]:
    """Steps (numbers of parameter updates done) at which to measure, sorted and without repeats.

    Step 0 (initialisation); ``round(f · steps_per_epoch)`` for each fraction f of the *first*
    epoch in ``early_fractions`` (the alignment moves fastest early on); then the end of every
    epoch, k · steps_per_epoch for k = 1 … epochs. Fractions that round to step 0 or to the end of
    the first epoch merge with those.

    >>> checkpoint_schedule(3, 8)
    [0, 1, 2, 4, 8, 16, 24]
    """
    for name, value in (("epochs", epochs), ("steps_per_epoch", steps_per_epoch)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise InvalidInputError(f"{name} must be an integer >= 1, got {value!r}.")
    for f in early_fractions:
        if not (_is_number(f) and 0 < f < 1):
            raise InvalidInputError(f"early_fractions must lie strictly between 0 and 1, got {f!r}.")
    early = {int(round(f * steps_per_epoch)) for f in early_fractions}
    ends = {k * int(steps_per_epoch) for k in range(1, int(epochs) + 1)}
    return sorted({0} | early | ends)


# --------------------------------------------------------------------------------------------
# The record of a run
# --------------------------------------------------------------------------------------------
_ARRAY_FIELDS = ("epochs", "alignment", "train_loss", "train_accuracy", "test_loss", "test_accuracy",
                 "loss_values")


@dataclass
class TrainingHistory:
    """What :func:`train` measured.

    Checkpoint quantities (one entry per checkpoint, in time order):
      steps (int, updates done), epochs (float, steps / steps_per_epoch), alignment (float64 array
      of shape (n_checkpoints, L + 1); column i is layer i + 1, the last column the output layer),
      train_loss / train_accuracy on the whole training set, test_loss / test_accuracy (NaN
      without a test set).
    Per-step quantities: loss_values[i] is the mini-batch loss computed after loss_steps[i]
      updates (i.e. the loss of update loss_steps[i] + 1, before it is applied).
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

    @property
    def n_checkpoints(self) -> int:
        return len(self.steps)

    @property
    def n_layers(self) -> int:
        """Number of weight layers L + 1."""
        return self.alignment.shape[1]

    def peak_layer(self, checkpoint: int = -1) -> int:
        """The layer (1-based, 1 … L + 1) of highest alignment at checkpoint index ``checkpoint``."""
        if self.n_checkpoints == 0:
            raise InvalidInputError("this history has no checkpoint (training diverged before the first one).")
        try:
            row = self.alignment[checkpoint]
        except IndexError:
            raise InvalidInputError(
                f"checkpoint index {checkpoint} out of range for {self.n_checkpoints} checkpoints.") from None
        if not np.isfinite(row).all():
            raise InvalidInputError(f"the alignment at checkpoint {checkpoint} is not finite: {row}.")
        return int(np.argmax(row)) + 1

    def time_averaged_alignment(self) -> np.ndarray:
        """(1/T) ∫ A_l(t) dt over the recorded training time t (in epochs), trapezoid rule; shape (L + 1,).

        The average does not depend on how densely the early epochs are sampled. With a single
        checkpoint it is that checkpoint's alignment.
        """
        if self.n_checkpoints == 0:
            raise InvalidInputError("this history has no checkpoint (training diverged before the first one).")
        if self.n_checkpoints == 1 or self.epochs[-1] == self.epochs[0]:
            return self.alignment[-1].copy()
        t = self.epochs
        areas = 0.5 * (self.alignment[1:] + self.alignment[:-1]) * np.diff(t)[:, None]
        return areas.sum(0) / (t[-1] - t[0])

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dictionary (lists of Python floats/ints; NaN and ±inf written as None)."""
        out: dict[str, Any] = {name: _to_json(getattr(self, name)) for name in _ARRAY_FIELDS}
        out["steps"] = [int(s) for s in self.steps]
        out["loss_steps"] = [int(s) for s in self.loss_steps]
        out.update(steps_per_epoch=int(self.steps_per_epoch), diverged=bool(self.diverged),
                   diverged_at_step=None if self.diverged_at_step is None else int(self.diverged_at_step),
                   config=dict(self.config))
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "TrainingHistory":
        """Inverse of :meth:`to_dict`; raises :class:`CorruptResultError` on a malformed record."""
        try:
            arrays = {name: np.array(_from_json(data[name]), dtype=np.float64) for name in _ARRAY_FIELDS}
            n_layers = len(data["alignment"][0]) if data["alignment"] else 0
            arrays["alignment"] = arrays["alignment"].reshape(len(data["alignment"]), n_layers)
            history = cls(steps=np.array(data["steps"], dtype=np.int64),
                          loss_steps=np.array(data["loss_steps"], dtype=np.int64),
                          steps_per_epoch=int(data["steps_per_epoch"]), diverged=bool(data["diverged"]),
                          diverged_at_step=data.get("diverged_at_step"), config=dict(data.get("config", {})),
                          **arrays)
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            raise CorruptResultError(f"not a valid TrainingHistory record ({exc!r}).") from exc
        n = len(history.steps)
        if any(len(getattr(history, name)) != n for name in _ARRAY_FIELDS if name != "loss_values") \
                or len(history.loss_steps) != len(history.loss_values):
            raise CorruptResultError("TrainingHistory record has fields of inconsistent lengths.")
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


def _check_train_inputs(model, train_set, probe, test, config, checkpoints) -> tuple[list[int], int]:
    """Validate :func:`train`'s arguments; return the sorted checkpoint steps and the steps per epoch."""
    if not isinstance(model, nn.Module) or not any(True for _ in model.parameters()):
        raise InvalidInputError(f"model must be a torch nn.Module with parameters, got {type(model).__name__}.")
    if not isinstance(config, TrainConfig):
        raise InvalidInputError(f"config must be a TrainConfig, got {type(config).__name__}.")
    named = [("train", train_set), ("probe", probe)] + ([("test", test)] if test is not None else [])
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


def train(model: nn.Module, train: Dataset, probe: Dataset, config: TrainConfig, *,
          test: "Dataset | None" = None, checkpoints: "Sequence[int] | None" = None,
          alignment_kwargs: "dict | None" = None, progress: bool = True,
          raise_on_divergence: bool = False) -> TrainingHistory:
    """Train ``model`` in place with mini-batches and record the layer-wise alignment on ``probe``.

    One epoch is one pass over a fresh random permutation of ``train`` in batches of
    ``config.batch_size`` (the last batch may be smaller): ⌈n / batch_size⌉ steps. At every step
    in ``checkpoints`` (default :func:`checkpoint_schedule`) the history receives the alignment
    of every layer on the probe set (``layerwise_alignment(model, probe.x, probe.y,
    n_classes=C, **alignment_kwargs)``) and the loss and accuracy on the training and test sets.

    If a mini-batch loss (or the training-set loss at a checkpoint) is NaN or infinite, training
    stops and the history is returned with ``diverged=True`` after a ``RuntimeWarning``, or
    :class:`TrainingDivergedError` is raised when ``raise_on_divergence`` is set.
    """
    from .alignment import layerwise_alignment

    checkpoints, steps_per_epoch = _check_train_inputs(model, train, probe, test, config, checkpoints)
    total_steps = config.epochs * steps_per_epoch
    align_kw = {"progress": False, **(alignment_kwargs or {})}
    device, dtype = _device_dtype(model)
    x_train, y_train = train.x.to(device, dtype), train.y.to(device)

    rec: dict[str, list] = {k: [] for k in ("steps", "alignment", "train_loss", "train_accuracy",
                                             "test_loss", "test_accuracy")}
    loss_steps: list[int] = []
    loss_values: list[float] = []
    diverged_at: "int | None" = None

    def record(step: int) -> bool:
        """Measure at ``step``; False if the model has diverged."""
        train_loss, train_acc = evaluate(model, train, config.loss)
        if not math.isfinite(train_loss):
            return False
        test_loss, test_acc = evaluate(model, test, config.loss) if test is not None else (math.nan, math.nan)
        alignment = layerwise_alignment(model, probe.x.to(device), probe.y.to(device),
                                        n_classes=probe.n_classes, **align_kw)
        rec["steps"].append(step)
        rec["alignment"].append(np.asarray(alignment, dtype=np.float64))
        for key, value in (("train_loss", train_loss), ("train_accuracy", train_acc),
                           ("test_loss", test_loss), ("test_accuracy", test_acc)):
            rec[key].append(value)
        return True

    from tqdm.auto import tqdm

    generator = torch.Generator().manual_seed(config.seed)
    optimizer = config.make_optimizer(model.parameters())
    pending = set(checkpoints)
    step = 0
    model.train()
    with tqdm(total=total_steps, disable=not progress, desc="training", unit="step") as bar:
        if 0 in pending and not record(0):
            diverged_at = 0
        for _ in range(config.epochs if diverged_at is None else 0):
            order = torch.randperm(len(train), generator=generator).to(device)
            for batch in order.split(config.batch_size):
                optimizer.zero_grad(set_to_none=True)
                loss = loss_function(config.loss, model(x_train[batch]), y_train[batch])
                value = float(loss.detach())
                loss_steps.append(step)
                loss_values.append(value)
                if not math.isfinite(value):
                    diverged_at = step
                    break
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
                    bar.set_postfix(loss=f"{value:.3g}", train_acc=f"{rec['train_accuracy'][-1]:.3f}")
            if diverged_at is not None:
                break

    n_layers = len(rec["alignment"][0]) if rec["alignment"] else len(getattr(model, "layers", []))
    history = TrainingHistory(
        steps=np.array(rec["steps"], dtype=np.int64),
        epochs=np.array(rec["steps"], dtype=np.float64) / steps_per_epoch,
        alignment=np.array(rec["alignment"], dtype=np.float64).reshape(len(rec["steps"]), n_layers),
        train_loss=np.array(rec["train_loss"], dtype=np.float64),
        train_accuracy=np.array(rec["train_accuracy"], dtype=np.float64),
        test_loss=np.array(rec["test_loss"], dtype=np.float64),
        test_accuracy=np.array(rec["test_accuracy"], dtype=np.float64),
        loss_steps=np.array(loss_steps, dtype=np.int64), loss_values=np.array(loss_values, dtype=np.float64),
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
