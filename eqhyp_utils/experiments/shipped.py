"""Where the shipped grid files and results are: in the repository checkout, or inside the installed package.

The course ships its experiment grids (``configs/*.toml``) and their results (``results/<name>/``).
Read from a clone (also with the editable install ``pip install -e .`` of ``scripts/setup.sh`` and of
Binder's ``environment.yml``), they are the repository's own folders; read from an installed wheel
(Colab's ``pip install git+...``, ``pip install .``), they are the copies packaged under
``eqhyp_utils/_shipped/`` (``[tool.setuptools]`` in ``pyproject.toml`` maps them from ``configs/`` and
``results/`` when the wheel is built). Notebooks and the command line find both through this module, so
the same cell works in either place.
"""
from __future__ import annotations

from pathlib import Path

from ..errors import InvalidInputError

__all__ = ["repository_root", "shipped_root", "config_file", "results_dir"]

_PACKAGE = Path(__file__).resolve().parents[1]


def _is_plain_name(name: str) -> bool:
    """A bare file or folder name: no separators, not "." or ".." (so it cannot leave its folder)."""
    return isinstance(name, str) and name not in {"", ".", ".."} and "/" not in name and "\\" not in name


def repository_root() -> "Path | None":
    """The source checkout holding this package, or None when it is installed from a wheel.

    A checkout is the folder above the package with ``pyproject.toml``, ``configs/`` and ``results/`` in it
    (an editable install, ``pip install -e .``, also counts). An installed package sits in ``site-packages``,
    which has no ``pyproject.toml``, so folders that other packages happen to install there are never taken
    for the course's.
    """
    root = _PACKAGE.parent
    if (root / "pyproject.toml").is_file() and (root / "configs").is_dir() and (root / "results").is_dir():
        return root
    return None


def shipped_root() -> Path:
    """The folder that holds ``configs/`` and ``results/``: the checkout, else the package's copy."""
    root = repository_root()
    if root is not None:
        return root
    packaged = _PACKAGE / "_shipped"
    if not (packaged / "configs").is_dir():
        raise InvalidInputError(
            "neither a repository checkout nor the packaged copy of configs/ and results/ was found; "
            "reinstall eqhyp_utils from a wheel built by `pip wheel .`.")
    return packaged


def config_file(name: str) -> Path:
    """The grid file ``configs/<name>.toml`` (``name``: "full", "paper", "quick")."""
    path = shipped_root() / "configs" / f"{name}.toml"
    if not _is_plain_name(name) or not path.is_file():
        available = sorted(p.stem for p in (shipped_root() / "configs").glob("*.toml"))
        raise InvalidInputError(f"no grid file {name!r}; the shipped ones are {available}.")
    return path


def results_dir(name: str) -> Path:
    """The shipped results folder ``results/<name>`` (``name``: "fixed_budget", "paper")."""
    results = shipped_root() / "results"
    path = results / name
    if not _is_plain_name(name) or not path.is_dir():
        available = sorted(p.name for p in results.iterdir() if (p / "runs").is_dir()) if results.is_dir() else []
        raise InvalidInputError(f"no shipped results {name!r} under {results}; the shipped ones are {available}.")
    return path
