"""The cost model behind ``reproduce --dry-run``: its estimate against measured runs, its scaling, and
the report it prints (which runs nothing)."""
from __future__ import annotations

import re
import time

import pytest

from eqhyp_utils.experiments import cost
from eqhyp_utils.experiments.config import RunConfig
from eqhyp_utils.experiments.results import write_result
from eqhyp_utils.experiments.runner import estimated_cost, result_path, run_grid, run_one

TINY = dict(dataset="gaussian", n_train=200, n_test=50, depth=2, width=8, epochs=1, batch_size=50,
            probe_per_class=2)


@pytest.fixture(scope="module")
def calibration():
    return cost.calibrate()


def test_calibration_is_quick_and_positive(calibration):
    assert calibration.seconds < 15            # about a second on a free core
    assert calibration.mac > 0 and calibration.tile_mac > 0
    assert min(calibration.step, calibration.layer, calibration.tile, calibration.entry, calibration.align) >= 0
    assert "multiply-adds/s" in calibration.describe()


@pytest.mark.parametrize("config", [RunConfig(**TINY),
                                    RunConfig(**{**TINY, "depth": 4, "width": 64, "n_train": 1000, "epochs": 2})],
                         ids=["tiny", "small"])
def test_the_estimate_is_the_right_order_of_magnitude(calibration, config):
    run_one(config)                            # the first run of a process pays for imports and caches
    start = time.process_time()                # the model estimates CPU time (one thread)
    run_one(config)
    measured = time.process_time() - start
    estimated = cost.estimate_run(config, calibration).total
    assert estimated / 3 < measured < 3 * estimated, (measured, estimated)


def test_the_parts_scale_with_the_run():
    base = RunConfig(dataset="mnist1d", depth=16, width=128, epochs=10)
    e = cost.estimate_run(base)
    longer = cost.estimate_run(RunConfig(**{**base.to_dict(), "epochs": 20}))
    assert longer.train == pytest.approx(2 * e.train)              # training ∝ epochs
    assert longer.checkpoints == e.checkpoints + 10                # one more checkpoint per epoch
    deeper = cost.estimate_run(RunConfig(**{**base.to_dict(), "depth": 32}))
    assert 1.7 < deeper.train / e.train < 2.1 and 1.7 < deeper.align / e.align < 2.1
    probe = cost.estimate_run(RunConfig(**{**base.to_dict(), "probe_per_class": 40}))
    assert 6 < probe.align / e.align < 16                          # tiles ∝ probe², factors ∝ probe
    assert estimated_cost(base) == e.total                         # the runner orders by the same model


def test_runs_to_threshold_use_finished_runs_or_their_cap(tmp_path):
    config = RunConfig(**{**TINY, "epochs": 50, "stop_loss": 0.02, "milestone_losses": (0.1, 0.02),
                          "every_epoch": False, "early_fractions": ()})
    capped = cost.estimate_run(config)
    assert capped.upper_bound and capped.epochs == 50 and capped.checkpoints == 3
    other_seed = RunConfig(**{**config.to_dict(), "seed": 1})
    for epochs, seed in ((6, 1), (8, 2)):                          # two finished runs: 7 epochs on average
        done = RunConfig(**{**config.to_dict(), "seed": seed})
        write_result(result_path(tmp_path, done), {"config": done.to_dict(), "config_hash": done.config_hash(),
                                                    "history": {"epoch_loss": [0.5] * epochs}})
    known = cost.expected_epochs(tmp_path)
    assert known[other_seed.architecture_key()] == (7.0, 2)
    seen = cost.estimate_run(config, epochs=7.0)
    assert not seen.upper_bound and seen.epochs_from == "results"
    assert seen.train == pytest.approx(capped.train * 7 / 50)
    report = cost.dry_run_report([config], tmp_path, calibration=cost.REFERENCE)
    total_line = next(line for line in report.splitlines() if line.startswith("estimated CPU time"))
    assert "~7" in report and "upper bound" not in total_line


def test_dry_run_report_format(tmp_path):
    runs = [RunConfig(**TINY, seed=s) for s in range(3)] + [RunConfig(**{**TINY, "depth": 3})]
    run_grid(runs[:1], tmp_path, progress=False)                  # one run already done
    before = sorted(p.name for p in (tmp_path / "runs").iterdir())
    report = cost.dry_run_report(runs, tmp_path, calibration=cost.REFERENCE, workers=2)
    lines = report.splitlines()
    assert re.match(r"dry run: nothing is trained\. 4 runs → .*: 1 done, 3 to run\.$", lines[0])
    assert lines[1].startswith("cost model (fixed reference costs)")
    header = next(i for i, line in enumerate(lines) if line.lstrip().startswith("to run"))
    rows = lines[header + 2: header + 4]
    assert [row.split()[:2] for row in rows] == [["1", "1"], ["2", "3"]]     # deeper (dearer) first; to run / of
    assert all(" mlp lr=" in row and "L=" in row for row in rows)
    total = re.search(r"estimated CPU time to run: (\S+) s for 3 runs", report)
    assert total and float(total.group(1)) == pytest.approx(
        sum(cost.estimate_run(r, cost.REFERENCE).total for r in runs[1:]), rel=0.1)
    assert "wall time with 2 parallel runs" in report
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == before   # nothing ran, nothing written


def test_reproduce_dry_run_prints_and_runs_nothing(tmp_path, capsys):
    from eqhyp_utils.experiments.cli import main

    grid = tmp_path / "grid.toml"
    grid.write_text('[defaults]\ndataset = "gaussian"\nn_train = 200\nn_test = 50\ndepth = 2\nwidth = 8\n'
                    'epochs = 1\nbatch_size = 50\nprobe_per_class = 2\n[g]\nseeds = [0, 1]\n')
    out = tmp_path / "out"
    assert main(["--config", str(grid), "--results", str(out), "--dry-run", "--jobs", "2"]) == 0
    printed = capsys.readouterr().out
    assert "2 runs" in printed and "0 done, 2 to run" in printed and "estimated CPU time to run" in printed
    assert "measured on this machine" in printed
    assert not out.exists()
