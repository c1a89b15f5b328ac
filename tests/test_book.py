"""The course book: built offline from a small notebook set (both editions), then read in headless Chromium.

Checks, on every chapter page: HTTP 200 and a title, mathematics typeset by the bundled MathJax (no raw TeX left),
figures loaded, no error output; solutions folded in the full edition and absent from the class edition; launch
links to Colab and Binder (to the repository of pyproject.toml's [tool.eqhyp]); the version in the footer; no
resource fetched from outside the book; every image with alt text and the setup cell (the first code cell) folded;
an interactive figure (eqhyp_utils.interactive) drawn by the bundled plotly.js, redrawn with the precomputed view
when a control moves, its still image hidden on screen and printed; the printable chapters (--pdf): one PDF per
page of the table of contents and one for the book, each with its title as text, no solution in the class edition,
solutions folded in the full one, the interactive figure as its still image. The browser part and the PDFs need
Debian's `chromium` and `chromium-driver`; the build part needs the book tools (`pip install -e ".[book]"`). A last
test does the same for the real notebooks/ once every chapter listed in book/_toc.yml exists.
"""
from __future__ import annotations

import base64
import functools
import html as html_text
import importlib.util
import io
import json
import re
import shutil
import subprocess
import sys
import time
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
SETUP_CODE = "import matplotlib.pyplot as plt  # the setup cell"  # the fixture chapters' folded first code cell
FIGURE_ALT = "A made-up alignment profile rising and falling with the layer."
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


def _code(source: str, *outputs: dict, tags: tuple = (), alt: "str | None" = None) -> dict:
    """A code cell; ``tags`` as in a notebook (``hide-input`` folds its code), ``alt`` the text of its images."""
    metadata = {"tags": list(tags)} if tags else {}
    if alt is not None:
        metadata["mystnb"] = {"image": {"alt": alt}}
    return {"cell_type": "code", "metadata": metadata, "execution_count": 1, "source": source,
            "outputs": list(outputs)}


def _setup_cell() -> dict:
    """The first code cell of a chapter: its imports, folded in the book (the real chapters' convention)."""
    return _code(SETUP_CODE, tags=("hide-input",))


def _stream(text: str) -> dict:
    return {"output_type": "stream", "name": "stdout", "text": text}


def _figure(seed: int) -> dict:
    return {"output_type": "display_data", "metadata": {},
            "data": {"image/png": _figure_png(seed), "text/plain": "<Figure size 400x300 with 1 Axes>"}}


@functools.lru_cache(maxsize=None)
def interactive_figure():
    """The fixture's interactive figure: the EH explorer on a small grid (relu and tanh, two σ_b², two depths)."""
    from eqhyp_utils.interactive import equilibrium_explorer

    return equilibrium_explorer(activations=("relu", "tanh"), sigma_b2_values=(0.0, 0.05), depths=(6, 16))


