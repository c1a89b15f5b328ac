"""The course book: built offline from a small notebook set (both editions), then read in headless Chromium.

Checks, on every chapter page: HTTP 200 and a title, mathematics typeset by the bundled MathJax (no raw TeX left),
figures loaded, no error output; solutions folded in the full edition and absent from the class edition; launch
links to Colab and Binder (to the repository of pyproject.toml's [tool.eqhyp]); the version in the footer; no
resource fetched from outside the book; the printable chapters (--pdf): one PDF per page of the table of contents
and one for the book, each with its title as text, no solution in the class edition, solutions folded in the full
one. The browser part and the PDFs need Debian's `chromium` and `chromium-driver`; the build part needs the book
tools (`pip install -e ".[book]"`). A last test does the same for the real notebooks/ once every chapter listed in
book/_toc.yml exists.
"""
from __future__ import annotations

import base64
import html as html_text
import importlib.util
import io
import json
import re
import shutil
import subprocess
import sys
import urllib.request
from html.parser import HTMLParser
from pathlib import Path

import pytest

pytest.importorskip("jupyter_book", reason='the book tools are not installed: pip install -e ".[book]"')

from eqhyp_utils import __version__  # noqa: E402
from eqhyp_utils.publishing import github_slug, repository_url  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parent.parent
BUILD_SCRIPT = REPO_ROOT / "scripts" / "build_book.py"
REPOSITORY = github_slug(repository_url())  # OWNER/NAME, as in the launch links
SOLUTION_CODE = "return phi @ phi.T"  # appears only inside the fixture's solution
pytestmark = pytest.mark.book

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None or CHROMEDRIVER is None,
    reason="headless Chromium is not installed: apt-get install -y chromium chromium-driver")


# --------------------------------------------------------------------------------------------- fixture notebooks

def _figure_png(seed: int) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    values = np.random.default_rng(seed).random(8)
    fig, ax = plt.subplots(figsize=(4, 3))
    ax.plot(np.arange(1, 9), values, marker="o")
    ax.set(xlabel="layer $l$", ylabel="alignment $A_l$", title="A made-up profile")
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=60)
    plt.close(fig)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _markdown(text: str) -> dict:
    return {"cell_type": "markdown", "metadata": {}, "source": text}


def _code(source: str, *outputs: dict) -> dict:
    return {"cell_type": "code", "metadata": {}, "execution_count": 1, "source": source, "outputs": list(outputs)}


def _stream(text: str) -> dict:
    return {"output_type": "stream", "name": "stdout", "text": text}


def _figure(seed: int) -> dict:
    return {"output_type": "display_data", "metadata": {},
            "data": {"image/png": _figure_png(seed), "text/plain": "<Figure size 400x300 with 1 Axes>"}}


def _notebook(cells: list[dict]) -> dict:
    cells = [{"id": f"cell-{index}", **cell} for index, cell in enumerate(cells)]
    return {"nbformat": 4, "nbformat_minor": 5, "cells": cells,
            "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
                         "language_info": {"name": "python", "version": "3.11"},
                         "jupytext": {"formats": "ipynb,md:myst"}}}


def chapters_linked_from_book_pages() -> set[str]:
    """Notebook names the book's own pages (intro, how-to, classroom kit) link with {doc}`notebooks/...`."""
    return {match for page in (REPO_ROOT / "book").rglob("*.md")
            for match in re.findall(r"\{doc\}`(?:[^`<]*<)?/?notebooks/([\w-]+)>?`", page.read_text(encoding="utf-8"))}


