"""Where the course is published and which release it is, each defined once.

* The repository URL, ``https://github.com/OWNER/NAME``, is the environment variable ``EQHYP_REPOSITORY`` when it is
  set (the publishing workflow sets it to the repository it runs in, so a fork publishes links to itself), otherwise
  the ``repository`` key of the ``[tool.eqhyp]`` table in ``pyproject.toml``: :func:`repository_url`, the one place
  that reads either. The book's launch links (Colab, Binder), its repository button, the footer's link and the Colab
  install line of the notebooks and pages all name it: ``scripts/build_book.py`` writes it into the book's
  configuration and rewrites the install and clone lines of its staged copies of the notebooks and pages
  (:func:`retarget_text`); the repository's own notebooks are never rewritten.
* :data:`PLACEHOLDER_REPOSITORY` is the URL the course ships with, which is not a real repository. A build that
  would publish it warns loudly, and fails inside GitHub Actions running in another repository
  (:func:`placeholder_problem`).
* The version is ``eqhyp_utils.__version__``. ``pyproject.toml`` reads it from there (``dynamic = ["version"]``),
  the book's footer is filled in from it at build time, and ``CHANGELOG.md`` names it as its newest release.

These functions read the source checkout (``pyproject.toml`` and ``CHANGELOG.md`` next to the package); they are
used when the book is built and by the tests, not by the course's computations.
"""
from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path

from . import __version__
from .errors import InvalidInputError

REPO_ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = REPO_ROOT / "pyproject.toml"
CHANGELOG = REPO_ROOT / "CHANGELOG.md"
#: The environment variable that overrides ``[tool.eqhyp] repository`` (read by ``_override`` only).
REPOSITORY_ENV = "EQHYP_REPOSITORY"
#: The repository URL the course ships with: not a real repository, so never to be published (see the module doc).
PLACEHOLDER_REPOSITORY = "https://github.com/eqhyp-course/eqhyp-course"

_GITHUB_URL = re.compile(r"^https://github\.com/(?P<owner>[A-Za-z0-9](?:[A-Za-z0-9-]{0,38}))/"
                         r"(?P<name>[A-Za-z0-9._-]{1,100})$")
# "## [0.1.0] - 2026-11-27" (Keep a Changelog); "## [Unreleased]" is not a release.
_RELEASE_HEADING = re.compile(r"^## \[(?P<version>\d+\.\d+\.\d+(?:[-.+][0-9A-Za-z.]+)?)\]"
                              r"(?: - (?P<date>\d{4}-\d{2}-\d{2}))?\s*$", re.MULTILINE)


