"""Self-checks for the course's exercises.

Each notebook's exercises live in a module ``nbNN`` of this package that registers one checker per
exercise with :func:`register`. A learner calls :func:`check` with the exercise's label and their
answer (a value or a function); the checker compares it with the package's own computation and
prints a short verdict with a hint, so the learner knows whether they got it right::

    from eqhyp_utils.exercises import check
    check("ex-01-kernel", my_layer_kernel)

``check`` returns True/False (so tests can use it) and never raises on a wrong answer, only on an
unknown label. An answer function that is still a stub raises its ``NotImplementedError`` unchanged,
so an unfinished exercise stops the notebook where the learner must act.
"""
from __future__ import annotations

import importlib
import pkgutil
import textwrap
from typing import Any, Callable

from ..errors import InvalidInputError

Checker = Callable[[Any], "tuple[bool, str]"]
#: The verdict is wrapped at spaces to this many characters, so that it fits the book's output blocks.
VERDICT_WIDTH = 88
_CHECKERS: dict[str, Checker] = {}


def register(label: str) -> Callable[[Checker], Checker]:
    """Decorator: register ``checker(answer) -> (ok, message)`` for the exercise ``label``."""
    def decorate(checker: Checker) -> Checker:
        if label in _CHECKERS:
            raise InvalidInputError(f"exercise label {label!r} is registered twice.")
        _CHECKERS[label] = checker
        return checker
    return decorate


def _load_all() -> None:
    for module in pkgutil.iter_modules(__path__):
        if module.name.startswith("nb"):
            importlib.import_module(f"{__name__}.{module.name}")


def exercise_labels() -> list[str]:
    """All registered exercise labels, sorted."""
    _load_all()
    return sorted(_CHECKERS)


def check(label: str, answer: Any, *, quiet: bool = False) -> bool:
    """Check ``answer`` to exercise ``label``; print a verdict unless ``quiet``; return whether it is right.

    The verdict is wrapped at spaces to lines of at most :data:`VERDICT_WIDTH` characters.
    """
    _load_all()
    if label not in _CHECKERS:
        raise InvalidInputError(f"unknown exercise {label!r}; known exercises: {', '.join(sorted(_CHECKERS))}.")
    ok, message = _CHECKERS[label](answer)
    if not quiet:
        verdict = ("Correct! " if ok else "Not yet: ") + message
        print(textwrap.fill(verdict, VERDICT_WIDTH, break_long_words=False, break_on_hyphens=False))
    return bool(ok)


def close_enough(value: Any, expected: Any, *, rtol: float = 1e-6, atol: float = 1e-9) -> "tuple[bool, str]":
    """Compare numbers/arrays/tensors; the message names the largest discrepancy."""
    import numpy as np

    try:
        v = np.asarray(value.detach().cpu() if hasattr(value, "detach") else value, dtype=np.float64)
    except (TypeError, ValueError):
        return False, f"expected a number or an array, got {type(value).__name__}."
    e = np.asarray(expected.detach().cpu() if hasattr(expected, "detach") else expected, dtype=np.float64)
    if v.shape != e.shape:
        return False, f"expected shape {e.shape}, got {v.shape}."
    if not np.all(np.isfinite(v)):
        return False, "your answer contains NaN or inf."
    if np.allclose(v, e, rtol=rtol, atol=atol):
        return True, "matches the package's computation."
    err = float(np.max(np.abs(v - e)))
    return False, f"largest absolute difference {err:.3g} (tolerance rtol={rtol:g}, atol={atol:g})."
