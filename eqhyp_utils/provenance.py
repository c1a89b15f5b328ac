"""Where, and with what, a number was computed: the provenance stored with every result.

A result file says which package, commit and library versions made it, and on which machine: the
CPU model, the vector instruction set torch dispatched to, and the BLAS libraries of torch and
numpy. With float64 training these do not change the stored numbers (docs/science.md §7); they
are recorded so that a reader can check that claim on their own machine.
"""
from __future__ import annotations

import os
import platform
import re
import subprocess
from functools import lru_cache
from pathlib import Path
from typing import Any

__all__ = ["cpu_model", "blas_info", "git_commit", "machine_provenance", "other_numeric_path"]


@lru_cache(maxsize=1)
def cpu_model() -> str:
    """The CPU's model name (``/proc/cpuinfo`` on Linux, ``platform.processor()`` elsewhere)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


@lru_cache(maxsize=1)
def blas_info() -> dict[str, str]:
    """The BLAS behind torch and numpy, torch's CPU capability and the numeric-path variables set."""
    import numpy as np
    import torch

    config = torch.__config__.show()
    match = re.search(r"Math Kernel Library Version ([^\n]+)", config)
    torch_blas = f"MKL {match.group(1).strip()}" if match else (
        "MKL" if torch.backends.mkl.is_available() else "other")
    try:
        numpy_config = np.show_config(mode="dicts")
        blas = numpy_config.get("Build Dependencies", {}).get("blas", {})
        numpy_blas = f"{blas.get('name', 'unknown')} {blas.get('version', '')}".strip()
    except Exception:  # older numpy: no dict mode
        numpy_blas = "unknown"
    return {
        "torch_blas": torch_blas,
        "torch_cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "numpy_blas": numpy_blas,
        "MKL_CBWR": os.environ.get("MKL_CBWR", ""),
        "ATEN_CPU_CAPABILITY": os.environ.get("ATEN_CPU_CAPABILITY", ""),
        "NPY_DISABLE_CPU_FEATURES": os.environ.get("NPY_DISABLE_CPU_FEATURES", ""),
    }


def git_commit(path: "str | Path | None" = None) -> str:
    """HEAD's commit of the checkout holding ``path`` (default: this package), with "-dirty" if the
    package differs from it; "unknown" outside a checkout."""
    package = Path(path) if path is not None else Path(__file__).resolve().parent
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=package, capture_output=True, text=True,
                              timeout=10)
        if head.returncode != 0 or not head.stdout.strip():
            return "unknown"
        status = subprocess.run(["git", "status", "--porcelain", "--", str(package)], cwd=package,
                                capture_output=True, text=True, timeout=10)
        return head.stdout.strip() + ("-dirty" if status.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def machine_provenance() -> dict[str, Any]:
    """Versions, commit and machine description, as stored in every result file."""
    import numpy as np
    import torch

    from . import __version__

    return {"package_version": __version__, "git_commit": git_commit(), "torch_version": torch.__version__,
            "numpy_version": np.__version__, "python_version": platform.python_version(),
            "machine": platform.machine(), "cpu_model": cpu_model(), **blas_info()}


def other_numeric_path() -> dict[str, str]:
    """Environment variables that send the same computation down other numeric code paths.

    ``MKL_CBWR=COMPATIBLE`` switches MKL's matrix products to its conditional-numerical-reproducibility
    kernels; ``ATEN_CPU_CAPABILITY=default`` makes torch dispatch its scalar (non-vectorised) kernels;
    on x86-64, ``NPY_DISABLE_CPU_FEATURES`` makes numpy dispatch its baseline kernels instead of the
    AVX2/AVX-512 ones. Between them they change the order and the instructions of nearly every sum
    the course computes, as another learner's CPU would. The test suite runs the stored-number tests
    (the notebooks and the shipped-result reproductions) a second time under these variables.
    """
    env = {"MKL_CBWR": "COMPATIBLE", "ATEN_CPU_CAPABILITY": "default"}
    if platform.machine().lower() in ("x86_64", "amd64"):
        env["NPY_DISABLE_CPU_FEATURES"] = "X86_V3 X86_V4 AVX512_ICL AVX512_SPR"
    return env
