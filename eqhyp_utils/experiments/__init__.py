"""The Equilibrium-Hypothesis experiments: grid files, the resumable runner, result files, the
scoreboard, the depth-scaling fit and the interventions (``python -m eqhyp_utils reproduce``)."""
from .config import Grid, RunConfig, load_grids, parse_grids, unique_runs
from .results import read_result, write_result
from .report import write_report
from .runner import run_grid, run_one

__all__ = ["Grid", "RunConfig", "load_grids", "parse_grids", "unique_runs", "read_result", "write_result",
           "run_grid", "run_one", "write_report"]
