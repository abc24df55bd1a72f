"""The identity of a file on disk, for anything sertools reuses (cached vectors, study cells).

One rule, used everywhere a file stands for its content without being read:
a file's *token* is its resolved path with the device, inode, size, modification
time and status-change time (all in nanoseconds where the OS keeps them). The
status-change time (``st_ctime_ns``) is set by the kernel on every write, rename,
``chmod`` or ``utime`` and cannot be set back by a user, so a file rewritten in
place with its size and modification time restored (``os.utime``), or replaced by
another file through a rename that keeps the modification time (``cp -p``,
``rsync -a``), gets a new token. A token change only costs a re-read (content
hashes then find the same vectors); it never serves a stale result.
"""

from __future__ import annotations

import hashlib
import os
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
