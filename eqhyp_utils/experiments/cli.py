"""``python -m eqhyp_utils reproduce``: run the experiment grid, then write the scoreboard.

Examples::

    python -m eqhyp_utils reproduce --jobs 2                         # fixed-budget grid → results/fixed_budget/
    python -m eqhyp_utils reproduce --config configs/paper.toml      # the paper's protocol → results/paper/
    python -m eqhyp_utils reproduce --quick                          # few-minute subset → results_quick/
    python -m eqhyp_utils reproduce scoreboard                       # re-analyse existing result files
    python -m eqhyp_utils reproduce --dry-run --jobs 2               # what it would cost; runs nothing
    python -m eqhyp_utils reproduce --scheduler local:8              # a Dask cluster of 8 local workers
    python -m eqhyp_utils reproduce --scheduler tcp://host:8786      # a running Dask cluster (SLURM …)
    python -m eqhyp_utils reproduce --device cuda                    # train and measure on a GPU

A grid file's ``[meta] results`` names its folder under results/, and ``[meta] reuse`` other grid files
whose finished runs it shares (copied, checked, not retrained). Finished runs are skipped, so an
interrupted grid resumes where it stopped; Ctrl-C stops it cleanly (finished runs are kept).
Only this process writes result files, whichever backend runs them. ``--download`` allows the
opt-in downloads of the full MNIST/FashionMNIST sets (it sets EQHYP_DOWNLOAD=1, for the workers too).
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from ..errors import EqhypError

REPO_ROOT = Path(__file__).resolve().parents[2]
FULL_CONFIG = REPO_ROOT / "configs" / "full.toml"
QUICK_CONFIG = REPO_ROOT / "configs" / "quick.toml"


def grid_meta(config: Path) -> dict:
    """The ``[meta]`` table of a TOML grid file ({} when it has none or cannot be read)."""
    import tomllib

    if config.suffix == ".toml" and config.is_file():
        try:
            meta = tomllib.loads(config.read_text()).get("meta", {})
        except tomllib.TOMLDecodeError:
            return {}
        return meta if isinstance(meta, dict) else {}
    return {}


def default_results_dir(config: Path) -> Path:
    """results/<[meta] results> of the grid file, or results_<stem>/ when it names none."""
    folder = grid_meta(config).get("results")
    return REPO_ROOT / "results" / folder if folder else REPO_ROOT / f"results_{config.stem}"


def companion_grids(config: Path) -> dict:
    """{stem: (grids, results folder)} of the grid files named by ``[meta] reuse`` (paths relative to the
    repository root): their finished runs are adopted instead of retrained, and their depth series
    are reported beside this grid's."""
    from ..errors import InvalidInputError
    from .config import load_grids

    reuse = grid_meta(config).get("reuse", [])
    if not isinstance(reuse, list) or not all(isinstance(r, str) for r in reuse):
        raise InvalidInputError(f"{config}: [meta] reuse must be a list of grid-file paths, got {reuse!r}.")
    out = {}
    for entry in reuse:
        path = REPO_ROOT / entry
        if not path.is_file():
            raise InvalidInputError(f"{config}: [meta] reuse names {entry!r}, which is not a grid file "
                                    f"(paths are relative to the repository root).")
        out[path.stem] = (load_grids(path), default_results_dir(path))
    return out


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
    parser.add_argument("--jobs", type=int, default=1, help="runs in parallel on this machine (one thread each)")
    parser.add_argument("--scheduler", default=None, metavar="ADDRESS",
                        help="run on a Dask cluster instead: 'local:N' (N local worker processes) or a "
                             "scheduler address such as tcp://host:8786")
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda", "mps", "auto"],
                        help="where runs train and measure (default cpu, the reference of the stored numbers; "
                             "auto: CUDA if available)")
    parser.add_argument("--dry-run", action="store_true",
                        help="print the runs, how many are done and an estimated CPU time per run and in "
                             "total (calibrated on this machine now); run nothing")
    parser.add_argument("--download", action="store_true",
                        help="allow downloading the full MNIST/FashionMNIST sets once (sets EQHYP_DOWNLOAD=1)")
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
    if args.scheduler is not None and args.jobs != 1:
        print("error: give --jobs (this machine) or --scheduler (a Dask cluster), not both.", file=sys.stderr)
        return 2
    if args.download:
        from ..data import DOWNLOAD_ENV

        os.environ[DOWNLOAD_ENV] = "1"  # read by the loaders here and in every worker
    try:
        from .config import load_grids, unique_runs

        grids = load_grids(config)
        companions = companion_grids(config)
        if args.scheduler is not None:
            from .distributed import parse_scheduler

            parse_scheduler(args.scheduler)  # a malformed address is an error before anything starts
        if args.dry_run:
            _adopt(unique_runs(grids), results, companions)
            return _dry_run(unique_runs(grids), results, args)
        if not (args.scoreboard_only or args.action == "scoreboard"):
            from .runner import run_grid

            runs = unique_runs(grids)
            _adopt(runs, results, companions)
            device = args.device
            if args.scheduler is None:
                from ..devices import resolve_device

                device = str(resolve_device(device))  # a cluster's workers check it themselves
            where = f"scheduler={args.scheduler}" if args.scheduler else f"jobs={args.jobs}"
            print(f"{len(runs)} runs in {config} → {results}/runs ({where}, device={device})", flush=True)
            if args.download:
                _prefetch(runs)
            start = time.perf_counter()
            counts = run_grid(runs, results, jobs=args.jobs, progress=not args.no_progress, device=device,
                              scheduler=args.scheduler)
            print(f"ran {counts['ran']} (of which {counts['redone']} redone), skipped {counts['skipped']} "
                  f"finished runs, in {time.perf_counter() - start:.0f} s"
                  + (f"; {counts['failed']} failed (see the warnings above)" if counts["failed"] else ""),
                  flush=True)
        from .report import write_report

        written = write_report(grids, results, figures=not args.no_figures, companions=companions)
        for path in written:
            print(path)
    except EqhypError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\ninterrupted: finished runs are saved; run the same command again to resume.", file=sys.stderr)
        return 130
    return 0


def _adopt(runs, results: Path, companions: dict) -> None:
    """Copy the companions' finished runs that this grid shares (:func:`~.runner.adopt_finished_runs`)."""
    from .runner import adopt_finished_runs

    for name, (_, folder) in companions.items():
        adopted = adopt_finished_runs(runs, results, folder)
        if adopted:
            print(f"adopted {adopted} finished runs from {folder} (the same configurations, not retrained)",
                  flush=True)


def _dry_run(runs, results: Path, args: argparse.Namespace) -> int:
    """Print what the grid would cost (:func:`eqhyp_utils.experiments.cost.dry_run_report`); run nothing."""
    from .cost import dry_run_report

    workers = args.jobs
    if args.scheduler is not None:
        from .distributed import parse_scheduler

        target = parse_scheduler(args.scheduler)
        workers = target if isinstance(target, int) else None
    print(dry_run_report(runs, results, workers=workers, device=args.device), flush=True)
    return 0


def _prefetch(runs) -> None:
    """Download (once, checked) the opt-in data sets the runs need, before any worker starts."""
    from ..data import IDX_SOURCES, load_idx_dataset

    for name in sorted({r.dataset for r in runs} & set(IDX_SOURCES)):
        print(f"fetching {name} (once; cached with its checksums)", flush=True)
        load_idx_dataset(name, download=True)
