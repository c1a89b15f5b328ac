"""The course is published from one repository URL and one version, by a workflow that runs the README's commands.

* The repository URL is ``$EQHYP_REPOSITORY`` when set (the publishing workflow sets it to the repository it runs
  in), else ``[tool.eqhyp] repository`` of pyproject.toml, read in one place and checked the same way. The book's
  configuration, its launch links, repository button and footer take it; the build rewrites the install and clone
  lines of its staged notebooks and pages to name it (never the repository's notebooks), checks the built pages'
  links, and refuses or loudly flags the placeholder repository.
* The stored texts (notebooks, book pages, changelog) name one repository, with one install line per notebook.
* binder/ is what Binder builds (its pins are checked in tests/test_packaging.py).
* ``.github/workflows/book.yml`` parses, runs the same test command as README.md and ``.ci/run``, builds with the same
  script, sets the repository override, publishes the full edition only from main and the class edition never.
* The package version, pyproject.toml's version, the book's footer and the newest release of CHANGELOG.md agree.

The built book itself (launch links, footer, PDFs) is also checked in tests/test_book.py.
"""
from __future__ import annotations

import importlib.util
import json
import re
import shlex
import tomllib
from pathlib import Path

import pytest

import eqhyp_utils
from eqhyp_utils.errors import InvalidInputError
from eqhyp_utils.publishing import (PLACEHOLDER_REPOSITORY, REPOSITORY_ENV, changelog_releases, colab_install_line,
                                    colab_problem, github_slug, latest_release, named_repositories, pip_requirement,
                                    placeholder_problem, repository_setting, repository_source, repository_url,
                                    retarget_notebook, retarget_text, version)

yaml = pytest.importorskip("yaml")

ROOT = Path(__file__).resolve().parent.parent
WORKFLOW = ROOT / ".github" / "workflows" / "book.yml"
TEST_COMMAND = "bash scripts/setup.sh && .venv/bin/python -m pytest"
BUILD_COMMAND = ".venv/bin/python scripts/build_book.py"
GITHUB_REPOSITORY = re.compile(r"https://github\.com/[A-Za-z0-9][A-Za-z0-9-]*/[A-Za-z0-9._-]+")
FORK = "https://github.com/a-teacher/their.course"  # a repository the course is published from, for the tests