def _interactive_cell() -> dict:
    """A cell showing the interactive figure, with the two outputs eqhyp_utils.interactive gives it."""
    from eqhyp_utils.interactive import figure_outputs

    figure = interactive_figure()
    outputs = [{"output_type": "display_data", **output} for output in figure_outputs(figure)]
    return _code("equilibrium_explorer(\n    activations=('relu', 'tanh'), sigma_b2_values=(0.0, 0.05), depths=(6, 16)\n)",
                 *outputs, alt=figure.alt)


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
    """Two small executed chapters in the course's conventions (+ a .md twin that must not become a page): a folded
    setup cell first, alt text on every figure, and in the first chapter an interactive figure."""
    folder.mkdir(parents=True, exist_ok=True)
    welcome = _notebook([
        _markdown("# Welcome\n\nThe variance $q_l$ and correlation $c_l$ of layer $l$, and the alignment\n\n"
                  "$$\nA_l = \\frac{y^\\top K_l\\, y}{\\lVert K_l \\rVert_F \\lVert y \\rVert^2},\n$$\n\n"
                  "measured layer by layer by {cite}`baratin2021`."),
        _markdown("## A recursion\n\n```{math}\n:label: eq-fixture-variance\n"
                  "q_l = \\sigma_w^2\\, \\mathbb{E}\\big[\\phi(\\sqrt{q_{l-1}}\\, z)^2\\big] + \\sigma_b^2\n```\n\n"
                  "Equation {eq}`eq-fixture-variance` has a fixed point $q^*$."),
        _setup_cell(),
        _code("plt.plot(range(8))", _figure(0), alt=FIGURE_ALT),
        _code("print('q* =', 0.194)", _stream("q* = 0.194\n")),
        _interactive_cell(),
    ])
    kernel = _notebook([
        _markdown("# Tangent features\n\nThe layer tangent kernel is $K_l = \\Phi_l \\Phi_l^\\top$."),
        _setup_cell(),
        _markdown("```{exercise} The kernel of a layer\n:label: ex-01-kernel\n\n"
                  "Write `layer_kernel(phi)` returning $\\Phi \\Phi^\\top$.\n```"),
        _code("import numpy as np\n\ndef layer_kernel(phi):\n"
              "    raise NotImplementedError(\"Exercise ex-01-kernel: return phi times its transpose\")"),
        _markdown("```{solution-start} ex-01-kernel\n:class: dropdown\n```"),
        _code(f"def layer_kernel(phi):\n    {SOLUTION_CODE}"),
        _markdown("```{solution-end}\n```"),
        _code("assert np.allclose(layer_kernel(np.eye(2)), np.eye(2))\nprint('self-check passed')",
              _stream("self-check passed\n")),
        _code("plt.plot(range(8))", _figure(1), alt=FIGURE_ALT),
    ])
    chapters = {"00_welcome": welcome, "01_tangent_features": kernel}
    for name in chapters_linked_from_book_pages():  # the book's own pages link these; they must exist
        chapters.setdefault(name, _notebook([_markdown(f"# {name}\n\nA chapter the book's pages link, $x^2$."),
                                             _setup_cell()]))
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
    from eqhyp_utils.interactive.html import PLOTLY_PATH

    for edition in ("full", "class"):
        with_figures = []
        for page in sorted(fixture_books[edition].rglob("*.html")):
            remote = [u for u in _resources(page).loaded if re.match(r"^(https?:)?//", u)]
            assert remote == [], f"{page} loads {remote}"
            text = page.read_text(encoding="utf-8")
            if "plotly-basic" in text or "eqhyp-ifig" in text:
                with_figures.append(page.relative_to(fixture_books[edition]).as_posix())
                # the one script an interactive figure adds loads plotly.js from the book itself, and nothing else
                assert text.count(f'"{PLOTLY_PATH}"') == text.count('class="eqhyp-ifig"') == 1, page
                assert 'getAttribute("data-content_root")' in text and '<html lang="en" data-content_root="../"' in text
        # plotly.js is bundled, and only the page with an interactive figure loads it
        assert with_figures == ["notebooks/00_welcome.html"], with_figures
        bundled = fixture_books[edition] / PLOTLY_PATH
        assert bundled.read_bytes() == (REPO_ROOT / "book" / "_vendor" / "plotly" / "plotly-basic.min.js").read_bytes()


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


def _pdf_images(path: Path) -> int:
    from pypdf import PdfReader

    return sum(len(page.images) for page in PdfReader(path).pages)