def write_fixture_notebooks(folder: Path) -> list[str]:
    """Two small executed chapters in the course's conventions (+ a .md twin that must not become a page)."""
    folder.mkdir(parents=True, exist_ok=True)
    welcome = _notebook([
        _markdown("# Welcome\n\nThe variance $q_l$ and correlation $c_l$ of layer $l$, and the alignment\n\n"
                  "$$\nA_l = \\frac{y^\\top K_l\\, y}{\\lVert K_l \\rVert_F \\lVert y \\rVert^2},\n$$\n\n"
                  "measured layer by layer by {cite}`baratin2021`."),
        _markdown("## A recursion\n\n```{math}\n:label: eq-fixture-variance\n"
                  "q_l = \\sigma_w^2\\, \\mathbb{E}\\big[\\phi(\\sqrt{q_{l-1}}\\, z)^2\\big] + \\sigma_b^2\n```\n\n"
                  "Equation {eq}`eq-fixture-variance` has a fixed point $q^*$."),
        _code("import matplotlib.pyplot as plt\nplt.plot(range(8))", _figure(0)),
        _code("print('q* =', 0.194)", _stream("q* = 0.194\n")),
    ])
    kernel = _notebook([
        _markdown("# Tangent features\n\nThe layer tangent kernel is $K_l = \\Phi_l \\Phi_l^\\top$."),
        _markdown("```{exercise} The kernel of a layer\n:label: ex-01-kernel\n\n"
                  "Write `layer_kernel(phi)` returning $\\Phi \\Phi^\\top$.\n```"),
        _code("import numpy as np\n\ndef layer_kernel(phi):\n"
              "    raise NotImplementedError(\"Exercise ex-01-kernel: return phi times its transpose\")"),
        _markdown("```{solution-start} ex-01-kernel\n:class: dropdown\n```"),
        _code(f"def layer_kernel(phi):\n    {SOLUTION_CODE}"),
        _markdown("```{solution-end}\n```"),
        _code("assert np.allclose(layer_kernel(np.eye(2)), np.eye(2))\nprint('self-check passed')",
              _stream("self-check passed\n")),
        _code("plt.plot(range(8))", _figure(1)),
    ])
    chapters = {"00_welcome": welcome, "01_tangent_features": kernel}
    for name in chapters_linked_from_book_pages():  # the book's own pages link these; they must exist
        chapters.setdefault(name, _notebook([_markdown(f"# {name}\n\nA chapter the book's pages link, $x^2$.")]))
    names = sorted(chapters)
    for name in names:
        (folder / f"{name}.ipynb").write_text(json.dumps(chapters[name], indent=1), encoding="utf-8")
    (folder / "00_welcome.md").write_text("---\njupytext: {}\n---\n\n# Welcome (twin)\n", encoding="utf-8")
    return names


# --------------------------------------------------------------------------------------------------- building

def build(notebooks: Path | None, output: Path, *, class_edition: bool, pdf: bool = False
          ) -> subprocess.CompletedProcess:
    command = [sys.executable, str(BUILD_SCRIPT), "--output", str(output), "--quiet"]
    command += ["--notebooks", str(notebooks)] if notebooks is not None else []
    command += ["--class-edition"] if class_edition else []
    command += ["--pdf"] if pdf else []
    return subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def fixture_books(tmp_path_factory) -> dict:
    """Both editions of the fixture book, built once; with their PDFs where headless Chromium is installed."""
    root = tmp_path_factory.mktemp("book")
    names = write_fixture_notebooks(root / "notebooks")
    pdf = CHROMIUM is not None and CHROMEDRIVER is not None
    books = {"names": names}
    for edition in ("full", "class"):
        result = build(root / "notebooks", root / edition, class_edition=edition == "class", pdf=pdf)
        assert result.returncode == 0, f"{edition} edition failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
        assert re.search(r"Built the \w+ edition in [\d.]+ s\. Open .*index\.html", result.stdout), result.stdout
        if pdf:
            assert re.search(r"Printed \d+ chapter PDFs and book\.pdf in [\d.]+ s", result.stdout), result.stdout
        books[edition] = root / edition / "html"
    return books


class _Resources(HTMLParser):
    """Collect every URL a page loads by itself (scripts, stylesheets, images, frames) and the anchors' hrefs."""

    def __init__(self) -> None:
        super().__init__()
        self.loaded: list[str] = []
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        attrs = dict(attrs)
        if tag in ("script", "img", "iframe", "source", "video", "audio") and attrs.get("src"):
            self.loaded.append(attrs["src"])
        if tag == "link" and attrs.get("href") and not {"canonical", "alternate"} & set(
                (attrs.get("rel") or "").split()):
            self.loaded.append(attrs["href"])
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])


def _resources(page: Path) -> _Resources:
    parser = _Resources()
    parser.feed(page.read_text(encoding="utf-8"))
    return parser


