"""Build the course book (Jupyter Book 1.0.x) from book/ and the executed notebooks, offline, warnings as errors.

    python scripts/build_book.py                      # full edition  -> book/_build/html/index.html
    python scripts/build_book.py --class-edition      # no solutions  -> book/_build/class/html/index.html
    python scripts/build_book.py --notebooks DIR      # chapters = DIR/NN_slug.ipynb, in order (for tests, drafts)
    python scripts/build_book.py --pdf                # also print every chapter -> book/_build/pdf/*.pdf
    python scripts/build_book.py --class-edition --pdf                        -> book/_build/class/pdf/*.pdf

The book renders the notebooks' stored outputs (they are executed and verified by nbval, not by the build). Only the
.ipynb files are copied, never their jupytext .md twins. Sources are staged in OUTPUT/source (book/ is left as it
is), the HTML goes to OUTPUT/html. Exit status 0 when the build succeeded without a single warning.

The repository URL (launch links, repository button, footer link) is $EQHYP_REPOSITORY when set, else pyproject.toml's
[tool.eqhyp] repository, and the version in the footer is eqhyp_utils.__version__ (see eqhyp_utils/publishing.py);
both are written into the staged _config.yml, book/_config.yml does not repeat them. The install and clone lines of
the staged notebooks and pages are rewritten to name the same URL (the repository's notebooks are left as they are),
and each chapter's built page is checked to carry its Colab and Binder links to that repository. A build that names
the placeholder repository the course ships with prints a loud warning, and fails in GitHub Actions running in
another repository.

With --pdf the built HTML is served on 127.0.0.1 and printed by headless Chromium (Debian's `chromium` and
`chromium-driver`), one PDF per page of the table of contents, once MathJax has typeset the page; solutions stay
folded in the full edition (and are absent from the class edition). OUTPUT/pdf/book.pdf is all of them in order.
"""
from __future__ import annotations

import argparse
import base64
import functools
import html
import http.server
import json
import shutil
import sys
import threading
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
BOOK_DIR = REPO_ROOT / "book"
NOTEBOOKS_DIR = REPO_ROOT / "notebooks"
CHAPTER_PREFIX = "notebooks/"  # where the chapters live inside the book (and inside the repository)
BOOK_PDF = "book.pdf"  # the whole book, next to the chapter PDFs
if str(REPO_ROOT) not in sys.path:  # run as a script from a checkout: use the checkout's package
    sys.path.insert(0, str(REPO_ROOT))


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


def strip_page_solutions(text: str) -> str:
    """A book page (MyST markdown) without its sphinx-exercise solutions, for the class edition.

    Removes every fenced ``{solution}`` directive, and everything from a ``{solution-start}`` fence to the end of the
    matching ``{solution-end}`` fence. (hide_solutions alone would leave the answers in the page's copied source.)
    """
    import re

    lines, out, i = text.splitlines(keepends=True), [], 0
    opening = re.compile(r"^(`{3,}|:{3,})\{(solution|solution-start)\}")
    while i < len(lines):
        match = opening.match(lines[i])
        if not match:
            out.append(lines[i])
            i += 1
            continue
        fence, gated = match.group(1), match.group(2) == "solution-start"
        end = re.compile(r"^" + re.escape(fence) + r"\{solution-end\}") if gated else None
        i += 1
        if gated:  # skip to the {solution-end} fence, then past its closing fence
            while i < len(lines) and not end.match(lines[i]):
                i += 1
            i += 1
        while i < len(lines) and lines[i].rstrip() != fence:
            i += 1
        i += 1
    return "".join(out)


def stage_sources(book_dir: Path, notebooks: list[Path], toc: dict, config: dict, stage: Path, *,
                  class_edition: bool = False) -> None:
    """Copy book/ (without its _build) and the notebooks into ``stage``, with the given toc and config.

    For the class edition the notebooks are copied without their solution blocks, and the book's own pages without
    their solution directives (:func:`strip_page_solutions`).
    """
    import yaml

    if stage.exists():
        shutil.rmtree(stage)
    shutil.copytree(book_dir, stage, ignore=shutil.ignore_patterns("_build", ".ipynb_checkpoints", "__pycache__"))
    if class_edition:  # book pages (e.g. classroom/discussion.md) lose their model answers too
        for page in stage.rglob("*.md"):
            if "_vendor" not in page.parts:
                page.write_text(strip_page_solutions(page.read_text(encoding="utf-8")), encoding="utf-8")
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


