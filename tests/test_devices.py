"""Devices: choosing one (``resolve_device``, ``reproduce --device``), and the GPU paths of training, the
all-layer alignment and the tangent kernels against the CPU reference.

Tolerances of the GPU-vs-CPU comparisons (float64 everywhere):

* at initialisation the two paths compute the same quantities with reductions in another order,
  so they differ by rounding: a few ulps per operation, amplified by the sums over n·C entries of a
  tile and over tiles — observed differences are ~1e-14 relative; we allow rtol 1e-10;
* after a few SGD steps the rounding differences of the forward/backward passes feed into the
  parameters. Each step moves them by lr·gradient (lr 0.01, clipped at norm 1) and the rounding of
  the update is ~1e-16 relative, so over a handful of steps the parameters, losses and alignments
  stay within ~1e-13 relative of the CPU run; we allow rtol 1e-8. A float32 slip anywhere (rounding
  ~1e-7) would fail that bound, so the test does tell float64 on the device from a silent fallback.
"""
from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

from eqhyp_utils import MLP, InvalidInputError, ResidualMLP, UnsupportedError
from eqhyp_utils.devices import available_devices, resolve_device

CUDA = torch.cuda.is_available()
needs_cuda = pytest.mark.skipif(not CUDA, reason="no CUDA device here: the GPU path is checked on a machine with one")

TINY = dict(dataset="gaussian", n_train=200, n_test=50, depth=2, width=8, epochs=1, batch_size=50,
            probe_per_class=2)


# ---------------------------------------------------------------------------------------------- choosing

def test_the_cpu_is_the_default_and_always_there():
    assert resolve_device() == resolve_device("cpu") == resolve_device(None) == torch.device("cpu")
    assert resolve_device(torch.device("cpu")) == torch.device("cpu")
    assert resolve_device(" CPU ") == torch.device("cpu")
    assert available_devices()[0] == "cpu"


def test_bad_device_strings_are_invalid_input():
    for bad in ("gpu", "tpu", "", "cuda:x", "cuda:-1"):
        with pytest.raises(InvalidInputError):
            resolve_device(bad)
    with pytest.raises(InvalidInputError, match="string or a torch.device"):
        resolve_device(3)


@pytest.mark.skipif(CUDA, reason="this machine has a CUDA device")
def test_an_unavailable_device_is_a_clear_unsupported_error():
    for name in ("cuda", "cuda:0", torch.device("cuda")):
        with pytest.raises(UnsupportedError, match="not available on this machine.*cpu"):
            resolve_device(name)


def test_mps_is_refused_with_the_reason():
    with pytest.raises(UnsupportedError, match="float64|not available"):
        resolve_device("mps")


def test_auto_picks_cuda_when_there_else_the_cpu():
    assert resolve_device("auto") == torch.device("cuda" if CUDA else "cpu")


@needs_cuda
def test_a_missing_cuda_index_is_refused():
    with pytest.raises(UnsupportedError, match="does not exist"):
        resolve_device(f"cuda:{torch.cuda.device_count()}")


@pytest.mark.skipif(CUDA, reason="this machine has a CUDA device")
def test_reproduce_refuses_an_unavailable_device_before_running(tmp_path, capsys):
    from eqhyp_utils.experiments.cli import main

    grid = tmp_path / "grid.toml"
    grid.write_text("[defaults]\n" + "".join(f"{k} = {v!r}\n".replace("'", '"') for k, v in TINY.items())
                    + "[g]\nseeds = [0]\n")
    assert main(["--config", str(grid), "--results", str(tmp_path / "out"), "--device", "cuda",
                 "--no-progress"]) == 1
    assert "not available" in capsys.readouterr().err
    assert not (tmp_path / "out" / "runs").exists()


# ---------------------------------------------------------------------------------------------- GPU paths