def test_md_twins_are_not_pages_and_notebooks_keep_their_outputs(fixture_books):
    html = fixture_books["full"]
    staged = html.parent / "source" / "notebooks"
    assert sorted(p.name for p in staged.iterdir()) == [f"{n}.ipynb" for n in fixture_books["names"]]
    page = (html / "notebooks" / "00_welcome.html").read_text(encoding="utf-8")
    assert "Welcome (twin)" not in page and "q* = 0.194" in page


def test_pages_load_nothing_from_outside_the_book(fixture_books):
    for edition in ("full", "class"):
        for page in sorted(fixture_books[edition].rglob("*.html")):
            remote = [u for u in _resources(page).loaded if re.match(r"^(https?:)?//", u)]
            assert remote == [], f"{page} loads {remote}"


def test_mathjax_is_the_bundled_copy_loaded_once(fixture_books):
    html = fixture_books["full"]
    assert (html / "_static" / "mathjax" / "output" / "chtml" / "fonts" / "woff-v2" / "MathJax_Main-Regular.woff").is_file()
    for name in fixture_books["names"]:
        scripts = [u.split("?")[0] for u in _resources(html / "notebooks" / f"{name}.html").loaded
                   if "mathjax" in u.lower()]
        assert scripts == ["../_static/mathjax/tex-chtml-full.js"], scripts


def test_launch_links_open_the_repository_notebook_in_colab_and_binder(fixture_books):
    links = _resources(fixture_books["full"] / "notebooks" / "01_tangent_features.html").links
    colab = f"https://colab.research.google.com/github/{REPOSITORY}/blob/main/notebooks/01_tangent_features.ipynb"
    binder = f"https://mybinder.org/v2/gh/{REPOSITORY}/main?urlpath=lab/tree/notebooks/01_tangent_features.ipynb"
    assert colab in links, [u for u in links if "colab" in u]
    assert binder in links, [u for u in links if "binder" in u]


def _visible_text(page: Path) -> str:
    return re.sub(r"<[^>]+>", "", page.read_text(encoding="utf-8"))


def test_footer_shows_the_version(fixture_books):
    for edition in ("full", "class"):
        for page in ("intro.html", "notebooks/01_tangent_features.html"):
            text = " ".join(_visible_text(fixture_books[edition] / page).split())
            assert f"Version {__version__} (changes)" in text, f"{edition}/{page}"


def test_class_edition_drops_every_solution_and_keeps_the_exercise(fixture_books):
    full = fixture_books["full"] / "notebooks" / "01_tangent_features.html"
    lesson = fixture_books["class"] / "notebooks" / "01_tangent_features.html"
    assert SOLUTION_CODE in _visible_text(full) and 'class="solution dropdown' in full.read_text(encoding="utf-8")
    text = _visible_text(lesson)
    assert "The kernel of a layer" in text and "NotImplementedError" in text and "self-check passed" in text
    assert SOLUTION_CODE not in text and 'class="solution' not in lesson.read_text(encoding="utf-8")
    assert "class edition" in text.lower() and "class edition" not in _visible_text(full).lower()


def test_build_refuses_a_notebook_with_an_error_output(tmp_path):
    folder = tmp_path / "notebooks"
    write_fixture_notebooks(folder)
    path = folder / "00_welcome.ipynb"
    notebook = json.loads(path.read_text(encoding="utf-8"))
    notebook["cells"][3]["outputs"] = [{"output_type": "error", "ename": "ValueError", "evalue": "boom",
                                        "traceback": ["Traceback (most recent call last)", "ValueError: boom"]}]
    path.write_text(json.dumps(notebook), encoding="utf-8")
    result = build(folder, tmp_path / "out", class_edition=False)
    assert result.returncode == 1 and "cell 3" in result.stderr and "ValueError: boom" in result.stderr


# ------------------------------------------------------------------------------------------------------- PDFs

def _toc_pages(build_dir: Path) -> list[str]:
    """The pages of the staged table of contents, in reading order."""
    import yaml

    toc = yaml.safe_load((build_dir / "source" / "_toc.yml").read_text(encoding="utf-8"))
    return [toc["root"]] + [c["file"] for part in toc["parts"] for c in part["chapters"]]


def _page_title(html: Path, page: str) -> str:
    """The title of a built page, as its <title> gives it (before the book's name)."""
    title = re.search(r"<title>(.*?)</title>", (html / f"{page}.html").read_text(encoding="utf-8"), re.S).group(1)
    return " ".join(html_text.unescape(title).split(" \u2014 ")[0].split())


