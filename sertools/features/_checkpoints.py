"""Checkpoint identity shared by every neural backend family.

A fitted neural embedder remembers *which* model it was fitted with: the
content hash (SHA-256) of the checkpoint file(s) its backend loaded
(``model_fingerprint_``). Hashing reads the whole file, so it happens once per
file per process: the digest is cached by (path, size, modification time).
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Iterable
from pathlib import Path

__all__ = ["file_sha256", "fingerprint_files"]

_CHUNK = 1 << 20
_digests: dict[tuple[str, int, int], str] = {}
_lock = threading.Lock()


def file_sha256(path: str | os.PathLike[str]) -> str:
    """SHA-256 of a file's bytes, computed once per (path, size, mtime) per process.

    Parameters
    ----------
    path : str or path-like
        A regular file.

    Returns
    -------
    str
        64 hex digits.
    """
    resolved = Path(path).resolve()
    stat = resolved.stat()
    key = (str(resolved), stat.st_size, stat.st_mtime_ns)
    with _lock:
        cached = _digests.get(key)
    if cached is not None:
        return cached
    digest = hashlib.sha256()
    with open(resolved, "rb") as handle:
        while block := handle.read(_CHUNK):
            digest.update(block)
    value = digest.hexdigest()
    with _lock:
        _digests[key] = value
    return value


def fingerprint_files(paths: Iterable[str | os.PathLike[str]]) -> str:
    """One content hash for the checkpoint file(s) of a model.

    Parameters
    ----------
    paths : iterable of path-like
        Files, or folders (every file below them counts, by relative path).

    Returns
    -------
    str
        ``"sha256:<hex>"``: for one file, its own SHA-256; for several, the
        SHA-256 of their sorted (name, digest) list. ``""`` when there are none.
    """
    entries: list[tuple[str, str]] = []
    for p in paths:
        path = Path(p)
        if path.is_dir():
            for f in sorted(q for q in path.rglob("*") if q.is_file()):
                entries.append((f.relative_to(path).as_posix(), file_sha256(f)))
        else:
            entries.append((path.name, file_sha256(path)))
    if not entries:
        return ""
    if len(entries) == 1:
        return f"sha256:{entries[0][1]}"
    combined = hashlib.sha256("\n".join(f"{n}\t{d}" for n, d in sorted(entries)).encode())
    return f"sha256:{combined.hexdigest()}"
