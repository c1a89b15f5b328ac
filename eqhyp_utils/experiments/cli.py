"""``python -m eqhyp_utils reproduce``: run the experiment grid, then write the scoreboard.

Examples::

    python -m eqhyp_utils reproduce --jobs 2                         # fixed-budget grid → results/fixed_budget/
    python -m eqhyp_utils reproduce --config configs/paper.toml      # the paper's protocol → results/paper/
    python -m eqhyp_utils reproduce --quick                          # few-minute subset → results_quick/
    python -m eqhyp_utils reproduce scoreboard                       # re-analyse existing result files

A grid file's ``[meta] results`` names its folder under results/. Finished runs are skipped, so an
interrupted grid resumes where it stopped; Ctrl-C stops it cleanly (finished runs are kept).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from ..errors import EqhypError

REPO_ROOT = Path(__file__).resolve().parents[2]
FULL_CONFIG = REPO_ROOT / "configs" / "full.toml"
QUICK_CONFIG = REPO_ROOT / "configs" / "quick.toml"


def default_results_dir(config: Path) -> Path:
    """results/<[meta] results> of the grid file, or results_<stem>/ when it names none."""
    import tomllib

    meta = {}
    if config.suffix == ".toml" and config.is_file():
        try:
            meta = tomllib.loads(config.read_text()).get("meta", {})
        except tomllib.TOMLDecodeError:
            meta = {}
    folder = meta.get("results")
    return REPO_ROOT / "results" / folder if folder else REPO_ROOT / f"results_{config.stem}"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m eqhyp_utils reproduce", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("action", nargs="?", choices=["run", "scoreboard"], default="run",
                        help="'run' (default): run the grid then write the scoreboard; "
                             "'scoreboard': only analyse existing result files")
    parser.add_argument("--quick", action="store_true",
                        help=f"use {QUICK_CONFIG.relative_to(REPO_ROOT)} and results_quick/ (a few minutes)")
    parser.add_argument("--config", type=Path, default=None, help="grid file (TOML or JSON)")
    parser.add_argument("--results", type=Path, default=None, help="results folder")
    parser.add_argument("--jobs", type=int, default=1, help="runs in parallel (one thread each)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    parser.add_argument("--scoreboard-only", action="store_true", help="same as the 'scoreboard' action")
    parser.add_argument("--no-figures", action="store_true", help="write the tables but no figures")
    return parser


def main(argv: "list[str] | None" = None) -> int:
    args = build_parser().parse_args(sys.argv[1:] if argv is None else argv)
    config = args.config or (QUICK_CONFIG if args.quick else FULL_CONFIG)
    results = args.results or default_results_dir(config)
    if args.jobs < 1:
        print(f"error: --jobs must be >= 1, got {args.jobs}.", file=sys.stderr)
        return 2
    try:
        from .config import load_grids, unique_runs

        grids = load_grids(config)
        if not (args.scoreboard_only or args.action == "scoreboard"):
            from .runner import run_grid

            runs = unique_runs(grids)
            print(f"{len(runs)} runs in {config} → {results}/runs (jobs={args.jobs})", flush=True)
            start = time.perf_counter()
            counts = run_grid(runs, results, jobs=args.jobs, progress=not args.no_progress)
            print(f"ran {counts['ran']} (of which {counts['redone']} redone), skipped {counts['skipped']} "
                  f"finished runs, in {time.perf_counter() - start:.0f} s", flush=True)
        from .report import write_report

        written = write_report(grids, results, figures=not args.no_figures)
        for path in written:
            print(path)
    except EqhypError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\ninterrupted: finished runs are saved; run the same command again to resume.", file=sys.stderr)
        return 130
    return 0