def _pdf_text(path: Path) -> tuple[int, str]:
    from pypdf import PdfReader

    reader = PdfReader(path)
    return len(reader.pages), " ".join(" ".join(page.extract_text() for page in reader.pages).split())


def _pdf_links(path: Path) -> list[str]:
    """The web addresses a PDF links to (links within the document are left out)."""
    from pypdf import PdfReader

    annotations = [a.get_object() for page in PdfReader(path).pages for a in page.get("/Annots") or []]
    return [str(a["/A"]["/URI"]) for a in annotations if "/A" in a and "/URI" in a["/A"]]


def assert_chapter_pdfs(html: Path, edition: str) -> list[str]:
    """Every page of the table of contents has its PDF, with pages, its title as text and the version in the
    footer, and book.pdf is all of them in order, one outline entry per chapter. Returns the pages."""
    from pypdf import PdfReader

    pdf_dir = html.parent / "pdf"
    pages = _toc_pages(html.parent)
    expected = [page.rsplit("/", 1)[-1] + ".pdf" for page in pages]
    assert sorted(p.name for p in pdf_dir.iterdir()) == sorted(expected + ["book.pdf"])
    total, titles = 0, []
    for page, name in zip(pages, expected):
        count, text = _pdf_text(pdf_dir / name)
        title = _page_title(html, page)
        assert count >= 1 and title in text, f"{edition}/{name}: {count} pages, {title!r} not in {text[:300]!r}"
        assert f"version {__version__}" in text, f"{edition}/{name}: no version in the footer"
        local = [url for url in _pdf_links(pdf_dir / name) if "127.0.0.1" in url or "localhost" in url]
        assert local == [], f"{edition}/{name} links to the server it was printed from: {local}"
        total, titles = total + count, titles + [title]
    book = PdfReader(pdf_dir / "book.pdf")
    assert len(book.pages) == total
    assert [" ".join(item.title.split()) for item in book.outline] == titles
    return pages


@needs_chromium
def test_pdfs_one_per_chapter_and_one_for_the_book(fixture_books):
    for edition in ("full", "class"):
        pages = assert_chapter_pdfs(fixture_books[edition], edition)
        assert len(pages) >= 4 and "notebooks/01_tangent_features" in pages


@needs_chromium
def test_pdfs_fold_the_solutions_of_the_full_edition_and_leave_them_out_of_the_class_edition(fixture_books):
    pdfs = {edition: fixture_books[edition].parent / "pdf" for edition in ("full", "class")}
    _, full = _pdf_text(pdfs["full"] / "01_tangent_features.pdf")
    assert "The kernel of a layer" in full and "self-check passed" in full
    assert "Solution to" in full and "folded" in full and SOLUTION_CODE not in full and "phi.T" not in full
    for path in sorted(pdfs["class"].glob("*.pdf")):
        _, text = _pdf_text(path)
        assert SOLUTION_CODE not in text and "phi.T" not in text and "Solution to" not in text, path.name
    _, lesson = _pdf_text(pdfs["class"] / "01_tangent_features.pdf")
    assert "The kernel of a layer" in lesson and "NotImplementedError" in lesson


# ---------------------------------------------------------------------------------------------------- browser

# Runs in the page once MathJax has finished: what a reader sees, reduced to the facts the tests check.
PAGE_REPORT_JS = """
const done = arguments[arguments.length - 1];
const loaded = new Promise(r => document.readyState === 'complete' ? r() : window.addEventListener('load', r));
loaded.then(() => (window.MathJax && MathJax.startup && MathJax.startup.promise) || null).then(() => {
  const main = document.querySelector('main') || document.body;
  const prose = main.cloneNode(true);
  prose.querySelectorAll('pre, code, script, style, mjx-container, .highlight').forEach(e => e.remove());
  const images = Array.from(main.querySelectorAll('img'));
  done({
    title: document.title,
    h1: (main.querySelector('h1') || {textContent: ''}).textContent,
    mathSources: main.querySelectorAll('.math').length,
    mathTypeset: main.querySelectorAll('mjx-container').length,
    prose: prose.textContent,
    images: images.map(i => ({src: i.getAttribute('src'), ok: i.complete && i.naturalWidth > 0})),
    errors: main.querySelectorAll('.output.error, .output.traceback, .traceback, .cell_output .ansi-red-fg').length,
    text: main.innerText,
    solutions: Array.from(main.querySelectorAll('.solution')).map(s => ({
      dropdown: s.classList.contains('dropdown'),
      bodyShown: Array.from(s.querySelectorAll('section, .admonition-body, .toggle-details__container'))
                    .some(b => b.offsetParent !== null && b.innerText.trim().length > 0),
      detailsOpen: Array.from(s.querySelectorAll('details')).some(d => d.open),
    })),
  });
}).catch(e => done({failure: String(e)}));
"""
RAW_TEX = ("$$", "\\(", "\\)", "\\[", "\\]", "\\begin{", "\\frac")