def _model_and_probe(n=60, seed=0, residual=False):
    cls = ResidualMLP if residual else MLP
    kw = {"alpha": 0.5} if residual else {}
    model = cls(12, 10, 4, 32, "relu", sigma_w2=2.0, sigma_b2=0.1, seed=seed, **kw)
    g = torch.Generator().manual_seed(seed + 1)
    x = torch.randn(n, 12, generator=g, dtype=torch.float64)
    return model, x, torch.arange(n) % 10


@needs_cuda
@pytest.mark.parametrize("residual", [False, True])
def test_alignment_on_the_gpu_agrees_with_the_cpu(residual):
    from eqhyp_utils.alignment import label_gradient_norms, layerwise_alignment

    model, x, labels = _model_and_probe(residual=residual)
    cpu = layerwise_alignment(model, x, labels, block_size=16)
    gpu_model = copy.deepcopy(model).to("cuda")
    on_gpu = layerwise_alignment(gpu_model, x, labels, block_size=16)          # x moves to the model
    assert isinstance(on_gpu, np.ndarray) and on_gpu.dtype == np.float64
    np.testing.assert_allclose(on_gpu, cpu, rtol=1e-10, atol=0)
    np.testing.assert_allclose(layerwise_alignment(model, x, labels, block_size=16, device="cuda"), cpu,
                               rtol=1e-10, atol=0)                              # a CPU model, computed there
    np.testing.assert_allclose(label_gradient_norms(gpu_model, x, labels), label_gradient_norms(model, x, labels),
                               rtol=1e-10, atol=0)
    assert next(gpu_model.parameters()).device.type == "cuda"                  # the model stays where it was


@needs_cuda
def test_tangent_kernels_on_the_gpu_stay_there_and_agree_with_the_cpu():
    from eqhyp_utils.alignment import kernel_alignment
    from eqhyp_utils.tangent_kernels import (layer_tangent_factors, layer_tangent_kernels,
                                             reference_layer_tangent_kernels)

    model, x, labels = _model_and_probe(n=12)
    gpu_model = copy.deepcopy(model).to("cuda")
    factors = layer_tangent_factors(gpu_model, x)
    assert all(f.inputs.device.type == f.deltas.device.type == "cuda" for f in factors)
    for fn in (layer_tangent_kernels, reference_layer_tangent_kernels):
        on_gpu, cpu = fn(gpu_model, x, centre=True), fn(model, x, centre=True)
        assert all(K.device.type == "cuda" for K in on_gpu)
        for K, K_cpu in zip(on_gpu, cpu):
            torch.testing.assert_close(K.cpu(), K_cpu, rtol=1e-10, atol=1e-12 * float(K_cpu.abs().max()))
        assert kernel_alignment(on_gpu[1], labels) == pytest.approx(kernel_alignment(cpu[1], labels), rel=1e-10)


@needs_cuda
def test_training_on_the_gpu_agrees_with_the_cpu():
    from eqhyp_utils.experiments.config import RunConfig
    from eqhyp_utils.experiments.runner import run_one, train_run

    config = RunConfig(**{**TINY, "epochs": 2})                    # 8 SGD steps, 5 checkpoints
    cpu, gpu = train_run(config), train_run(config, device="cuda")
    assert gpu.steps.tolist() == cpu.steps.tolist()
    np.testing.assert_allclose(gpu.alignment[0], cpu.alignment[0], rtol=1e-10, atol=0)   # initialisation
    np.testing.assert_allclose(gpu.alignment, cpu.alignment, rtol=1e-8, atol=0)           # after SGD steps
    for name in ("train_loss", "test_loss", "loss_values", "epoch_loss"):
        np.testing.assert_allclose(getattr(gpu, name), getattr(cpu, name), rtol=1e-8, atol=0, err_msg=name)
    np.testing.assert_array_equal(gpu.train_accuracy, cpu.train_accuracy)
    payload_cpu, payload_gpu = run_one(RunConfig(**TINY)), run_one(RunConfig(**TINY), device="cuda")
    assert payload_gpu.keys() == payload_cpu.keys()                            # the same result format …
    assert payload_gpu["provenance"]["device"].startswith("cuda")              # … the device on record
    assert payload_cpu["provenance"]["device"] == "cpu"
