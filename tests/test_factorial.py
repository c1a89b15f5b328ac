"""The factorial study's analysis: paired shifts, the learning-rate slope, depth exponents with
configuration-level intervals, and out-of-sample depth fractions (docs/science.md §9)."""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from eqhyp_utils.errors import InvalidInputError
from eqhyp_utils.experiments.config import RunConfig, load_grids, parse_grids
from eqhyp_utils.experiments.depth_scaling import (bootstrap_power_law, cluster_bootstrap_power_law,
                                                   configuration_level_power_law)
from eqhyp_utils.experiments.factorial import (arm_factor, arm_levels, cross_grid_fraction_rows, factor_panels,
                                               factorial_report, lr_slope, paired_shift, shift_rows,
                                               student_t_interval)
from eqhyp_utils.experiments.results import write_result
from eqhyp_utils.experiments.runner import adopt_finished_runs, result_path
from eqhyp_utils.experiments.scoreboard import fit_fraction, summarise_configurations

REPO = Path(__file__).resolve().parent.parent

ARMS = {"defaults": {"dataset": "mnist", "depth": 9, "lr": 0.001, "width": 16, "seeds": [0, 1, 2]},
        "factorial": {"depth": {"depth": [9, 19, 29]},
                      "lr": {"lr": [0.001, 0.002, 0.004]},
                      "data": {"cases": [{"dataset": "mnist"}, {"dataset": "digits", "n_train": 1437,
                                                                "n_test": 360}]}}}


def _payload(config: RunConfig, peak: "int | None") -> dict:
    """A fake paper-protocol result whose training-probe profile at loss < 0.02 peaks at ``peak``
    (None: the milestone was never reached)."""
    n = config.depth + 1
    profile = [0.1] * n
    if peak is not None:
        profile[peak - 1] = 0.3
    milestones = [{"loss": 0.1, "step": 10, "epoch": 1.0},
                  {"loss": 0.02, "step": None if peak is None else 20, "epoch": None if peak is None else 2.0}]
    return {"config": config.to_dict(), "config_hash": config.config_hash(),
            "history": {"alignment": [profile, profile, profile], "test_alignment": [profile] * 3,
                        "epochs": [0.0, 1.0, 2.0], "steps": [0, 10, 20], "milestones": milestones,
                        "train_accuracy": [0.1, 0.9, 1.0], "test_accuracy": [0.1, 0.8, 0.9], "diverged": False},
            "provenance": {}}


def _summaries(grids, peak_of):
    runs = {r.config_hash(): r for g in grids.values() for r in g.runs}
    return summarise_configurations([_payload(r, peak_of(r)) for r in runs.values()], eh=lambda c: 5)


def test_student_t_interval_by_hand():
    out = student_t_interval([1.0, 2.0, 3.0])
    half = stats.t.ppf(0.975, 2) * 1.0 / math.sqrt(3)   # s = 1
    assert out["mean"] == 2.0 and out["n"] == 3
    assert (out["lo"], out["hi"]) == pytest.approx((2 - half, 2 + half))
    assert math.isnan(student_t_interval([4.0])["lo"]) and student_t_interval([])["n"] == 0
    assert student_t_interval([2.0, 2.0])["lo"] == 2.0
    with pytest.raises(InvalidInputError):
        student_t_interval([1.0, 2.0], level=1.5)


def test_arm_factor_is_the_key_the_arm_varies():
    grids = parse_grids(ARMS)
    assert [arm_factor(grids[f"factorial.{a}"]) for a in ("depth", "lr", "data")] == ["depth", "lr", "dataset"]
    with pytest.raises(InvalidInputError, match="varies nothing"):
        arm_factor(parse_grids({"defaults": {"seeds": [0, 1]}, "factorial": {"none": {"depth": [3]}}})["factorial.none"])


def test_paired_shift_pairs_by_seed_and_skips_unreached_milestones():
    grids = parse_grids(ARMS)
    # the lr arm: reference peaks 5, 6, 7; lr 0.002 peaks 7, 8, None (seed 2 never reached loss < 0.02)
    table = {(0.001, 0): 5, (0.001, 1): 6, (0.001, 2): 7, (0.002, 0): 7, (0.002, 1): 8, (0.002, 2): None,
             (0.004, 0): 5, (0.004, 1): 6, (0.004, 2): 7}
    summaries = _summaries(grids, lambda r: table.get((r.lr, r.seed), 3) if r.depth == 9 and r.dataset == "mnist"
                           else 4)
    levels = arm_levels(grids["factorial.lr"], summaries)
    assert [v for v, _ in levels] == [0.001, 0.002, 0.004]
    shift = paired_shift(levels[0][1], levels[1][1], "loss<0.02")
    assert shift["seeds"] == [0, 1] and shift["diffs"] == [2.0, 2.0] and shift["mean"] == 2.0
    assert shift["lo"] == shift["hi"] == 2.0          # no spread: the interval collapses
    assert shift["runs_level"] == 2 and shift["runs_reference"] == 3
    none = paired_shift(levels[0][1], levels[2][1], "loss<0.02")
    assert none["mean"] == 0.0 and none["n"] == 3
    rows = [r for r in shift_rows(grids, summaries, ["loss<0.02"]) if r["arm"] == "factorial.lr"]
    assert [r["is_reference"] for r in rows] == [True, False, False]
    assert rows[1]["predicted_shift"]["EH"] == 0      # the readings do not see the learning rate


