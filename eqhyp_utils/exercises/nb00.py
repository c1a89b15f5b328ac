"""Self-check for notebook 0, the welcome: the package's layer-numbering convention."""
from __future__ import annotations

from typing import Callable

import numpy as np

from . import register


@register("ex-00-peak-layer")
def check_peak_layer(answer: Callable) -> "tuple[bool, str]":
    """answer(alignment) must return the 1-based layer l of the largest entry (entry i is layer i + 1)."""
    rng = np.random.default_rng(0)
    cases = [np.array([0.1, 0.3, 0.2]), np.array([0.5, 0.1, 0.1, 0.1]), np.array([0.01, 0.02, 0.03, 0.04, 0.05])]
    cases += [rng.uniform(0, 0.2, size=int(n)) for n in rng.integers(2, 30, size=5)]
    for a in cases:
        expected = int(np.argmax(a)) + 1
        got = answer(a.copy())
        if isinstance(got, (bool, np.bool_)) or not isinstance(got, (int, np.integer)):
            return False, f"expected an integer layer index, got {type(got).__name__} ({got!r})."
        if int(got) != expected:
            hint = " Layers are numbered from 1: entry i is layer i + 1." if int(got) == expected - 1 else ""
            return False, f"for alignment {np.round(a, 3)} the peak layer is {expected}, you returned {got}.{hint}"
    return True, "the peak layer is argmax + 1 (layers are numbered 1 … L + 1, output layer last)."