@needs_chromium
def test_pdfs_print_the_still_image_of_an_interactive_figure(fixture_books):
    from eqhyp_utils.interactive.html import NOTE

    for edition in ("full", "class"):
        pdf = fixture_books[edition].parent / "pdf" / "00_welcome.pdf"
        _, text = _pdf_text(pdf)
        # two raster figures: the plain one and the interactive figure's still image; neither its controls nor its note
        assert _pdf_images(pdf) == 2, f"{edition}: {_pdf_images(pdf)} images in {pdf.name}"
        assert "q* = 0.194" in text and "2 (edge of chaos)" not in text and NOTE not in text, text[-600:]
    assert _pdf_images(fixture_books["full"].parent / "pdf" / "01_tangent_features.pdf") == 1


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
    // an image whose alt is missing, blank or only its file (what Sphinx writes when a cell gives no alt text)
    imagesWithoutAlt: images.filter(i => {
      const alt = (i.getAttribute('alt') || '').trim(), src = i.getAttribute('src') || '';
      return !alt || alt === src || alt === src.split('/').pop() || /\\.(png|jpe?g|gif|svg|webp)$/i.test(alt);
    }).map(i => i.getAttribute('src')),
    firstCodeCell: (() => {
      const cell = main.querySelector('div.cell');
      if (!cell) return null;
      const source = cell.querySelector('.cell_input');
      return {tagged: cell.classList.contains('tag_hide-input'),
              sourceShown: !!source && source.offsetParent !== null && source.innerText.trim().length > 0,
              toggle: !!cell.querySelector('details > summary')};
    })(),
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


def chapter_reading_problems(report: dict) -> list[str]:
    """What breaks a chapter page's two reading rules: every image has a text alternative (alt), and the first code
    cell, the setup cell, is folded (tagged hide-input in the notebook: its code hidden until the reader opens it)."""
    problems = []
    if report["imagesWithoutAlt"]:
        problems.append(f"images without alt text (give the cell mystnb: image: alt): {report['imagesWithoutAlt']}")
    cell = report["firstCodeCell"]
    if cell is None:
        problems.append("no code cell: the first one (the setup cell) should be there, folded")
    elif not (cell["tagged"] and cell["toggle"]) or cell["sourceShown"]:
        problems.append(f"the first code cell (the setup cell) is not folded: tag it hide-input ({cell})")
    return problems


def chapter_urls(site: Site, html: Path) -> list[str]:
    pages = ["intro.html", "how_to_use.html", "notation.html", "bibliography.html", "publish.html"]
    pages += sorted(f"notebooks/{p.name}" for p in (html / "notebooks").glob("*.html"))
    return [f"{site.url}/{page}" for page in pages]


CODE_OVERFLOW_JS = """
return [...document.querySelectorAll('div.cell pre')]
  .filter(e => e.offsetParent !== null && e.scrollWidth > e.clientWidth + 1)
  .map(e => e.textContent.split('\\n').reduce((a, b) => a.length >= b.length ? a : b).slice(0, 100));
"""


def code_overflow_problems(driver) -> list[str]:
    """Code cells and text outputs of the page open in ``driver`` that scroll sideways at its window size (the
    notebooks' lines are at most 88 characters, and book/_theme/course.css sizes the code font to hold them)."""
    return [f"a code or output block scrolls sideways (its longest line: {line!r})"
            for line in driver.execute_script(CODE_OVERFLOW_JS)]


def check_book(driver, html: Path, *, class_edition: bool, screenshot: Path | None = None) -> list[str]:
    """Read every chapter page of the book in ``html``; return the problems found, page by page."""
    from selenium.webdriver.support.ui import WebDriverWait

    problems = []
    with Site(html) as site:
        for url in chapter_urls(site, html):
            report = read_page(driver, url)
            is_notebook = "/notebooks/" in url
            found = page_problems(report, expect_math=is_notebook or "notation" in url, expect_figure=False)
            if is_notebook:
                found += chapter_reading_problems(report)
                found += code_overflow_problems(driver)
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
def test_overflow_check_catches_a_code_line_wider_than_the_column(browser, tmp_path):
    line = "x = 1  # " + "y" * 80
    (tmp_path / "page.html").write_text(
        '<html><head><link rel="stylesheet" href="course.css"></head><body style="width:700px">'
        f'<div class="cell"><div class="highlight"><pre style="overflow:auto">{line}</pre></div></div>'
        f'<div class="cell"><div class="highlight"><pre style="overflow:auto">{line * 2}</pre></div></div>'
        "</body></html>", encoding="utf-8")
    (tmp_path / "course.css").write_text((REPO_ROOT / "book" / "_theme" / "course.css").read_text())
    with Site(tmp_path) as site:
        browser.get(f"{site.url}/page.html")
        problems = code_overflow_problems(browser)
    assert len(problems) == 1 and "yyyy" in problems[0], problems   # 89 characters fit, 178 do not


