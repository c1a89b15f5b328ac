"""Exceptions raised at the package's public entry points.

Every error says what was expected, what was received, and what to do about it
(scikit-learn style: validate once at the boundary, trust inputs inside).
"""
from __future__ import annotations


class EqhypError(Exception):
    """Base class of every error this package raises on purpose."""


class InvalidInputError(EqhypError, ValueError):
    """An argument has the wrong shape, range or value (e.g. labels outside 0..C-1, NaN inputs)."""


class UnsupportedError(EqhypError, NotImplementedError):
    """A layer type, activation or option that the package does not implement."""


class TrainingDivergedError(EqhypError, RuntimeError):
    """The training loss became NaN or infinite."""


class CorruptResultError(EqhypError, RuntimeError):
    """A cached or result file failed its checksum or could not be parsed."""
