"""Networks in the standard parametrisation: shapes, initialisation statistics, residual blocks, bad input."""
import math

import pytest
import torch

from eqhyp_utils import InvalidInputError, MLP, ResidualMLP, UnsupportedError, build_model


def test_layers_are_numbered_one_to_depth_plus_one():
    model = MLP(5, 3, depth=4, width=7)
    assert model.n_layers == 5 and len(model.layers) == 5
    assert [(l.in_features, l.out_features) for l in model.layers] == [(5, 7), (7, 7), (7, 7), (7, 7), (7, 3)]
    h = model.preactivations(torch.randn(2, 5, dtype=torch.float64))
    assert [t.shape[1] for t in h] == [7, 7, 7, 7, 3]


def test_initialisation_variance_and_seed():
    model = MLP(400, 10, depth=2, width=500, sigma_w2=2.0, sigma_b2=0.3, seed=1)
    w = model.layers[1].weight.detach()
    assert float(w.var()) == pytest.approx(2.0 / 500, rel=0.02)       # 250 000 draws: ±0.6 % (3σ)
    assert float(model.layers[0].weight.detach().var()) == pytest.approx(2.0 / 400, rel=0.02)
    b = torch.cat([l.bias.detach() for l in model.layers[:-1]])
    assert float(b.var()) == pytest.approx(0.3, rel=0.15)               # 1000 draws: ±13 % (3σ)
    same = MLP(400, 10, depth=2, width=500, sigma_w2=2.0, sigma_b2=0.3, seed=1)
    other = MLP(400, 10, depth=2, width=500, sigma_w2=2.0, sigma_b2=0.3, seed=2)
    assert torch.equal(same.layers[1].weight, w)
    assert not torch.equal(other.layers[1].weight, w)


def test_forward_is_the_stated_recursion():
    torch.manual_seed(0)
    x = torch.randn(3, 4, dtype=torch.float64)
    model = MLP(4, 2, depth=3, width=6, activation="tanh", sigma_b2=0.1)
    W, b = [l.weight for l in model.layers], [l.bias for l in model.layers]
    h = x @ W[0].T + b[0]
    for l in (1, 2):
        h = torch.tanh(h) @ W[l].T + b[l]
    assert torch.allclose(model(x), torch.tanh(h) @ W[3].T + b[3])


def test_residual_blocks():
    torch.manual_seed(0)
    x = torch.randn(3, 4, dtype=torch.float64)
    model = ResidualMLP(4, 2, depth=3, width=6, alpha=0.3, sigma_b2=0.1)
    W, b = [l.weight for l in model.layers], [l.bias for l in model.layers]
    h = x @ W[0].T + b[0]
    for l in (1, 2):
        h = h + 0.3 * (torch.relu(h) @ W[l].T + b[l])
    assert torch.allclose(model(x), torch.relu(h) @ W[3].T + b[3])
    assert isinstance(build_model(4, 2, 3, 6, alpha=0.3), ResidualMLP)
    assert type(build_model(4, 2, 3, 6)) is MLP


@pytest.mark.parametrize("kwargs, match", [
    (dict(depth=0), "depth"),
    (dict(depth=2.5), "depth"),
    (dict(width=0), "width"),
    (dict(sigma_w2=0.0), "sigma_w2"),
    (dict(sigma_w2=-1.0), "sigma_w2"),
    (dict(sigma_w2=math.nan), "sigma_w2"),
    (dict(sigma_b2=-0.1), "sigma_b2"),
])
def test_bad_architecture_is_rejected(kwargs, match):
    args = dict(in_features=3, out_features=2, depth=2, width=4) | kwargs
    with pytest.raises(InvalidInputError, match=match):
        MLP(**args)


def test_bad_alpha_and_activation():
    with pytest.raises(InvalidInputError, match="alpha"):
        ResidualMLP(3, 2, depth=2, width=4, alpha=0.0)
    with pytest.raises(UnsupportedError, match="swish"):
        MLP(3, 2, depth=2, width=4, activation="swish")


def test_initialisation_is_platform_independent_and_float64():
    """The weights are numpy PCG64 draws (the same bits on every CPU), not torch.randn."""
    import numpy as np

    from eqhyp_utils.rng import generator

    model = MLP(3, 2, depth=1, width=4, sigma_w2=2.0, sigma_b2=0.5, seed=7)
    rng = generator(7, "init")
    w1 = rng.standard_normal((4, 3)) * math.sqrt(2.0 / 3)
    b1 = rng.standard_normal(4) * math.sqrt(0.5)
    assert model.layers[0].weight.dtype == torch.float64
    assert np.array_equal(model.layers[0].weight.detach().numpy(), w1)
    assert np.array_equal(model.layers[0].bias.detach().numpy(), b1)
    state = torch.random.get_rng_state()
    MLP(3, 2, depth=2, width=4, seed=1)
    assert torch.equal(state, torch.random.get_rng_state()), "building a model must not touch torch's generator"
    assert MLP(3, 2, depth=1, width=4, dtype=torch.float32).layers[0].weight.dtype == torch.float32


def test_repr_has_no_memory_address():
    assert "0x" not in repr(MLP(3, 2, depth=2, width=4)) and "0x" not in repr(MLP(3, 2, 2, 4).activation)