def publishing_repository() -> str:
    """The repository the book names (eqhyp_utils.publishing.repository_url), checked for the placeholder.

    Prints a loud warning if it is the placeholder; raises BookError if it is malformed, or if it is the placeholder
    in GitHub Actions running in another repository.
    """
    from eqhyp_utils.errors import InvalidInputError
    from eqhyp_utils.publishing import placeholder_problem, repository_url

    try:
        url = repository_url()
        warning = placeholder_problem(url)
    except InvalidInputError as error:
        raise BookError(str(error)) from None
    if warning:
        print(warning, file=sys.stderr, flush=True)
    return url


def published_config(config: dict, url: str | None = None) -> dict:
    """``config`` with the two values defined elsewhere filled in: the repository URL and the version.

    ``repository.url`` is set to ``url`` (by default eqhyp_utils.publishing.repository_url: ``$EQHYP_REPOSITORY``,
    else pyproject.toml's ``[tool.eqhyp] repository``); ``{version}`` and ``{repository}`` in ``html.extra_footer``
    are replaced by ``eqhyp_utils.__version__`` and that URL.
    """
    from eqhyp_utils.errors import InvalidInputError
    from eqhyp_utils.publishing import repository_url, version

    if url is None:
        try:
            url = repository_url()
        except InvalidInputError as error:
            raise BookError(str(error)) from None
    config = json.loads(json.dumps(config))
    repository = config.setdefault("repository", {})
    if repository.get("url") not in (None, url):
        raise BookError(f"book/_config.yml sets repository.url to {repository['url']!r}; remove it: the URL is "
                        f"$EQHYP_REPOSITORY or pyproject.toml's [tool.eqhyp] repository ({url}).")
    repository["url"] = url
    footer = config.setdefault("html", {}).get("extra_footer", "")
    if "{version}" not in footer:
        raise BookError("book/_config.yml: html.extra_footer must contain {version} (filled in from "
                        "eqhyp_utils.__version__).")
    config["html"]["extra_footer"] = footer.replace("{version}", version()).replace("{repository}", url)
    return config


