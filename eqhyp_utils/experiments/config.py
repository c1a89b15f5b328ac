"""Experiment grids: a small declarative file expands into a list of single-run configurations.

A grid file (TOML, or JSON with the same structure) has a ``[defaults]`` table and any number of
named grids; a grid's name is its table path (``[depth_scaling]``, ``[interventions.bias]`` …)::

    [defaults]
    dataset = "mnist1d"
    depth = 16
    seeds = [0, 1, 2]

    [depth_scaling]
    depth = [6, 8, 12]                      # a list expands: one run per value

    [interventions.activation]
    cases = [{activation = "tanh", sigma_w2 = 1.761, sigma_b2 = 0.05},
             {activation = "gelu"}]         # cases are alternatives, not a product

A grid's runs are: for every case (default: one empty case), the defaults overridden by the grid's
keys and then by the case's keys; every list value then expands as a cartesian product (``seeds``
gives the ``seed`` of each run). TOML has no null, so ``alpha = "none"`` (or ``grad_clip =
"none"``) means "no residual branch" (resp. "no clipping").

A run is identified by its canonical configuration: :meth:`RunConfig.config_hash` is the SHA-256
of its JSON with sorted keys (:func:`config_hash`, the one definition used everywhere). Grids are queries over runs, not owners of them: the same run (e.g.
ReLU, L = 16, σ_b² = 0) may belong to several grids and is trained once.
"""
from __future__ import annotations

import hashlib
import itertools
import json
import math
import tomllib
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..activations import ACTIVATIONS
from ..errors import InvalidInputError, UnsupportedError

if TYPE_CHECKING:
    from ..training import TrainConfig

__all__ = ["RunConfig", "Grid", "config_hash", "load_grids", "parse_grids", "expand_grid", "unique_runs"]

_NONE_WORDS = ("none", "null")
_OPTIMIZERS = ("sgd", "momentum", "adam")
_DATASETS = ("mnist1d", "digits", "gaussian", "mnist", "mnist_full", "fashion_mnist")
_TUPLE_KEYS = ("early_fractions", "milestone_losses")
_FLOAT_KEYS = ("sigma_w2", "sigma_b2", "lr", "momentum", "weight_decay")
_OPTIONAL_FLOAT_KEYS = ("alpha", "grad_clip", "stop_loss")


def config_hash(config: "dict[str, Any]") -> str:
    """SHA-256 (hex) of a run configuration's canonical JSON (sorted keys, no spaces)."""
    return hashlib.sha256(json.dumps(config, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


@dataclass(frozen=True)
class RunConfig:
    """Everything that determines one training run (and nothing else): the course's one recipe.

    data: ``dataset`` with ``n_train``/``n_test`` samples (mnist1d, gaussian, mnist; digits has a
        fixed size) generated/split with ``data_seed``; the probe set holds ``probe_per_class``
        training points of each class, drawn with ``seed``; ``test_probe`` > 0 adds a held-out
        probe of that many test points (a seeded random subset; ``n_test`` keeps the whole set).
    network: ``activation``, ``sigma_w2``, ``sigma_b2``, ``depth`` (hidden layers L), ``width``,
        ``alpha`` (residual branch scale, or None for a plain MLP), initialised with ``seed``.
    training: ``optimizer`` (sgd | momentum | adam), ``lr``, ``momentum``, ``weight_decay``,
        ``epochs``, ``batch_size``, ``grad_clip`` (None: off), ``loss``; mini-batches shuffled with
        ``seed``. Run to threshold: ``milestone_losses``, ``stop_loss`` (None: a fixed budget of
        ``epochs``; else ``epochs`` is the cap) and ``patience``, as in
        :class:`~eqhyp_utils.training.TrainConfig`.
    checkpoints: step 0, the fractions ``early_fractions`` of the first epoch, every epoch's end
        when ``every_epoch``, and the milestones.
    """
    dataset: str = "mnist1d"
    n_train: int = 4000
    n_test: int = 1000
    data_seed: int = 0
    activation: str = "relu"
    sigma_w2: float = 2.0
    sigma_b2: float = 0.0
    depth: int = 16
    width: int = 128
    alpha: "float | None" = None
    optimizer: str = "momentum"
    lr: float = 0.01
    momentum: float = 0.9
    weight_decay: float = 0.0
    epochs: int = 10
    batch_size: int = 128
    grad_clip: "float | None" = 1.0
    loss: str = "cross_entropy"
    milestone_losses: tuple = ()
    stop_loss: "float | None" = None
    patience: int = 2
    probe_per_class: int = 10
    test_probe: int = 0
    early_fractions: tuple = (0.125, 0.25, 0.5)
    every_epoch: bool = True
    seed: int = 0

    def __post_init__(self) -> None:
        _validate(self)

    def to_dict(self) -> dict[str, Any]:
        """Canonical JSON-safe dictionary (floats as floats, tuples as lists)."""
        d = asdict(self)
        for key in _TUPLE_KEYS:
            d[key] = [float(f) for f in getattr(self, key)]
        for key in _FLOAT_KEYS:
            d[key] = float(d[key])
        for key in _OPTIONAL_FLOAT_KEYS:
            d[key] = None if d[key] is None else float(d[key])
        return d

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "RunConfig":
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise InvalidInputError(
                f"unknown run-configuration key(s) {unknown}; the known keys are {sorted(known)}.")
        data = dict(data)
        for key in _OPTIONAL_FLOAT_KEYS:
            if isinstance(data.get(key), str) and data[key].lower() in _NONE_WORDS:
                data[key] = None
        for key in _TUPLE_KEYS:
            if key in data:
                data[key] = tuple(float(f) for f in data[key])
        for key in _FLOAT_KEYS + _OPTIONAL_FLOAT_KEYS:
            if isinstance(data.get(key), int) and not isinstance(data.get(key), bool):
                data[key] = float(data[key])
        return cls(**data)

    def canonical_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))

    def config_hash(self) -> str:
        """SHA-256 (hex) of the canonical JSON of this configuration (:func:`config_hash`)."""
        return config_hash(self.to_dict())

    @property
    def name(self) -> str:
        """A readable, unique file stem: the main knobs, then the start of the hash."""
        alpha = "mlp" if self.alpha is None else f"res{self.alpha:g}"
        return (f"{self.dataset}_{self.activation}_w2-{self.sigma_w2:g}_b2-{self.sigma_b2:g}_L{self.depth}"
                f"_N{self.width}_{alpha}_s{self.seed}_{self.config_hash()[:10]}")

    @property
    def runs_to_threshold(self) -> bool:
        """Whether training stops at a loss threshold (``stop_loss``) rather than after ``epochs``."""
        return self.stop_loss is not None

    def architecture_key(self) -> tuple:
        """The configuration without its seed: runs that differ only by seed share it."""
        return configuration_key(self.to_dict())

    def train_config(self) -> "TrainConfig":
        """The :class:`~eqhyp_utils.training.TrainConfig` of this run."""
        from ..training import TrainConfig

        return TrainConfig(optimizer=self.optimizer, lr=self.lr, momentum=self.momentum, epochs=self.epochs,
                           batch_size=self.batch_size, loss=self.loss, grad_clip=self.grad_clip,
                           weight_decay=self.weight_decay, seed=self.seed, milestone_losses=self.milestone_losses,
                           stop_loss=self.stop_loss, patience=self.patience)


