"""environment.yml (conda) and pyproject.toml declare the same dependencies; CI pins torch; binder/ (what Binder
builds) installs the package and every package it needs at the versions of constraints.txt."""
from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
BINDER = ROOT / "binder"
CPU_INDEX = "--extra-index-url https://download.pytorch.org/whl/cpu"


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~\[; ]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def _pyproject_requirements() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = project["dependencies"] + project["optional-dependencies"]["dev"]
    return {_name(r): r.replace(" ", "") for r in reqs}


def _environment_requirements() -> dict[str, str]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_list = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d)
    return {_name(r): r.replace(" ", "") for r in pip_list if not r.startswith("-")}


def test_environment_yml_matches_pyproject():
    assert _environment_requirements() == _pyproject_requirements()


def test_environment_installs_the_package_with_the_pins():
    env = (ROOT / "environment.yml").read_text()
    assert "- -e ." in env and "- -c constraints.txt" in env


def _constraints() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, _, version = line.partition("==")
            assert version, f"constraints.txt must pin exact versions, got {line!r}"
            pins[_name(name)] = version
    return pins


def test_constraints_pin_every_dependency_and_the_cpu_torch():
    pins = _constraints()
    assert pins.get("torch") == "2.13.0"
    missing = set(_pyproject_requirements()) - set(pins)
    assert not missing, f"constraints.txt does not pin {sorted(missing)}"


# ------------------------------------------------------------------------------------------------------- Binder

def _binder_environment() -> tuple[list[str], list[str]]:
    """The conda dependencies and the pip lines of binder/environment.yml."""
    env = yaml.safe_load((BINDER / "environment.yml").read_text())
    assert env["channels"] == ["conda-forge"]
    conda = [d for d in env["dependencies"] if isinstance(d, str)]
    pip_list = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d)
    return conda, pip_list


def _binder_pins() -> dict[str, str]:
    pins = {}
    for line in _binder_environment()[1]:
        if not line.startswith("-"):
            match = re.fullmatch(r"([A-Za-z0-9._-]+)==([^=\s]+)", line)
            assert match, f"binder/environment.yml: every package must be pinned exactly, got {line!r}"
            pins[_name(match[1])] = match[2]
    return pins


def _installed_closure(project: str, extras: set[str]) -> set[str]:
    """``project[extras]`` and everything it depends on, as installed here, for Binder's Linux x86-64 Python 3.11."""
    from importlib.metadata import PackageNotFoundError, distribution

    from packaging.markers import default_environment
    from packaging.requirements import Requirement

    target = {**default_environment(), "python_version": "3.11", "python_full_version": "3.11.0",
              "sys_platform": "linux", "platform_system": "Linux", "platform_machine": "x86_64", "os_name": "posix",
              "implementation_name": "cpython", "platform_python_implementation": "CPython"}
    seen, todo = set(), [(project, frozenset(extras))]
    while todo:
        name, wanted = todo.pop()
        try:
            requirements = distribution(name).requires or []
        except PackageNotFoundError:
            pytest.skip(f"{name} is not installed here: the closure is read from the installed packages' metadata")
        for text in requirements:
            requirement = Requirement(text)
            if requirement.marker is not None and not any(
                    requirement.marker.evaluate({**target, "extra": extra}) for extra in (wanted or {""})):
                continue
            key = (_name(requirement.name), frozenset(requirement.extras))
            if key not in seen:
                seen.add(key)
                todo.append((requirement.name, key[1]))
    return {name for name, _ in seen}


def test_binder_uses_its_own_folder_and_python_3_11():
    assert not (ROOT / ".binder").exists(), "repo2docker refuses a repository with both binder/ and .binder/"
    conda, pip_list = _binder_environment()
    assert conda == ["python=3.11", "pip"]
    assert "python=3.11" in yaml.safe_load((ROOT / "environment.yml").read_text())["dependencies"]
    # No line refers to a file of the repository (-e, -r, -c, paths): repo2docker then installs the environment
    # before copying the repository and reuses it while the file does not change. The package comes in postBuild.
    options = [line for line in pip_list if line.startswith("-") or line.startswith(".") or "/" in line]
    assert options == [CPU_INDEX], options


def test_binder_pins_equal_constraints_txt():
    pins, constraints = _binder_pins(), _constraints()
    wrong = {name: f"{version} (constraints.txt: {constraints.get(name)})" for name, version in pins.items()
             if constraints.get(name) != version}
    assert not wrong, f"binder/environment.yml disagrees with constraints.txt: {wrong}"
    assert pins["torch"] == "2.13.0"
    missing = set(_pyproject_requirements()) - set(pins)  # the package's dependencies and its dev extra
    assert not missing, f"binder/environment.yml does not install {sorted(missing)}"
    assert {"jupyterlab", "ipywidgets", "ipykernel", "jupyterlab-widgets"} <= set(pins)


def test_binder_pins_everything_the_package_and_its_dev_extra_need():
    """Nothing is left to an unpinned resolve on Binder (except what constraints.txt leaves out: pip, setuptools)."""
    constraints = _constraints()
    needed = _installed_closure("eqhyp_utils", {"dev"}) & set(constraints)
    pins = _binder_pins()
    expected = "\n".join(f"      - {name}=={constraints[name]}" for name in sorted(needed))
    assert set(pins) == needed, (f"binder/environment.yml: missing {sorted(needed - set(pins))}, not needed "
                                 f"{sorted(set(pins) - needed)}; its pip lines after the index line should be:\n"
                                 f"{expected}")


def test_binder_post_build_installs_the_package_from_the_checkout():
    script = BINDER / "postBuild"
    assert os.access(script, os.X_OK), "binder/postBuild must be executable (chmod +x, then git add)"
    text = script.read_text()
    assert text.startswith("#!/usr/bin/env bash\n") and "\nset -euo pipefail\n" in text
    commands = [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]
    # repo2docker runs it in the repository's root once the environment is installed: the package, editable (it
    # reads results/ and configs/ of the checkout), without touching the pinned dependencies.
    assert "python -m pip install --no-cache-dir --no-deps -e ." in commands
    assert any(c.startswith("python -c") and "import eqhyp_utils" in c for c in commands)
