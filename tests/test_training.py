"""Training loop: determinism, checkpoint schedule, divergence handling, recorded alignment, learning."""
import importlib
import json
import sys
import types
import warnings

import numpy as np
import pytest
import torch

from eqhyp_utils.data import Dataset, balanced_subset, make_gaussian_mixture
from eqhyp_utils.errors import CorruptResultError, InvalidInputError, TrainingDivergedError, UnsupportedError
from eqhyp_utils.models import MLP
from eqhyp_utils.training import TrainConfig, TrainingHistory, checkpoint_schedule, evaluate, train


def factorised_alignment(model, x, labels, *, n_classes=None, centre=True, bias=True, dtype=torch.float64,
                         block_size=512, progress=False):
    """Reference A_l = yᵀK_l y / (‖K_l‖_F ‖y‖²), K_l[(x,a),(x',b)] = ⟨δ_l^a(x), δ_l^b(x')⟩(⟨a_{l-1}(x), a_{l-1}(x')⟩ + 1),
    each (a, b) block double-centred over samples; float64, small n only."""
    import copy
    m = copy.deepcopy(model).to(dtype)
    x = x.to(dtype)
    C = n_classes or int(labels.max()) + 1
    hs = m.preactivations(x)
    for h in hs:
        h.retain_grad()
    acts = [x] + [m.activation.phi(h).detach() for h in hs[:-1]]
    deltas = []
    for a in range(C):
        for h in hs:
            h.grad = None
        hs[-1][:, a].sum().backward(retain_graph=True)
        deltas.append([h.grad.detach().clone() for h in hs])
    n = len(x)
    y = torch.nn.functional.one_hot(labels, C).to(dtype)
    y = (y - y.mean(0)).reshape(-1)
    H = torch.eye(n, dtype=dtype) - 1.0 / n
    out = []
    for l in range(len(hs)):
        G = acts[l] @ acts[l].T + (1.0 if bias else 0.0)
        K = torch.zeros(n, C, n, C, dtype=dtype)
        for a in range(C):
            for b in range(C):
                block = (deltas[a][l] @ deltas[b][l].T) * G
                K[:, a, :, b] = H @ block @ H if centre else block
        K = K.reshape(n * C, n * C)
        out.append(float(y @ K @ y / (torch.linalg.norm(K) * (y @ y))))
    return np.array(out)


@pytest.fixture
def alignment_module(monkeypatch):
    """The real eqhyp_utils.alignment when it exists, otherwise the factorised reference above."""
    try:
        return importlib.import_module("eqhyp_utils.alignment")
    except ImportError:
        stand_in = types.ModuleType("eqhyp_utils.alignment")
        stand_in.layerwise_alignment = factorised_alignment
        monkeypatch.setitem(sys.modules, "eqhyp_utils.alignment", stand_in)
        return stand_in


def _task(n=240, seed=0, separation=4.0):
    data = make_gaussian_mixture(n, 8, 3, separation=separation, seed=seed)
    train_set = Dataset(data.x[:200], data.y[:200], 3, "train")
    test_set = Dataset(data.x[200:], data.y[200:], 3, "test")
    return train_set, test_set, balanced_subset(train_set, 6, seed=seed)


def _model(seed=0, depth=3, width=32):
    return MLP(8, 3, depth=depth, width=width, seed=seed)


def test_reference_matches_the_package_alignment():
    alignment = pytest.importorskip("eqhyp_utils.alignment")
    _, _, probe = _task()
    model = _model(seed=4)
    np.testing.assert_allclose(alignment.layerwise_alignment(model, probe.x, probe.y, n_classes=3),
                               factorised_alignment(model, probe.x, probe.y, n_classes=3), rtol=1e-9)


# ---- configuration and schedule -------------------------------------------------------------
def test_checkpoint_schedule_by_hand():
    assert checkpoint_schedule(3, 8) == [0, 1, 2, 4, 8, 16, 24]
    assert checkpoint_schedule(2, 2) == [0, 1, 2, 4]  # 1/8, 1/4 of 2 steps round to 0, 1/2 to step 1
    assert checkpoint_schedule(1, 100, early_fractions=()) == [0, 100]
    assert checkpoint_schedule(2, 10, early_fractions=(0.3,)) == [0, 3, 10, 20]


