"""Tests of the experiment runner, the result files, the scoreboard and the depth-scaling fit."""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from eqhyp_utils.errors import CorruptResultError, InvalidInputError, UnsupportedError
from eqhyp_utils.experiments.config import RunConfig, load_grids, parse_grids, unique_runs
from eqhyp_utils.experiments.depth_scaling import bootstrap_power_law, fit_power_law
from eqhyp_utils.experiments.results import read_result, write_result
from eqhyp_utils.experiments.runner import result_path, run_grid
from eqhyp_utils.experiments.scoreboard import (NOISE_CEILING, noise_ceiling_predictions, paired_bootstrap,
                                                 fit_fraction, loco_fraction_predictions, peak_layer,
                                                scoreboard_rows, summarise_configurations)

REPO = Path(__file__).resolve().parent.parent

# A run that takes well under a second: 2 hidden layers of 8 units on a small Gaussian mixture.
TINY = dict(dataset="gaussian", n_train=200, n_test=50, depth=2, width=8, epochs=1, batch_size=50,
            probe_per_class=2)


# --------------------------------------------------------------------------------------------
# Configuration files
# --------------------------------------------------------------------------------------------
def test_grid_expands_lists_as_a_product_and_cases_as_alternatives():
    doc = {"defaults": {"depth": 4, "seeds": [0, 1]},
           "depth_scaling": {"depth": [2, 3]},
           "interventions": {"bias": {"sigma_b2": [0.0, 0.1, 0.2]},
                             "activation": {"cases": [{"activation": "tanh", "sigma_w2": 1.761, "sigma_b2": 0.05},
                                                      {"activation": "gelu"}]}}}
    grids = parse_grids(doc)
    assert set(grids) == {"depth_scaling", "interventions.bias", "interventions.activation"}
    ds = grids["depth_scaling"].runs
    assert sorted((r.depth, r.seed) for r in ds) == [(2, 0), (2, 1), (3, 0), (3, 1)]
    assert len(grids["interventions.bias"].runs) == 6
    acts = grids["interventions.activation"].runs
    assert [(r.activation, r.sigma_w2) for r in acts] == [("tanh", 1.761)] * 2 + [("gelu", 2.0)] * 2
    # (depth 4, σ_b² = 0) appears in no other grid, so all 4 + 6 + 4 runs are distinct
    assert len(unique_runs(grids)) == 14


def test_parent_table_keys_are_inherited_by_sub_grids():
    grids = parse_grids({"defaults": {"epochs": 20, "seeds": [0]},
                         "interventions": {"epochs": 10, "bias": {"sigma_b2": [0.0, 0.1]},
                                           "width": {"width": [64]}}})
    assert {r.epochs for g in grids.values() for r in g.runs} == {10}


def test_shared_runs_are_listed_once():
    grids = parse_grids({"defaults": {"depth": 4, "seeds": [0]},
                         "a": {"depth": [4, 8]}, "b": {"sigma_b2": [0.0, 0.5]}})
    assert len(unique_runs(grids)) == 3  # (L=4, σ_b²=0) belongs to both grids


def test_config_hash_is_canonical_and_sensitive():
    a = RunConfig.from_dict({"sigma_w2": 2, "alpha": "none"})
    b = RunConfig(sigma_w2=2.0, alpha=None)
    assert a.config_hash() == b.config_hash()
    assert len(a.config_hash()) == 64
    json.loads(a.canonical_json())  # valid JSON
    for change in ({"seed": 1}, {"lr": 0.02}, {"depth": 17}, {"alpha": 0.5}, {"early_fractions": [0.25]}):
        assert RunConfig.from_dict({**b.to_dict(), **change}).config_hash() != b.config_hash(), change


def test_invalid_configurations_are_rejected_with_a_message():
    with pytest.raises(InvalidInputError, match="unknown run-configuration key"):
        RunConfig.from_dict({"dept": 3})
    with pytest.raises(UnsupportedError, match="activation"):
        RunConfig(activation="swish")
    with pytest.raises(InvalidInputError, match="depth"):
        RunConfig(depth=0)
    with pytest.raises(InvalidInputError, match="grid 'g'"):
        parse_grids({"g": {"lr": [0.1, -1.0]}})


def test_shipped_grid_files_parse():
    full = load_grids(REPO / "configs" / "full.toml")
    assert {"depth_scaling", "interventions.bias", "interventions.activation", "interventions.residual",
            "interventions.width"} <= set(full)
    assert sorted({r.depth for r in full["depth_scaling"].runs}) == [6, 8, 12, 16, 24, 32, 48, 64]
    assert len(load_grids(REPO / "configs" / "quick.toml")) >= 1


