"""Result files: one JSON file per run, written atomically and protected by a checksum.

File layout::

    {"format": "eqhyp-result/1",
     "sha256": "<SHA-256 of the canonical JSON of payload>",
     "payload": {"config": {...}, "config_hash": "...", "history": {...}, "loss_curve": {...},
                 "prediction": {...}, "provenance": {...}}}

The canonical JSON is ``json.dumps(payload, sort_keys=True, separators=(",", ":"))``. Floats
(except those of the run configuration, which must keep hashing to ``config_hash``) are rounded to
6 significant digits *before* the checksum is taken, so that the file on disk and the checksum
describe the same numbers.

:func:`read_result` refuses (raises :class:`~eqhyp_utils.errors.CorruptResultError`) a file that
cannot be parsed (e.g. truncated), lacks a field, fails its checksum, or whose configuration does
not hash to the expected run. The runner reports such files with a warning and redoes the run.
"""
from __future__ import annotations

import hashlib
import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import CorruptResultError
from .config import config_hash

__all__ = ["FORMAT", "round_floats", "payload_checksum", "write_result", "read_result", "load_results"]

FORMAT = "eqhyp-result/1"
SIGNIFICANT_DIGITS = 6


def round_floats(obj: Any, digits: int = SIGNIFICANT_DIGITS) -> Any:
    """JSON-safe copy of ``obj`` with every float rounded to ``digits`` significant digits.

    NaN and ±inf become None; numpy scalars and arrays become Python numbers and lists; tuples
    become lists; dictionary keys become strings. The one rounding rule of every file the
    experiments write (result files, summary.json).
    """
    if isinstance(obj, np.ndarray):
        obj = obj.tolist()
    elif isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float):
        return float(f"{obj:.{digits}g}") if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {str(k): round_floats(v, digits) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [round_floats(v, digits) for v in obj]
    return obj


def _canonical(payload: dict) -> str:
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), allow_nan=False)


def payload_checksum(payload: dict) -> str:
    """SHA-256 (hex) of the canonical JSON of ``payload``."""
    return hashlib.sha256(_canonical(payload).encode()).hexdigest()


def write_result(path: "str | Path", payload: dict) -> dict:
    """Round ``payload``'s floats (not its ``config``), checksum it, and write it to ``path`` atomically.

    Atomic: the JSON goes to a temporary file in the same folder, is flushed and fsync'ed, then
    ``os.replace``'d onto ``path``; a reader sees either the old file or the complete new one.
    Returns the rounded payload as written.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    config = payload.get("config")
    payload = round_floats(payload)
    if config is not None:  # the configuration is kept exact: it must hash to config_hash
        payload["config"] = config
    document = {"format": FORMAT, "sha256": payload_checksum(payload), "payload": payload}
    text = json.dumps(document, sort_keys=True, indent=1, allow_nan=False) + "\n"
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    return payload


def read_result(path: "str | Path", expected_config_hash: "str | None" = None) -> dict:
    """The payload stored at ``path``, after checking format, checksum and configuration hash.

    Raises :class:`CorruptResultError` naming the file and the reason if it is unreadable,
    truncated, tampered with (checksum mismatch), or belongs to another configuration.
    """
    path = Path(path)
    try:
        document = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CorruptResultError(f"{path}: cannot be read as JSON ({exc}); it may be truncated.") from exc
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise CorruptResultError(f"{path}: not an {FORMAT} result file.")
    payload, digest = document.get("payload"), document.get("sha256")
    if not isinstance(payload, dict) or not isinstance(digest, str):
        raise CorruptResultError(f"{path}: the payload or its sha256 is missing.")
    try:
        actual = payload_checksum(payload)
    except ValueError as exc:  # NaN sneaked in
        raise CorruptResultError(f"{path}: the payload is not valid canonical JSON ({exc}).") from exc
    if actual != digest:
        raise CorruptResultError(f"{path}: checksum mismatch (stored {digest[:12]}…, computed {actual[:12]}…); "
                                 "the file was modified after it was written.")
    for key in ("config", "config_hash", "history", "provenance"):
        if key not in payload:
            raise CorruptResultError(f"{path}: the payload lacks {key!r}.")
    if config_hash(payload["config"]) != payload["config_hash"]:
        raise CorruptResultError(f"{path}: its configuration does not hash to its stored config_hash.")
    if expected_config_hash is not None and payload["config_hash"] != expected_config_hash:
        raise CorruptResultError(f"{path}: holds configuration {payload['config_hash'][:12]}…, "
                                 f"expected {expected_config_hash[:12]}….")
    return payload


def load_results(results_dir: "str | Path") -> dict[str, dict]:
    """Every valid result under ``results_dir`` (recursively), by config hash.

    Invalid files are skipped with a :class:`RuntimeWarning` naming them (never used silently).
    """
    import warnings

    out: dict[str, dict] = {}
    for path in sorted(Path(results_dir).rglob("*.json")):
        try:
            document_head = path.read_text()[:200]
        except OSError:
            document_head = ""
        if FORMAT not in document_head and '"format"' not in document_head:
            continue  # another kind of JSON file (e.g. a summary)
        try:
            payload = read_result(path)
        except CorruptResultError as exc:
            warnings.warn(f"ignoring invalid result file: {exc}", RuntimeWarning, stacklevel=2)
            continue
        out[payload["config_hash"]] = payload
    return out