@pytest.mark.parametrize("kwargs", [dict(epochs=0), dict(steps_per_epoch=0), dict(early_fractions=(1.5,))])
def test_checkpoint_schedule_validates(kwargs):
    args = dict(epochs=2, steps_per_epoch=4) | kwargs
    with pytest.raises(InvalidInputError):
        checkpoint_schedule(**args)


@pytest.mark.parametrize("kwargs, error", [
    (dict(optimizer="rmsprop"), UnsupportedError), (dict(loss="hinge"), UnsupportedError),
    (dict(lr=0), InvalidInputError), (dict(lr=float("nan")), InvalidInputError),
    (dict(momentum=1.0), InvalidInputError), (dict(epochs=0), InvalidInputError),
    (dict(batch_size=2.5), InvalidInputError), (dict(grad_clip=-1.0), InvalidInputError),
    (dict(weight_decay=-0.1), InvalidInputError), (dict(seed=-3), InvalidInputError),
])
def test_train_config_validates(kwargs, error):
    with pytest.raises(error):
        TrainConfig(**kwargs)


def test_train_validates_its_inputs(alignment_module):
    train_set, test_set, probe = _task()
    config = TrainConfig(epochs=1)
    with pytest.raises(InvalidInputError, match="out_features"):
        train(MLP(8, 5, depth=2, width=8), train_set, probe, config, progress=False)
    with pytest.raises(InvalidInputError, match="Dataset"):
        train(_model(), (train_set.x, train_set.y), probe, config, progress=False)
    with pytest.raises(InvalidInputError, match="checkpoints"):
        train(_model(), train_set, probe, config, checkpoints=[0, 99], progress=False)


# ---- the training loop ---------------------------------------------------------------------
def test_training_is_deterministic_and_records_every_checkpoint(alignment_module):
    train_set, test_set, probe = _task()
    config = TrainConfig(optimizer="momentum", lr=0.05, epochs=2, batch_size=32, seed=3)
    runs = [train(_model(seed=1), train_set, probe, config, test=test_set, progress=False) for _ in range(2)]
    a, b = (r.to_dict() for r in runs)
    assert a == b
    h = runs[0]
    assert h.steps.tolist() == checkpoint_schedule(2, 7)  # ⌈200 / 32⌉ = 7 steps per epoch
    assert h.alignment.shape == (len(h.steps), 4) and h.alignment.dtype == np.float64
    assert np.isfinite(h.alignment).all() and (h.alignment > 0).all()
    assert np.allclose(h.epochs, h.steps / 7)
    assert h.loss_steps.tolist() == list(range(14)) and np.isfinite(h.loss_values).all()
    assert not h.diverged and h.diverged_at_step is None
    assert np.isfinite(h.test_accuracy).all()
    # a different shuffling seed gives a different run
    other = train(_model(seed=1), train_set, probe, TrainConfig(optimizer="momentum", lr=0.05, epochs=2,
                                                                 batch_size=32, seed=4), progress=False)
    assert not np.array_equal(other.loss_values, h.loss_values)
    assert np.isnan(other.test_accuracy).all()  # no test set given


def test_recorded_alignment_is_the_alignment_of_the_model_at_that_step(alignment_module):
    train_set, _, probe = _task()
    model = _model(seed=2)
    before = alignment_module.layerwise_alignment(model, probe.x, probe.y, n_classes=3)
    config = TrainConfig(optimizer="sgd", lr=0.1, epochs=1, batch_size=50)
    h = train(model, train_set, probe, config, checkpoints=[0, 4], progress=False)
    after = alignment_module.layerwise_alignment(model, probe.x, probe.y, n_classes=3)
    np.testing.assert_allclose(h.alignment[0], before, rtol=1e-10)
    np.testing.assert_allclose(h.alignment[1], after, rtol=1e-10)
    assert not np.allclose(before, after)  # training moved the kernels
    loss, accuracy = evaluate(model, train_set)
    assert (h.train_loss[-1], h.train_accuracy[-1]) == pytest.approx((loss, accuracy))


@pytest.mark.parametrize("optimizer, loss", [("momentum", "cross_entropy"), ("adam", "cross_entropy"),
                                             ("sgd", "mse")])
