"""Atomic files and the per-cell result store of a study."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["CellStore", "atomic_write_bytes", "atomic_write_text", "fingerprint"]

#: Degrees of freedom of every "± std" of the study package: the sample
#: standard deviation over folds (``ddof=1``), as ``pandas.Series.std``.
STD_DDOF = 1


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` so that readers see the old file or the whole new one.

    The bytes go to a temporary file in the same folder, are flushed to disk,
    and replace ``path`` in one ``os.replace``; an interrupt leaves no half file.

    Parameters
    ----------
    path : str or path-like
        Target file; its folder is created if needed.
    data : bytes

    Returns
    -------
    Path
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def atomic_write_text(path: str | os.PathLike[str], text: str) -> Path:
    """:func:`atomic_write_bytes` of UTF-8 text."""
    return atomic_write_bytes(path, text.encode("utf-8"))


def _clip_token(item: Any) -> bytes:
    if isinstance(item, (str, os.PathLike)):
        p = Path(item)
        try:
            st = p.stat()
            return f"{p.resolve()}|{st.st_size}|{st.st_mtime_ns}".encode()
        except OSError:
            return f"{p}|missing".encode()
    arr = np.ascontiguousarray(item)
    return arr.dtype.str.encode() + str(arr.shape).encode() + arr.tobytes()


def fingerprint(*parts: Any, clips: Iterable[Any] | None = None) -> str:
    """A short content digest of ``parts`` (JSON-able) and optional clips.

    Parameters
    ----------
    *parts
        Values serialised with ``json.dumps(..., sort_keys=True, default=str)``.
    clips : iterable of paths or arrays, optional
        Paths count by resolved name, size and modification time; arrays by
        dtype, shape and bytes.

    Returns
    -------
    str
        16 hexadecimal digits.
    """
    h = hashlib.sha256()
    for part in parts:
        if isinstance(part, np.ndarray):
            h.update(np.ascontiguousarray(part).tobytes())
            h.update(str(part.dtype).encode())
        else:
            h.update(json.dumps(part, sort_keys=True, default=str).encode())
        h.update(b"\x00")
    for clip in () if clips is None else clips:
        h.update(_clip_token(clip))
    return h.hexdigest()[:16]


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in str(name))


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
        *dirs, last = (_safe(k) for k in key)
        return self.folder.joinpath(*dirs, f"{last}__{digest}.json")

    def load(self, key: Sequence[str], digest: str) -> dict[str, Any] | None:
        """The stored cell, or None when it is not finished (or unreadable)."""
        path = self.path(key, digest)
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
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
