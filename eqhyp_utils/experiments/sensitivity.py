"""How much does a run depend on the numeric code path? Re-run shipped runs under other kernels.

:func:`numeric_path_sensitivity` re-trains shipped runs in a subprocess whose environment is
:func:`eqhyp_utils.provenance.other_numeric_path` (other matrix-multiply, elementwise and reduction
kernels, as another CPU would use) and compares the result, checkpoint by checkpoint, with the shipped
file: the largest relative change of the alignment, and the peak layer on each probe. Rounding-level
differences either stay at rounding level (the dynamics is stable) or grow (it is chaotic); this
measures which, for the protocols the course ships.

    python -m eqhyp_utils.experiments.sensitivity          # writes results/numeric_paths/summary.json
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ..peaks import argmax_layer
from .config import RunConfig, load_grids
from .results import read_result, round_floats
from .runner import result_path

__all__ = ["DEFAULT_RUNS", "rerun_on_other_path", "compare_histories", "numeric_path_sensitivity"]

#: (grid file, results folder, grid, selection): the runs whose sensitivity the course ships.
DEFAULT_RUNS = (
    ("full", "fixed_budget", "depth_scaling", {"depth": 24, "seed": 0}),
    ("paper", "paper", "depth_scaling", {"depth": 9, "seed": 0}),
    ("paper", "paper", "depth_scaling", {"depth": 19, "seed": 0}),
)


def rerun_on_other_path(config: RunConfig) -> dict[str, Any]:
    """``run_one(config)`` in a subprocess under :func:`~eqhyp_utils.provenance.other_numeric_path`."""
    from ..provenance import other_numeric_path

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "payload.json"
        code = ("import json, sys; from eqhyp_utils.experiments.config import RunConfig; "
                "from eqhyp_utils.experiments.runner import run_one; "
                "payload = run_one(RunConfig.from_dict(json.loads(sys.argv[1]))); "
                "open(sys.argv[2], 'w').write(json.dumps(payload['history']))")
        env = {**os.environ, **other_numeric_path(), "OMP_NUM_THREADS": "1"}
        subprocess.run([sys.executable, "-c", code, config.canonical_json(), str(out)], env=env, check=True)
        return json.loads(out.read_text())


def compare_histories(shipped: dict[str, Any], other: dict[str, Any]) -> list[dict[str, Any]]:
    """Per checkpoint of ``shipped``: epoch, largest relative change of A_l, peak layers (shipped, other)."""
    rows = []
    n = min(len(shipped["alignment"]), len(other["alignment"]))
    for k in range(n):
        a = np.array(shipped["alignment"][k], dtype=float)
        b = np.array(other["alignment"][k], dtype=float)
        row = {"epoch": float(shipped["epochs"][k]), "other_epoch": float(other["epochs"][k]),
               "max_relative_change": float(np.max(np.abs(a - b) / np.abs(a))),
               "peak": [argmax_layer(a), argmax_layer(b)]}
        if shipped.get("test_alignment") is not None and other.get("test_alignment") is not None:
            ta = np.array(shipped["test_alignment"][k], dtype=float)
            tb = np.array(other["test_alignment"][k], dtype=float)
            row["test_max_relative_change"] = float(np.max(np.abs(ta - tb) / np.abs(ta)))
            row["test_peak"] = [argmax_layer(ta), argmax_layer(tb)]
        rows.append(row)
    return rows


def numeric_path_sensitivity(runs: Sequence = DEFAULT_RUNS, root: "Path | None" = None) -> dict[str, Any]:
    """Re-run each selected shipped run on the other numeric path and compare; a JSON-ready summary."""
    from .shipped import shipped_root

    root = root or shipped_root()
    out: dict[str, Any] = {"runs": []}
    for grid_file, results_name, grid, select in runs:
        config = next(r for r in load_grids(root / "configs" / f"{grid_file}.toml")[grid].runs
                      if all(getattr(r, k) == v for k, v in select.items()))
        stored = read_result(result_path(root / "results" / results_name, config),
                             expected_config_hash=config.config_hash())["history"]
        other = rerun_on_other_path(config)
        out["runs"].append({"name": config.name, "grid": f"{grid_file}.toml [{grid}]",
                            "epochs": float(stored["epochs"][-1]),
                            "milestones": [stored.get("milestones"), other.get("milestones")],
                            "checkpoints": compare_histories(stored, other)})
    from ..provenance import other_numeric_path

    out["other_path"] = other_numeric_path()
    out["note"] = ("relative changes are |A(shipped) − A(other path)| / A(shipped), largest over layers; the shipped "
                   "values are rounded to 6 significant digits, so changes below 5e-6 are rounding of the file")
    return round_floats(out)


def main() -> int:
    from .shipped import shipped_root

    summary = numeric_path_sensitivity()
    path = shipped_root() / "results" / "numeric_paths" / "summary.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(summary, indent=1, sort_keys=True) + "\n")
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