def settings(pyproject: Path = PYPROJECT) -> dict:
    """The ``[tool.eqhyp]`` table of ``pyproject.toml``."""
    try:
        data = tomllib.loads(Path(pyproject).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InvalidInputError(f"{pyproject} not found: the publishing settings are read from the source "
                                f"checkout (git clone the repository).") from None
    table = data.get("tool", {}).get("eqhyp")
    if not isinstance(table, dict):
        raise InvalidInputError(f"{pyproject} has no [tool.eqhyp] table; add one with "
                                f'repository = "https://github.com/OWNER/NAME".')
    return table


def _checked_url(url, source: str) -> str:
    if not isinstance(url, str) or not _GITHUB_URL.match(url) or url.endswith(".git"):
        raise InvalidInputError(f"{source} must look like \"https://github.com/OWNER/NAME\" (no trailing slash, no "
                                f".git; Colab and Binder open github.com repositories); got {url!r}.")
    return url


def repository_setting(pyproject: Path = PYPROJECT) -> str:
    """``[tool.eqhyp] repository`` of ``pyproject.toml``, checked (whatever ``EQHYP_REPOSITORY`` says)."""
    return _checked_url(settings(pyproject).get("repository"), f"[tool.eqhyp] repository in {pyproject}")


def _override(environ: Mapping[str, str] | None) -> str:
    """``$EQHYP_REPOSITORY`` ("" when unset): the only place that reads it. ``environ`` defaults to ``os.environ``."""
    return (os.environ if environ is None else environ).get(REPOSITORY_ENV) or ""


def repository_url(pyproject: Path = PYPROJECT, environ: Mapping[str, str] | None = None) -> str:
    """The course's GitHub repository, ``https://github.com/OWNER/NAME`` (no trailing slash, no ``.git``).

    ``$EQHYP_REPOSITORY`` when it is set and not empty, else ``[tool.eqhyp] repository`` of ``pyproject.toml``;
    both are checked the same way. ``environ`` defaults to ``os.environ``.
    """
    override = _override(environ)
    if override:
        return _checked_url(override, f"the environment variable {REPOSITORY_ENV}")
    return repository_setting(pyproject)


def repository_source(environ: Mapping[str, str] | None = None) -> str:
    """Where :func:`repository_url` takes the URL from, in words (for messages)."""
    return f"the environment variable {REPOSITORY_ENV}" if _override(environ) else \
        "[tool.eqhyp] repository in pyproject.toml"


def placeholder_problem(url: str, environ: Mapping[str, str] | None = None) -> str | None:
    """What is wrong with publishing ``url``: ``None`` when it is not the placeholder, else a warning to print.

    Raises InvalidInputError instead when ``url`` is :data:`PLACEHOLDER_REPOSITORY` and the build runs in GitHub
    Actions (``GITHUB_ACTIONS=true``) in a repository other than the placeholder: a publishing run must not put
    dead links online. ``environ`` defaults to ``os.environ``.
    """
    if url != PLACEHOLDER_REPOSITORY:
        return None
    environ = os.environ if environ is None else environ
    fix = (f"set [tool.eqhyp] repository in pyproject.toml to your repository, or the environment variable "
           f"{REPOSITORY_ENV}=https://github.com/OWNER/NAME (.github/workflows/book.yml sets it to the repository "
           f"it runs in; see book/publish.md)")
    if environ.get("GITHUB_ACTIONS") == "true" and environ.get("GITHUB_REPOSITORY"):
        here = f"{environ.get('GITHUB_SERVER_URL') or 'https://github.com'}/{environ['GITHUB_REPOSITORY']}"
        if here.lower() != url.lower():
            raise InvalidInputError(f"the book would name the placeholder repository {url} (from "
                                    f"{repository_source(environ)}) while this workflow runs in {here}: its launch "
                                    f"links and install lines would be dead. To fix it, {fix}.")
        return None
    rule = "=" * 100
    return (f"{rule}\nWARNING: the book names the placeholder repository {url} (from {repository_source(environ)}), "
            f"which does not exist:\nits Colab and Binder buttons, repository button and install lines are dead "
            f"links. Do not publish this build.\nTo fix it, {fix}.\n{rule}")


def colab_problem(stored: set[str], url: str) -> str | None:
    """A warning when the repository's notebooks install the course from the placeholder but the book names ``url``.

    ``stored`` holds the URLs that the notebooks and pages, as stored, install the course from. The build rewrites
    them in the book, but the Colab button opens the notebook as stored in ``url``'s repository, whose first cell
    would then try to install the course package from a repository that does not exist.
    """
    if PLACEHOLDER_REPOSITORY not in stored or url == PLACEHOLDER_REPOSITORY:
        return None
    return (f"WARNING: the notebooks in notebooks/ install the course package from the placeholder "
            f"{PLACEHOLDER_REPOSITORY}. The book's pages name {url}, but the Colab button opens the notebooks as "
            f"stored there, so their first cell fails on Colab. Change the install line in notebooks/ "
            f"(book/publish.md, 'What the buttons need', shows the command).")


def github_slug(url: str) -> str:
    """``OWNER/NAME`` of a GitHub repository URL (the form Colab and Binder links use)."""
    match = _GITHUB_URL.match(url)
    if not match:
        raise InvalidInputError(f"not a GitHub repository URL of the form https://github.com/OWNER/NAME: {url!r}")
    return f"{match['owner']}/{match['name']}"


def pip_requirement(url: str) -> str:
    """The requirement that installs the course package from the repository: ``eqhyp_utils @ git+URL``."""
    return f"eqhyp_utils @ git+{url}"


def colab_install_line(url: str) -> str:
    """The line the notebooks run on Colab to install the course package."""
    return f'%pip install -q "{pip_requirement(url)}"'


# The lines of the notebooks and book pages that name the course's repository: the package's pip requirement (the
# Colab install line) and `git clone URL` (with the `cd NAME` that follows it).
_NAMED_URL = r"https://github\.com/[A-Za-z0-9][A-Za-z0-9-]{0,38}/[A-Za-z0-9._-]{0,99}[A-Za-z0-9_-]"
_REQUIREMENT = re.compile(r"(?P<lead>eqhyp_utils @ git\+)(?P<url>" + _NAMED_URL + r")")
_CLONE = re.compile(r"(?P<lead>git clone )(?P<url>" + _NAMED_URL + r")(?:(?P<gap>[ \t]*\n[ \t]*cd )(?P<dir>\S+))?")


def named_repositories(text: str) -> list[str]:
    """The repository URLs that ``text`` installs the course package from or clones, in order of appearance."""
    found = [(m.start(), m["url"]) for pattern in (_REQUIREMENT, _CLONE) for m in pattern.finditer(text)]
    return [url for _, url in sorted(found)]


def installed_from(text: str) -> set[str]:
    """The repository URLs that ``text`` installs the course package from (``eqhyp_utils @ git+URL``)."""
    return {m["url"] for m in _REQUIREMENT.finditer(text)}


def retarget_text(text: str, url: str, course: set[str] | None = None) -> str:
    """``text`` with the course's install and clone lines naming ``url`` instead of the repository they name.

    ``eqhyp_utils @ git+OLD`` becomes ``eqhyp_utils @ git+URL``. ``git clone OLD`` becomes ``git clone URL`` when OLD
    (without ``.git``) is one of ``course``, the URLs the course's texts install the package from (by default those
    of ``text`` itself), and a ``cd`` into OLD's folder on the next line goes into URL's. Nothing else changes.
    """
    course = installed_from(text) if course is None else set(course)
    name = github_slug(url).split("/")[1]

    def clone(match: re.Match) -> str:
        old = match["url"].removesuffix(".git")
        if old not in course:
            return match.group()
        tail = ""
        if match["gap"] is not None:  # `cd OLD-NAME` follows: into the new clone's folder; any other cd stays
            tail = match["gap"] + (name if match["dir"].rstrip("/") == old.rsplit("/", 1)[1] else match["dir"])
        return f"{match['lead']}{url}{tail}"

    return _CLONE.sub(clone, _REQUIREMENT.sub(lambda m: f"{m['lead']}{url}", text))


def _cell_text(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def notebook_installed_from(notebook: dict) -> set[str]:
    """:func:`installed_from` over the source of every cell of a notebook (nbformat JSON)."""
    return set().union(*(installed_from(_cell_text(cell)) for cell in notebook.get("cells", [])))


def retarget_notebook(notebook: dict, url: str, course: set[str] | None = None) -> dict:
    """The notebook (nbformat JSON) with :func:`retarget_text` applied to the source of every cell (not outputs)."""
    course = notebook_installed_from(notebook) if course is None else course
    cells = []
    for cell in notebook.get("cells", []):
        text = _cell_text(cell)
        new = retarget_text(text, url, course)
        if new != text:
            cell = {**cell, "source": new.splitlines(keepends=True) if isinstance(cell["source"], list) else new}
        cells.append(cell)
    return {**notebook, "cells": cells}


def version() -> str:
    """The course's version, ``eqhyp_utils.__version__``."""
    return __version__


def changelog_releases(changelog: Path = CHANGELOG) -> list[tuple[str, str | None]]:
    """(version, date) of every release heading of ``CHANGELOG.md``, newest first ("Unreleased" left out)."""
    text = Path(changelog).read_text(encoding="utf-8")
    return [(m["version"], m["date"]) for m in _RELEASE_HEADING.finditer(text)]


def latest_release(changelog: Path = CHANGELOG) -> str:
    """The version of the newest release in ``CHANGELOG.md``."""
    releases = changelog_releases(changelog)
    if not releases:
        raise InvalidInputError(f"{changelog} has no release heading of the form '## [X.Y.Z] - YYYY-MM-DD'.")
    return releases[0][0]
