"""The quick demo runs end to end in a tiny configuration, deterministically, and writes its outputs."""
import json

import numpy as np

from eqhyp_utils.demo import alignment_table, run_demo


def test_demo_runs_and_writes_its_outputs(tmp_path, capsys):
    kwargs = dict(dataset="gaussian", depth=3, width=16, epochs=2, seed=1, progress=False, n_train=300,
                  n_test=60, probe_per_class=3, lr=0.05)
    history = run_demo(out_dir=tmp_path / "a", **kwargs)
    first = capsys.readouterr().out
    assert history.alignment.shape == (len(history.steps), 4) and np.isfinite(history.alignment).all()
    assert (tmp_path / "a" / "alignment_profile.png").stat().st_size > 10_000
    saved = json.loads((tmp_path / "a" / "history.json").read_text())
    assert saved["steps"] == history.steps.tolist()
    assert "peak layer" in first and f"{history.peak_layer()} of 4 after 2 epochs" in first
    assert alignment_table(history) in first
    # same seed, same printed report (apart from the output folder)
    run_demo(out_dir=tmp_path / "b", **kwargs)
    second = capsys.readouterr().out
    assert first.replace(str(tmp_path / "a"), "") == second.replace(str(tmp_path / "b"), "")


def test_demo_on_mnist1d(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("EQHYP_CACHE", str(tmp_path / "cache"))
    history = run_demo(dataset="mnist1d", depth=2, width=16, epochs=1, progress=False, n_train=200, n_test=50,
                       probe_per_class=2, out_dir=tmp_path)
    out = capsys.readouterr().out
    assert "mnist1d (200 train / 50 test)" in out and history.n_layers == 3
    assert (tmp_path / "alignment_profile.png").exists()


def test_alignment_table_lists_every_layer():
    from eqhyp_utils.training import TrainConfig, TrainingHistory
    h = TrainingHistory(steps=np.array([0, 8]), epochs=np.array([0.0, 1.0]),
                        alignment=np.array([[0.01, 0.02, 0.03], [0.04, 0.12345, 0.06]]),
                        train_loss=np.ones(2), train_accuracy=np.ones(2), test_loss=np.ones(2),
                        test_accuracy=np.ones(2), loss_steps=np.arange(8), loss_values=np.ones(8),
                        steps_per_epoch=8, config=TrainConfig().to_dict())
    lines = alignment_table(h).splitlines()
    assert lines[0].split() == ["layer", "epoch", "0", "epoch", "1"]
    assert lines[3].split() == ["2", "0.0200", "0.1235"] and lines[4].split()[0] == "3*"


def test_near_peak_layers_by_hand():
    from eqhyp_utils.demo import near_peak_layers
    assert near_peak_layers(np.array([0.01, 0.096, 0.1, 0.094, 0.02])) == [2, 3]
    assert near_peak_layers(np.array([0.01, 0.096, 0.1, 0.094, 0.02]), tolerance=0.07) == [2, 3, 4]