def _load_build_script():
    """scripts/build_book.py as a module: the tests serve and read the book with its own server and browser."""
    spec = importlib.util.spec_from_file_location("build_book", BUILD_SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


build_book = _load_build_script()
Site = build_book.LocalSite


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    driver = build_book.start_chromium(tmp_path_factory.mktemp("chromium-profile"))
    driver.set_script_timeout(60)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


def read_page_now(driver) -> dict:
    """Report what the page open in the browser shows now."""
    report = driver.execute_async_script(PAGE_REPORT_JS)
    assert "failure" not in report, f"{driver.current_url}: {report}"
    return report


def read_page(driver, url: str) -> dict:
    """Open ``url`` (which must answer 200) in the browser and report what it shows."""
    with urllib.request.urlopen(url, timeout=30) as response:
        assert response.status == 200, f"{url}: HTTP {response.status}"
    driver.get(url)
    return read_page_now(driver)


def page_problems(report: dict, *, expect_math: bool, expect_figure: bool) -> list[str]:
    """What is wrong with a page as a reader sees it (empty list: nothing)."""
    problems = []
    if not report["title"].strip() or not report["h1"].strip():
        problems.append(f"no title (title={report['title']!r}, h1={report['h1']!r})")
    if expect_math and report["mathTypeset"] == 0:
        problems.append("no typeset mathematics (no mjx-container)")
    if report["mathTypeset"] < report["mathSources"]:
        problems.append(f"{report['mathSources'] - report['mathTypeset']} formulas left untypeset")
    raw = [token for token in RAW_TEX if token in report["prose"]]
    if raw:
        problems.append(f"raw TeX left in the text: {raw}")
    broken = [image["src"] for image in report["images"] if not image["ok"]]
    if broken:
        problems.append(f"images that did not load: {broken}")
    if expect_figure and not any(image["ok"] for image in report["images"]):
        problems.append("no figure")
    if report["errors"] or "Traceback" in report["text"]:
        problems.append("an error output is shown")
    return problems


def chapter_urls(site: Site, html: Path) -> list[str]:
    pages = ["intro.html", "how_to_use.html", "notation.html", "bibliography.html", "publish.html"]
    pages += sorted(f"notebooks/{p.name}" for p in (html / "notebooks").glob("*.html"))
    return [f"{site.url}/{page}" for page in pages]


def check_book(driver, html: Path, *, class_edition: bool, screenshot: Path | None = None) -> list[str]:
    """Read every chapter page of the book in ``html``; return the problems found, page by page."""
    from selenium.webdriver.support.ui import WebDriverWait

    problems = []
    with Site(html) as site:
        for url in chapter_urls(site, html):
            report = read_page(driver, url)
            is_notebook = "/notebooks/" in url
            found = page_problems(report, expect_math=is_notebook or "notation" in url, expect_figure=False)
            for solution in report["solutions"]:
                if class_edition:
                    found.append("a solution is shown in the class edition")
                elif not solution["dropdown"] or solution["bodyShown"] or solution["detailsOpen"]:
                    found.append(f"a solution is not folded: {solution}")
            problems += [f"{url}: {p}" for p in found]
            if screenshot is not None and url.endswith("01_tangent_features.html"):
                driver.save_screenshot(str(screenshot))
        driver.get(f"{site.url}/index.html")  # redirects to the first page
        WebDriverWait(driver, 30).until(lambda d: d.current_url.endswith("/intro.html"))
        if not read_page_now(driver)["title"]:
            problems.append("index.html does not lead to the first page")
    return problems


@needs_chromium
def test_page_checks_catch_raw_tex_broken_images_and_tracebacks(browser, tmp_path):
    (tmp_path / "bad.html").write_text(
        "<html><head><title>Bad</title></head><body><main><h1>Bad</h1><p>Left as is: $$x^2$$</p>"
        "<img src='missing.png'><div class='output traceback'>Traceback (most recent call last)</div>"
        "</main></body></html>", encoding="utf-8")
    with Site(tmp_path) as site:
        problems = page_problems(read_page(browser, f"{site.url}/bad.html"), expect_math=True, expect_figure=True)
    assert len(problems) == 5, problems  # no math, raw TeX, a broken image, no figure, an error


@needs_chromium
def test_full_edition_in_the_browser(browser, fixture_books):
    from selenium.webdriver.support.ui import WebDriverWait

    html = fixture_books["full"]
    screenshot = html.parent / "screenshot.png"
    assert check_book(browser, html, class_edition=False, screenshot=screenshot) == []
    assert screenshot.stat().st_size > 10_000
    with Site(html) as site:
        for name, expect_figure in zip(fixture_books["names"], (True, True)):
            report = read_page(browser, f"{site.url}/notebooks/{name}.html")
            assert page_problems(report, expect_math=True, expect_figure=expect_figure) == []
        report = read_page(browser, f"{site.url}/notebooks/01_tangent_features.html")
        assert len(report["solutions"]) == 1 and "self-check passed" in report["text"]
        assert "phi.T" not in report["text"]  # folded: the solution's code is not visible
        browser.find_element("css selector", ".solution button.toggle-button").click()
        WebDriverWait(browser, 10).until(lambda driver: read_page_now(driver)["solutions"][0]["bodyShown"])
        assert SOLUTION_CODE in read_page_now(browser)["text"]  # ... until the reader opens it
        bibliography = read_page(browser, f"{site.url}/bibliography.html")
        assert "implicit regularization via neural feature alignment" in bibliography["text"].lower()
        welcome = read_page(browser, f"{site.url}/notebooks/00_welcome.html")
        assert "Baratin et al., 2021" in welcome["text"]  # the citation resolved to an author-year reference


@needs_chromium
def test_class_edition_in_the_browser(browser, fixture_books):
    html = fixture_books["class"]
    assert check_book(browser, html, class_edition=True) == []
    with Site(html) as site:
        report = read_page(browser, f"{site.url}/notebooks/01_tangent_features.html")
    assert report["solutions"] == [] and "phi.T" not in report["text"] and "The kernel of a layer" in report["text"]


# ------------------------------------------------------------------------------------------- the real notebooks

def _real_chapters() -> list[str]:
    """The notebook chapters the book's table of contents lists (e.g. "notebooks/00_welcome")."""
    import yaml

    toc = yaml.safe_load((REPO_ROOT / "book" / "_toc.yml").read_text(encoding="utf-8"))
    return [c["file"] for part in toc["parts"] for c in part["chapters"] if c["file"].startswith("notebooks/")]


def _real_chapters_missing() -> list[str]:
    return [f for f in _real_chapters() if not (REPO_ROOT / f"{f}.ipynb").is_file()]


@needs_chromium
def test_real_course_book(browser, tmp_path):
    missing = _real_chapters_missing()
    if missing:
        pytest.skip(f"the course notebooks are not all written yet (missing {missing})")
    problems = []
    for edition in ("full", "class"):
        # the full edition with its PDFs: every real chapter prints (the fixture book checks the class edition's)
        result = build(None, tmp_path / edition, class_edition=edition == "class", pdf=edition == "full")
        assert result.returncode == 0, f"{edition} edition:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
        if edition == "full":
            pages = assert_chapter_pdfs(tmp_path / edition / "html", edition)
            assert set(_real_chapters()) <= set(pages), (sorted(_real_chapters()), pages)
        screenshot = REPO_ROOT / "book" / "_build" / "screenshot.png" if edition == "full" else None
        if screenshot is not None:
            screenshot.parent.mkdir(parents=True, exist_ok=True)
        problems += check_book(browser, tmp_path / edition / "html", class_edition=edition == "class",
                               screenshot=screenshot)
    assert problems == []