def test_lr_slope_recovers_a_known_slope_per_doubling():
    grids = parse_grids(ARMS)
    # peak = ⌊3 + 1.5 · log2(lr / 0.001)⌋ + seed = 3, 4, 6 (+ seed): every seed's slope is 1.5
    summaries = _summaries(grids, lambda r: math.floor(3 + 1.5 * math.log2(r.lr / 0.001)) + r.seed
                           if r.depth == 9 and r.dataset == "mnist" else 4)
    out = lr_slope(grids["factorial.lr"], summaries, "loss<0.02")
    assert out["n"] == 3 and out["mean"] == pytest.approx(1.5) and out["lo"] == pytest.approx(1.5)
    # without the largest rate: 3 → 4 over one doubling
    assert lr_slope(grids["factorial.lr"], summaries, "loss<0.02", max_lr=0.002)["mean"] == pytest.approx(1.0)
    with pytest.raises(InvalidInputError):
        lr_slope(grids["factorial.depth"], summaries)


def test_configuration_level_interval_is_the_regression_on_depth_means():
    rng = np.random.default_rng(1)
    peaks = {L: list(np.exp(0.3 + 0.7 * np.log(L) + rng.normal(0, 0.1) + rng.normal(0, 0.05, 4)))
             for L in (10, 20, 30, 40, 50)}
    fit = configuration_level_power_law(peaks)
    # the slow, obvious reference: scipy's linregress on the mean log peak per depth
    x = np.log(sorted(peaks))
    y = [np.mean(np.log(peaks[L])) for L in sorted(peaks)]
    ref = stats.linregress(x, y)
    half = stats.t.ppf(0.975, len(x) - 2) * ref.stderr
    assert fit.exponent == pytest.approx(ref.slope)
    assert fit.interval == pytest.approx((ref.slope - half, ref.slope + half))
    assert fit.method == "configuration level (t)"
    with pytest.raises(InvalidInputError):
        configuration_level_power_law({10: [1.0], 20: [2.0]})     # two depths leave no degree of freedom
    arithmetic = configuration_level_power_law(peaks, mean="arithmetic")
    ref_a = stats.linregress(x, [np.log(np.mean(peaks[L])) for L in sorted(peaks)])
    assert arithmetic.exponent == pytest.approx(ref_a.slope) and "log of mean" in arithmetic.method
    with pytest.raises(InvalidInputError):
        configuration_level_power_law(peaks, mean="median")


def test_configuration_level_interval_sees_what_the_seed_bootstrap_cannot():
    # every seed of a depth agrees, but the depths scatter about the line: the seed bootstrap's interval
    # collapses to a point while the configuration-level intervals do not
    peaks = {10: [4.0] * 5, 20: [9.0] * 5, 30: [10.0] * 5, 40: [16.0] * 5, 50: [16.0] * 5}
    seeds = bootstrap_power_law(peaks, n_boot=200)
    assert seeds.interval[0] == pytest.approx(seeds.interval[1])
    t = configuration_level_power_law(peaks)
    cluster = cluster_bootstrap_power_law(peaks, n_boot=500)
    assert t.interval[1] - t.interval[0] > 0.2 and cluster.interval[1] - cluster.interval[0] > 0.1
    exact = {L: [2.0 * L ** 0.6] * 3 for L in (10, 20, 40, 80)}
    fit = cluster_bootstrap_power_law(exact, n_boot=100)
    assert fit.exponent == pytest.approx(0.6) and fit.interval == pytest.approx((0.6, 0.6))