@pytest.fixture(scope="module")
def build_book():
    spec = importlib.util.spec_from_file_location("build_book_for_tests", ROOT / "scripts" / "build_book.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def book_config() -> dict:
    return yaml.safe_load((ROOT / "book" / "_config.yml").read_text(encoding="utf-8"))


# ---------------------------------------------------------------------------------------------- repository URL

def test_the_repository_setting_is_one_github_url():
    url = repository_setting()
    assert url == tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["eqhyp"]["repository"]
    assert url == repository_url(environ={}) == f"https://github.com/{github_slug(url)}"
    assert pip_requirement(url) == f"eqhyp_utils @ git+{url}"


@pytest.mark.parametrize("bad", ["", "http://github.com/a/b", "https://github.com/a/b/", "https://github.com/a/b.git",
                                 "https://gitlab.com/a/b", "https://github.com/a", "https://github.com/a/b "])
def test_a_malformed_repository_setting_is_refused(tmp_path, bad):
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(f'[tool.eqhyp]\nrepository = "{bad}"\n', encoding="utf-8")
    with pytest.raises(InvalidInputError, match=r"\[tool\.eqhyp\] repository .*OWNER/NAME"):
        repository_url(pyproject, environ={})
    if bad:  # an empty override is no override
        with pytest.raises(InvalidInputError, match=rf"{REPOSITORY_ENV} must look like .*OWNER/NAME"):
            repository_url(environ={REPOSITORY_ENV: bad})
    (tmp_path / "empty.toml").write_text("[project]\n", encoding="utf-8")
    with pytest.raises(InvalidInputError, match=r"\[tool\.eqhyp\]"):
        repository_url(tmp_path / "empty.toml", environ={})


def test_the_environment_variable_overrides_the_setting():
    assert repository_url(environ={REPOSITORY_ENV: FORK}) == FORK
    assert repository_url(environ={REPOSITORY_ENV: ""}) == repository_url(environ={}) == repository_setting()
    assert REPOSITORY_ENV in repository_source({REPOSITORY_ENV: FORK})
    assert "[tool.eqhyp]" in repository_source({})


def test_the_override_is_read_in_one_place():
    """Only eqhyp_utils/publishing.py reads the variable (other files may name it in their text)."""
    python_read = re.compile(r"(environ|getenv)\b[^\n]*" + REPOSITORY_ENV)
    shell_read = re.compile(r"\$\{?" + REPOSITORY_ENV)
    readers = []
    for path in [*(ROOT / "eqhyp_utils").rglob("*.py"), *(ROOT / "scripts").iterdir(), *(ROOT / "tests").glob("*.py"),
                 ROOT / ".ci" / "run", *(ROOT / "binder").iterdir()]:
        if not path.is_file() or path.name == "publishing.py":
            continue
        text = path.read_text(encoding="utf-8")
        if python_read.search(text) or (path.suffix != ".py" and shell_read.search(text)):
            readers.append(path.relative_to(ROOT).as_posix())
    assert readers == []
    publishing = (ROOT / "eqhyp_utils" / "publishing.py").read_text(encoding="utf-8")
    assert f'REPOSITORY_ENV = "{REPOSITORY_ENV}"' in publishing and "getenv" not in publishing
    assert len(re.findall(r"\.get\(REPOSITORY_ENV\)", publishing)) == 1  # in _override, which the rest calls


def test_the_book_config_leaves_the_url_to_the_build(build_book, book_config):
    text = (ROOT / "book" / "_config.yml").read_text(encoding="utf-8")
    assert "github.com" not in text and "url" not in book_config["repository"]
    config = build_book.published_config(book_config)
    assert config["repository"]["url"] == repository_url()
    assert config["repository"]["branch"] == "main" and config["repository"]["path_to_book"] == ""
    assert config["launch_buttons"]["colab_url"] and config["launch_buttons"]["binderhub_url"]
    assert config["launch_buttons"]["notebook_interface"] == "jupyterlab"
    forked = build_book.published_config(book_config, FORK)
    assert forked["repository"]["url"] == FORK and f"{FORK}/blob/main/CHANGELOG.md" in forked["html"]["extra_footer"]
    with pytest.raises(build_book.BookError, match="remove it"):
        build_book.published_config({**book_config, "repository": {"url": "https://github.com/someone/else"}})


def test_the_build_takes_the_override(build_book, book_config, monkeypatch):
    monkeypatch.setenv(REPOSITORY_ENV, FORK)
    assert build_book.publishing_repository() == FORK
    assert build_book.published_config(book_config)["repository"]["url"] == FORK
    monkeypatch.setenv(REPOSITORY_ENV, FORK + ".git")
    with pytest.raises(build_book.BookError, match=REPOSITORY_ENV):
        build_book.publishing_repository()


# ------------------------------------------------------------------------------------- launch links of the pages

def test_the_launch_links_open_the_repository_notebook_in_colab_and_binder(build_book, book_config):
    """The links tests/test_book.py finds in the built pages: the notebook in the repository, on main."""
    config = build_book.published_config(book_config, FORK)
    assert build_book.launch_links(config, "notebooks/01_tangent_features") == {
        "Colab": "https://colab.research.google.com/github/a-teacher/their.course/blob/main/notebooks/"
                 "01_tangent_features.ipynb",
        "Binder": "https://mybinder.org/v2/gh/a-teacher/their.course/main?urlpath=lab/tree/notebooks/"
                  "01_tangent_features.ipynb",
    }
    for page in build_book.chapters_from_toc(yaml.safe_load((ROOT / "book" / "_toc.yml").read_text(encoding="utf-8"))):
        links = build_book.launch_links(build_book.published_config(book_config), page)
        slug = github_slug(repository_url())
        assert links["Colab"].endswith(f"/github/{slug}/blob/main/{page}.ipynb")
        assert links["Binder"].endswith(f"/v2/gh/{slug}/main?urlpath=lab/tree/{page}.ipynb")
        assert (ROOT / f"{page}.ipynb").is_file(), "a launch link would open a notebook the repository lacks"


def _built_page(html_dir: Path, page: str, hrefs: list[str], code: str, download: str | None = None) -> None:
    """A chapter page as sphinx-book-theme writes it: links, and the code cell highlighted in spans."""
    import html

    links = "".join(f'<a href="{html.escape(h)}" class="btn">x</a>' for h in hrefs)
    cell = "".join(f'<span class="s2">{html.escape(word)}</span> ' for word in code.split(" "))
    (html_dir / page).parent.mkdir(parents=True, exist_ok=True)
    (html_dir / f"{page}.html").write_text(f"<html><body>{links}<pre>{cell}</pre></body></html>", encoding="utf-8")
    if download is not None:
        (html_dir / "_sources" / page).parent.mkdir(parents=True, exist_ok=True)
        (html_dir / "_sources" / f"{page}.ipynb").write_text(download, encoding="utf-8")


def test_the_build_checks_the_links_of_every_chapter_page(build_book, book_config, tmp_path):
    config = build_book.published_config(book_config, FORK)
    page, links = "notebooks/01_x", build_book.launch_links(config, "notebooks/01_x")
    good, stale = colab_install_line(FORK), colab_install_line(PLACEHOLDER_REPOSITORY)
    _built_page(tmp_path, page, [links["Colab"], links["Binder"], FORK], good, json.dumps({"source": [good]}))
    build_book.check_published_links(tmp_path, config, [page])

    _built_page(tmp_path, page, [links["Colab"], FORK], good)
    with pytest.raises(build_book.BookError, match=re.escape(f"no Binder link {links['Binder']}")):
        build_book.check_published_links(tmp_path, config, [page])
    _built_page(tmp_path, page, [links["Colab"], links["Binder"], FORK], stale)
    with pytest.raises(build_book.BookError, match=f"01_x.html: installs the course from {PLACEHOLDER_REPOSITORY}"):
        build_book.check_published_links(tmp_path, config, [page])
    _built_page(tmp_path, page, [links["Colab"], links["Binder"], FORK], good, json.dumps({"source": [stale]}))
    with pytest.raises(build_book.BookError, match="_sources/notebooks/01_x.ipynb: installs the course from"):
        build_book.check_published_links(tmp_path, config, [page])
    _built_page(tmp_path, page, [links["Colab"], links["Binder"]], good)
    with pytest.raises(build_book.BookError, match="no repository button link"):
        build_book.check_published_links(tmp_path, config, [page])


# ------------------------------------------------------------------------------------------------- placeholder

def test_the_placeholder_is_flagged_loudly_and_refused_in_another_repositorys_workflow():
    assert placeholder_problem(FORK, {}) is None
    warning = placeholder_problem(PLACEHOLDER_REPOSITORY, {})
    assert "WARNING" in warning and PLACEHOLDER_REPOSITORY in warning and "=" * 80 in warning
    assert "[tool.eqhyp] repository in pyproject.toml" in warning and REPOSITORY_ENV in warning
    actions = {"GITHUB_ACTIONS": "true", "GITHUB_SERVER_URL": "https://github.com", "GITHUB_REPOSITORY": "a/fork"}
    with pytest.raises(InvalidInputError, match=r"placeholder .* this workflow runs in https://github\.com/a/fork:"):
        placeholder_problem(PLACEHOLDER_REPOSITORY, actions)
    at_home = {**actions, "GITHUB_REPOSITORY": github_slug(PLACEHOLDER_REPOSITORY)}
    assert placeholder_problem(PLACEHOLDER_REPOSITORY, at_home) is None  # there, it is the real repository
    assert placeholder_problem(FORK, actions) is None


def test_a_publishing_build_with_the_placeholder_fails_before_building(build_book, monkeypatch, capsys, tmp_path):
    monkeypatch.setenv(REPOSITORY_ENV, PLACEHOLDER_REPOSITORY)
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    assert build_book.publishing_repository() == PLACEHOLDER_REPOSITORY
    assert "WARNING" in capsys.readouterr().err  # a local build goes on, flagged

    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_SERVER_URL", "https://github.com")
    monkeypatch.setenv("GITHUB_REPOSITORY", github_slug(FORK))
    assert build_book.main(["--output", str(tmp_path / "book"), "--quiet"]) == 1
    error = capsys.readouterr().err
    assert "placeholder" in error and REPOSITORY_ENV in error and FORK in error
    assert not (tmp_path / "book").exists()  # refused before staging anything


def test_a_stored_placeholder_install_line_is_flagged_for_colab():
    assert colab_problem({FORK}, FORK) is None
    assert colab_problem({PLACEHOLDER_REPOSITORY}, PLACEHOLDER_REPOSITORY) is None  # flagged by placeholder_problem
    warning = colab_problem({PLACEHOLDER_REPOSITORY}, FORK)
    assert "Colab" in warning and "notebooks/" in warning and "book/publish.md" in warning


# ------------------------------------------------------------------------------ the stored texts and their copies

def _texts_that_may_name_the_repository() -> dict[Path, str]:
    paths = [ROOT / name for name in ("README.md", "CHANGELOG.md", "environment.yml", "pyproject.toml")]
    paths += sorted((ROOT / "book").glob("*.md")) + sorted((ROOT / "book").glob("*.yml"))
    paths += sorted((ROOT / "book").glob("*/*.md"))
    paths += sorted((ROOT / "notebooks").glob("*.md")) + sorted((ROOT / "notebooks").glob("*.ipynb"))
    paths += sorted((ROOT / "eqhyp_utils").rglob("*.py")) + sorted((ROOT / "scripts").iterdir())
    paths += sorted((ROOT / ".github").rglob("*.yml")) + sorted((ROOT / "binder").iterdir())
    return {p: p.read_text(encoding="utf-8") for p in paths if p.is_file() and "_vendor" not in p.parts}


def _course_repositories_named() -> dict[str, list[str]]:
    """Each repository URL that the stored texts give as the course's (install, clone, changelog links, any URL of a
    repository called eqhyp...), with where; pyproject.toml's setting and the placeholder's definition left out."""
    named: dict[str, list[str]] = {}
    for path, text in _texts_that_may_name_the_repository().items():
        for match in GITHUB_REPOSITORY.finditer(text):
            found = match.group().rstrip(".").removesuffix(".git")
            before = text[max(0, match.start() - 12):match.start()]
            line_start = text.rfind("\n", 0, match.start()) + 1
            line = text[line_start:text.find("\n", match.start())]
            if path.name == "pyproject.toml" and line.startswith("repository ="):
                continue  # the setting itself
            if path.name == "publishing.py" and line.startswith("PLACEHOLDER_REPOSITORY ="):
                continue
            if "eqhyp" in found.lower() or before.endswith("git+") or re.search(r"clone\s+$", before):
                named.setdefault(found, []).append(f"{path.relative_to(ROOT)}:{text.count(chr(10), 0, line_start) + 1}")
    return named


def test_the_stored_texts_name_one_course_repository():
    """Install and clone lines, changelog links, any URL of a repository called eqhyp...: all one URL.

    It may differ from the setting (a fork that sets [tool.eqhyp] repository or EQHYP_... leaves the notebooks as
    they are): the book's build rewrites the install and clone lines of its copies to the repository it publishes.
    """
    named = _course_repositories_named()
    assert len(named) == 1, f"the stored texts name several repositories as the course's: {named}"


def _code_lines(notebook: dict) -> list[str]:
    return [line.strip() for cell in notebook["cells"] if cell["cell_type"] == "code"
            for line in "".join(cell["source"]).splitlines()]


def _notebooks() -> list[Path]:
    notebooks = sorted((ROOT / "notebooks").glob("*.ipynb"))
    assert notebooks
    return notebooks


def test_every_notebook_has_one_colab_install_line_that_the_build_can_point_anywhere():
    (stored,) = _course_repositories_named()
    for path in _notebooks():
        notebook = json.loads(path.read_text(encoding="utf-8"))
        installs = [line for line in _code_lines(notebook) if line.startswith("%pip install")]
        assert installs == [colab_install_line(stored)], f"{path.name}: {installs}"
        twin = path.with_suffix(".md")
        if twin.is_file():  # the jupytext twin says the same
            lines = [line.strip() for line in twin.read_text(encoding="utf-8").splitlines()]
            assert [line for line in lines if line.startswith("%pip install")] == installs, twin.name
        retargeted = retarget_notebook(notebook, FORK)
        assert [line for line in _code_lines(retargeted) if line.startswith("%pip install")] == [
            colab_install_line(FORK)], path.name
        changed = [i for i, (a, b) in enumerate(zip(notebook["cells"], retargeted["cells"])) if a != b]
        assert len(changed) == 1 and len(retargeted["cells"]) == len(notebook["cells"]), path.name
        assert retargeted["cells"][changed[0]]["outputs"] == notebook["cells"][changed[0]]["outputs"]


def test_retargeting_rewrites_install_and_clone_lines_only():
    old = "https://github.com/old-owner/old-course"
    text = (f'git clone {old}\ncd old-course\n%pip install -q "{pip_requirement(old)}"\n'
            f"git clone https://github.com/someone/library.git\ncd library\nSee {old}/issues.\n")
    assert retarget_text(text, FORK) == (f'git clone {FORK}\ncd their.course\n'
                                         f'%pip install -q "{pip_requirement(FORK)}"\n'
                                         f"git clone https://github.com/someone/library.git\ncd library\n"
                                         f"See {old}/issues.\n")
    assert named_repositories(retarget_text(text, FORK)) == [FORK, FORK, "https://github.com/someone/library.git"]
    assert retarget_text(f"git clone {old}.git\ncd elsewhere\n", FORK, {old}) == f"git clone {FORK}\ncd elsewhere\n"


@pytest.mark.parametrize("class_edition", [False, True], ids=["full", "class"])
def test_the_staged_book_names_the_published_repository_and_the_repository_is_untouched(build_book, book_config,
                                                                                        tmp_path, class_edition):
    notebooks = _notebooks()
    before = {p: p.read_bytes() for p in notebooks}
    toc = yaml.safe_load((ROOT / "book" / "_toc.yml").read_text(encoding="utf-8"))
    stage = tmp_path / "source"
    build_book.stage_sources(ROOT / "book", notebooks, toc, build_book.published_config(book_config, FORK), stage,
                             class_edition=class_edition)
    assert build_book.retarget_stage(stage, FORK) == set(_course_repositories_named())  # what they named before
    for path in sorted((stage / "notebooks").glob("*.ipynb")):
        notebook = json.loads(path.read_text(encoding="utf-8"))
        assert [line for line in _code_lines(notebook) if line.startswith("%pip install")] == [
            colab_install_line(FORK)], path.name
        assert set(named_repositories(path.read_text(encoding="utf-8"))) == {FORK}, path.name
    for page in stage.rglob("*.md"):
        if "_vendor" not in page.parts:
            assert set(named_repositories(page.read_text(encoding="utf-8"))) <= {FORK}, page
    how_to_use = (stage / "how_to_use.md").read_text(encoding="utf-8")
    assert f"git clone {FORK}\ncd their.course\n" in how_to_use and pip_requirement(FORK) in how_to_use
    assert {p: p.read_bytes() for p in notebooks} == before, "the repository's notebooks must not change"


# ---------------------------------------------------------------------------------------------------- workflow

@pytest.fixture(scope="module")
def workflow() -> dict:
    data = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    data["on"] = data.pop(True, data.get("on"))  # YAML 1.1 reads the key `on` as true
    return data


def _steps(job: dict) -> list[dict]:
    return job.get("steps", [])


def _runs(workflow: dict) -> list[str]:
    return [step["run"].strip() for job in workflow["jobs"].values() for step in _steps(job) if "run" in step]


def test_the_workflow_publishes_links_to_the_repository_it_runs_in(workflow):
    builder = next(job for job in workflow["jobs"].values()
                   if any(step.get("uses", "").startswith("actions/upload-pages-artifact") for step in _steps(job)))
    # For the whole job: its tests' book builds check the links the published book will have.
    assert builder["env"][REPOSITORY_ENV] == "${{ github.server_url }}/${{ github.repository }}"
    assert all(REPOSITORY_ENV not in step.get("env", {}) for job in workflow["jobs"].values() for step in _steps(job))
    assert github_slug(repository_url(environ={REPOSITORY_ENV: "https://github.com/Some-Owner/some.repo_name"}))


def test_the_readme_ci_and_workflow_run_the_same_test_command(workflow):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    ci = [line.strip() for line in (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
          if line.strip() and not line.startswith("#")]
    assert TEST_COMMAND in readme
    assert ci[-1] == TEST_COMMAND
    assert _runs(workflow).count(TEST_COMMAND) == 1
    assert [r for r in _runs(workflow) if "pytest" in r] == [TEST_COMMAND]  # no second, drifting recipe


def test_the_workflow_builds_both_editions_and_their_pdfs_with_the_readme_script(workflow, build_book):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"{BUILD_COMMAND} " in readme and f"{BUILD_COMMAND} --class-edition" in readme
    builds = [r for r in _runs(workflow) if "build_book" in r]
    assert builds == [f"{BUILD_COMMAND} --pdf", f"{BUILD_COMMAND} --class-edition --pdf"]
    for command in builds:
        options = build_book.command_line().parse_args(shlex.split(command)[2:])
        assert options.pdf and options.output is None and options.notebooks is None
    runs = _runs(workflow)
    assert runs.index(TEST_COMMAND) < runs.index(builds[0]), "the tests must pass before anything is built"


def test_the_workflow_publishes_the_full_edition_from_main_and_keeps_the_class_edition_private(workflow):
    assert workflow["on"]["push"]["branches"] == ["main"] and "workflow_dispatch" in workflow["on"]
    jobs = workflow["jobs"]
    uses = {job_name: [step.get("uses", "").split("@")[0] for step in _steps(job)] for job_name, job in jobs.items()}
    builder = next(name for name, steps in uses.items() if "actions/upload-pages-artifact" in steps)
    deployer = next(name for name, steps in uses.items() if "actions/deploy-pages" in steps)
    assert "bookworm" in str(jobs[builder].get("container", "")), "Debian, where setup.sh installs chromium"

    pages = next(s for s in _steps(jobs[builder]) if s.get("uses", "").startswith("actions/upload-pages-artifact"))
    site = pages["with"]["path"]
    assemble = [r for r in _runs(workflow) if site in r and "cp " in r]
    assert assemble and "class" not in " ".join(assemble) and "class" not in site
    assert "book/_build/html" in assemble[0] and "book/_build/pdf" in assemble[0]

    private = [s for s in _steps(jobs[builder]) if s.get("uses", "").startswith("actions/upload-artifact")]
    assert len(private) == 1 and private[0]["with"]["name"] == "class-edition"
    assert {p.strip() for p in private[0]["with"]["path"].split()} == {"book/_build/class/html",
                                                                       "book/_build/class/pdf"}

    deploy = jobs[deployer]
    assert deploy["needs"] == builder and "refs/heads/main" in deploy["if"]
    assert deploy["permissions"] == {"pages": "write", "id-token": "write"}
    assert deploy["environment"]["name"] == "github-pages"
    assert workflow.get("permissions", {}).get("pages") is None  # only the deploy job may write to Pages


# ----------------------------------------------------------------------------------------------------- version

def test_one_version_for_the_package_pyproject_footer_and_changelog(build_book, book_config):
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "version" not in pyproject["project"] and "version" in pyproject["project"]["dynamic"]
    assert pyproject["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "eqhyp_utils.__version__"}
    from setuptools.config.pyprojecttoml import read_configuration

    assert read_configuration(ROOT / "pyproject.toml", expand=True)["project"]["version"] == eqhyp_utils.__version__
    assert version() == eqhyp_utils.__version__ == latest_release()

    assert "{version}" in book_config["html"]["extra_footer"]
    footer = build_book.published_config(book_config)["html"]["extra_footer"]
    assert f"Version {eqhyp_utils.__version__} " in footer and "{" not in footer
    assert f"{repository_url()}/blob/main/CHANGELOG.md" in footer


def test_the_command_line_prints_the_version(capsys):
    from eqhyp_utils.__main__ import main

    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0 and capsys.readouterr().out.strip() == f"eqhyp_utils {eqhyp_utils.__version__}"


def test_the_changelog_keeps_a_changelog():
    text = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    headings = re.findall(r"^## .*$", text, re.MULTILINE)
    assert headings[0] == "## [Unreleased]"
    releases = changelog_releases()
    assert len(releases) == len(headings) - 1 and all(date for _, date in releases)
    assert [d for _, d in releases] == sorted((d for _, d in releases), reverse=True)
    versions = [tuple(int(part) for part in v.split(".")[:3]) for v, _ in releases]
    assert versions == sorted(versions, reverse=True) and len(set(versions)) == len(versions)
    unreleased = text.split("## [Unreleased]", 1)[1].split("\n## [", 1)[0].lower()
    for item in ("float64", "mnist", "noise ceiling", "gpu", "dask", "pdf", "workflow"):
        assert item in unreleased, item
    (stored,) = _course_repositories_named()  # the course's repository as the texts name it
    for name in ["Unreleased"] + [v for v, _ in releases]:  # every heading has its link reference
        assert re.search(rf"^\[{re.escape(name)}\]: {re.escape(stored)}/", text, re.MULTILINE), name


def test_the_publishing_page_is_in_the_book():
    toc = yaml.safe_load((ROOT / "book" / "_toc.yml").read_text(encoding="utf-8"))
    assert "publish" in [c["file"] for part in toc["parts"] for c in part["chapters"]]
    page = (ROOT / "book" / "publish.md").read_text(encoding="utf-8")
    for fact in ("[tool.eqhyp]", "Source: GitHub Actions", TEST_COMMAND, f"{BUILD_COMMAND} --pdf",
                 f"{BUILD_COMMAND} --class-edition --pdf", "class-edition", "book/_build/pdf", "book.pdf",
                 REPOSITORY_ENV, "${{ github.server_url }}/${{ github.repository }}", "binder/environment.yml",
                 "binder/postBuild", "public", "placeholder", "mybinder.org/v2/gh/", "colab.research.google.com/github/"):
        assert fact in page, fact