def configuration_key(config: "dict[str, Any]") -> tuple:
    """A hashable key of a configuration dictionary without its seed (one key per configuration)."""
    return tuple(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in config.items() if k != "seed"))


def _validate(c: RunConfig) -> None:
    def integer(name: str, minimum: int) -> None:
        v = getattr(c, name)
        if isinstance(v, bool) or not isinstance(v, int) or v < minimum:
            raise InvalidInputError(f"{name} must be an integer >= {minimum}, got {v!r}.")

    def number(name: str, positive: bool, allow_none: bool = False) -> None:
        v = getattr(c, name)
        if v is None and allow_none:
            return
        ok = isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and \
            (v > 0 if positive else v >= 0)
        if not ok:
            bound = "> 0" if positive else ">= 0"
            alternative = ' or "none"' if allow_none else ""
            raise InvalidInputError(f"{name} must be a finite number {bound}{alternative}, got {v!r}.")

    if c.dataset not in _DATASETS:
        raise UnsupportedError(f"dataset must be one of {_DATASETS}, got {c.dataset!r}.")
    if c.activation not in ACTIVATIONS:
        raise UnsupportedError(f"activation must be one of {sorted(ACTIVATIONS)}, got {c.activation!r}.")
    if c.optimizer not in _OPTIMIZERS:
        raise UnsupportedError(f"optimizer must be one of {_OPTIMIZERS}, got {c.optimizer!r}.")
    if c.loss not in ("cross_entropy", "mse"):
        raise UnsupportedError(f"loss must be 'cross_entropy' or 'mse', got {c.loss!r}.")
    for name, minimum in (("n_train", 10), ("n_test", 1), ("data_seed", 0), ("depth", 1), ("width", 1),
                          ("epochs", 1), ("batch_size", 1), ("probe_per_class", 1), ("test_probe", 0),
                          ("patience", 1), ("seed", 0)):
        integer(name, minimum)
    number("sigma_w2", True)
    number("sigma_b2", False)
    number("lr", True)
    number("momentum", False)
    number("weight_decay", False)
    number("alpha", True, allow_none=True)
    number("grad_clip", True, allow_none=True)
    number("stop_loss", True, allow_none=True)
    if not all(isinstance(f, (int, float)) and 0 < f < 1 for f in c.early_fractions):
        raise InvalidInputError(f"early_fractions must lie strictly between 0 and 1, got {c.early_fractions!r}.")
    if not all(isinstance(f, (int, float)) and math.isfinite(f) and f > 0 for f in c.milestone_losses):
        raise InvalidInputError(f"milestone_losses must be positive numbers, got {c.milestone_losses!r}.")
    if not isinstance(c.every_epoch, bool):
        raise InvalidInputError(f"every_epoch must be true or false, got {c.every_epoch!r}.")
    if c.test_probe > c.n_test:
        raise InvalidInputError(f"test_probe ({c.test_probe}) cannot exceed n_test ({c.n_test}).")


