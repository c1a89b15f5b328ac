"""Command-line entry point: ``python -m eqhyp_utils <command>`` (or ``eqhyp <command>``).

Commands
--------
demo             train a small ReLU network and print/plot its per-layer alignment (< 1 minute)
course           the course's main job: the demo, then verify every notebook (nbval), then build the book
reproduce        run the Equilibrium-Hypothesis experiment grid (``--quick`` for a few-minute subset)
student-edition  write the notebooks without solutions (stubs raise NotImplementedError)
"""
from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def _demo(args: argparse.Namespace) -> int:
    from .demo import run_demo

    run_demo(dataset=args.dataset, depth=args.depth, width=args.width, epochs=args.epochs,
             seed=args.seed, out_dir=args.out_dir, progress=not args.no_progress)
    return 0


def _course(args: argparse.Namespace) -> int:
    from .demo import run_demo

    print("== 1/3 quick demo ==", flush=True)
    run_demo(out_dir=args.out_dir, progress=not args.no_progress)
    print("\n== 2/3 verifying the notebooks against their stored outputs (nbval) ==", flush=True)
    rc = subprocess.call([sys.executable, "-m", "pytest", "-q", "--nbval", "-p", "no:cacheprovider",
                          "notebooks"], cwd=REPO_ROOT)
    if rc != 0:
        print("The notebooks do not reproduce their stored outputs; the book was not built.", file=sys.stderr)
        return rc
    print("\n== 3/3 building the book ==", flush=True)
    return subprocess.call([sys.executable, str(REPO_ROOT / "scripts" / "build_book.py")], cwd=REPO_ROOT)


def _reproduce(argv: list[str]) -> int:
    from .experiments.cli import main as reproduce_main

    return reproduce_main(argv)


def _student_edition(args: argparse.Namespace) -> int:
    from .student_edition import write_student_edition

    written = write_student_edition(Path(args.notebooks), Path(args.out))
    for path in written:
        print(path)
    return 0


def main(argv: "list[str] | None" = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "reproduce":  # the experiment runner owns its own options
        return _reproduce(argv[1:])
    parser = argparse.ArgumentParser(prog="python -m eqhyp_utils", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="quick end-to-end demo")
    demo.add_argument("--dataset", default="mnist1d", choices=["mnist1d", "digits", "gaussian"])
    demo.add_argument("--depth", type=int, default=6)
    demo.add_argument("--width", type=int, default=128)
    demo.add_argument("--epochs", type=int, default=3)
    demo.add_argument("--seed", type=int, default=0)
    demo.add_argument("--out-dir", default="demo_output")
    demo.add_argument("--no-progress", action="store_true")
    demo.set_defaults(func=_demo)

    course = sub.add_parser("course", help="demo + notebook verification + book build")
    course.add_argument("--out-dir", default="demo_output")
    course.add_argument("--no-progress", action="store_true")
    course.set_defaults(func=_course)

    sub.add_parser("reproduce", help="experiment grid (see 'reproduce --help')")

    student = sub.add_parser("student-edition", help="notebooks without solutions")
    student.add_argument("--notebooks", default=str(REPO_ROOT / "notebooks"))
    student.add_argument("--out", default=str(REPO_ROOT / "student_edition"))
    student.set_defaults(func=_student_edition)

    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
