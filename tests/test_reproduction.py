"""Shipped results reproduce: re-running a shipped run gives the numbers stored in its file.

Result files store every float rounded to 6 significant digits. A fresh run must round to exactly
the stored numbers; the only difference tolerated is at a rounding boundary, where a change in the
last bits of a float64 can flip the 6th digit — and the test then checks that the fresh value sits
within 1e-9 (relative) of that boundary, so no real difference can hide there.

These tests run twice in the suite: as they are, and once more under other numeric code paths
(tests/test_other_numeric_path.py), which is what another learner's CPU amounts to. The paper-protocol
run (90 s here, about 5 minutes on the other path, where MKL's reproducible kernels are slower) runs
only in that second pass: the shipped file was written on this default path, so reproducing it on
the other one is the stronger check, and the two fixed-budget runs check this path. Set
``EQHYP_REPRODUCE_ALL=1`` to run it on this path too.
"""
from __future__ import annotations

import hashlib
import math
import os
from pathlib import Path

import numpy as np
import pytest
import torch

from eqhyp_utils.experiments.config import load_grids
from eqhyp_utils.experiments.results import SIGNIFICANT_DIGITS, read_result, round_floats
from eqhyp_utils.experiments.runner import result_path, run_one

REPO = Path(__file__).resolve().parent.parent
REPRODUCED = [
    ("full", "fixed_budget", "depth_scaling", dict(depth=6, seed=0)),
    ("full", "fixed_budget", "datasets", dict(dataset="digits", depth=8, seed=0)),
    ("paper", "paper", "depth_scaling", dict(depth=9, seed=0)),
    ("factorial", "factorial", "factorial.depth", dict(depth=9, seed=0)),
]
#: Reproduced only under the other numeric path unless EQHYP_REPRODUCE_ALL=1 (see the module docstring).
OTHER_PATH_ONLY = {"paper", "factorial"}


def _on_other_path() -> bool:
    return os.environ.get("EQHYP_NUMERIC_PATH") == "other"


def assert_reproduces(fresh, stored, where: str = "") -> None:
    """``round_floats(fresh) == stored``, element by element, except exactly at a rounding boundary."""
    if isinstance(stored, dict):
        assert isinstance(fresh, dict) and set(fresh) == set(stored), f"{where}: keys differ"
        for key in stored:
            assert_reproduces(fresh[key], stored[key], f"{where}.{key}")
    elif isinstance(stored, list):
        assert isinstance(fresh, (list, tuple)) and len(fresh) == len(stored), f"{where}: lengths differ"
        for i, (a, b) in enumerate(zip(fresh, stored)):
            assert_reproduces(a, b, f"{where}[{i}]")
    elif isinstance(stored, float) and isinstance(fresh, float):
        rounded = round_floats(fresh)
        if rounded == stored:
            return
        # a flip of the last stored digit is legitimate only if fresh lies on the boundary between them
        boundary = (rounded + stored) / 2
        assert math.isclose(fresh, boundary, rel_tol=1e-9), (
            f"{where}: fresh {fresh!r} rounds to {rounded!r}, the file stores {stored!r}")
    else:
        if stored is None and isinstance(fresh, float):
            assert not math.isfinite(fresh), f"{where}: fresh {fresh!r}, the file stores None"
        else:
            assert fresh == stored, f"{where}: fresh {fresh!r}, the file stores {stored!r}"


@pytest.mark.parametrize("grid_file, results, grid, select", REPRODUCED,
                         ids=[f"{r}-{'-'.join(f'{k}{v}' for k, v in s.items())}" for _, r, _, s in REPRODUCED])
def test_shipped_result_reproduces(grid_file, results, grid, select):
    if results in OTHER_PATH_ONLY and not _on_other_path() and os.environ.get("EQHYP_REPRODUCE_ALL") != "1":
        pytest.skip(f"the {results} run is reproduced in the second pass, under the other numeric path "
                    "(set EQHYP_REPRODUCE_ALL=1 to run it here too)")
    runs = [r for r in load_grids(REPO / "configs" / f"{grid_file}.toml")[grid].runs
            if all(getattr(r, k) == v for k, v in select.items())]
    assert len(runs) == 1, f"{select} should pick one run of [{grid}] in configs/{grid_file}.toml"
    path = result_path(REPO / "results" / results, runs[0])
    assert path.exists(), f"shipped result {path} is missing; run `python -m eqhyp_utils reproduce`"
    shipped = read_result(path, expected_config_hash=runs[0].config_hash())
    fresh = run_one(runs[0])
    for part in ("history", "loss_curve", "config", "config_hash"):
        assert_reproduces(fresh[part], shipped[part], part)


def test_rounding_boundary_rule_by_hand():
    assert SIGNIFICANT_DIGITS == 6
    assert_reproduces(0.12345649, 0.123456)                    # rounds to the stored value
    with pytest.raises(AssertionError):
        assert_reproduces(0.1234570001, 0.123456)              # a real difference is caught
    boundary = (0.123456 + 0.123457) / 2                       # on the boundary either neighbour passes
    assert_reproduces(boundary * (1 + 1e-12), 0.123456)
    assert_reproduces(boundary * (1 - 1e-12), 0.123457)
    with pytest.raises(AssertionError):
        assert_reproduces([1, 2], [1, 3])


#: SHA-256 of MNIST-1D as this package synthesises it (4,000 + 1,000 samples, seed 0, float32 arrays).
#: The data are generated with numpy and scipy on the learner's machine; this pins them bit for bit.
MNIST1D_SHA256 = "096f33d29fcff1a2e2909840191b34d5e327d7fdff8590c66a8a54f9c85f735e"


def test_mnist1d_is_the_same_on_every_machine(tmp_path):
    from eqhyp_utils.data import load_mnist1d

    train, test = load_mnist1d(4000, 1000, seed=0, cache_dir=tmp_path)
    digest = hashlib.sha256()
    for d in (train, test):
        digest.update(d.x.to(torch.float32).numpy().tobytes())
        digest.update(d.y.numpy().tobytes())
    assert digest.hexdigest() == MNIST1D_SHA256, (
        "MNIST-1D synthesised on this machine differs from the course's; every stored number that uses it "
        "would differ too. Please report your numpy/scipy versions and CPU.")


def test_this_pass_runs_on_the_numeric_path_it_claims():
    """In the second pass, torch really dispatches its scalar kernels and numpy its baseline ones."""
    if os.environ.get("ATEN_CPU_CAPABILITY") == "default":
        assert torch.backends.cpu.get_cpu_capability() == "DEFAULT"
    if os.environ.get("NPY_DISABLE_CPU_FEATURES"):
        from numpy._core._multiarray_umath import __cpu_features__
        disabled = os.environ["NPY_DISABLE_CPU_FEATURES"].split()
        assert not any(__cpu_features__.get(f) for f in disabled)
    assert np.isfinite(1.0)
