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


def _failed_cells(junit_xml: Path) -> list[tuple[str, str]]:
    """(test id, first lines of the difference) of every failed nbval cell in a JUnit XML report."""
    import xml.etree.ElementTree as ET

    out = []
    try:
        root = ET.parse(junit_xml).getroot()
    except (OSError, ET.ParseError):
        return out
    for case in root.iter("testcase"):
        for failure in list(case.findall("failure")) + list(case.findall("error")):
            text = (failure.get("message") or "") + "\n" + (failure.text or "")
            lines = [l for l in text.splitlines() if l.strip()][:8]
            out.append((f"{case.get('classname', '')}::{case.get('name', '')}", "\n".join(lines)))
    return out


def next_steps(book_index: Path) -> str:
    """What the learner does after ``course``: open the notebooks or the built book."""
    return ("\nThe course is ready. Open it in one of two ways:\n"
            f"  * interactive: {sys.executable} -m jupyter lab {REPO_ROOT / 'notebooks'}   "
            "(start with 00_welcome.ipynb)\n"
            f"  * to read: open {book_index} in a browser (the book, with the outputs the tests checked)\n"
            "Each notebook starts with its objectives and ends with exercises; "
            "`python -m eqhyp_utils --help` lists the other commands.")


def _course(args: argparse.Namespace) -> int:
    import tempfile

    from .demo import run_demo

    print("== 1/3 quick demo ==", flush=True)
    run_demo(out_dir=args.out_dir, progress=not args.no_progress)
    print("\n== 2/3 verifying the notebooks against their stored outputs (nbval) ==", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "nbval.xml"
        rc = subprocess.call([sys.executable, "-m", "pytest", "-q", "--nbval", "-p", "no:cacheprovider",
                              f"--junitxml={report}", "notebooks"], cwd=REPO_ROOT)
        failed = _failed_cells(report) if rc != 0 else []
    if rc != 0:
        print("\nThe notebooks do not reproduce their stored outputs, so the book was not built.", file=sys.stderr)
        for name, difference in failed:
            print(f"\n* {name}\n" + "\n".join("    " + line for line in difference.splitlines()), file=sys.stderr)
        print("\nOn a supported setup (scripts/setup.sh) this means the numbers depend on the machine: please "
              "report the cells above with the output of `python -m eqhyp_utils --version`.", file=sys.stderr)
        return rc
    print("\n== 3/3 building the book ==", flush=True)
    rc = subprocess.call([sys.executable, str(REPO_ROOT / "scripts" / "build_book.py")], cwd=REPO_ROOT)
    if rc == 0:
        print(next_steps(REPO_ROOT / "book" / "_build" / "html" / "index.html"))
    return rc


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
    from . import __version__

    parser.add_argument("--version", action="version", version=f"eqhyp_utils {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="quick end-to-end demo")
    from .demo import DEMO

    demo.add_argument("--dataset", default=DEMO.dataset, choices=["mnist1d", "digits", "gaussian", "mnist"])
    demo.add_argument("--depth", type=int, default=DEMO.depth)
    demo.add_argument("--width", type=int, default=DEMO.width)
    demo.add_argument("--epochs", type=int, default=DEMO.epochs)
    demo.add_argument("--seed", type=int, default=DEMO.seed)
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
    try:
        return args.func(args)
    except KeyboardInterrupt:
        print("\ninterrupted: nothing half-written was kept; run the same command again to start over.",
              file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
