"""Kernel alignment formulas, and the tiled layer-wise alignment against materialised kernels."""
import math

import numpy as np
import pytest
import torch
from torch import nn

from eqhyp_utils import MLP, InvalidInputError, ResidualMLP, UnsupportedError
from eqhyp_utils.alignment import (centered_kernel_alignment, kernel_alignment, kernel_target_alignment,
                                   label_gradient_norms, layerwise_alignment, one_hot_labels)
from eqhyp_utils.tangent_kernels import layer_tangent_kernels

N_SAMPLES, D_IN, C, DEPTH = 10, 5, 3, 3


def _data(n=N_SAMPLES, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, D_IN, generator=g)
    labels = torch.arange(n) % C
    labels = labels[torch.randperm(n, generator=g)]
    return x, labels


def _relu_mlp():
    return MLP(D_IN, C, DEPTH, 12, "relu", sigma_w2=2.0, sigma_b2=0.1, seed=1)


def _random_psd(m, seed=0):
    B = torch.randn(m, m + 2, dtype=torch.float64, generator=torch.Generator().manual_seed(seed))
    return B @ B.T


# ---------------------------------------------------------------------------------------------- formulas

def test_one_hot_labels_centred_columns_sum_to_zero():
    Y = one_hot_labels([0, 2, 2, 1])
    assert Y.shape == (4, 3) and Y.dtype == torch.float64
    assert torch.allclose(Y.sum(dim=0), torch.zeros(3, dtype=torch.float64), atol=1e-15)
    assert torch.equal(one_hot_labels([0, 2], 4, centre=False), torch.tensor([[1., 0, 0, 0], [0, 0, 1, 0]],
                                                                           dtype=torch.float64))


def test_hand_computed_three_sample_example():
    # n = 3 samples, C = 2 classes, labels (0, 1, 1). Class frequencies (1/3, 2/3), so the centred
    # one-hot matrix is Ỹ = [[2/3, -2/3], [-1/3, 1/3], [-1/3, 1/3]] and, sample-major,
    # y = (2/3, -2/3, -1/3, 1/3, -1/3, 1/3), ‖y‖² = 4/9 + 4/9 + 4·1/9 = 4/3, Σ y = 0.
    # K = I_6 + 11ᵀ: yᵀKy = ‖y‖² + (Σ y)² = 4/3; ‖K‖_F² = 6·2² + 30·1² = 54, ‖K‖_F = 3√6.
    # A = (4/3) / (3√6 · 4/3) = 1/(3√6) ≈ 0.13608.
    labels = [0, 1, 1]
    K = torch.eye(6, dtype=torch.float64) + torch.ones(6, 6, dtype=torch.float64)
    assert kernel_alignment(K, labels) == pytest.approx(1 / (3 * math.sqrt(6)), rel=1e-14)
    # Uncentred (Cristianini et al. 2002): y = (1,0, 0,1, 0,1), ‖y‖² = 3, Σ y = 3,
    # yᵀKy = 3 + 9 = 12, A = 12 / (3√6 · 3) = 4/(3√6) ≈ 0.5443.
    assert kernel_target_alignment(K, labels) == pytest.approx(4 / (3 * math.sqrt(6)), rel=1e-14)
    # A kernel equal to the target itself is perfectly aligned.
    y = torch.tensor([2, -2, -1, 1, -1, 1], dtype=torch.float64) / 3
    assert kernel_alignment(torch.outer(y, y), labels) == pytest.approx(1.0, rel=1e-14)


def test_alignment_scale_and_permutation_invariance():
    n = 7
    K = _random_psd(n * C)
    labels = torch.tensor([0, 1, 2, 0, 1, 2, 2])
    A = kernel_alignment(K, labels)
    assert 0 < A < 1
    assert kernel_alignment(37.5 * K, labels) == pytest.approx(A, rel=1e-13)
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(4))
    index = (perm[:, None] * C + torch.arange(C)).reshape(-1)              # permute samples, keep classes
    assert kernel_alignment(K[index][:, index], labels[perm]) == pytest.approx(A, rel=1e-13)
    assert kernel_target_alignment(K[index][:, index], labels[perm]) == pytest.approx(
        kernel_target_alignment(K, labels), rel=1e-13)
    # A target matrix Y instead of labels gives the same value; so does an (n, n) kernel with ỸỸᵀ.
    assert kernel_alignment(K, torch.nn.functional.one_hot(labels, C).double()) == pytest.approx(A, rel=1e-13)
    Y = one_hot_labels(labels)
    assert kernel_alignment(Y @ Y.T, labels) == pytest.approx(1.0, rel=1e-13)