@needs_chromium
def test_reading_checks_catch_images_without_alt_and_an_unfolded_setup_cell(browser, tmp_path):
    cell = ('<div class="cell {tag} docutils container">{open}<div class="cell_input docutils container">'
            '<pre>import numpy as np</pre></div>{close}</div>')
    pages = {
        "bad.html": cell.format(tag="", open="", close="") + '<img src="a.png"><img src="b.png" alt="b.png">'
                    '<img src="c.png" alt="  "><img src="d.png" alt="A curve.">',
        "good.html": cell.format(tag="tag_hide-input", open='<details class="hide above-input"><summary>Show code'
                                 '</summary>', close="</details>") + '<img src="d.png" alt="A curve.">',
        "nocode.html": "<p>No code at all.</p>",
    }
    for name, body in pages.items():
        (tmp_path / name).write_text(f"<html><head><title>T</title></head><body><main><h1>T</h1>{body}</main>"
                                     f"</body></html>", encoding="utf-8")
    with Site(tmp_path) as site:
        found = {name: chapter_reading_problems(read_page(browser, f"{site.url}/{name}")) for name in pages}
    assert len(found["bad.html"]) == 2 and "['a.png', 'b.png', 'c.png']" in found["bad.html"][0], found
    assert "not folded" in found["bad.html"][1] and found["good.html"] == [], found
    assert found["nocode.html"] == ["no code cell: the first one (the setup cell) should be there, folded"]


# Waits until the page's interactive figure has been drawn (or has failed) and reports what it shows.
FIGURE_REPORT_JS = """
const done = arguments[arguments.length - 1];
const started = Date.now();
(function wait() {
  const box = document.querySelector('.eqhyp-ifig');
  if (!box) return done({failure: 'no interactive figure on the page'});
  if (box.getAttribute('data-failed')) return done({failure: box.getAttribute('data-failed')});
  if (!box.classList.contains('eqhyp-ifig-ready')) {
    return Date.now() - started > 30000 ? done({failure: 'not drawn within 30 s'}) : setTimeout(wait, 50);
  }
  const plot = box.querySelector('.eqhyp-ifig-plot'), output = box.closest('.cell_output');
  const still = output ? output.querySelector('img') : null;
  done({
    state: plot.getAttribute('data-state'),
    drawnByPlotly: plot.classList.contains('js-plotly-plot') && plot.querySelectorAll('svg.main-svg').length > 0,
    curves: plot.querySelectorAll('.scatterlayer .trace').length,
    traces: (plot.data || []).map(t => ({y: Array.from(t.y), x: Array.from(t.x)})),
    lines: ((plot.layout || {}).shapes || []).map(s => s.x0),
    title: ((plot.layout || {}).title || {}).text,
    stillShown: still ? getComputedStyle(still).display !== 'none' : null,
    liveShown: box.querySelector('.eqhyp-ifig-live').offsetParent !== null,
    noteShown: box.querySelector('.eqhyp-ifig-note').offsetParent !== null,
    outputs: Array.from(box.querySelectorAll('output')).map(o => o.textContent),
    resources: performance.getEntriesByType('resource').map(e => e.name),
  });
})();
"""
# Moves a control the way a reader does: a select to the option with this text, a slider to this position.
MOVE_CONTROL_JS = """
const [name, value] = arguments;
const input = document.querySelector('.eqhyp-ifig [data-control="' + name + '"]');
if (input.tagName === 'SELECT') {
  input.value = Array.from(input.options).find(o => o.textContent === value).value;
  input.dispatchEvent(new Event('change', {bubbles: true}));
} else {
  input.value = String(value);
  input.dispatchEvent(new Event('input', {bubbles: true}));
}
"""


