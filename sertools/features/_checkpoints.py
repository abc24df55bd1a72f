"""Checkpoint identity shared by every neural backend family.

A fitted neural embedder remembers *which* model it was fitted with: the
content hash (SHA-256) of the checkpoint file(s) its backend loaded
(``model_fingerprint_``). Hashing reads the whole file, so it happens once per
version of a file per process: the digest is cached by the file's token
(:func:`sertools.utils._files.file_token`: resolved path, device, inode, size,
modification and status-change times), so a checkpoint rewritten in place with
its size and mtime restored, or replaced through a rename (``cp -p``,
``rsync -a``), is hashed again.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .._exceptions import ParameterError
from ..utils._files import file_token

__all__ = [
    "MODEL_DIR_ENV",
    "file_sha256",
    "files_token",
    "fingerprint_files",
    "load_state_dict",
    "model_folder",
    "placement_hint",
    "resolve_checkpoint",
]

_CHUNK = 1 << 20
_digests: dict[str, str] = {}
_lock = threading.Lock()


def file_sha256(path: str | os.PathLike[str]) -> str:
    """SHA-256 of a file's bytes, computed once per version of the file per process.

    A version is a :func:`~sertools.utils._files.file_token` (path, device, inode,
    size, mtime, ctime).

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
    key = file_token(resolved)
    if key is None:
        resolved.stat()  # the OSError of a missing or unreadable file
    with _lock:
        cached = _digests.get(key) if key is not None else None
    if cached is not None:
        return cached
    digest = hashlib.sha256()
    with open(resolved, "rb") as handle:
        while block := handle.read(_CHUNK):
            digest.update(block)
    value = digest.hexdigest()
    if key is not None and file_token(resolved) == key:  # not changed while read
        with _lock:
            _digests[key] = value
    return value


def files_token(paths: Iterable[str | os.PathLike[str]]) -> str:
    """One token for the current version of checkpoint file(s), without reading them.

    Parameters
    ----------
    paths : iterable of path-like
        Files, or folders (every file below them counts).

    Returns
    -------
    str
        Changes whenever any file's :func:`~sertools.utils._files.file_token`
        does (or a file appears or disappears); ``""`` for no paths.
    """
    parts = []
    for p in paths:
        path = Path(p)
        files = sorted(q for q in path.rglob("*") if q.is_file()) if path.is_dir() else [path]
        parts += [f"{f}\t{file_token(f)}" for f in files]
    return (
        hashlib.sha256("\n".join(parts).encode("utf-8", "surrogatepass")).hexdigest()
        if parts
        else ""
    )


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


# --- where a checkpoint comes from: one policy for every backend family -------------
#: environment variable naming a folder of local checkpoint files
MODEL_DIR_ENV = "SERTOOLS_MODEL_DIR"


def model_folder(model_dir: str | os.PathLike[str] | None) -> tuple[Path, str] | None:
    """The folder of local checkpoints and where it came from (``model_dir`` or the env var)."""
    if model_dir is not None:
        return Path(model_dir).expanduser(), "model_dir"
    env = os.environ.get(MODEL_DIR_ENV)
    if env:
        return Path(env).expanduser(), MODEL_DIR_ENV
    return None


def resolve_checkpoint(
    spec: str | os.PathLike[str] | None,
    *,
    param: str,
    local_file: str | None,
    model_dir: str | os.PathLike[str] | None,
    suffixes: tuple[str, ...],
    expected: str,
    missing: str,
) -> tuple[str, str] | None:
    """Resolve a model specification: explicit file, then model folder, then hub.

    Parameters
    ----------
    spec : str, path-like or None
        What the user gave: a file path, a hub name, or None (only the model
        folder is then searched).
    param : str
        Name of the parameter, for messages.
    local_file : str or None
        File name to look for in the model folder (``model_dir``, else
        ``$SERTOOLS_MODEL_DIR``); None: no folder lookup.
    model_dir : str, path-like or None
    suffixes : tuple of str
        File suffixes that mark ``spec`` as a path even when it does not exist.
    expected : str
        What a folder given as ``spec`` should have been (for the message).
    missing : str
        Start of the message for a path that does not exist.

    Returns
    -------
    ("file", path) or ("hub", name) or None
        An absolute file path; the hub name to download; None when ``spec`` is
        None and no local file was found.

    Raises
    ------
    ParameterError
        If ``spec`` is a folder, or looks like a path (path-like object,
        absolute, starting with ``.``/``~``, or ending with one of ``suffixes``)
        but no such file exists.
    """
    from .._exceptions import ParameterError

    if spec is not None:
        text = os.fspath(spec)
        path = Path(text).expanduser()
        if path.is_dir():
            raise ParameterError(f"{param}={text!r} is a folder; expected {expected}")
        if path.is_file():
            return "file", str(path.resolve())
        looks_like_path = (
            not isinstance(spec, str)
            or path.is_absolute()
            or text.lower().endswith(suffixes)
            or text.startswith((".", "~"))
        )
        if looks_like_path:
            raise ParameterError(f"{missing}: {path}")
    folder = model_folder(model_dir)
    if folder is not None and local_file is not None and (folder[0] / local_file).is_file():
        return "file", str((folder[0] / local_file).resolve())
    return None if spec is None else ("hub", os.fspath(spec))


def placement_hint(local_file: str, model_dir: str | os.PathLike[str] | None) -> str:
    """How to make a checkpoint available offline (for "cannot download" messages)."""
    folder = model_folder(model_dir)
    if folder is None:
        return (
            f"place {local_file} in a folder and pass model_dir=<folder> or set "
            f"{MODEL_DIR_ENV}=<folder>"
        )
    where = f"place {local_file} in {folder[0]} ({folder[1]})"
    if folder[1] == "model_dir":
        where += f" or set {MODEL_DIR_ENV}"
    return where


def load_state_dict(path: Path, *, key: str, model: str, fmt: str) -> dict[str, Any]:
    """The state dict stored under ``key`` in a torch checkpoint file (loaded on the CPU).

    Parameters
    ----------
    path : Path
        The checkpoint file.
    key : str
        Where the file's dict keeps the weights (``"model_state"``, ``"model"``).
    model : str
        The model, for messages (``"GE2E"``).
    fmt : str
        The expected format, for messages (``"Resemblyzer's pretrained.pt format"``).

    Returns
    -------
    dict of str -> torch.Tensor

    Raises
    ------
    ParameterError
        Naming the file: it cannot be read (``weights_only`` unpickling), or holds
        no dict under ``key``.
    """
    import torch

    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # pickle, zip and format errors come in many types
        raise ParameterError(
            f"cannot read {path} as a {model} checkpoint ({type(exc).__name__}: "
            f"{' '.join(str(exc).split())[:200]})"
        ) from exc
    weights = state.get(key) if isinstance(state, dict) else None
    if not isinstance(weights, dict):
        found = sorted(map(repr, state))[:6] if isinstance(state, dict) else type(state).__name__
        raise ParameterError(
            f"{path} is not a {model} checkpoint: expected a dict with a {key!r} state "
            f"dict ({fmt}), found {found}"
        )
    odd = [k for k in weights if not isinstance(k, str)]
    if odd:
        raise ParameterError(
            f"{path} is not a {model} checkpoint: its {key!r} state dict has keys that "
            f"are not parameter names (strings), e.g. {odd[0]!r} ({type(odd[0]).__name__}); "
            f"expected {fmt}"
        )
    return weights
