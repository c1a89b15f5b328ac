"""Notebook 1's self-checks: each notebook solution passes, a plausible wrong answer fails, a stub raises."""
import pytest
import torch
from torch.func import functional_call, jacrev, vmap

from eqhyp_utils.exercises import check


# --- the notebook's solutions ------------------------------------------------------------------
def solution_layer_kernel(inputs, deltas):
    n, C, N = deltas.shape
    D = deltas.reshape(n * C, N)
    delta_gram = (D @ D.T).reshape(n, C, n, C)
    input_gram = inputs @ inputs.T + 1.0
    return (delta_gram * input_gram[:, None, :, None]).reshape(n * C, n * C)


def solution_output_kernel(last_hidden, n_classes):
    gram = last_hidden @ last_hidden.T + 1.0
    return torch.kron(gram, torch.eye(n_classes, dtype=gram.dtype))


def solution_ntk(model, x):
    theta = {name: p.detach() for name, p in model.named_parameters()}

    def f_one(theta, xi):
        return functional_call(model, theta, (xi[None],))[0]

    jac = vmap(jacrev(f_one), in_dims=(None, 0))(theta, x)
    n, C = x.shape[0], model.out_features
    J = torch.cat([j.reshape(n, C, -1) for j in jac.values()], dim=2).reshape(n * C, -1)
    return J @ J.T


def solution_centre(K, n, C):
    K4 = K.reshape(n, C, n, C)
    K4 = K4 - K4.mean(dim=0, keepdim=True)
    K4 = K4 - K4.mean(dim=2, keepdim=True)
    return K4.reshape(n * C, n * C)


# --- plausible mistakes ------------------------------------------------------------------------
def wrong_layer_kernel_no_bias(inputs, deltas):
    n, C, N = deltas.shape
    D = deltas.reshape(n * C, N)
    return ((D @ D.T).reshape(n, C, n, C) * (inputs @ inputs.T)[:, None, :, None]).reshape(n * C, n * C)


def wrong_output_kernel_class_major(last_hidden, n_classes):
    gram = last_hidden @ last_hidden.T + 1.0
    return torch.kron(torch.eye(n_classes, dtype=gram.dtype), gram)


def wrong_ntk_weights_only(model, x):
    theta = {name: p.detach() for name, p in model.named_parameters() if name.endswith("weight")}
    rest = {name: p.detach() for name, p in model.named_parameters() if not name.endswith("weight")}

    def f_one(theta, xi):
        return functional_call(model, {**rest, **theta}, (xi[None],))[0]

    jac = vmap(jacrev(f_one), in_dims=(None, 0))(theta, x)
    n, C = x.shape[0], model.out_features
    J = torch.cat([j.reshape(n, C, -1) for j in jac.values()], dim=2).reshape(n * C, -1)
    return J @ J.T


def wrong_centre_whole_matrix(K, n, C):
    return K - K.mean(dim=0, keepdim=True) - K.mean(dim=1, keepdim=True) + K.mean()


CASES = [
    ("ex-01-layer-kernel", solution_layer_kernel, wrong_layer_kernel_no_bias),
    ("ex-01-output-kernel", solution_output_kernel, wrong_output_kernel_class_major),
    ("ex-01-ntk-sum", solution_ntk, wrong_ntk_weights_only),
    ("ex-01-centring", solution_centre, wrong_centre_whole_matrix),
]


@pytest.mark.parametrize("label, solution, wrong", CASES, ids=[c[0] for c in CASES])
def test_solution_passes_and_wrong_answer_fails(label, solution, wrong, capsys):
    assert check(label, solution)
    assert "Correct!" in capsys.readouterr().out
    assert not check(label, wrong)
    assert "Not yet" in capsys.readouterr().out


@pytest.mark.parametrize("label", [c[0] for c in CASES])
def test_stub_raises_not_implemented(label):
    def stub(*args):
        raise NotImplementedError("Exercise 01")

    with pytest.raises(NotImplementedError):
        check(label, stub, quiet=True)