def retarget_stage(stage: Path, url: str) -> set[str]:
    """Make the staged notebooks and book pages install and clone the course from ``url``; return what they named.

    The install line (``eqhyp_utils @ git+OLD``) and the clone line of every staged notebook (cell sources) and page
    are rewritten (eqhyp_utils.publishing.retarget_text), so that the published pages, their downloadable .ipynb and
    their launch links name one repository. Only the staged copies change.
    """
    from eqhyp_utils.publishing import installed_from, notebook_installed_from, retarget_notebook, retarget_text

    notebooks = {p: json.loads(p.read_text(encoding="utf-8")) for p in sorted((stage / "notebooks").glob("*.ipynb"))}
    pages = {p: p.read_text(encoding="utf-8") for p in sorted(stage.rglob("*.md"))
             if "_vendor" not in p.relative_to(stage).parts}
    named = set().union(*map(notebook_installed_from, notebooks.values()), *map(installed_from, pages.values()))
    for path, notebook in notebooks.items():
        retargeted = retarget_notebook(notebook, url, named)
        if retargeted != notebook:
            path.write_text(json.dumps(retargeted, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    for path, text in pages.items():
        retargeted = retarget_text(text, url, named)
        if retargeted != text:
            path.write_text(retargeted, encoding="utf-8")
    return named


def launch_links(config: dict, page: str) -> dict[str, str]:
    """The launch links (Colab, Binder) that sphinx-book-theme puts on the notebook page ``page`` for ``config``.

    ``page`` is the docname (``notebooks/01_tangent_features``); the links open ``<path_to_book>/<page>.ipynb`` on
    the configured branch of the configured repository.
    """
    from eqhyp_utils.publishing import github_slug

    slug, branch = github_slug(config["repository"]["url"]), config["repository"].get("branch", "master")
    path = "/".join(p for p in (config["repository"].get("path_to_book", "").strip("/"), f"{page}.ipynb") if p)
    buttons = config.get("launch_buttons", {})
    interface = {"classic": "tree", "jupyterlab": "lab/tree"}[buttons.get("notebook_interface", "classic")]
    links = {}
    if buttons.get("colab_url"):
        links["Colab"] = f"{buttons['colab_url'].strip('/')}/github/{slug}/blob/{branch}/{path}"
    if buttons.get("binderhub_url"):
        links["Binder"] = f"{buttons['binderhub_url'].strip('/')}/v2/gh/{slug}/{branch}?urlpath={interface}/{path}"
    return links


def check_published_links(html_dir: Path, config: dict, pages: list[str]) -> None:
    """Check the built chapter pages against the book's repository; raise BookError listing what does not match.

    Each page must link to its notebook there in Colab and Binder (:func:`launch_links`) and to the repository
    itself (the repository button), and the install lines shown on the page and in its downloadable .ipynb
    (``_sources/``) must name that repository.
    """
    import re

    from eqhyp_utils.publishing import installed_from

    url, problems = config["repository"]["url"], []
    for page in pages:
        text = (html_dir / f"{page}.html").read_text(encoding="utf-8")
        hrefs = {html.unescape(href) for href in re.findall(r'href="([^"]*)"', text)}
        expected = {**launch_links(config, page), "repository button": url}
        problems += [f"{page}.html: no {name} link {link}" for name, link in expected.items() if link not in hrefs]
        download = html_dir / "_sources" / f"{page}.ipynb"
        shown = {f"{page}.html": html.unescape(re.sub(r"<[^>]+>", "", text)),
                 f"_sources/{page}.ipynb": download.read_text(encoding="utf-8") if download.is_file() else ""}
        for where, content in shown.items():
            problems += [f"{where}: installs the course from {other}"
                         for other in sorted(installed_from(content) - {url})]
    if problems:
        raise BookError(f"the built pages do not all point at {url}:\n  " + "\n  ".join(problems))


def class_edition_config(config: dict) -> dict:
    """The same configuration with every solution removed (sphinx-exercise's hide_solutions) and a banner saying so."""
    config = json.loads(json.dumps(config))
    config["title"] = f"{config.get('title', 'Course')} (class edition)"
    config.setdefault("sphinx", {}).setdefault("config", {})["hide_solutions"] = True
    config.setdefault("html", {})["announcement"] = "Class edition: the exercises are here, their solutions are not."
    return config


def run_sphinx(stage: Path, html_dir: Path, doctree_dir: Path, quiet: bool) -> int:
    """Build ``stage`` with jupyter-book's Sphinx driver: all pages, nitpicky, warnings as errors (keep going)."""
    import warnings

    from jupyter_book.sphinx import build_sphinx

    with warnings.catch_warnings():
        # Not a warning about the book: sphinx-external-toc inspects every loaded object, which touches a
        # deprecated torch attribute once the course package (and so torch) has been imported.
        warnings.filterwarnings("ignore", message=r".*torch\.distributed\.reduce_op", category=FutureWarning)
        return build_sphinx(
            stage, html_dir, doctreedir=doctree_dir, noconfig=True, path_config=str(stage / "_config.yml"),
            confoverrides={"external_toc_path": (stage / "_toc.yml").as_posix(), "nitpicky": True,
                           "latex_individualpages": False},
            builder="html", freshenv=True, warningiserror=True, keep_going=True, quiet=quiet)


# ------------------------------------------------------------------------------------------------------ PDFs

# Runs in the page: make every image load now, wait for the page, the fonts, the images and MathJax's typesetting,
# then fold the solutions for print, unlink the other pages of the book (their address is the local server's,
# which is gone once the PDF is written; links within the page and to other sites stay) and report what the print
# will show.
PRINT_READY_JS = """
const done = arguments[arguments.length - 1];
document.querySelectorAll('img[loading="lazy"]').forEach(i => i.loading = 'eager');
document.querySelectorAll('a[href]').forEach(a => {
  try {
    const target = new URL(a.getAttribute('href'), location.href);
    if (target.origin === location.origin && target.pathname !== location.pathname) a.removeAttribute('href');
  } catch (e) { /* not a URL: left as it is */ }
});
const loaded = new Promise(r => document.readyState === 'complete' ? r() : window.addEventListener('load', r));
loaded
  .then(() => (window.MathJax && MathJax.startup && MathJax.startup.promise) || null)
  .then(() => document.fonts ? document.fonts.ready : null)
  .then(() => Promise.all(Array.from(document.images).map(i => i.complete ? null
                                                          : new Promise(r => { i.onload = i.onerror = r; }))))
  .then(() => {
    const style = document.createElement('style');
    style.textContent = arguments[0];
    document.head.appendChild(style);
    document.querySelectorAll('.solution.toggle-hidden').forEach(solution => {
      solution.classList.add('print-folded');
      const note = document.createElement('span');
      note.className = 'print-folded-note';
      note.textContent = ' (folded: open it in the online book)';
      (solution.querySelector('.admonition-title') || solution).appendChild(note);
    });
    const main = document.querySelector('main') || document.body;
    done({
      h1: ((main.querySelector('h1') || {textContent: ''}).textContent || '').replace(/[#\\u00b6]/g, '').trim(),
      mathSources: main.querySelectorAll('.math').length,
      mathTypeset: main.querySelectorAll('mjx-container').length,
      brokenImages: Array.from(main.querySelectorAll('img')).filter(i => !(i.complete && i.naturalWidth > 0))
                         .map(i => i.getAttribute('src')),
      openSolutions: Array.from(main.querySelectorAll('.solution')).filter(s => !s.classList.contains('toggle-hidden'))
                          .length,
    });
  })
  .catch(e => done({failure: String(e)}));
"""
# Print styles added to each page before it is printed: a folded solution shows its title and a note, neither its
# body (left out of the PDF, not merely invisible) nor the button that would open it; code and outputs wrap instead
# of running off the page.
PRINT_CSS = """
.print-folded-note { display: none; }
@media print {
  .solution.print-folded > .admonition-title ~ * { display: none !important; }
  .solution.print-folded button.toggle-button { display: none !important; }
  .solution.print-folded .print-folded-note { display: inline; font-weight: normal; font-style: italic; }
  div.highlight pre, div.cell_output pre { white-space: pre-wrap; word-break: break-word; }
  .cell_output img { max-width: 100% !important; height: auto !important; }
}
"""
PDF_OPTIONS = {"paperWidth": 8.27, "paperHeight": 11.69,  # A4, in inches
               "marginTop": 0.5, "marginBottom": 0.6, "marginLeft": 0.5, "marginRight": 0.5,
               "printBackground": True, "preferCSSPageSize": False, "displayHeaderFooter": True,
               "headerTemplate": "<div></div>"}
FOOTER_TEMPLATE = ('<div style="font-size:8px; width:100%; margin:0 0.5in; display:flex; '
                   'justify-content:space-between; color:#555;"><span>{left}</span>'
                   '<span><span class="pageNumber"></span> / <span class="totalPages"></span></span></div>')


def toc_pages(toc: dict) -> list[str]:
    """Every page of the table of contents, in reading order: the root, then each part's chapters."""
    pages = [toc["root"]] + [c["file"] for part in toc.get("parts", []) for c in part.get("chapters", [])
                             if c.get("file")]
    return [page.removesuffix(".md").removesuffix(".ipynb") for page in pages]


def pdf_name(page: str) -> str:
    """The file name of a page's PDF: its last path component (``notebooks/01_tangent_features`` -> ``01_...pdf``)."""
    return page.rsplit("/", 1)[-1] + ".pdf"


@functools.lru_cache(maxsize=None)
def _quiet_handler(directory: str):
    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=directory, **kwargs)

        def log_message(self, *args) -> None:
            pass

    return Handler


class LocalSite:
    """A build folder served on 127.0.0.1 (free port) for the length of a with-block.

    The pages are printed from http:// rather than file:// so that MathJax can load its fonts.
    """

    def __init__(self, folder: Path) -> None:
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _quiet_handler(str(folder)))
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> "LocalSite":
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