def test_a_small_network_learns_a_separable_mixture(alignment_module, optimizer, loss):
    train_set, test_set, probe = _task(separation=5.0)
    lr = {"momentum": 0.05, "adam": 3e-3, "sgd": 0.05}[optimizer]
    config = TrainConfig(optimizer=optimizer, lr=lr, epochs=6, batch_size=20, loss=loss, grad_clip=5.0)
    h = train(_model(depth=2, width=32), train_set, probe, config, test=test_set, progress=False,
              checkpoints=[0, 60])
    assert h.train_accuracy[0] < 0.6
    assert h.train_accuracy[-1] > 0.95 and h.test_accuracy[-1] > 0.9
    assert h.train_loss[-1] < 0.5 * h.train_loss[0]


def test_divergence_sets_the_flag_and_warns(alignment_module):
    train_set, _, probe = _task()
    # the squared loss's gradient grows with the outputs, so a huge step size blows up (cross-entropy
    # with ReLU instead kills every unit, which leaves a finite loss)
    config = TrainConfig(optimizer="sgd", lr=1e6, epochs=3, batch_size=20, loss="mse")
    with pytest.warns(RuntimeWarning, match="diverged"):
        h = train(_model(), train_set, probe, config, progress=False)
    assert h.diverged and h.diverged_at_step is not None and h.diverged_at_step < 30
    assert h.steps[0] == 0 and len(h.steps) < len(checkpoint_schedule(3, 10))
    # it stopped at the first non-finite mini-batch loss, or at a checkpoint whose training-set loss was not finite
    assert (not np.isfinite(h.loss_values[-1]) and h.loss_steps[-1] == h.diverged_at_step) \
        or h.diverged_at_step in checkpoint_schedule(3, 10)
    assert np.isfinite(h.loss_values[:-1]).all() and h.steps[-1] < h.diverged_at_step
    json.dumps(h.to_dict(), allow_nan=False)  # still a valid result record


def test_divergence_raises_when_asked(alignment_module):
    train_set, _, probe = _task()
    with pytest.raises(TrainingDivergedError, match="lower the learning rate"):
        train(_model(), train_set, probe, TrainConfig(optimizer="sgd", lr=1e6, epochs=2, batch_size=20, loss="mse"),
              progress=False, raise_on_divergence=True)


def test_stable_training_emits_no_warning(alignment_module):
    train_set, _, probe = _task()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        h = train(_model(), train_set, probe, TrainConfig(lr=0.01, epochs=1, batch_size=50), progress=False)
    assert not h.diverged


# ---- the history ---------------------------------------------------------------------------
def _handmade_history():
    alignment = np.array([[0.1, 0.2, 0.1], [0.1, 0.3, 0.5], [0.3, 0.1, 0.2]])
    return TrainingHistory(steps=np.array([0, 5, 20]), epochs=np.array([0.0, 0.25, 1.0]), alignment=alignment,
                           train_loss=np.array([2.0, 1.0, 0.5]), train_accuracy=np.array([0.1, 0.5, 0.9]),
                           test_loss=np.full(3, np.nan), test_accuracy=np.full(3, np.nan),
                           loss_steps=np.arange(20), loss_values=np.linspace(2, 0.5, 20), steps_per_epoch=20,
                           config=TrainConfig().to_dict())


def test_peak_layer_is_one_based():
    h = _handmade_history()
    assert h.peak_layer() == 1 and h.peak_layer(0) == 2 and h.peak_layer(1) == 3
    with pytest.raises(InvalidInputError, match="out of range"):
        h.peak_layer(5)


def test_time_averaged_alignment_by_hand():
    h = _handmade_history()
    # trapezoid over t = 0, 0.25, 1: (0.25·(A0+A1)/2 + 0.75·(A1+A2)/2) / 1
    expected = 0.25 * (h.alignment[0] + h.alignment[1]) / 2 + 0.75 * (h.alignment[1] + h.alignment[2]) / 2
    np.testing.assert_allclose(h.time_averaged_alignment(from_epoch=0.0), expected, rtol=1e-12)
    # the default leaves the first epoch out: only the checkpoint at t = 1 remains
    np.testing.assert_allclose(h.time_averaged_alignment(), h.alignment[2], rtol=1e-12)


def test_history_round_trips_through_json():
    h = _handmade_history()
    text = json.dumps(h.to_dict(), allow_nan=False)
    back = TrainingHistory.from_dict(json.loads(text))
    for name in ("steps", "epochs", "alignment", "train_loss", "loss_steps", "loss_values"):
        np.testing.assert_array_equal(getattr(back, name), getattr(h, name))
    assert np.isnan(back.test_accuracy).all() and back.config == h.config and back.steps_per_epoch == 20
    broken = json.loads(text)
    broken["train_loss"] = broken["train_loss"][:2]
    with pytest.raises(CorruptResultError, match="inconsistent lengths"):
        TrainingHistory.from_dict(broken)
    with pytest.raises(CorruptResultError):
        TrainingHistory.from_dict({"steps": [0]})


