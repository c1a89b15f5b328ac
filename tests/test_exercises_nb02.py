"""Notebook 2's self-checks: each notebook solution passes, a plausible wrong answer fails, a stub raises."""
import numpy as np
import pytest
import torch

from eqhyp_utils.exercises import check


# --- the notebook's solutions ------------------------------------------------------------------
def solution_alignment(K, labels, n_classes):
    Y = torch.nn.functional.one_hot(torch.as_tensor(labels), n_classes).double()
    y = (Y - Y.mean(dim=0, keepdim=True)).reshape(-1)
    return float(y @ K @ y / (torch.linalg.matrix_norm(K) * (y @ y)))


def solution_cka(K1, K2):
    def centre(K):
        return K - K.mean(dim=0, keepdim=True) - K.mean(dim=1, keepdim=True) + K.mean()

    A, B = centre(K1), centre(K2)
    return float((A * B).sum() / (torch.linalg.matrix_norm(A) * torch.linalg.matrix_norm(B)))


def solution_label_gradient_norms(model, x, labels):
    Y = torch.nn.functional.one_hot(torch.as_tensor(labels), model.out_features).to(x.dtype)
    Y = Y - Y.mean(dim=0, keepdim=True)
    model.zero_grad()
    (Y * model(x)).sum().backward()
    return np.array([float(layer.weight.grad.pow(2).sum() + layer.bias.grad.pow(2).sum())
                     for layer in model.layers])


def solution_output_ceiling(labels, n_classes):
    Y = torch.nn.functional.one_hot(torch.as_tensor(labels), n_classes).double()
    Y = Y - Y.mean(dim=0, keepdim=True)
    M = Y.T @ Y
    return float(torch.linalg.matrix_norm(M) / (n_classes ** 0.5 * torch.trace(M)))


def solution_centred_numerator(K, labels, n_classes):
    Y = torch.nn.functional.one_hot(torch.as_tensor(labels), n_classes).to(K.dtype)
    y = (Y - Y.mean(dim=0, keepdim=True)).reshape(-1)
    return float(y @ K @ y)


# --- plausible mistakes ------------------------------------------------------------------------
def wrong_alignment_uncentred(K, labels, n_classes):
    y = torch.nn.functional.one_hot(torch.as_tensor(labels), n_classes).double().reshape(-1)
    return float(y @ K @ y / (torch.linalg.matrix_norm(K) * (y @ y)))


def wrong_cka_uncentred(K1, K2):
    return float((K1 * K2).sum() / (torch.linalg.matrix_norm(K1) * torch.linalg.matrix_norm(K2)))


def wrong_gradient_norms_weights_only(model, x, labels):
    Y = torch.nn.functional.one_hot(torch.as_tensor(labels), model.out_features).to(x.dtype)
    Y = Y - Y.mean(dim=0, keepdim=True)
    model.zero_grad()
    (Y * model(x)).sum().backward()
    return np.array([float(layer.weight.grad.pow(2).sum()) for layer in model.layers])


def wrong_numerator_uncentred_labels(K, labels, n_classes):
    y = torch.nn.functional.one_hot(torch.as_tensor(labels), n_classes).to(K.dtype).reshape(-1)
    return float(y @ K @ y)


def wrong_ceiling_balanced_formula(labels, n_classes):
    return 1.0 / np.sqrt(n_classes * (n_classes - 1))  # right only for balanced labels


CASES = [
    ("ex-02-alignment", solution_alignment, wrong_alignment_uncentred),
    ("ex-02-cka", solution_cka, wrong_cka_uncentred),
    ("ex-02-centring-invariance", solution_centred_numerator, wrong_numerator_uncentred_labels),
    ("ex-02-gradient-norm", solution_label_gradient_norms, wrong_gradient_norms_weights_only),
    ("ex-02-ceiling", solution_output_ceiling, wrong_ceiling_balanced_formula),
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
        raise NotImplementedError("Exercise 02")

    with pytest.raises(NotImplementedError):
        check(label, stub, quiet=True)


def test_ceiling_checker_rejects_a_bound_that_is_too_small():
    assert not check("ex-02-ceiling", lambda labels, C: 0.5 * solution_output_ceiling(labels, C), quiet=True)
