"""The wheel carries the shipped grids and results, and notebooks 6 and 7 run from an installed wheel.

On Colab (and after ``pip install .``) there is no checkout: the package must bring ``configs/*.toml`` and
``results/<name>/`` along, as ``eqhyp_utils/_shipped/`` (see ``[tool.setuptools]`` in pyproject.toml and
:mod:`eqhyp_utils.experiments.shipped`). These tests build the wheel from a clean copy of the source tree
(the files a clone has, plus new files not yet committed), install it with ``--no-deps`` into a fresh virtual
environment outside the repository, and use it from there. That environment sees the dependencies already
installed here through a ``.pth`` file: nothing is downloaded or reinstalled, and the editable install of this
environment stays invisible to it (the tests check that ``eqhyp_utils`` is imported from the new environment).

Deselect them with ``-m "not wheel"`` (about a minute: the notebooks' execution is the cost).
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tomllib
import zipfile
from pathlib import Path

import pytest
from conftest import without_nbval_skip_cells

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
RESULT_SETS = ("fixed_budget", "paper")   # the shipped results folders, results/<name>/
DATA_SUFFIXES = {".json", ".md", ".png"}  # what [tool.setuptools.package-data] takes from results/
KERNEL = "eqhyp-wheel-test"
wheel = pytest.mark.wheel


def _run(cmd: list, *, timeout: float = 300, **kwargs) -> subprocess.CompletedProcess:
    done = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=timeout, **kwargs)
    assert done.returncode == 0, (f"{' '.join(map(str, cmd))} failed ({done.returncode}):\n"
                                  f"{done.stdout[-3000:]}\n{done.stderr[-6000:]}")
    return done


def _source_files() -> list[Path]:
    """The files of the source tree a build sees: tracked and untracked-but-not-ignored, as in a clone."""
    try:
        listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                                cwd=ROOT, capture_output=True, check=True, timeout=60).stdout
    except (OSError, subprocess.SubprocessError):
        pytest.skip("git is needed to list the source tree's files")
    return sorted({Path(p) for p in listed.decode().split("\0") if p and (ROOT / p).is_file()})


def _shipped_sources(src: Path) -> set[str]:
    """What the wheel must carry under eqhyp_utils/_shipped/, from the source tree ``src``."""
    configs = {f"configs/{p.name}" for p in (src / "configs").glob("*.toml")}
    results = {p.relative_to(src).as_posix() for p in (src / "results").rglob("*")
               if p.is_file() and p.suffix in DATA_SUFFIXES}
    return configs | results


def test_every_subpackage_is_listed_in_pyproject():
    """The shipped-data mapping needs an explicit package list; a new subpackage must not be left out."""
    setuptools_table = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(setuptools_table["packages"])
    on_disk = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "eqhyp_utils").rglob("__init__.py")
               if "__pycache__" not in p.parts}
    assert on_disk - listed == set(), f"add {sorted(on_disk - listed)} to [tool.setuptools] packages in pyproject.toml"
    assert setuptools_table["package-dir"] == {"eqhyp_utils._shipped.configs": "configs",
                                               "eqhyp_utils._shipped.results": "results"}


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict:
    """A clean copy of the source tree and the wheel built from it."""
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"
    for rel in _source_files():
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, src / rel)
    dist = tmp / "dist"
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
          "--disable-pip-version-check", "-q", "-w", dist, "."], cwd=src)
    wheels = sorted(dist.glob("eqhyp_utils-*.whl"))
    assert len(wheels) == 1, wheels
    return {"tmp": tmp, "src": src, "wheel": wheels[0]}


@pytest.fixture(scope="module")
def venv(built) -> dict:
    """A fresh virtual environment with the wheel installed and this environment's dependencies visible."""
    tmp = built["tmp"]
    home = tmp / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", home])
    python = home / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    env = {k: v for k, v in os.environ.items()
           if k not in {"PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONSTARTUP", "PYTHONUSERBASE"}}
    env.update(PYTHONNOUSERSITE="1", JUPYTER_PATH=str(tmp / "jupyter"), PIP_DISABLE_PIP_VERSION_CHECK="1")
    # Install before the dependencies become visible, so that pip never sees (or touches) this environment.
    _run([sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--no-index", "-q",
          built["wheel"]], env=env)
    site = Path(_run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                     env=env).stdout.strip())
    ours = dict.fromkeys(sysconfig.get_paths()[k] for k in ("purelib", "platlib"))
    (site / "_eqhyp_test_dependencies.pth").write_text("".join(f"{p}\n" for p in ours))
    kernel_dir = tmp / "jupyter" / "kernels" / KERNEL
    kernel_dir.mkdir(parents=True)
    (kernel_dir / "kernel.json").write_text(json.dumps({
        "argv": [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "eqhyp_utils from the wheel", "language": "python"}))
    return {"python": python, "site": site, "env": env, "tmp": tmp}


_PROBE = """
import json
import sys

import eqhyp_utils
from eqhyp_utils.experiments import shipped
from eqhyp_utils.experiments.config import load_grids, unique_runs
from eqhyp_utils.experiments.results import load_results

out = {"package": eqhyp_utils.__file__, "repository_root": str(shipped.repository_root()),
       "shipped_root": str(shipped.shipped_root()), "full": str(shipped.config_file("full")),
       "grids": {p.stem: len(unique_runs(load_grids(p)))
                 for p in sorted((shipped.shipped_root() / "configs").glob("*.toml"))},
       "results": {}}
for name in sys.argv[1:]:
    folder = shipped.results_dir(name)
    out["results"][name] = {"dir": str(folder), "hashes": sorted(load_results(folder)),
                            "files": sorted(p.name for p in folder.iterdir() if p.is_file())}
print(json.dumps(out))
"""


def _result_sets(src: Path) -> list[str]:
    return [n for n in RESULT_SETS if (src / "results" / n / "runs").is_dir()]


@pytest.fixture(scope="module")
def probe(venv, built) -> dict:
    """What the installed package finds, asked with the new environment's python outside the repository."""
    done = _run([venv["python"], "-c", _PROBE, *_result_sets(built["src"])], env=venv["env"], cwd=venv["tmp"])
    return json.loads(done.stdout.strip().splitlines()[-1])


@wheel
def test_wheel_contains_the_package_and_the_shipped_files(built):
    names = set(zipfile.ZipFile(built["wheel"]).namelist())
    src = built["src"]
    modules = {p.relative_to(src).as_posix() for p in (src / "eqhyp_utils").rglob("*.py")}
    assert modules - names == set(), f"modules missing from the wheel: {sorted(modules - names)}"
    shipped = {n.removeprefix("eqhyp_utils/_shipped/") for n in names if n.startswith("eqhyp_utils/_shipped/")}
    expected = _shipped_sources(src)
    assert {"configs/full.toml", "configs/paper.toml", "configs/quick.toml"} <= expected
    assert any(n.startswith("results/") and n.endswith(".json") for n in expected), "results/ has no result files"
    assert shipped == expected, (f"missing from the wheel: {sorted(expected - shipped)[:10]}; "
                                 f"not in the source tree: {sorted(shipped - expected)[:10]}")
    assert not any(n.startswith(("configs/", "results/", "tests/", "notebooks/")) for n in names)


@wheel
def test_installed_package_reads_its_own_copy_of_the_grids(venv, probe):
    package = venv["site"] / "eqhyp_utils"
    assert Path(probe["package"]).resolve() == (package / "__init__.py").resolve(), (
        f"eqhyp_utils was imported from {probe['package']}, not from the new environment")
    assert probe["repository_root"] == "None"
    assert Path(probe["shipped_root"]).resolve() == (package / "_shipped").resolve()
    assert Path(probe["full"]).resolve() == (package / "_shipped" / "configs" / "full.toml").resolve()
    assert set(probe["grids"]) >= {"full", "paper", "quick"}
    assert all(n > 0 for n in probe["grids"].values()), probe["grids"]


@wheel
@pytest.mark.parametrize("name", RESULT_SETS)
def test_installed_package_reads_its_own_copy_of_the_results(venv, built, probe, name):
    if name not in _result_sets(built["src"]):
        pytest.skip(f"results/{name}/runs/ is not in the source tree yet")
    from eqhyp_utils.experiments.results import load_results

    found = probe["results"][name]
    here = built["src"] / "results" / name
    assert Path(found["dir"]).resolve() == (venv["site"] / "eqhyp_utils" / "_shipped" / "results" / name).resolve()
    assert found["hashes"], f"no result files under {found['dir']}"
    assert found["hashes"] == sorted(load_results(here))
    assert found["files"] == sorted(p.name for p in here.iterdir() if p.is_file() and p.suffix in DATA_SUFFIXES)


_CHECK_KERNEL = """\
import sys
from pathlib import Path

import eqhyp_utils
from eqhyp_utils.experiments import shipped

# added by tests/test_wheel.py: this kernel used the installed wheel, not a checkout
assert Path(eqhyp_utils.__file__).is_relative_to(sys.prefix), (eqhyp_utils.__file__, sys.prefix)
assert shipped.repository_root() is None and Path(shipped.shipped_root()).is_relative_to(sys.prefix)
"""


def _probe_notebook(result_set: "str | None") -> "nbformat.NotebookNode":
    """A small notebook that finds the shipped files as notebooks 6 and 7 must: through ``shipped``."""
    nbformat = pytest.importorskip("nbformat")
    results = (f"RESULTS = shipped.results_dir({result_set!r})" if result_set
               else 'RESULTS = shipped.shipped_root() / "results"  # the layout before results/<name>/')
    cells = [
        _CHECK_KERNEL,
        "from eqhyp_utils.experiments.config import load_grids, unique_runs\n"
        "from eqhyp_utils.experiments.results import load_results\n\n"
        'grids = load_grids(shipped.config_file("full"))\nprint(len(unique_runs(grids)), "runs in", sorted(grids))',
        f"{results}\nstored = load_results(RESULTS)\nassert stored, RESULTS\n"
        "payload = next(iter(stored.values()))\nprint(len(stored), 'results; one of them:', payload['config'])",
        "from IPython.display import Image, display\n\nfigures = sorted(RESULTS.rglob('*.png'))\n"
        "if figures:\n    display(Image(filename=str(figures[0])))",
    ]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


_RUNNER = """
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

path = Path(sys.argv[1])
nb = nbformat.read(path, as_version=4)
try:
    NotebookClient(nb, timeout=600, kernel_name=sys.argv[2], resources={"metadata": {"path": str(path.parent)}}).execute()
finally:
    nbformat.write(nb, path)  # the executed copy, for a look when a cell fails
"""


def _course_notebook(prefix: str) -> Path:
    found = sorted(NOTEBOOKS.glob(f"{prefix}_*.ipynb"))
    assert len(found) == 1, f"expected one notebook {prefix}_*.ipynb, found {found}"
    return found[0]


def _reads_through_shipped(path: Path) -> bool:
    """Whether a course notebook finds its grid and results through eqhyp_utils.experiments.shipped."""
    cells = json.loads(path.read_text())["cells"]
    code = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
    return "experiments import shipped" in code or "experiments.shipped" in code


SHIPPED_READERS = ("05", "06", "07")  # the notebooks that read the shipped grids and results
COURSE_NOTEBOOKS = ("06", "07")  # run from the wheel in full (notebook 5 uses the same locator)


@pytest.mark.parametrize("notebook", SHIPPED_READERS)
def test_notebooks_read_the_shipped_files_through_the_locator(notebook):
    assert _reads_through_shipped(_course_notebook(notebook)), (
        f"notebook {notebook} should find its grids and results through eqhyp_utils.experiments.shipped")


@wheel
@pytest.mark.parametrize("notebook", ["probe", *COURSE_NOTEBOOKS])
def test_notebook_runs_from_the_installed_package(venv, built, notebook, tmp_path):
    """The notebook runs, copied alone to a folder outside the repository, with the wheel's kernel."""
    nbformat = pytest.importorskip("nbformat")
    pytest.importorskip("nbclient")
    if notebook == "probe":
        if all(_reads_through_shipped(_course_notebook(n)) for n in COURSE_NOTEBOOKS):
            pytest.skip("notebooks 6 and 7 themselves check the installed package")
        present = _result_sets(built["src"])
        path = tmp_path / "probe.ipynb"
        nbformat.write(_probe_notebook(present[0] if present else None), path)
    else:
        source = _course_notebook(notebook)
        if not _reads_through_shipped(source):
            pytest.skip(f"{source.name} does not read its grid and results through eqhyp_utils.experiments.shipped "
                        "yet (it reads ../configs and ../results, which an installed package does not have)")
        nb = without_nbval_skip_cells(nbformat.read(source, as_version=4))
        nb.cells.append(nbformat.v4.new_code_cell(_CHECK_KERNEL))
        path = tmp_path / source.name
        nbformat.write(nb, path)
    runner = tmp_path / "run_notebook.py"
    runner.write_text(_RUNNER)
    done = subprocess.run([str(venv["python"]), str(runner), str(path), KERNEL], cwd=tmp_path, env=venv["env"],
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, (f"{path.name} failed when run from the installed wheel (executed copy: {path}):\n"
                                  + re.sub(r"\x1b\[[0-9;]*m", "", done.stderr)[-6000:])