def start_chromium(profile: Path):
    """Headless Chromium driven by selenium through Debian's chromedriver (nothing is downloaded)."""
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        raise BookError('--pdf needs selenium: pip install -e ".[book]"') from None
    chromium = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    chromedriver = shutil.which("chromedriver")
    if chromium is None or chromedriver is None:
        raise BookError("--pdf needs headless Chromium and its driver: apt-get install -y chromium chromium-driver "
                        "(scripts/setup.sh installs them when run as root on Debian).")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", "--window-size=1280,1000", f"--user-data-dir={profile}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=chromedriver), options=options)
    driver.set_script_timeout(120)
    driver.set_page_load_timeout(120)
    return driver


def print_page(driver, url: str, footer: str) -> tuple[bytes, str]:
    """Open ``url``, wait until it is ready to print (MathJax done), print it; return (PDF bytes, its h1)."""
    driver.get(url)
    report = driver.execute_async_script(PRINT_READY_JS, PRINT_CSS)
    if "failure" in report:
        raise BookError(f"{url}: the page did not get ready to print ({report['failure']}).")
    if report["mathTypeset"] < report["mathSources"]:
        raise BookError(f"{url}: {report['mathSources'] - report['mathTypeset']} formulas were not typeset by "
                        f"MathJax; the PDF would show raw TeX.")
    if report["brokenImages"]:
        raise BookError(f"{url}: images that did not load: {report['brokenImages']}")
    if report["openSolutions"]:
        raise BookError(f"{url}: {report['openSolutions']} solution(s) are not folded (mark them :class: dropdown).")
    left = html.escape(f"{report['h1']} · {footer}")
    options = dict(PDF_OPTIONS, footerTemplate=FOOTER_TEMPLATE.format(left=left))
    pdf = driver.execute_cdp_cmd("Page.printToPDF", options)
    return base64.b64decode(pdf["data"]), report["h1"]


