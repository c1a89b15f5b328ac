"""Where tensors live: the CPU (the default, and the reference for every stored number), CUDA or MPS.

The CPU stays the default everywhere, so stored outputs never depend on the hardware; ``"auto"``
picks the best available device only when the user asks for it. On a GPU the float64 results agree
with the CPU path to rounding (the reductions are ordered differently), not bit for bit.
"""
from __future__ import annotations

import torch

from .errors import InvalidInputError, UnsupportedError

__all__ = ["DEVICE_CHOICES", "available_devices", "resolve_device"]

DEVICE_CHOICES = ("cpu", "cuda", "mps", "auto")


def available_devices() -> list[str]:
    """The device kinds usable here, best last: always ``"cpu"``, then ``"mps"`` and/or ``"cuda"``."""
    out = ["cpu"]
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        out.append("mps")
    if torch.cuda.is_available():
        out.append("cuda")
    return out


def resolve_device(device: "str | torch.device | None" = "cpu") -> torch.device:
    """A :class:`torch.device` for ``device``: "cpu", "cuda", "cuda:1", "mps", "auto" (best available)
    or a torch.device. Raises :class:`UnsupportedError` when the device is not available here."""
    if device is None:
        return torch.device("cpu")
    if isinstance(device, torch.device):
        kind = device.type
        resolved = device
    elif isinstance(device, str):
        if device == "auto":
            return torch.device(available_devices()[-1])
        kind = device.split(":", 1)[0]
        if kind not in DEVICE_CHOICES:
            raise InvalidInputError(f"device must be one of {', '.join(DEVICE_CHOICES)} (or 'cuda:N'), got {device!r}.")
        resolved = torch.device(device)
    else:
        raise InvalidInputError(f"device must be a string or a torch.device, got {type(device).__name__}.")
    if kind not in available_devices():
        raise UnsupportedError(f"device {device!r} is not available on this machine (available: "
                               f"{', '.join(available_devices())}); use 'cpu' or 'auto'.")
    if kind == "mps":
        raise UnsupportedError("MPS has no float64, and the course trains in float64; use 'cpu' on this machine.")
    return resolved