def test_cross_grid_fraction_is_fitted_on_one_series_and_scored_on_unseen_runs():
    grids = parse_grids({"defaults": {"seeds": [0, 1]}, "a": {"depth": [9, 19, 29]}, "b": {"depth": [29, 39, 49]}})
    summaries = _summaries(grids, lambda r: max(1, round(0.3 * (r.depth + 1))))
    keys_a = {RunConfig.architecture_key(r) for r in grids["a"].runs}
    keys_b = {RunConfig.architecture_key(r) for r in grids["b"].runs}
    a = [s for s in summaries if s.key in keys_a]
    b = [s for s in summaries if s.key in keys_b]
    (row,) = cross_grid_fraction_rows({"a": a, "b": b}, ["a"], "loss<0.02")
    assert row["fraction"] == fit_fraction([9, 9, 19, 19, 29, 29], [3, 3, 6, 6, 9, 9])
    assert row["fraction_out_of_sample"]["n"] == 4        # L = 29 is in both series: not scored
    # f = 0.285, the smallest fraction that fits a exactly, puts L = 39 and 49 at ⌊11.4 + ½⌋ = 11 and
    # ⌊14.25 + ½⌋ = 14, one layer short of their peaks 12 and 15
    assert row["fraction"] == 0.285 and row["fraction_out_of_sample"]["mae"] == pytest.approx(1.0)
    # the EH stub puts every configuration at layer 5: errors |5 − 12| = 7 and |5 − 15| = 10 per run,
    # the fraction's 1 and 1: per-configuration differences −6 and −9
    assert row["fraction_minus_EH"]["per_configuration"] == [-6.0, -9.0]
    assert row["fraction_minus_EH"]["mean"] == -7.5 and row["fraction_minus_EH"]["configs"] == 2


def test_factorial_report_and_figure_data_from_hand_made_results():
    grids = parse_grids(ARMS)
    summaries = _summaries(grids, lambda r: max(1, round(0.3 * (r.depth + 1))) + r.seed % 2)
    md, data = factorial_report(grids, summaries, n_boot=50)
    assert "## Shifts, protocol `loss<0.02`" in md and "layers per doubling" in md and "Depth exponents" in md
    depth_rows = [r for r in data["shifts"] if r["arm"] == "factorial.depth" and r["protocol"] == "loss<0.02"]
    assert [r["shift"]["mean"] for r in depth_rows] == [0.0, 3.0, 6.0]
    panels = factor_panels(grids, summaries)
    assert [p["factor"] for p in panels] == ["depth", "lr", "dataset"]
    assert panels[0]["eh"][0] is not None and len(panels[2]["peaks"]) == 2
    from eqhyp_utils.plotting.report import factor_effects_figure

    fig = factor_effects_figure(panels, "test")
    assert len(fig.axes) >= 3


def test_the_factorial_grid_is_declared_as_in_the_science_notes():
    grids = load_grids(REPO / "configs" / "factorial.toml")
    assert set(grids) == {"factorial.depth", "factorial.lr", "factorial.width", "factorial.data"}
    depth = grids["factorial.depth"].runs
    assert sorted({r.depth + 1 for r in depth}) == [10, 20, 30, 40, 50] and {r.lr for r in depth} == {0.001}
    assert {r.seed for r in depth} == set(range(5))
    lrs = sorted({r.lr for r in grids["factorial.lr"].runs})
    assert len(lrs) >= 4 and lrs[-1] / lrs[0] >= 8 and {r.depth for r in grids["factorial.lr"].runs} == {29}
    assert sorted({r.width for r in grids["factorial.width"].runs}) == [128, 256, 512]
    assert {r.dataset for r in grids["factorial.data"].runs} == {"mnist", "mnist1d", "digits"}
    for g in grids.values():
        for r in g.runs:
            assert r.stop_loss == 0.02 and r.grad_clip is None and r.momentum == 0.9 and r.batch_size == 128


def test_adopting_finished_runs_copies_valid_files_only(tmp_path):
    runs = [RunConfig(dataset="gaussian", n_train=100, n_test=20, depth=2, width=4, seed=s) for s in (0, 1, 2)]
    source, target = tmp_path / "source", tmp_path / "target"
    for r in runs[:2]:
        write_result(result_path(source, r), {**_payload(r, 2), "provenance": {"cpu_model": "x"}})
        with open(source / "runs" / "timings.jsonl", "a") as log:
            log.write(json.dumps({"name": r.name, "config_hash": r.config_hash(), "seconds": 1.0}) + "\n")
    result_path(source, runs[1]).write_text("{truncated")                  # a corrupt file is not adopted
    assert adopt_finished_runs(runs, target, source) == 1
    assert result_path(target, runs[0]).read_bytes() == result_path(source, runs[0]).read_bytes()
    assert not result_path(target, runs[1]).exists() and not result_path(target, runs[2]).exists()
    assert len((target / "runs" / "timings.jsonl").read_text().splitlines()) == 1
    assert adopt_finished_runs(runs, target, source) == 0                   # idempotent