def test_output_layer_style_kernel_reaches_the_block_diagonal_bound():
    # K = I_C ⊗ ỸỸᵀ (class-major) reordered sample-major: ỸỸᵀ ⊗ I_C. Balanced labels: A = 1/√(C(C−1)).
    labels = torch.arange(12) % 4
    Y = one_hot_labels(labels)
    K = torch.kron(Y @ Y.T, torch.eye(4, dtype=torch.float64))
    assert kernel_alignment(K, labels) == pytest.approx(1 / math.sqrt(4 * 3), rel=1e-13)


def test_centered_kernel_alignment():
    K1, K2 = _random_psd(9, seed=1), _random_psd(9, seed=2)
    assert centered_kernel_alignment(K1, K1) == pytest.approx(1.0, rel=1e-14)
    cka = centered_kernel_alignment(K1, K2)
    assert 0 < cka < 1
    assert centered_kernel_alignment(K2, K1) == pytest.approx(cka, rel=1e-14)
    assert centered_kernel_alignment(3.0 * K1 + 5.0, K2) == pytest.approx(cka, rel=1e-12)
    perm = torch.randperm(9, generator=torch.Generator().manual_seed(0))
    assert centered_kernel_alignment(K1[perm][:, perm], K2[perm][:, perm]) == pytest.approx(cka, rel=1e-12)


def test_alignment_bad_inputs():
    K = _random_psd(6)
    with pytest.raises(InvalidInputError, match="zero Frobenius"):
        kernel_alignment(torch.zeros(6, 6), [0, 1, 1])
    with pytest.raises(InvalidInputError, match="NaN"):
        kernel_alignment(torch.full((6, 6), float("nan")), [0, 1, 1])
    with pytest.raises(InvalidInputError, match="rows"):
        kernel_alignment(K, [0, 1, 1, 0])                       # 6 is neither 4·C nor 4 for C = 2
    with pytest.raises(InvalidInputError, match=r"0\.\.1"):
        kernel_alignment(K, [0, 1, 2])                          # C = 6 / 3 = 2
    with pytest.raises(InvalidInputError, match="single class"):
        kernel_alignment(K, [1, 1, 1])
    with pytest.raises(InvalidInputError, match="square"):
        kernel_alignment(torch.ones(6, 5), [0, 1, 1])
    with pytest.raises(InvalidInputError, match="same shape"):
        centered_kernel_alignment(K, _random_psd(5))
    with pytest.raises(InvalidInputError, match="0..2"):
        one_hot_labels([0, 3], 3)
    with pytest.raises(InvalidInputError, match="NaN"):
        one_hot_labels(np.array([0.0, np.nan]))


# ---------------------------------------------------------------------------------------------- networks

@pytest.mark.parametrize("centre", [True, False])
@pytest.mark.parametrize("block_size", [1, 3, 4, 10, 64])
def test_layerwise_alignment_equals_materialised_kernels(centre, block_size):
    model, (x, labels) = _relu_mlp(), _data()
    expected = np.array([kernel_alignment(K, labels) for K in layer_tangent_kernels(model, x, centre=centre)])
    got = layerwise_alignment(model, x, labels, centre=centre, block_size=block_size)
    assert got.shape == (DEPTH + 1,) and got.dtype == np.float64
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=0)


@pytest.mark.parametrize("bias", [True, False])
def test_layerwise_alignment_residual_and_bias(bias):
    model = ResidualMLP(D_IN, C, DEPTH, 8, "tanh", sigma_w2=1.5, sigma_b2=0.2, alpha=0.7, seed=5)
    x, labels = _data(seed=3)
    expected = [kernel_alignment(K, labels) for K in layer_tangent_kernels(model, x, centre=True, bias=bias)]
    np.testing.assert_allclose(layerwise_alignment(model, x, labels, bias=bias, block_size=4), expected,
                               rtol=1e-12, atol=0)


def test_layerwise_alignment_float32_tiles_within_tolerance():
    # float32 forward/backward and tiles, float64 sums: measured ≈ 1e-7 relative; the bar is 1e-5.
    model, (x, labels) = _relu_mlp(), _data(n=40, seed=1)
    a64 = layerwise_alignment(model, x, labels, block_size=16)
    a32 = layerwise_alignment(model, x, labels, block_size=16, dtype=torch.float32)
    np.testing.assert_allclose(a32, a64, rtol=1e-5, atol=0)


@pytest.mark.parametrize("centre", [True, False])
def test_label_gradient_norms_are_the_numerators(centre):
    model, (x, labels) = _relu_mlp(), _data()
    y = one_hot_labels(labels, C).reshape(-1)
    Ks = layer_tangent_kernels(model, x, centre=centre)
    np.testing.assert_allclose(label_gradient_norms(model, x, labels), [float(y @ K @ y) for K in Ks],
                               rtol=1e-12, atol=0)