def read_figure(driver) -> dict:
    report = driver.execute_async_script(FIGURE_REPORT_JS)
    assert "failure" not in report, f"{driver.current_url}: {report}"
    return report


def expected_view(state: tuple) -> dict:
    """What the page's data hold for ``state`` of the fixture's figure (the numbers the JS must show)."""
    from eqhyp_utils.interactive import plotly_data

    figure = interactive_figure()
    view = plotly_data(figure)["views"][figure.key(state)]
    return {"state": figure.key(state), "y": [t["y"] for t in view["traces"]], "lines": [l["x"] for l in view["lines"]]}


def check_interactive_figure(driver, site: Site) -> None:
    """The fixture's interactive figure in the browser: drawn by plotly.js, still image hidden on screen, each
    control redraws the precomputed view of the new state, and nothing is loaded from outside the book."""
    from selenium.webdriver.support.ui import WebDriverWait

    from eqhyp_utils.interactive.html import PLOTLY_PATH

    figure = interactive_figure()
    driver.get(f"{site.url}/notebooks/00_welcome.html")
    report = read_figure(driver)
    first = expected_view(figure.default_state)
    assert report["drawnByPlotly"] and report["curves"] == 2, report
    assert report["state"] == first["state"] and [t["y"] for t in report["traces"]] == first["y"]
    assert report["lines"] == first["lines"] == [8]  # relu at the edge of chaos, L = 16: l* = 8
    assert report["stillShown"] is False and report["liveShown"] and not report["noteShown"]
    assert report["outputs"] == ["0", "2 (edge of chaos)", "16"], report["outputs"]
    # the reader picks tanh: the σ_w² slider moves to tanh's own edge of chaos, the depth stays
    driver.execute_script(MOVE_CONTROL_JS, "activation", "tanh")
    WebDriverWait(driver, 10).until(lambda d: read_figure(d)["state"] != report["state"])
    tanh = read_figure(driver)
    edge = figure.options(2, ("tanh", 0.0))[2]
    second = expected_view(("tanh", 0.0, edge, 16))
    assert tanh["state"] == second["state"] and [t["y"] for t in tanh["traces"]] == second["y"] != first["y"]
    assert tanh["outputs"] == ["0", "1 (edge of chaos)", "16"] and tanh["lines"] == second["lines"]
    # ... then slides the depth down to L = 6: seven layers
    driver.execute_script(MOVE_CONTROL_JS, "depth", 0)
    WebDriverWait(driver, 10).until(lambda d: read_figure(d)["state"] != tanh["state"])
    shallow = read_figure(driver)
    third = expected_view(("tanh", 0.0, edge, 6))
    assert shallow["state"] == third["state"] and [t["y"] for t in shallow["traces"]] == third["y"]
    assert shallow["traces"][0]["x"] == [1, 2, 3, 4, 5, 6, 7] and shallow["outputs"][-1] == "6"
    assert "tanh" in shallow["title"] and "L = 6" in shallow["title"]
    # every request stayed in the book; plotly.js came from the book, once
    outside = [u for u in shallow["resources"] if not u.startswith(site.url + "/")]
    assert outside == [], outside
    assert [u for u in shallow["resources"] if "plotly" in u] == [f"{site.url}/{PLOTLY_PATH}"]
    # printed: the still image, not the interactive part
    driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    try:
        printed = read_figure(driver)
        assert printed["stillShown"] is True and not printed["liveShown"] and not printed["noteShown"], printed
    finally:
        driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})
    # a page without an interactive figure loads no plotly.js
    driver.get(f"{site.url}/notebooks/01_tangent_features.html")
    loaded = driver.execute_script("return [typeof window.Plotly, performance.getEntriesByType('resource')"
                                   ".map(e => e.name).filter(u => u.includes('plotly'))]")
    assert loaded == ["undefined", []], loaded


