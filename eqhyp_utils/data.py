"""Data sets used in the course: MNIST-1D, scikit-learn's digits, and a Gaussian mixture.

Every loader returns :class:`Dataset` objects (float32 inputs of shape (n, d), int64 labels in
0 … C − 1). ``load_dataset(name)`` returns a (train, test) pair standardised with the training
statistics only.

MNIST-1D (Greydanus 2020) is *synthesised locally* with the generator functions of the installed
``mnist1d`` package (never downloaded) and cached on disk as an ``.npz`` file that carries its
synthesis parameters and a SHA-256 checksum of its contents; a cache file that fails either
check is reported with a warning and rebuilt.
"""
from __future__ import annotations

import hashlib
import json
import os
import random
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from .errors import CorruptResultError, InvalidInputError, UnsupportedError

__all__ = ["Dataset", "check_dataset", "load_digits", "load_mnist1d", "make_gaussian_mixture",
           "standardise", "balanced_subset", "load_dataset", "DATASETS", "default_cache_dir"]

DATASETS = ("digits", "mnist1d", "gaussian")
_MNIST1D_CACHE_VERSION = 1


# --------------------------------------------------------------------------------------------
# The Dataset container and its validator
# --------------------------------------------------------------------------------------------
def check_dataset(x, y, n_classes: int) -> None:
    """Raise :class:`InvalidInputError` unless ``x`` (n, d) and ``y`` (n,) form a valid data set.

    Checks: x is 2-D and finite, y is 1-D with integer labels in 0 … n_classes − 1, and both
    have the same number of samples n ≥ 1.
    """
    if not isinstance(n_classes, (int, np.integer)) or isinstance(n_classes, bool) or n_classes < 2:
        raise InvalidInputError(f"n_classes must be an integer >= 2, got {n_classes!r}.")
    x = torch.as_tensor(x)
    y = torch.as_tensor(y)
    if x.ndim != 2:
        raise InvalidInputError(
            f"inputs x must be a 2-D array of shape (n_samples, n_features), got shape {tuple(x.shape)}; "
            "flatten each sample first (e.g. x.reshape(len(x), -1)).")
    if y.ndim != 1:
        raise InvalidInputError(
            f"labels y must be a 1-D array of class indices, got shape {tuple(y.shape)}; "
            "convert one-hot labels with y.argmax(1).")
    if len(x) != len(y):
        raise InvalidInputError(
            f"x and y must have the same number of samples, got {len(x)} inputs and {len(y)} labels.")
    if len(x) == 0:
        raise InvalidInputError("the data set is empty (0 samples); pass at least one sample.")
    if not torch.is_floating_point(x):
        x = x.double()
    if not torch.isfinite(x).all():
        bad = int((~torch.isfinite(x)).any(dim=1).sum())
        raise InvalidInputError(
            f"inputs x contain NaN or infinite values in {bad} of {len(x)} samples; "
            "remove or impute them before building the data set.")
    if torch.is_floating_point(y) or y.dtype == torch.bool:
        if torch.is_floating_point(y) and torch.equal(y, y.round()):
            y = y.long()
        else:
            raise InvalidInputError(f"labels y must be integers (class indices), got dtype {y.dtype}.")
    lo, hi = int(y.min()), int(y.max())
    if lo < 0 or hi >= n_classes:
        raise InvalidInputError(
            f"labels must lie in 0..{n_classes - 1} (n_classes={n_classes}), got values in {lo}..{hi}; "
            "relabel the classes to consecutive integers starting at 0 or raise n_classes.")


@dataclass(frozen=True, eq=False)
class Dataset:
    """A labelled data set: inputs ``x`` (float32, shape (n, d)) and labels ``y`` (int64, shape (n,)).

    Arrays or tensors are accepted and converted; the contents are validated with
    :func:`check_dataset` when the object is built.
    """
    x: torch.Tensor
    y: torch.Tensor
    n_classes: int
    name: str = "dataset"

    def __post_init__(self) -> None:
        check_dataset(self.x, self.y, self.n_classes)
        object.__setattr__(self, "x", torch.as_tensor(self.x).to(torch.float32).contiguous())
        object.__setattr__(self, "y", torch.as_tensor(self.y).to(torch.int64).contiguous())
        object.__setattr__(self, "n_classes", int(self.n_classes))

    def __len__(self) -> int:
        return len(self.y)

    @property
    def n_features(self) -> int:
        """Input dimension d."""
        return self.x.shape[1]

    def class_counts(self) -> np.ndarray:
        """Number of samples of each class, shape (n_classes,)."""
        return np.bincount(self.y.numpy(), minlength=self.n_classes)

    def __repr__(self) -> str:
        return (f"Dataset(name={self.name!r}, n={len(self)}, n_features={self.n_features}, "
                f"n_classes={self.n_classes})")


