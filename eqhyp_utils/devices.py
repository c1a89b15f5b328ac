"""Where tensors live: the CPU (the default, and the reference for every stored number), CUDA or MPS.

The CPU stays the default everywhere, so stored outputs never depend on the hardware; ``"auto"``
picks the best available device only when the user asks for it. On a GPU the float64 results agree
with the CPU path to rounding (the reductions are ordered differently), not bit for bit.

MPS (Apple GPUs) has no float64, and the course trains and measures in float64, so ``"mps"`` is
refused with an explanation and ``"auto"`` never picks it: ``"auto"`` is CUDA when torch sees a
CUDA device, else the CPU.
"""
from __future__ import annotations

import torch

from .errors import InvalidInputError, UnsupportedError

__all__ = ["DEVICE_CHOICES", "available_devices", "resolve_device"]

DEVICE_CHOICES = ("cpu", "cuda", "mps", "auto")


def _mps_available() -> bool:
    mps = getattr(torch.backends, "mps", None)
    return bool(mps is not None and mps.is_available())


def available_devices() -> list[str]:
    """The device kinds torch can use here, best last: always ``"cpu"``, then ``"mps"`` and/or ``"cuda"``.

    (An available ``"mps"`` is still refused by :func:`resolve_device`: it has no float64.)
    """
    out = ["cpu"]
    if _mps_available():
        out.append("mps")
    if torch.cuda.is_available():
        out.append("cuda")
    return out


def resolve_device(device: "str | torch.device | None" = "cpu") -> torch.device:
    """A :class:`torch.device` for ``device``: "cpu", "cuda", "cuda:1", "mps", "auto" or a torch.device.

    None means the CPU. ``"auto"`` is CUDA when available, else the CPU (never MPS, which has no
    float64). Raises :class:`InvalidInputError` for a string that names no device and
    :class:`UnsupportedError` for a device that this machine does not have (or MPS).
    """
    if device is None:
        return torch.device("cpu")
    if isinstance(device, torch.device):
        resolved = device
    elif isinstance(device, str):
        name = device.strip().lower()
        if name == "auto":
            return torch.device("cuda" if torch.cuda.is_available() else "cpu")
        kind = name.split(":", 1)[0]
        if kind not in DEVICE_CHOICES:
            raise InvalidInputError(
                f"device must be one of {', '.join(DEVICE_CHOICES)} (or 'cuda:N'), got {device!r}.")
        try:
            resolved = torch.device(name)
        except (RuntimeError, ValueError) as exc:
            raise InvalidInputError(f"device {device!r} is not a valid device name ({exc}); "
                                    "write e.g. 'cpu', 'cuda' or 'cuda:0'.") from exc
    else:
        raise InvalidInputError(f"device must be a string or a torch.device, got {type(device).__name__}.")
    kind = resolved.type
    if kind == "mps" and _mps_available():
        raise UnsupportedError("MPS has no float64, and the course trains in float64; use 'cpu' on this machine.")
    if kind not in available_devices():
        raise UnsupportedError(f"device {str(resolved)!r} is not available on this machine (available: "
                               f"{', '.join(available_devices())}); use 'cpu', or 'auto' for the best one.")
    if kind == "cuda" and resolved.index is not None and resolved.index >= torch.cuda.device_count():
        raise UnsupportedError(f"device {str(resolved)!r} does not exist: torch sees "
                               f"{torch.cuda.device_count()} CUDA device(s), numbered from 0.")
    return resolved
