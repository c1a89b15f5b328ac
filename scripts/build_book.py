"""Build the course book (Jupyter Book 1.0.x) from book/ and the executed notebooks, offline, warnings as errors.

    python scripts/build_book.py                      # full edition  -> book/_build/html/index.html
    python scripts/build_book.py --class-edition      # no solutions  -> book/_build/class/html/index.html
    python scripts/build_book.py --notebooks DIR      # chapters = DIR/NN_slug.ipynb, in order (for tests, drafts)

The book renders the notebooks' stored outputs (they are executed and verified by nbval, not by the build). Only the
.ipynb files are copied, never their jupytext .md twins. Sources are staged in OUTPUT/source (book/ is left as it
is), the HTML goes to OUTPUT/html. Exit status 0 when the build succeeded without a single warning.
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
BOOK_DIR = REPO_ROOT / "book"
NOTEBOOKS_DIR = REPO_ROOT / "notebooks"
CHAPTER_PREFIX = "notebooks/"  # where the chapters live inside the book (and inside the repository)


class BookError(Exception):
    """A problem with the book's sources, reported without a traceback."""


def find_notebooks(folder: Path) -> list[Path]:
    """The notebooks of ``folder`` (``*.ipynb``), sorted by name, so NN_slug orders the chapters."""
    if not folder.is_dir():
        raise BookError(f"Notebook folder {folder} does not exist. Pass --notebooks DIR with the course notebooks.")
    notebooks = sorted(folder.glob("*.ipynb"))
    if not notebooks:
        raise BookError(f"No .ipynb notebooks in {folder}. Pass --notebooks DIR with the course notebooks.")
    return notebooks


def check_notebook(path: Path) -> None:
    """A chapter must be valid JSON, open with a level-1 heading (its title) and carry no error output."""
    try:
        notebook = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise BookError(f"{path} is not a readable notebook ({exc}).") from exc
    cells = notebook.get("cells", [])
    first_markdown = next((c for c in cells if c.get("cell_type") == "markdown"), None)
    first_text = "".join(first_markdown.get("source", "")) if first_markdown else ""
    if not first_text.lstrip().startswith("# "):
        raise BookError(f"{path.name}: the first markdown cell must start with a '# Title' heading "
                        f"(it gives the chapter its title); found {first_text[:60]!r}.")
    for index, cell in enumerate(cells):
        for output in cell.get("outputs", []) if cell.get("cell_type") == "code" else []:
            if output.get("output_type") == "error":
                raise BookError(f"{path.name}, cell {index}: stored output is an error "
                                f"({output.get('ename')}: {output.get('evalue')}). Fix and re-execute the notebook; "
                                f"the book shows stored outputs as they are.")


def chapters_from_toc(toc: dict) -> list[str]:
    """The chapter files ('notebooks/NN_slug') listed in the table of contents, in order."""
    return [chapter["file"] for part in toc.get("parts", []) for chapter in part.get("chapters", [])
            if chapter.get("file", "").startswith(CHAPTER_PREFIX)]


def with_chapters(toc: dict, chapters: list[str]) -> dict:
    """A copy of ``toc`` whose notebook chapters are replaced by ``chapters`` (kept in the first part that had some)."""
    toc = json.loads(json.dumps(toc))
    placed = False
    for part in toc.get("parts", []):
        entries = part.get("chapters", [])
        if not any(e.get("file", "").startswith(CHAPTER_PREFIX) for e in entries):
            continue
        kept = [e for e in entries if not e.get("file", "").startswith(CHAPTER_PREFIX)]
        part["chapters"] = kept if placed else [{"file": c} for c in chapters] + kept
        placed = True
    if not placed:
        raise BookError("book/_toc.yml has no part with chapters under notebooks/.")
    toc["parts"] = [p for p in toc["parts"] if p.get("chapters")]
    return toc


def stage_sources(book_dir: Path, notebooks: list[Path], toc: dict, config: dict, stage: Path, *,
                  class_edition: bool = False) -> None:
    """Copy book/ (without its _build) and the notebooks into ``stage``, with the given toc and config.

    For the class edition the notebooks are copied without their solution blocks.
    """
    import yaml

    if stage.exists():
        shutil.rmtree(stage)
    shutil.copytree(book_dir, stage, ignore=shutil.ignore_patterns("_build", ".ipynb_checkpoints", "__pycache__"))
    (stage / "notebooks").mkdir(exist_ok=True)
    for path in notebooks:
        if class_edition:
            # sphinx-exercise 1.2's hide_solutions crashes on gated solutions, so they are removed here,
            # with the same rule as the student edition (other outputs kept).
            from eqhyp_utils.errors import InvalidInputError
            from eqhyp_utils.student_edition import strip_solutions

            try:
                notebook = strip_solutions(json.loads(path.read_text(encoding="utf-8")), keep_outputs=True)
            except InvalidInputError as error:
                raise BookError(f"{path.name}: {error}") from None
            (stage / "notebooks" / path.name).write_text(json.dumps(notebook, indent=1, ensure_ascii=False),
                                                        encoding="utf-8")
        else:
            shutil.copy2(path, stage / "notebooks" / path.name)
    (stage / "_toc.yml").write_text(yaml.safe_dump(toc, sort_keys=False), encoding="utf-8")
    (stage / "_config.yml").write_text(yaml.safe_dump(config, sort_keys=False, allow_unicode=True), encoding="utf-8")