# ---- run to threshold (the paper's protocol) ---------------------------------------------------
def test_run_to_threshold_records_milestones_and_stops(alignment_module):
    train_set, test_set, probe = _task(separation=6.0)
    test_probe = balanced_subset(test_set, 4, seed=1)
    config = TrainConfig(lr=0.05, epochs=60, milestone_losses=(0.5, 0.05), stop_loss=0.05, patience=2, seed=3)
    h = train(_model(seed=3), train_set, probe, config, test=test_set, test_probe=test_probe,
              checkpoints=[0], progress=False)
    assert h.stop_reason == "stop_loss" and not h.diverged
    # the running loss of each epoch is the batch-size-weighted mean of that epoch's mini-batch losses
    steps_per_epoch = h.steps_per_epoch
    sizes = [len(b) for b in torch.arange(len(train_set)).split(config.batch_size)]
    per_epoch = np.array(h.loss_values).reshape(-1, steps_per_epoch)
    np.testing.assert_allclose(h.epoch_loss, (per_epoch * sizes).sum(1) / len(train_set), rtol=1e-12)
    # a milestone is reached at the end of the first epoch closing two epochs in a row below it
    for m in h.milestones:
        below = h.epoch_loss < m["loss"]
        first = next(k for k in range(1, len(below)) if below[k] and below[k - 1])
        assert m["epoch"] == first + 1 and m["step"] == (first + 1) * steps_per_epoch
    # checkpoints: initialisation and the two milestones; training stopped at the last one
    assert list(h.steps) == [0] + sorted({m["step"] for m in h.milestones})   # one checkpoint per step
    assert h.loss_steps[-1] == h.steps[-1] - 1
    assert h.test_alignment.shape == h.alignment.shape
    assert h.milestone_index(0.05) == h.n_checkpoints - 1 and h.milestone_index(0.5) >= 1
    back = TrainingHistory.from_dict(json.loads(json.dumps(h.to_dict())))
    np.testing.assert_array_equal(back.test_alignment, h.test_alignment)
    assert back.milestones == h.milestones and back.stop_reason == "stop_loss"


def test_a_run_that_misses_its_threshold_is_recorded_as_such(alignment_module):
    train_set, _, probe = _task()
    config = TrainConfig(lr=0.001, epochs=2, milestone_losses=(0.1,), stop_loss=1e-6, seed=0)
    h = train(_model(), train_set, probe, config, checkpoints=[0], progress=False)
    assert h.stop_reason == "epoch_cap" and len(h.epoch_loss) == 2
    assert all(m["step"] is None and m["epoch"] is None for m in h.milestones)
    assert h.milestone_index(0.1) is None
    with pytest.raises(InvalidInputError, match="not a watched milestone"):
        h.milestone_index(0.3)


@pytest.mark.parametrize("kwargs", [dict(milestone_losses=(0.0,)), dict(stop_loss=-1.0), dict(patience=0)])
def test_threshold_settings_are_validated(kwargs):
    with pytest.raises(InvalidInputError):
        TrainConfig(**kwargs)


def test_mini_batch_order_comes_from_the_platform_independent_stream(alignment_module):
    """The batches of epoch 1 are the consecutive slices of generator(seed, "batches").permutation(n)."""
    from eqhyp_utils.rng import generator

    train_set, _, probe = _task()
    config = TrainConfig(optimizer="sgd", lr=1e-12, epochs=1, batch_size=50, seed=5)
    model = _model()
    seen = []
    handle = model.layers[0].register_forward_pre_hook(lambda m, args: seen.append(args[0].detach().clone()))
    train(model, train_set, probe, config, checkpoints=[0], progress=False)
    handle.remove()
    order = generator(5, "batches").permutation(len(train_set))
    batches = [x for x in seen if x.shape[0] == 50]  # the checkpoint at step 0 sees all 200 points
    expected = [train_set.x[torch.from_numpy(order[i:i + 50])] for i in range(0, 200, 50)]
    assert len(batches) == 4
    for got, want in zip(batches, expected):
        assert torch.equal(got, want)
