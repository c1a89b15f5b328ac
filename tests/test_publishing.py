"""The course is published from one repository URL and one version, by a workflow that runs the README's commands.

* Every place that names the course's repository (the book's launch links, the notebooks' Colab install line, the
  clone and install lines shown to readers, the changelog's links) reads or equals ``[tool.eqhyp] repository`` of
  pyproject.toml.
* ``.github/workflows/book.yml`` parses, runs the same test command as README.md and ``.ci/run``, builds with the same
  script, publishes the full edition only from main and the class edition never.
* The package version, pyproject.toml's version, the book's footer and the newest release of CHANGELOG.md agree.

The built book itself (launch links, footer, PDFs) is checked in tests/test_book.py.
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
from eqhyp_utils.publishing import (changelog_releases, colab_install_line, github_slug, latest_release,
                                    pip_requirement, repository_url, version)

yaml = pytest.importorskip("yaml")

ROOT = Path(__file__).resolve().parent.parent
WORKFLOW = ROOT / ".github" / "workflows" / "book.yml"
TEST_COMMAND = "bash scripts/setup.sh && .venv/bin/python -m pytest"
BUILD_COMMAND = ".venv/bin/python scripts/build_book.py"
GITHUB_REPOSITORY = re.compile(r"https://github\.com/[A-Za-z0-9][A-Za-z0-9-]*/[A-Za-z0-9._-]+")


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
    url = repository_url()
    assert url == tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["eqhyp"]["repository"]
    assert url == f"https://github.com/{github_slug(url)}"
    assert pip_requirement(url) == f"eqhyp_utils @ git+{url}"


@pytest.mark.parametrize("bad", ["", "http://github.com/a/b", "https://github.com/a/b/", "https://github.com/a/b.git",
                                 "https://gitlab.com/a/b", "https://github.com/a"])
def test_a_malformed_repository_setting_is_refused(tmp_path, bad):
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(f'[tool.eqhyp]\nrepository = "{bad}"\n', encoding="utf-8")
    with pytest.raises(InvalidInputError, match="OWNER/NAME"):
        repository_url(pyproject)
    (tmp_path / "empty.toml").write_text("[project]\n", encoding="utf-8")
    with pytest.raises(InvalidInputError, match=r"\[tool\.eqhyp\]"):
        repository_url(tmp_path / "empty.toml")


def test_the_book_config_leaves_the_url_to_the_build(build_book, book_config):
    text = (ROOT / "book" / "_config.yml").read_text(encoding="utf-8")
    assert "github.com" not in text and "url" not in book_config["repository"]
    config = build_book.published_config(book_config)
    assert config["repository"]["url"] == repository_url()
    assert config["repository"]["branch"] == "main" and config["repository"]["path_to_book"] == ""
    assert config["launch_buttons"]["colab_url"] and config["launch_buttons"]["binderhub_url"]
    with pytest.raises(build_book.BookError, match="remove it"):
        build_book.published_config({**book_config, "repository": {"url": "https://github.com/someone/else"}})


def _texts_that_may_name_the_repository() -> dict[Path, str]:
    paths = [ROOT / name for name in ("README.md", "CHANGELOG.md", "environment.yml", "pyproject.toml")]
    paths += sorted((ROOT / "book").glob("*.md")) + sorted((ROOT / "book").glob("*.yml"))
    paths += sorted((ROOT / "notebooks").glob("*.md")) + sorted((ROOT / "notebooks").glob("*.ipynb"))
    paths += sorted((ROOT / "eqhyp_utils").rglob("*.py")) + sorted((ROOT / "scripts").iterdir())
    paths += sorted((ROOT / ".github").rglob("*.yml"))
    return {p: p.read_text(encoding="utf-8") for p in paths if p.is_file()}


def test_every_place_that_names_the_course_repository_names_the_setting():
    """Install and clone lines, and any URL of a repository called eqhyp..., must be the configured repository."""
    url = repository_url()
    wrong = []
    for path, text in _texts_that_may_name_the_repository().items():
        for match in GITHUB_REPOSITORY.finditer(text):
            found = match.group().rstrip(".").removesuffix(".git")
            before = text[max(0, match.start() - 12):match.start()]
            if "eqhyp" in found.lower() or before.endswith("git+") or re.search(r"clone\s+$", before):
                if found != url:
                    line = text.count("\n", 0, match.start()) + 1
                    wrong.append(f"{path.relative_to(ROOT)}:{line}: {found}")
    assert wrong == [], f"these name a repository other than [tool.eqhyp] repository = {url!r}: {wrong}"


def _code_lines(notebook: Path) -> list[str]:
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    return [line.strip() for cell in cells if cell["cell_type"] == "code"
            for line in "".join(cell["source"]).splitlines()]


def test_every_notebook_installs_the_course_package_on_colab_from_the_setting():
    expected = colab_install_line(repository_url())
    notebooks = sorted((ROOT / "notebooks").glob("*.ipynb"))
    assert notebooks
    for notebook in notebooks:
        installs = [line for line in _code_lines(notebook) if line.startswith("%pip install")]
        assert installs == [expected], f"{notebook.name}: {installs}"
        twin = notebook.with_suffix(".md")
        if twin.is_file():  # the jupytext twin says the same
            lines = [line.strip() for line in twin.read_text(encoding="utf-8").splitlines()]
            assert [line for line in lines if line.startswith("%pip install")] == [expected], twin.name


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
    for name in ["Unreleased"] + [v for v, _ in releases]:  # every heading has its link reference
        assert re.search(rf"^\[{re.escape(name)}\]: {re.escape(repository_url())}/", text, re.MULTILINE), name


def test_the_publishing_page_is_in_the_book():
    toc = yaml.safe_load((ROOT / "book" / "_toc.yml").read_text(encoding="utf-8"))
    assert "publish" in [c["file"] for part in toc["parts"] for c in part["chapters"]]
    page = (ROOT / "book" / "publish.md").read_text(encoding="utf-8")
    for fact in ("[tool.eqhyp]", "Source: GitHub Actions", TEST_COMMAND, f"{BUILD_COMMAND} --pdf",
                 f"{BUILD_COMMAND} --class-edition --pdf", "class-edition", "book/_build/pdf", "book.pdf"):
        assert fact in page, fact
