"""Factorised layer tangent kernels against explicit torch.func Jacobians, and input validation."""
import pytest
import torch
from torch import nn

from eqhyp_utils import MLP, InvalidInputError, ResidualMLP, UnsupportedError
from eqhyp_utils.tangent_kernels import (empirical_ntk, layer_tangent_factors, layer_tangent_kernels,
                                         reference_layer_tangent_kernels)

N_SAMPLES, D_IN, C, DEPTH = 8, 5, 3, 3


def _inputs(n=N_SAMPLES, seed=0):
    return torch.randn(n, D_IN, generator=torch.Generator().manual_seed(seed))


MODELS = {
    "relu_mlp": lambda: MLP(D_IN, C, DEPTH, 12, "relu", sigma_w2=2.0, sigma_b2=0.1, seed=1),
    "tanh_mlp": lambda: MLP(D_IN, C, DEPTH, 10, "tanh", sigma_w2=1.5, sigma_b2=0.05, seed=2),
    "residual": lambda: ResidualMLP(D_IN, C, DEPTH, 8, "relu", sigma_w2=2.0, sigma_b2=0.1, alpha=0.5, seed=3),
}


def _rel(a: torch.Tensor, b: torch.Tensor) -> float:
    return float(torch.linalg.matrix_norm(a - b) / torch.linalg.matrix_norm(b))


@pytest.mark.parametrize("name", MODELS)
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("centre", [False, True])
def test_factorised_kernels_equal_explicit_jacobians(name, bias, centre):
    model, x = MODELS[name](), _inputs()
    fast = layer_tangent_kernels(model, x, bias=bias, centre=centre)
    slow = reference_layer_tangent_kernels(model, x, bias=bias, centre=centre)
    assert len(fast) == len(slow) == DEPTH + 1
    for l, (K, K_ref) in enumerate(zip(fast, slow), start=1):
        assert K.shape == (N_SAMPLES * C, N_SAMPLES * C) and K.dtype == torch.float64
        assert _rel(K, K_ref) <= 1e-10, f"layer {l}"


def test_factors_shapes_and_output_layer_deltas_are_unit_vectors():
    model, x = MODELS["relu_mlp"](), _inputs()
    factors = layer_tangent_factors(model, x)
    assert [f.l for f in factors] == list(range(1, DEPTH + 2))
    assert factors[0].inputs.shape == (N_SAMPLES, D_IN)
    for f, layer in zip(factors, model.layers):
        assert f.inputs.shape == (N_SAMPLES, layer.in_features)
        assert f.deltas.shape == (N_SAMPLES, C, layer.out_features)
    # δ_{L+1}^a = e_a: the output layer's backward signal is the identity for every sample.
    assert torch.equal(factors[-1].deltas, torch.eye(C, dtype=torch.float64).expand(N_SAMPLES, C, C))


def test_output_layer_kernel_is_identity_times_feature_gram():
    """K_{L+1} = I_C ⊗ (a_L a_Lᵀ + 1): checkable by hand from the last hidden activations."""
    model, x = MODELS["tanh_mlp"](), _inputs()
    K = layer_tangent_kernels(model, x, layers=[DEPTH + 1])[0]
    with torch.no_grad():
        h_L = model.double().preactivations(x.double())[-2]
    a_L = model.activation.phi(h_L)
    expected = torch.kron(a_L @ a_L.T + 1.0, torch.eye(C, dtype=torch.float64))   # sample-major
    assert _rel(K, expected) <= 1e-12


def test_layer_selection_and_empirical_ntk():
    model, x = MODELS["residual"](), _inputs()
    every = reference_layer_tangent_kernels(model, x)
    picked = layer_tangent_kernels(model, x, layers=[3, 1])
    assert _rel(picked[0], every[2]) <= 1e-10 and _rel(picked[1], every[0]) <= 1e-10
    assert _rel(empirical_ntk(model, x), sum(every)) <= 1e-10


def test_float32_path_close_to_float64():
    model, x = MODELS["relu_mlp"](), _inputs()
    K64 = layer_tangent_kernels(model, x)
    K32 = layer_tangent_kernels(model, x, dtype=torch.float32)
    for a, b in zip(K32, K64):
        assert a.dtype == torch.float32
        assert _rel(a.double(), b) <= 1e-5


def test_model_is_left_untouched():
    model, x = MODELS["relu_mlp"](), _inputs()
    dtypes = [p.dtype for p in model.parameters()]
    before = [p.detach().clone() for p in model.parameters()]
    layer_tangent_kernels(model, x, centre=True, dtype=torch.float32)   # computed in another dtype
    for p, q, dtype in zip(model.parameters(), before, dtypes):
        assert p.dtype == dtype and p.grad is None and torch.equal(p, q)
    assert all(not layer._forward_hooks for layer in model.layers)


class _ConvNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv1d(1, 1, 3, padding=1)
        self.layers = nn.ModuleList([nn.Linear(D_IN, 4), nn.Linear(4, C)])

    def forward(self, x):
        x = self.conv(x[:, None, :])[:, 0, :]
        return self.layers[1](torch.relu(self.layers[0](x)))


def test_unsupported_layers_are_named():
    with pytest.raises(UnsupportedError, match="conv.*Conv1d"):
        layer_tangent_factors(_ConvNet(), _inputs())
    with pytest.raises(UnsupportedError, match="model.layers"):
        layer_tangent_kernels(nn.Sequential(nn.Linear(D_IN, C)), _inputs())


def test_bad_inputs_raise():
    model = MODELS["relu_mlp"]()
    with pytest.raises(InvalidInputError, match="shape"):
        layer_tangent_kernels(model, torch.zeros(4, D_IN + 1))
    x = _inputs()
    x[2, 1] = float("nan")
    with pytest.raises(InvalidInputError, match="NaN"):
        layer_tangent_kernels(model, x)
    with pytest.raises(InvalidInputError, match="1..4"):
        layer_tangent_kernels(model, _inputs(), layers=[0])
    with pytest.raises(InvalidInputError, match="dtype"):
        layer_tangent_kernels(model, _inputs(), dtype=torch.float16)


def test_device_keyword_on_the_cpu_changes_nothing():
    model, x = MODELS["residual"](), _inputs()
    for fn in (layer_tangent_kernels, reference_layer_tangent_kernels):
        reference = fn(model, x, centre=True)
        for device in ("cpu", torch.device("cpu")):
            assert all(torch.equal(a, b) for a, b in zip(fn(model, x, centre=True, device=device), reference))
    factors = layer_tangent_factors(model, x, device="cpu")
    assert all(f.inputs.device.type == f.deltas.device.type == "cpu" for f in factors)
    assert torch.equal(empirical_ntk(model, x, device="cpu"), empirical_ntk(model, x))


def test_an_unavailable_device_is_refused():
    if torch.cuda.is_available():
        pytest.skip("this machine has a CUDA device; see tests/test_devices.py")
    model, x = MODELS["relu_mlp"](), _inputs()
    for fn in (layer_tangent_factors, layer_tangent_kernels, reference_layer_tangent_kernels):
        with pytest.raises(UnsupportedError, match="not available"):
            fn(model, x, device="cuda")
