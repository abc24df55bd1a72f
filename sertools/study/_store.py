"""The per-cell result store of a study (files written by :mod:`sertools.utils._files`)."""

from __future__ import annotations

import hashlib
import json
import os
import warnings
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..utils._files import atomic_write_text, file_token

__all__ = ["CellStore", "fingerprint"]

#: Degrees of freedom of every "± std" of the study package: the sample
#: standard deviation over folds (``ddof=1``), as ``pandas.Series.std``.
STD_DDOF = 1


def _clip_token(item: Any) -> bytes:
    """A clip's identity: a file by :func:`sertools.utils._files.file_token`, an array by value."""
    if isinstance(item, (str, os.PathLike)):
        token = file_token(item)
        return f"file|{token}".encode() if token else f"{os.fspath(item)}|missing".encode()
    return _array_bytes(np.asarray(item))


def _array_bytes(arr: np.ndarray) -> bytes:
    """Bytes naming an array's values: dtype, shape and data; object arrays by their values."""
    head = arr.dtype.str.encode() + str(arr.shape).encode()
    if arr.dtype.hasobject:  # its memory holds pointers: hash what they point to
        values = [_plain_value(v) for v in arr.ravel().tolist()]
        return head + json.dumps(values, default=repr).encode()
    return head + np.ascontiguousarray(arr).tobytes()


def _plain_value(v: Any) -> Any:
    """A JSON-able value that keeps types apart (``1`` vs ``"1"`` vs ``1.0``)."""
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, (bool, int, float, str)) or v is None:
        return [type(v).__name__, v]
    if isinstance(v, bytes):
        return ["bytes", v.hex()]
    return [type(v).__name__, repr(v)]


def fingerprint(*parts: Any, clips: Iterable[Any] | None = None) -> str:
    """A short content digest of ``parts`` (JSON-able) and optional clips.

    Parameters
    ----------
    *parts
        Values serialised with ``json.dumps(..., sort_keys=True, default=str)``.
    clips : iterable of paths or arrays, optional
        Paths count by :func:`sertools.utils._files.file_token` (resolved
        path, device, inode, size, modification and status-change times: a
        file rewritten in place gets a new token even with its size and
        modification time restored); arrays by dtype, shape and values.

    Notes
    -----
    Arrays in ``parts`` count by value, object arrays included (a pandas
    Series of strings is hashed by its strings, not by its memory).

    Returns
    -------
    str
        16 hexadecimal digits.
    """
    h = hashlib.sha256()
    for part in parts:
        if isinstance(part, np.ndarray):
            h.update(_array_bytes(part))
        else:
            h.update(json.dumps(part, sort_keys=True, default=str).encode())
        h.update(b"\x00")
    for clip in () if clips is None else clips:
        h.update(_clip_token(clip))
    return h.hexdigest()[:16]


def safe_name(name: Any) -> str:
    """``name`` as one file-name component that stays in its folder.

    Letters, digits, ``-``, ``_`` and ``.`` are kept, anything else becomes
    ``_``; a name that would start with ``.`` (``.``, ``..``, hidden files) or
    is empty gets a leading ``_``.

    Parameters
    ----------
    name : object
        A corpus, protocol, feature-set or classifier name.

    Returns
    -------
    str

    Examples
    --------
    >>> safe_name("../../x"), safe_name(".."), safe_name("svm-scaled")
    ('_.._.._x', '_..', 'svm-scaled')
    """
    out = "".join(c if c.isalnum() or c in "-_." else "_" for c in str(name))
    return out if out and not out.startswith(".") else "_" + out


def _safe(name: Any) -> str:
    """``name`` with every character but letters, digits and ``-_.`` as ``_``.

    For a part of a longer file name (``confusion_<corpus>_<protocol>.png``); a whole
    path component takes :func:`safe_name`, which also refuses a leading dot.
    """
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in str(name))


#: what a finished in-corpus cell's file holds (cross-corpus cells: ``CROSS_FIELDS``)
CELL_FIELDS: Mapping[str, type] = {"rows": list, "predictions": dict}
CROSS_FIELDS: Mapping[str, type] = {"row": dict, "predictions": dict}


class CellStore:
    """Finished cells of a study, one JSON file each, written atomically.

    A cell's file is named by its corpus, protocol, feature set, classifier and
    a digest of everything that determines its result (clips, labels, folds,
    embedder and classifier parameters), so a changed setting is a new cell
    and never reuses an old result.

    Parameters
    ----------
    folder : str or path-like
        Created on the first write.
    """

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.folder = Path(folder)

    def path(self, key: Sequence[str], digest: str) -> Path:
        """File of the cell ``key`` (strings) with ``digest``."""
        *dirs, last = (safe_name(k) for k in key)
        return self.folder.joinpath(*dirs, f"{last}__{digest}.json")

    def load(
        self, key: Sequence[str], digest: str, *, fields: Mapping[str, type] | None = None
    ) -> dict[str, Any] | None:
        """The stored cell, or None when it is not finished.

        A file that is there but is not a finished cell (not JSON, not an
        object, or without ``fields`` of their types, e.g. :data:`CELL_FIELDS`)
        is reported by a warning naming it, and the
        cell is treated as not finished: it is recomputed and the file replaced.
        """
        path = self.path(key, digest)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError:
            return None
        try:
            record = json.loads(text)
        except ValueError as exc:
            problem = f"not JSON ({exc})"
        else:
            if isinstance(record, dict) and all(
                isinstance(record.get(f), t) for f, t in (fields or {}).items()
            ):
                return record
            got = (
                {k: type(v).__name__ for k, v in record.items()}
                if isinstance(record, dict)
                else type(record).__name__
            )
            want = ", ".join(f"{f} ({t.__name__})" for f, t in (fields or {}).items())
            problem = f"holds {got}, expected an object" + (f" with {want}" if want else "")
        warnings.warn(
            f"cell file {path} is not a finished cell: {problem}; the cell is recomputed",
            UserWarning,
            stacklevel=2,
        )
        return None

    def save(self, key: Sequence[str], digest: str, record: dict[str, Any]) -> Path:
        """Store a finished cell atomically."""
        text = json.dumps(record, default=_json_default)
        return atomic_write_text(self.path(key, digest), text)


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    return str(obj)