def class_edition_config(config: dict) -> dict:
    """The same configuration with every solution removed (sphinx-exercise's hide_solutions) and a banner saying so."""
    config = json.loads(json.dumps(config))
    config["title"] = f"{config.get('title', 'Course')} (class edition)"
    config.setdefault("sphinx", {}).setdefault("config", {})["hide_solutions"] = True
    config.setdefault("html", {})["announcement"] = "Class edition: the exercises are here, their solutions are not."
    return config


def run_sphinx(stage: Path, html_dir: Path, doctree_dir: Path, quiet: bool) -> int:
    """Build ``stage`` with jupyter-book's Sphinx driver: all pages, nitpicky, warnings as errors (keep going)."""
    from jupyter_book.sphinx import build_sphinx

    return build_sphinx(
        stage, html_dir, doctreedir=doctree_dir, noconfig=True, path_config=str(stage / "_config.yml"),
        confoverrides={"external_toc_path": (stage / "_toc.yml").as_posix(), "nitpicky": True,
                       "latex_individualpages": False},
        builder="html", freshenv=True, warningiserror=True, keep_going=True, quiet=quiet)


def check_jupyter_book() -> None:
    try:
        import jupyter_book
    except ImportError as exc:
        raise BookError('jupyter-book is not installed. Install the book tools with: pip install -e ".[book]"') from exc
    if not jupyter_book.__version__.startswith("1."):
        raise BookError(f"jupyter-book {jupyter_book.__version__} found; this book needs 1.0.x "
                        f'(2.x fetches its theme online). Install it with: pip install "jupyter-book>=1.0.2,<2"')


def build_book(*, class_edition: bool = False, notebooks_dir: Path | None = None, output: Path | None = None,
               quiet: bool = False) -> Path:
    """Build one edition of the book; return the path of its index.html. Raises BookError on any problem."""
    import yaml

    check_jupyter_book()
    output = Path(output) if output else BOOK_DIR / "_build" / ("class" if class_edition else "")
    output = output.resolve()
    toc = yaml.safe_load((BOOK_DIR / "_toc.yml").read_text(encoding="utf-8"))
    config = yaml.safe_load((BOOK_DIR / "_config.yml").read_text(encoding="utf-8"))

    if notebooks_dir is None:  # the real course: book/_toc.yml and notebooks/ must agree
        notebooks = find_notebooks(NOTEBOOKS_DIR)
        listed = chapters_from_toc(toc)
        present = [CHAPTER_PREFIX + p.stem for p in notebooks]
        missing, unlisted = sorted(set(listed) - set(present)), sorted(set(present) - set(listed))
        if missing or unlisted:
            raise BookError(f"book/_toc.yml and {NOTEBOOKS_DIR} disagree: listed but missing {missing}, present but "
                            f"not listed {unlisted}. Edit book/_toc.yml, or build the notebooks that exist with "
                            f"--notebooks {NOTEBOOKS_DIR}.")
    else:
        notebooks = find_notebooks(Path(notebooks_dir))
        toc = with_chapters(toc, [CHAPTER_PREFIX + p.stem for p in notebooks])
    for path in notebooks:
        check_notebook(path)
    if class_edition:
        config = class_edition_config(config)

    stage, html_dir = output / "source", output / "html"
    stage_sources(BOOK_DIR, notebooks, toc, config, stage, class_edition=class_edition)
    if html_dir.exists():
        shutil.rmtree(html_dir)
    status = run_sphinx(stage, html_dir, output / ".doctrees", quiet)
    index = html_dir / "index.html"
    if isinstance(status, Exception):
        raise BookError(f"Sphinx stopped with {type(status).__name__}: {status}")
    if status != 0 or not index.is_file():
        raise BookError(f"the build failed or produced warnings (status {status}); see the messages above.")
    return index


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--class-edition", action="store_true", help="hide every solution (default output "
                        "book/_build/class)")
    parser.add_argument("--notebooks", type=Path, default=None, help="take the chapters from this folder's "
                        "*.ipynb, in name order, instead of book/_toc.yml and notebooks/")
    parser.add_argument("--output", type=Path, default=None, help="build folder (default book/_build, or "
                        "book/_build/class with --class-edition)")
    parser.add_argument("--quiet", action="store_true", help="print warnings and the result only")
    args = parser.parse_args(argv)
    edition = "class" if args.class_edition else "full"
    start = time.perf_counter()
    try:
        index = build_book(class_edition=args.class_edition, notebooks_dir=args.notebooks, output=args.output,
                           quiet=args.quiet)
    except BookError as exc:
        print(f"build_book: {exc}", file=sys.stderr)
        return 1
    print(f"Built the {edition} edition in {time.perf_counter() - start:.1f} s. Open {index}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