def write_pdfs(html_dir: Path, pdf_dir: Path, pages: list[str], *, title: str) -> list[Path]:
    """Print each page of ``pages`` (docnames) of the book in ``html_dir`` to ``pdf_dir``, plus the whole book.

    Returns the chapter PDFs in order, then the book's.
    """
    import tempfile

    try:
        from pypdf import PdfReader, PdfWriter
    except ImportError:
        raise BookError('--pdf needs pypdf: pip install -e ".[book]"') from None
    from eqhyp_utils.publishing import version

    names = [pdf_name(page) for page in pages]
    if len(set(names)) != len(names) or BOOK_PDF in names:
        raise BookError(f"two pages would print to the same PDF file: {names}")
    if pdf_dir.exists():
        shutil.rmtree(pdf_dir)
    pdf_dir.mkdir(parents=True)
    footer = f"{title}, version {version()}"
    written, book = [], PdfWriter()
    with tempfile.TemporaryDirectory(prefix="build_book-chromium-") as profile, LocalSite(html_dir) as site:
        driver = start_chromium(Path(profile))
        try:
            for page, name in zip(pages, names):
                data, heading = print_page(driver, f"{site.url}/{page}.html", footer)
                path = pdf_dir / name
                path.write_bytes(data)
                book.append(PdfReader(path), outline_item=heading or page)
                written.append(path)
        finally:
            driver.quit()
    book.add_metadata({"/Title": title, "/Subject": f"version {version()}"})
    with open(pdf_dir / BOOK_PDF, "wb") as stream:
        book.write(stream)
    return written + [pdf_dir / BOOK_PDF]