def test_label_gradient_norms_uncentred_labels_and_no_bias():
    model, (x, labels) = _relu_mlp(), _data()
    y = one_hot_labels(labels, C, centre=False).reshape(-1)
    Ks = layer_tangent_kernels(model, x, bias=False)
    got = label_gradient_norms(model, x, labels, centre_labels=False, bias=False)
    np.testing.assert_allclose(got, [float(y @ K @ y) for K in Ks], rtol=1e-12, atol=0)


def test_output_layer_alignment_below_block_diagonal_bound():
    """docs/science.md §2: K_{L+1} = I_C ⊗ (Gram + 1) is block-diagonal, so A_{L+1} ≤ 1/√(C(C−1)) (balanced labels)."""
    n_classes = 4
    model = MLP(D_IN, n_classes, 2, 16, "relu", seed=7)
    x = torch.randn(24, D_IN, generator=torch.Generator().manual_seed(7))
    labels = torch.arange(24) % n_classes
    bound = 1 / math.sqrt(n_classes * (n_classes - 1))
    for centre in (True, False):
        A = layerwise_alignment(model, x, labels, centre=centre, block_size=7)
        assert 0 < A[-1] <= bound


class _ConvNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.ModuleList([nn.Linear(D_IN, 4), nn.Linear(4, C)])
        self.conv = nn.Conv1d(1, 1, 3, padding=1)

    def forward(self, x):
        x = self.conv(x[:, None, :])[:, 0, :]
        return self.layers[1](torch.relu(self.layers[0](x)))


def test_layerwise_alignment_bad_inputs():
    model, (x, labels) = _relu_mlp(), _data()
    with pytest.raises(InvalidInputError, match="labels"):
        layerwise_alignment(model, x, labels[:-1])
    with pytest.raises(InvalidInputError, match=r"0\.\.2"):
        layerwise_alignment(model, x, torch.full_like(labels, C))
    with pytest.raises(InvalidInputError, match="n_classes"):
        layerwise_alignment(model, x, labels, n_classes=C + 1)
    bad_x = x.clone()
    bad_x[0, 0] = float("nan")
    with pytest.raises(InvalidInputError, match="NaN"):
        layerwise_alignment(model, bad_x, labels)
    with pytest.raises(InvalidInputError, match="NaN"):
        label_gradient_norms(model, bad_x, labels)
    with pytest.raises(InvalidInputError, match="one class"):
        layerwise_alignment(model, x, torch.zeros_like(labels))
    with pytest.raises(InvalidInputError, match="block_size"):
        layerwise_alignment(model, x, labels, block_size=0)
    with pytest.raises(UnsupportedError, match="Conv1d"):
        layerwise_alignment(_ConvNet(), x, labels)


# ---------------------------------------------------------------------------------------------- devices

def test_device_keyword_on_the_cpu_changes_nothing():
    model, (x, labels) = _relu_mlp(), _data(n=40, seed=2)
    reference = layerwise_alignment(model, x, labels, block_size=16)
    for device in ("cpu", torch.device("cpu"), None):
        assert np.array_equal(layerwise_alignment(model, x, labels, block_size=16, device=device), reference)
        assert np.array_equal(label_gradient_norms(model, x, labels, device=device),
                              label_gradient_norms(model, x, labels))
    # numpy inputs go to the computation's device like tensors do
    assert np.array_equal(layerwise_alignment(model, x.numpy(), labels.numpy(), block_size=16), reference)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_the_device_side_running_sum_adds_the_same_numbers(monkeypatch, dtype):
    # Off the CPU the tile sums are accumulated in a float64 tensor on the device instead of a Python
    # float; both add the same float64 numbers in the same order, so on the CPU they agree bit for bit.
    import eqhyp_utils.alignment as alignment

    model, (x, labels) = _relu_mlp(), _data(n=50, seed=4)
    reference = layerwise_alignment(model, x, labels, block_size=8, dtype=dtype)
    monkeypatch.setattr(alignment, "_sum_on_device", lambda device: True)
    assert np.array_equal(layerwise_alignment(model, x, labels, block_size=8, dtype=dtype), reference)


def test_an_unavailable_device_is_refused_before_any_work():
    if torch.cuda.is_available():
        pytest.skip("this machine has a CUDA device; see tests/test_devices.py")
    model, (x, labels) = _relu_mlp(), _data()
    with pytest.raises(UnsupportedError, match="not available"):
        layerwise_alignment(model, x, labels, device="cuda")
    with pytest.raises(UnsupportedError, match="not available"):
        label_gradient_norms(model, x, labels, device="cuda")
    with pytest.raises(InvalidInputError, match="device"):
        layerwise_alignment(model, x, labels, device="gpu")