@needs_chromium
def test_interactive_figure_outside_the_book_keeps_its_still_image(browser, tmp_path):
    """In JupyterLab (a page without Sphinx's data-content_root) the script does nothing: the still image and a
    one-line note show, the controls do not, nothing is loaded; the same snippet on a page that has the attribute
    loads plotly.js from there and draws."""
    from eqhyp_utils.interactive import figure_outputs
    from eqhyp_utils.interactive.html import NOTE, PLOTLY_PATH

    still, snippet = figure_outputs(interactive_figure())
    (tmp_path / "still.png").write_bytes(base64.b64decode(still["data"]["image/png"]))
    (tmp_path / PLOTLY_PATH).parent.mkdir(parents=True)
    shutil.copy(REPO_ROOT / "book" / "_vendor" / "plotly" / "plotly-basic.min.js", tmp_path / PLOTLY_PATH)
    body = (f'<body><main><h1>T</h1><div class="cell_output"><img src="still.png" alt="still">'
            f'<div class="output text_html">{snippet["data"]["text/html"]}</div></div></main></body></html>')
    (tmp_path / "lab.html").write_text(f"<html><head><title>T</title></head>{body}", encoding="utf-8")
    (tmp_path / "book.html").write_text(f'<html data-content_root="./"><head><title>T</title></head>{body}',
                                        encoding="utf-8")
    with Site(tmp_path) as site:
        browser.get(f"{site.url}/lab.html")
        time.sleep(1.0)  # time for a script that would (wrongly) start
        lab = browser.execute_script("""
          const box = document.querySelector('.eqhyp-ifig'), img = document.querySelector('img');
          return {text: box.innerText.trim(), live: box.querySelector('.eqhyp-ifig-live').offsetParent !== null,
                  still: img.offsetParent !== null && img.naturalWidth > 0, plotly: typeof window.Plotly,
                  started: box.getAttribute('data-started'),
                  loaded: performance.getEntriesByType('resource').map(e => e.name.split('/').pop())
                                   .filter(name => name !== 'favicon.ico')};""")
        assert lab == {"text": NOTE, "live": False, "still": True, "plotly": "undefined", "started": None,
                       "loaded": ["still.png"]}, lab
        browser.get(f"{site.url}/book.html")
        book = read_figure(browser)
        assert book["drawnByPlotly"] and book["stillShown"] is False and not book["noteShown"]


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
        # the setup cell is folded until the reader opens it
        assert SETUP_CODE not in welcome["text"] and not welcome["firstCodeCell"]["sourceShown"]
        browser.find_element("css selector", "div.cell.tag_hide-input details > summary").click()
        WebDriverWait(browser, 10).until(lambda driver: read_page_now(driver)["firstCodeCell"]["sourceShown"])
        assert SETUP_CODE in read_page_now(browser)["text"]
        check_interactive_figure(browser, site)


@needs_chromium
def test_class_edition_in_the_browser(browser, fixture_books):
    html = fixture_books["class"]
    assert check_book(browser, html, class_edition=True) == []
    with Site(html) as site:
        report = read_page(browser, f"{site.url}/notebooks/01_tangent_features.html")
        browser.get(f"{site.url}/notebooks/00_welcome.html")
        figure = read_figure(browser)  # the class edition keeps the outputs, the interactive figure too
    assert report["solutions"] == [] and "phi.T" not in report["text"] and "The kernel of a layer" in report["text"]
    assert figure["drawnByPlotly"] and figure["stillShown"] is False


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