@dataclass(frozen=True)
class Grid:
    """A named set of runs (``name`` is the table path, e.g. ``"interventions.bias"``)."""
    name: str
    runs: tuple[RunConfig, ...] = field(default_factory=tuple)


def expand_grid(settings: dict[str, Any]) -> list[RunConfig]:
    """The cartesian product of every list-valued key of ``settings`` (``seeds`` → ``seed``).

    ``early_fractions`` and ``milestone_losses`` are list-valued *settings*, not axes; to vary them,
    use ``cases``.
    """
    settings = dict(settings)
    if "seeds" in settings:
        if "seed" in settings:
            raise InvalidInputError("give either 'seeds' (a list) or 'seed', not both.")
        settings["seed"] = settings.pop("seeds")
    axes = {k: v for k, v in settings.items() if isinstance(v, list) and k not in _TUPLE_KEYS}
    for k, v in axes.items():
        if not v:
            raise InvalidInputError(f"the list for {k!r} is empty; give at least one value.")
    fixed = {k: v for k, v in settings.items() if k not in axes}
    keys = list(axes)
    return [RunConfig.from_dict({**fixed, **dict(zip(keys, values))})
            for values in itertools.product(*(axes[k] for k in keys))]


def _grid_tables(table: dict[str, Any], prefix: str = "", inherited: "dict | None" = None) -> list[tuple[str, dict]]:
    """(name, settings) of every grid: a table none of whose values is itself a table.

    The plain keys of a table that holds sub-tables (e.g. ``epochs`` under ``[interventions]``)
    are inherited by all its sub-grids.
    """
    out = []
    for key, value in table.items():
        if not isinstance(value, dict):
            continue
        name = f"{prefix}{key}"
        if any(isinstance(v, dict) for v in value.values()):
            shared = {**(inherited or {}), **{k: v for k, v in value.items() if not isinstance(v, dict)}}
            out += _grid_tables({k: v for k, v in value.items() if isinstance(v, dict)}, name + ".", shared)
        else:
            out.append((name, {**(inherited or {}), **value}))
    return out


def parse_grids(document: dict[str, Any]) -> dict[str, Grid]:
    """Named grids from a parsed grid file (``defaults`` and ``meta`` are not grids)."""
    if not isinstance(document, dict):
        raise InvalidInputError(f"a grid file must hold a table/object, got {type(document).__name__}.")
    defaults = document.get("defaults", {})
    tables = {k: v for k, v in document.items() if k not in ("defaults", "meta")}
    grids: dict[str, Grid] = {}
    for name, table in _grid_tables(tables):
        table = dict(table)
        cases = table.pop("cases", [{}])
        if not isinstance(cases, list) or not all(isinstance(c, dict) for c in cases):
            raise InvalidInputError(f"grid {name!r}: 'cases' must be a list of tables, got {cases!r}.")
        runs: list[RunConfig] = []
        for case in cases:
            try:
                runs += expand_grid({**defaults, **table, **case})
            except (InvalidInputError, UnsupportedError) as exc:
                raise type(exc)(f"grid {name!r}: {exc}") from exc
            except TypeError as exc:  # e.g. a table where a number was expected
                raise InvalidInputError(f"grid {name!r}: {exc}") from exc
        grids[name] = Grid(name, tuple(runs))
    if not grids:
        raise InvalidInputError("the grid file defines no grid: add a table such as [depth_scaling].")
    return grids


def load_grids(path: "str | Path") -> dict[str, Grid]:
    """Read a grid file (``.toml`` or ``.json``) and expand it; see the module docstring."""
    path = Path(path)
    if not path.is_file():
        raise InvalidInputError(f"grid file {path} does not exist; pass --config with an existing file.")
    try:
        if path.suffix == ".json":
            document = json.loads(path.read_text())
        else:
            document = tomllib.loads(path.read_text())
    except (json.JSONDecodeError, tomllib.TOMLDecodeError) as exc:
        raise InvalidInputError(f"cannot parse grid file {path}: {exc}") from exc
    return parse_grids(document)


def unique_runs(grids: "dict[str, Grid] | list[Grid]") -> list[RunConfig]:
    """Every distinct run of the grids, once, in first-seen order."""
    seen: dict[str, RunConfig] = {}
    for grid in (grids.values() if isinstance(grids, dict) else grids):
        for run in grid.runs:
            seen.setdefault(run.config_hash(), run)
    return list(seen.values())
