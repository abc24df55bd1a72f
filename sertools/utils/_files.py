"""Files on disk: the identity of a file, and writing one atomically.

The identity, for anything sertools reuses (cached vectors, study cells):

One rule, used everywhere a file stands for its content without being read:
a file's *token* is its resolved path with the device, inode, size, modification
time and status-change time (all in nanoseconds where the OS keeps them). The
status-change time (``st_ctime_ns``) is set by the kernel on every write, rename,
``chmod`` or ``utime`` and cannot be set back by a user, so a file rewritten in
place with its size and modification time restored (``os.utime``), or replaced by
another file through a rename that keeps the modification time (``cp -p``,
``rsync -a``), gets a new token. A token change only costs a re-read (content
hashes then find the same vectors); it never serves a stale result.

Every file sertools writes for a user (study reports and cells, model files and
their cards) goes through :func:`atomic_write_bytes`: readers see the old file or
the whole new one, with the user's normal permissions.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import threading
from pathlib import Path


def file_token(path: str | os.PathLike[str]) -> str | None:
    """A short digest naming one version of one file, or None when it cannot be stat'ed.

    Parameters
    ----------
    path : str or path-like
        The file.

    Returns
    -------
    str or None
        32 hex digits over the resolved path, ``st_dev``, ``st_ino``, ``st_size``,
        ``st_mtime_ns`` and ``st_ctime_ns``; None for a missing or unreadable path.
    """
    try:
        p = Path(path).resolve()
        st = p.stat()
    except (OSError, ValueError):
        return None
    ident = f"{p}|{st.st_dev}|{st.st_ino}|{st.st_size}|{st.st_mtime_ns}|{st.st_ctime_ns}"
    return hashlib.sha256(ident.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` so that readers see the old file or the whole new one.

    The bytes go to a temporary file in the same folder, are flushed to disk,
    and replace ``path`` in one ``os.replace``; an interrupt leaves no half file.
    The file gets the user's normal permissions (``0o666`` less the umask), not
    the temporary file's private ``0o600``.

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
            os.fchmod(fh.fileno(), 0o666 & ~_umask())
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


_UMASK_LOCK = threading.Lock()


def _umask() -> int:
    """The process's umask (read by setting it and setting it back, under a lock)."""
    with _UMASK_LOCK:
        mask = os.umask(0o022)
        os.umask(mask)
    return mask


def atomic_write_text(path: str | os.PathLike[str], text: str) -> Path:
    """:func:`atomic_write_bytes` of UTF-8 text."""
    return atomic_write_bytes(path, text.encode("utf-8"))