def _check_seed(seed) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise InvalidInputError(f"seed must be a non-negative integer, got {seed!r}.")
    return int(seed)


def _check_count(name: str, value, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise InvalidInputError(f"{name} must be an integer >= {minimum}, got {value!r}.")
    return int(value)


# --------------------------------------------------------------------------------------------
# scikit-learn digits
# --------------------------------------------------------------------------------------------
def load_digits(seed: int = 0, test_fraction: float = 0.2) -> tuple[Dataset, Dataset]:
    """scikit-learn's 8×8 handwritten digits (1797 samples, 64 features, 10 classes), shipped offline.

    The (train, test) split is stratified by class and drawn with ``seed``. Pixel values are
    returned as they are (0 … 16); use :func:`standardise` or :func:`load_dataset`.
    """
    from sklearn.datasets import load_digits as _sk_load_digits
    from sklearn.model_selection import train_test_split

    seed = _check_seed(seed)
    if not (isinstance(test_fraction, (int, float)) and 0 < test_fraction < 1):
        raise InvalidInputError(f"test_fraction must be a number in (0, 1), got {test_fraction!r}.")
    bunch = _sk_load_digits()
    x_tr, x_te, y_tr, y_te = train_test_split(bunch.data, bunch.target, test_size=test_fraction,
                                              random_state=seed, stratify=bunch.target)
    return (Dataset(x_tr, y_tr, 10, "digits-train"), Dataset(x_te, y_te, 10, "digits-test"))


# --------------------------------------------------------------------------------------------
# MNIST-1D, synthesised locally and cached with a checksum
# --------------------------------------------------------------------------------------------
def default_cache_dir() -> Path:
    """``$EQHYP_CACHE`` if set, else ``~/.cache/eqhyp_utils``."""
    return Path(os.environ.get("EQHYP_CACHE") or Path.home() / ".cache" / "eqhyp_utils")


def _mnist1d_version() -> str:
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version("mnist1d")
    except PackageNotFoundError:
        return "unknown"


def _synthesise_mnist1d(n_total: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Run mnist1d's own generator (templates + random transforms) for ``n_total`` samples.

    mnist1d seeds numpy's and Python's global generators; their states are saved and restored so
    that loading data never changes the caller's random streams.
    """
    try:
        from mnist1d.data import get_dataset_args, get_templates, make_dataset
    except Exception as exc:  # ImportError, or a broken install
        raise UnsupportedError(
            "MNIST-1D cannot be synthesised: the 'mnist1d' package (its generator functions "
            f"make_dataset/get_dataset_args/get_templates) could not be imported ({exc!r}). "
            "Install it with `pip install mnist1d`; this package never downloads the data set.") from exc
    args = get_dataset_args()
    n_templates = len(get_templates()["y"])
    args.num_samples = -(-n_total // n_templates) * n_templates  # balanced: a multiple of the class count
    args.train_split = 1.0  # we split ourselves
    args.seed = seed
    np_state, py_state = np.random.get_state(), random.getstate()
    try:
        data = make_dataset(args)
    except Exception as exc:
        raise UnsupportedError(
            f"MNIST-1D synthesis with the installed mnist1d {_mnist1d_version()} failed ({exc!r}); "
            "this package only synthesises the data locally and never downloads it.") from exc
    finally:
        np.random.set_state(np_state)
        random.setstate(py_state)
    return np.asarray(data["x"], dtype=np.float32)[:n_total], np.asarray(data["y"], dtype=np.int64)[:n_total]


def _checksum(params_json: str, arrays: dict[str, np.ndarray]) -> str:
    """SHA-256 over the synthesis parameters and every array's name, dtype, shape and bytes."""
    h = hashlib.sha256(params_json.encode())
    for name in sorted(arrays):
        a = np.ascontiguousarray(arrays[name])
        h.update(f"{name}|{a.dtype.str}|{a.shape}".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def _write_cache(path: Path, params: dict, arrays: dict[str, np.ndarray]) -> None:
    """Write ``arrays`` + parameters + checksum to ``path`` atomically (temporary file, then os.replace)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    params_json = json.dumps(params, sort_keys=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, params=np.array(params_json), sha256=np.array(_checksum(params_json, arrays)), **arrays)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)  # mkstemp creates 0600; a cache is meant to be shared and read
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def _read_cache(path: Path, params: dict) -> dict[str, np.ndarray]:
    """Arrays stored at ``path``; raise :class:`CorruptResultError` if unreadable, tampered or stale."""
    try:
        with np.load(path, allow_pickle=False) as z:
            stored = {k: z[k] for k in z.files}
    except Exception as exc:
        raise CorruptResultError(f"cannot read {path} ({exc!r})") from exc
    try:
        params_json, digest = str(stored.pop("params")), str(stored.pop("sha256"))
    except KeyError as exc:
        raise CorruptResultError(f"{path} lacks its parameters or checksum") from exc
    if json.loads(params_json) != params:
        raise CorruptResultError(f"{path} was built with other parameters ({params_json})")
    if _checksum(params_json, stored) != digest:
        raise CorruptResultError(f"{path} fails its SHA-256 checksum")
    return stored


def load_mnist1d(n_train: int = 4000, n_test: int = 1000, seed: int = 0,
                 cache_dir: "str | os.PathLike | None" = None) -> tuple[Dataset, Dataset]:
    """MNIST-1D (Greydanus 2020): 40-dimensional 1-D signals of the 10 digit templates, 10 classes.

    ``n_train + n_test`` samples (rounded up to a multiple of 10 for class balance, surplus
    dropped) are synthesised with mnist1d's ``make_dataset`` and seed ``seed``, shuffled by the
    generator, and split into the first ``n_train`` and the next ``n_test``. The generator already
    centres the whole set and scales it to unit standard deviation.

    The arrays are cached in ``cache_dir`` (default :func:`default_cache_dir`). A cache file that
    cannot be read, whose checksum fails, or whose parameters differ is reported with a
    ``RuntimeWarning`` and rebuilt.
    """
    n_train = _check_count("n_train", n_train)
    n_test = _check_count("n_test", n_test)
    seed = _check_seed(seed)
    params = {"n_train": n_train, "n_test": n_test, "seed": seed, "mnist1d": _mnist1d_version(),
              "cache_version": _MNIST1D_CACHE_VERSION}
    path = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    path = path / f"mnist1d_train{n_train}_test{n_test}_seed{seed}.npz"

    arrays = None
    if path.exists():
        try:
            arrays = _read_cache(path, params)
        except CorruptResultError as exc:
            warnings.warn(f"MNIST-1D cache rejected: {exc}. Rebuilding it.", RuntimeWarning, stacklevel=2)
    if arrays is None:
        x, y = _synthesise_mnist1d(n_train + n_test, seed)
        arrays = {"x_train": x[:n_train], "y_train": y[:n_train], "x_test": x[n_train:], "y_test": y[n_train:]}
        try:
            _write_cache(path, params, arrays)
        except OSError as exc:
            warnings.warn(f"could not write the MNIST-1D cache {path} ({exc}); continuing without it.",
                          RuntimeWarning, stacklevel=2)
    return (Dataset(arrays["x_train"], arrays["y_train"], 10, "mnist1d-train"),
            Dataset(arrays["x_test"], arrays["y_test"], 10, "mnist1d-test"))


# --------------------------------------------------------------------------------------------
# Synthetic Gaussian mixture
# --------------------------------------------------------------------------------------------
def make_gaussian_mixture(n: int, n_features: int, n_classes: int, *, separation: float = 3.0,
                          seed: int = 0) -> Dataset:
    """A balanced mixture of isotropic unit Gaussians, x = μ_y + ε with ε ~ N(0, I_d).

    The class means μ_c are independent random directions scaled to norm ``separation``, so for
    large d two classes sit ≈ separation·√2 apart (in units of the noise standard deviation).
    Labels are 0, 1, …, C − 1 repeated (balanced to within one sample) and shuffled.
    """
    n = _check_count("n", n)
    n_features = _check_count("n_features", n_features)
    n_classes = _check_count("n_classes", n_classes, minimum=2)
    seed = _check_seed(seed)
    if not (isinstance(separation, (int, float)) and np.isfinite(separation) and separation >= 0):
        raise InvalidInputError(f"separation must be a finite number >= 0, got {separation!r}.")
    rng = np.random.default_rng(seed)
    means = rng.standard_normal((n_classes, n_features))
    means *= separation / np.linalg.norm(means, axis=1, keepdims=True)
    y = rng.permutation(np.arange(n) % n_classes)
    x = means[y] + rng.standard_normal((n, n_features))
    return Dataset(x, y, n_classes, "gaussian")


# --------------------------------------------------------------------------------------------
# Transformations
# --------------------------------------------------------------------------------------------
def standardise(train: Dataset, test: Dataset) -> tuple[Dataset, Dataset]:
    """Scale every feature to zero mean and unit variance using the *training* statistics only.

    x ← (x − mean_train) / std_train, feature by feature; a constant training feature (std < 1e-8)
    is only centred.
    """
    if not isinstance(train, Dataset) or not isinstance(test, Dataset):
        raise InvalidInputError(
            f"standardise expects two Dataset objects, got {type(train).__name__} and {type(test).__name__}.")
    if train.n_features != test.n_features:
        raise InvalidInputError(
            f"train and test must have the same number of features, got {train.n_features} and {test.n_features}.")
    x = train.x.double()
    mean = x.mean(0)
    std = x.std(0, unbiased=False)
    std = torch.where(std < 1e-8, torch.ones_like(std), std)
    scale = lambda d: Dataset((d.x.double() - mean) / std, d.y, d.n_classes, d.name)  # noqa: E731
    return scale(train), scale(test)


def balanced_subset(dataset: Dataset, n_per_class: int, seed: int = 0) -> Dataset:
    """``n_per_class`` samples of every class, drawn without replacement with ``seed``.

    The result holds C·n_per_class samples, ordered class by class (0, …, 0, 1, …, 1, …), which
    makes the kernel's class blocks easy to read. Raises :class:`InvalidInputError` if a class
    has fewer than ``n_per_class`` samples.
    """
    if not isinstance(dataset, Dataset):
        raise InvalidInputError(f"balanced_subset expects a Dataset, got {type(dataset).__name__}.")
    n_per_class = _check_count("n_per_class", n_per_class)
    seed = _check_seed(seed)
    counts = dataset.class_counts()
    short = [c for c in range(dataset.n_classes) if counts[c] < n_per_class]
    if short:
        raise InvalidInputError(
            f"balanced_subset needs {n_per_class} samples per class, but class(es) {short} of "
            f"{dataset.name!r} have only {[int(counts[c]) for c in short]}; lower n_per_class to at most "
            f"{int(counts.min())} or use a larger data set.")
    rng = np.random.default_rng(seed)
    labels = dataset.y.numpy()
    index = np.concatenate([rng.choice(np.flatnonzero(labels == c), n_per_class, replace=False)
                            for c in range(dataset.n_classes)])
    index = torch.from_numpy(index)
    return Dataset(dataset.x[index], dataset.y[index], dataset.n_classes, f"{dataset.name}-probe")


def load_dataset(name: str, **kwargs) -> tuple[Dataset, Dataset]:
    """A standardised (train, test) pair by name: ``"digits"``, ``"mnist1d"`` or ``"gaussian"``.

    Keyword arguments go to :func:`load_digits`, :func:`load_mnist1d`, or — for ``"gaussian"`` —
    to :func:`make_gaussian_mixture` with ``n_train`` (default 2000) and ``n_test`` (default 500)
    in place of ``n``, and defaults n_features=20, n_classes=10.
    """
    if name == "digits":
        train, test = load_digits(**kwargs)
    elif name == "mnist1d":
        train, test = load_mnist1d(**kwargs)
    elif name == "gaussian":
        kw = {"n_features": 20, "n_classes": 10, **kwargs}
        n_train = _check_count("n_train", kw.pop("n_train", 2000))
        n_test = _check_count("n_test", kw.pop("n_test", 500))
        full = make_gaussian_mixture(n_train + n_test, **kw)
        train = Dataset(full.x[:n_train], full.y[:n_train], full.n_classes, "gaussian-train")
        test = Dataset(full.x[n_train:], full.y[n_train:], full.n_classes, "gaussian-test")
    else:
        raise UnsupportedError(f"unknown data set {name!r}; choose one of {', '.join(DATASETS)}.")
    return standardise(train, test)