def check_jupyter_book() -> None:
    try:
        import jupyter_book
    except ImportError as exc:
        raise BookError('jupyter-book is not installed. Install the book tools with: pip install -e ".[book]"') from exc
    if not jupyter_book.__version__.startswith("1."):
        raise BookError(f"jupyter-book {jupyter_book.__version__} found; this book needs 1.0.x "
                        f'(2.x fetches its theme online). Install it with: pip install "jupyter-book>=1.0.2,<2"')


def build_book(*, class_edition: bool = False, notebooks_dir: Path | None = None, output: Path | None = None,
               quiet: bool = False, pdf: bool = False) -> Path:
    """Build one edition of the book; return the path of its index.html. Raises BookError on any problem.

    With ``pdf``, also print every page of the table of contents to OUTPUT/pdf/ (see ``write_pdfs``).
    """
    import yaml

    from eqhyp_utils.publishing import colab_problem

    url = publishing_repository()
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
    config = published_config(config, url)
    if class_edition:
        config = class_edition_config(config)

    stage, html_dir = output / "source", output / "html"
    stage_sources(BOOK_DIR, notebooks, toc, config, stage, class_edition=class_edition)
    colab_warning = colab_problem(retarget_stage(stage, url), url)
    if colab_warning:
        print(colab_warning, file=sys.stderr, flush=True)
    for previous in (html_dir, output / "pdf"):  # no PDFs of an older build next to the new pages
        if previous.exists():
            shutil.rmtree(previous)
    status = run_sphinx(stage, html_dir, output / ".doctrees", quiet)
    index = html_dir / "index.html"
    if isinstance(status, Exception):
        raise BookError(f"Sphinx stopped with {type(status).__name__}: {status}")
    if status != 0 or not index.is_file():
        raise BookError(f"the build failed or produced warnings (status {status}); see the messages above.")
    check_published_links(html_dir, config, [CHAPTER_PREFIX + p.stem for p in notebooks])
    if pdf:
        print_book(output)
    return index


def print_book(output: Path) -> list[Path]:
    """Print the book built in ``output`` (its html/, with the toc and config staged in source/) to output/pdf/."""
    import yaml

    output = Path(output).resolve()
    stage = output / "source"
    if not (output / "html" / "index.html").is_file() or not (stage / "_toc.yml").is_file():
        raise BookError(f"no built book in {output}: build it first (without --pdf, or with it).")
    toc = yaml.safe_load((stage / "_toc.yml").read_text(encoding="utf-8"))
    config = yaml.safe_load((stage / "_config.yml").read_text(encoding="utf-8"))
    return write_pdfs(output / "html", output / "pdf", toc_pages(toc), title=config.get("title", "Course"))


def command_line() -> argparse.ArgumentParser:
    """The script's options (also used by the tests to check the commands that call it)."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--class-edition", action="store_true", help="hide every solution (default output "
                        "book/_build/class)")
    parser.add_argument("--notebooks", type=Path, default=None, help="take the chapters from this folder's "
                        "*.ipynb, in name order, instead of book/_toc.yml and notebooks/")
    parser.add_argument("--output", type=Path, default=None, help="build folder (default book/_build, or "
                        "book/_build/class with --class-edition)")
    parser.add_argument("--quiet", action="store_true", help="print warnings and the result only")
    parser.add_argument("--pdf", action="store_true", help="also print one PDF per chapter and one for the whole "
                        "book (OUTPUT/pdf; needs headless Chromium)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = command_line().parse_args(argv)
    edition = "class" if args.class_edition else "full"
    start = time.perf_counter()
    try:
        index = build_book(class_edition=args.class_edition, notebooks_dir=args.notebooks, output=args.output,
                           quiet=args.quiet)
        built = time.perf_counter()
        print(f"Built the {edition} edition in {built - start:.1f} s. Open {index}", flush=True)
        if args.pdf:
            pdfs = print_book(index.parent.parent)
            print(f"Printed {len(pdfs) - 1} chapter PDFs and {pdfs[-1].name} in {time.perf_counter() - built:.1f} s "
                  f"to {pdfs[-1].parent}")
    except BookError as exc:
        print(f"build_book: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