# --------------------------------------------------------------------------------------------
# Result files: atomic write, resume, corruption
# --------------------------------------------------------------------------------------------
def _tiny_runs(seeds=(0,)):
    return [RunConfig(**TINY, seed=s) for s in seeds]


def test_write_then_resume_skips_finished_runs(tmp_path):
    runs = _tiny_runs((0, 1))
    counts = run_grid(runs, tmp_path, progress=False)
    assert counts == {"total": 2, "skipped": 0, "redone": 0, "ran": 2, "failed": 0}
    paths = [result_path(tmp_path, r) for r in runs]
    mtimes = [p.stat().st_mtime_ns for p in paths]
    payload = read_result(paths[0], expected_config_hash=runs[0].config_hash())
    assert np.array(payload["history"]["alignment"]).shape[1] == TINY["depth"] + 1
    assert payload["provenance"]["threads"] == 1 and payload["provenance"]["seed"] == 0
    assert not list(tmp_path.rglob("*.tmp"))  # no leftovers of the atomic write
    counts = run_grid(runs, tmp_path, progress=False)
    assert counts["skipped"] == 2 and counts["ran"] == 0
    assert [p.stat().st_mtime_ns for p in paths] == mtimes


@pytest.mark.parametrize("damage", ["truncate", "garbage", "edit"])
def test_damaged_file_is_reported_and_redone(tmp_path, damage):
    (run,) = _tiny_runs()
    run_grid([run], tmp_path, progress=False)
    path = result_path(tmp_path, run)
    good = path.read_text()
    if damage == "truncate":
        path.write_text(good[: len(good) // 2])
    elif damage == "garbage":
        path.write_bytes(b"\x00\xff not json")
    else:  # valid JSON, one number changed: only the checksum can tell
        doc = json.loads(good)
        doc["payload"]["history"]["alignment"][-1][0] += 0.125
        path.write_text(json.dumps(doc))
    with pytest.warns(RuntimeWarning, match=path.name):
        counts = run_grid([run], tmp_path, progress=False)
    assert counts["redone"] == 1 and counts["ran"] == 1
    redone, original = json.loads(path.read_text())["payload"], json.loads(good)["payload"]
    redone["provenance"].pop("git_commit"), original["provenance"].pop("git_commit")  # HEAD may move
    assert redone == original  # redone identically (deterministic)


def test_checksum_and_config_hash_mismatch_are_detected(tmp_path):
    payload = {"config": RunConfig(**TINY).to_dict(), "config_hash": RunConfig(**TINY).config_hash(),
               "history": {"alignment": [[0.1, 0.2, 0.3]]}, "provenance": {}}
    path = tmp_path / "r.json"
    write_result(path, payload)
    assert read_result(path)["history"]["alignment"] == [[0.1, 0.2, 0.3]]
    with pytest.raises(CorruptResultError, match="expected"):
        read_result(path, expected_config_hash="0" * 64)
    doc = json.loads(path.read_text())
    doc["payload"]["history"]["alignment"][0][1] = 0.25
    path.write_text(json.dumps(doc))
    with pytest.raises(CorruptResultError, match="checksum mismatch"):
        read_result(path)
    # a payload whose config was swapped (checksum recomputed) fails the config-hash check
    doc["payload"]["config"]["seed"] = 7
    from eqhyp_utils.experiments.results import payload_checksum
    doc["sha256"] = payload_checksum(doc["payload"])
    path.write_text(json.dumps(doc))
    with pytest.raises(CorruptResultError, match="does not hash"):
        read_result(path)


def test_parallel_jobs_give_identical_files(tmp_path):
    runs = _tiny_runs((0, 1))
    run_grid(runs, tmp_path / "one", jobs=1, progress=False)
    run_grid(runs, tmp_path / "two", jobs=2, progress=False)
    for r in runs:  # byte for byte: result files hold no wall time (that goes to runs/timings.jsonl)
        assert result_path(tmp_path / "one", r).read_bytes() == result_path(tmp_path / "two", r).read_bytes()


# --------------------------------------------------------------------------------------------
# Scoreboard arithmetic on hand-made results
# --------------------------------------------------------------------------------------------
def _payload(depth: int, seed: int, peak: int) -> dict:
    """A fake result whose alignment at every checkpoint peaks at layer ``peak``."""
    profile = [0.1] * (depth + 1)
    profile[peak - 1] = 0.2
    config = RunConfig(depth=depth, seed=seed).to_dict()
    return {"config": config, "config_hash": f"{depth}-{seed}",
            "history": {"alignment": [profile, profile], "epochs": [1.0, 2.0], "train_accuracy": [0.5, 0.9],
                        "diverged": False}}


def test_peak_protocols_by_hand():
    history = {"epochs": [0.0, 0.5, 1.0, 2.0, 3.0],
               "alignment": [[5, 0, 0, 0], [5, 0, 0, 0],          # before epoch 1: ignored by (b)
                             [0, 1, 0, 0], [0, 1, 0, 0], [0, 0.2, 0.9, 0]]}
    assert peak_layer(history, "final") == 3
    # (b): layer 2 averages ((1+1)/2 + (1+0.2)/2)/2 = 0.8, layer 3 (0 + 0.45)/2 = 0.225
    assert peak_layer(history, "time_averaged") == 2
    with pytest.raises(InvalidInputError):
        peak_layer(history, "best")


def test_scoreboard_arithmetic_by_hand():
    # configuration A: L = 3, peaks 2 and 3; configuration B: L = 7, peaks 4 and 4
    payloads = [_payload(3, 0, 2), _payload(3, 1, 3), _payload(7, 0, 4), _payload(7, 1, 4)]
    summaries = summarise_configurations(payloads, eh=lambda c: {3: 2, 7: 6}[c["depth"]])
    assert [s.peaks["final"] for s in summaries] == [[2, 3], [4, 4]]
    assert [s.predictions["middle"] for s in summaries] == [2, 4]
    # fraction for B fitted on A alone: round(4 f) ∈ {2, 3} is optimal, smallest f = 0.375 → B: round(8·0.375) = 3
    # fraction for A fitted on B alone: round(8 f) = 4 needs f ≥ 0.4375 → 0.44 → A: round(4·0.44) = 2
    layers, fractions = loco_fraction_predictions(summaries, "final")
    assert fractions == [0.44, 0.375] and layers == [2, 3]
    row = scoreboard_rows(summaries, "final")[0]
    assert row["group"] == "all" and row["configs"] == 2 and row["runs"] == 4
    # errors: EH 0,1,2,2; middle 0,1,0,0; last hidden 1,0,3,3; fraction 0,1,1,1
    expected = {"EH": (1.25, 0.25, 0.5), "middle": (0.25, 0.75, 1.0), "last hidden": (1.75, 0.25, 0.5),
                "fraction": (0.75, 0.25, 1.0)}
    for name, (mae, exact, within1) in expected.items():
        got = row[name]
        assert (got["mae"], got["exact"], got["within1"]) == pytest.approx((mae, exact, within1)), name


def test_noise_ceiling_predicts_each_run_by_the_other_seeds():
    payloads = [_payload(7, 0, 2), _payload(7, 1, 4), _payload(7, 2, 6)]
    (s,) = summarise_configurations(payloads, eh=lambda c: 4)
    assert noise_ceiling_predictions(s, "final") == [5.0, 4.0, 3.0]
    row = scoreboard_rows([s], "final")[0]
    # errors |5−2|, |4−4|, |3−6| = 3, 0, 3
    assert row[NOISE_CEILING]["mae"] == pytest.approx(2.0) and row[NOISE_CEILING]["within1"] == pytest.approx(1 / 3)


def test_paired_bootstrap_difference_by_hand():
    a = [[(2, 2), (2, 3)], [(5, 5)]]       # errors 0, 1 | 0
    b = [[(4, 2), (4, 3)], [(5, 7)]]       # errors 2, 1 | 2
    out = paired_bootstrap(a, b, n_boot=500)
    assert out["diff"] == pytest.approx(1 / 3 - 5 / 3) and out["configs"] == 2
    assert out["lo"] <= out["diff"] <= out["hi"] < 0   # a is better in every resample
    same = paired_bootstrap(a, a, n_boot=100)
    assert same["diff"] == same["lo"] == same["hi"] == 0
    assert paired_bootstrap([[]], [[(1, 1)]])["configs"] == 0


def test_milestone_protocols_read_the_checkpoint_of_the_milestone():
    history = {"epochs": [0.0, 6.0, 12.0], "steps": [0, 192, 384],
               "alignment": [[0.3, 0.1, 0.1], [0.1, 0.3, 0.1], [0.1, 0.1, 0.3]],
               "test_alignment": [[0.3, 0.1, 0.1], [0.3, 0.1, 0.1], [0.1, 0.3, 0.29]],
               "milestones": [{"loss": 0.1, "step": 192, "epoch": 6.0}, {"loss": 0.02, "step": 384, "epoch": 12.0}]}
    assert peak_layer(history, "loss<0.1") == 2 and peak_layer(history, "loss<0.02") == 3
    assert peak_layer(history, "loss<0.1 test") == 1 and peak_layer(history, "loss<0.02 test") == 2
    assert peak_layer(history, "loss<0.02 test top") == 2.5       # layers 2 and 3 within 5 %
    history["milestones"][1]["step"] = None                        # never reached
    assert peak_layer(history, "loss<0.02") is None


def test_the_paper_grid_is_the_paper_protocol():
    runs = load_grids(REPO / "configs" / "paper.toml")["depth_scaling"].runs
    assert sorted({r.depth + 1 for r in runs}) == [10, 20, 30, 40, 50]           # Linear layers D = L + 1
    assert {r.depth + 1: r.lr for r in runs} == {10: 0.005, 20: 0.004, 30: 0.004, 40: 0.002, 50: 0.001}
    assert {r.seed for r in runs} == {0, 1, 2, 3, 4}
    for r in runs:
        assert (r.dataset, r.width, r.sigma_w2, r.sigma_b2, r.batch_size, r.momentum, r.weight_decay) == \
            ("mnist", 256, 2.0, 0.0, 128, 0.9, 0.0)
        assert r.grad_clip is None and r.stop_loss == 0.02 and r.milestone_losses == (0.1, 0.02)
        assert r.epochs == 300 and r.patience == 2
        assert r.probe_per_class * 10 >= 1000 and r.test_probe >= 1000


def test_diverged_runs_are_excluded_and_counted():
    bad = _payload(3, 2, 2)
    bad["history"]["diverged"] = True
    (s,) = summarise_configurations([_payload(3, 0, 2), bad], eh=lambda c: 2)
    assert s.peaks["final"] == [2] and s.diverged == 1


def test_fit_fraction_recovers_a_fraction():
    depths = [4, 8, 16, 32]
    peaks = [round(0.75 * (L + 1)) for L in depths]  # 4, 7, 13, 25 (halves up: 3.75 → 4, 12.75 → 13)
    f = fit_fraction(depths, peaks)
    assert all(math.floor(f * (L + 1) + 0.5) == p for L, p in zip(depths, peaks))


# --------------------------------------------------------------------------------------------
# Depth-scaling fit
# --------------------------------------------------------------------------------------------
def test_power_law_fit_is_exact_on_exact_data():
    depths = np.array([4, 8, 16, 64])
    beta, a = fit_power_law(depths, 1.7 * depths ** 0.6)
    assert beta == pytest.approx(0.6, abs=1e-12) and a == pytest.approx(1.7, rel=1e-12)


def test_bootstrap_recovers_a_known_exponent():
    rng = np.random.default_rng(3)
    depths = [6, 8, 12, 16, 24, 32, 48, 64]
    data = {L: list(2.0 * L ** 0.7 * np.exp(0.05 * rng.standard_normal(4))) for L in depths}
    fit = bootstrap_power_law(data, n_boot=500, seed=0)
    lo, hi = fit.interval
    assert lo < 0.7 < hi
    assert abs(fit.exponent - 0.7) < 0.03
    assert hi - lo < 0.1  # 5 % noise on 32 points pins the exponent well
    assert fit.interval == bootstrap_power_law(data, n_boot=500, seed=0).interval  # seeded


def test_bootstrap_needs_two_depths():
    with pytest.raises(InvalidInputError):
        bootstrap_power_law({16: [5, 6]})


def test_configuration_floats_survive_the_rounding_of_results(tmp_path):
    config = RunConfig(**TINY, sigma_w2=1.9801980198)  # more than 6 significant digits
    payload = {"config": config.to_dict(), "config_hash": config.config_hash(),
               "history": {"alignment": [[0.123456789, 0.2, 0.3]]}, "provenance": {}}
    write_result(tmp_path / "r.json", payload)
    stored = read_result(tmp_path / "r.json", expected_config_hash=config.config_hash())
    assert stored["config"]["sigma_w2"] == 1.9801980198
    assert stored["history"]["alignment"][0][0] == 0.123457
