"""Where the course is published and which release it is, each defined once.

* The repository URL is the ``repository`` key of the ``[tool.eqhyp]`` table in ``pyproject.toml``. The book's
  launch links (Colab, Binder), its repository button and the Colab install line of the notebooks all use it:
  ``scripts/build_book.py`` writes it into the book's configuration at build time, and the tests check that every
  other place that names the repository names this one. A fork changes that one line.
* The version is ``eqhyp_utils.__version__``. ``pyproject.toml`` reads it from there (``dynamic = ["version"]``),
  the book's footer is filled in from it at build time, and ``CHANGELOG.md`` names it as its newest release.

These functions read the source checkout (``pyproject.toml`` and ``CHANGELOG.md`` next to the package); they are
used when the book is built and by the tests, not by the course's computations.
"""
from __future__ import annotations

import re
import tomllib
from pathlib import Path

from . import __version__
from .errors import InvalidInputError

REPO_ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = REPO_ROOT / "pyproject.toml"
CHANGELOG = REPO_ROOT / "CHANGELOG.md"

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


def repository_url(pyproject: Path = PYPROJECT) -> str:
    """The course's GitHub repository, ``https://github.com/OWNER/NAME`` (no trailing slash, no ``.git``)."""
    url = settings(pyproject).get("repository")
    if not isinstance(url, str) or not _GITHUB_URL.match(url) or url.endswith(".git"):
        raise InvalidInputError(f"[tool.eqhyp] repository in {pyproject} must look like "
                                f'"https://github.com/OWNER/NAME" (no trailing slash, no .git); got {url!r}.')
    return url


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
