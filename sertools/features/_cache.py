"""Per-clip embedding store: one vector per (clip content, model fingerprint).

An :class:`EmbeddingCache` is a folder holding a :mod:`diskcache` store (SQLite in
WAL mode, safe for many threads and processes on one machine). Two kinds of
entry live in it:

* **vectors**, keyed on ``sha256(content hash | embedder fingerprint)``: the
  content hash is the SHA-256 of the clip's decoded float32 samples at the
  model's rate; the fingerprint (:func:`embedder_fingerprint`) covers everything
  that changes the output — embedder class, output-affecting parameters, the
  model's identity (checkpoint content hash), sertools and backend versions;
* **fast keys**, mapping a file's (resolved path, size, mtime) or an in-memory
  array's raw bytes and rate to its content hash, so that a warm run finds its
  vectors without reading or resampling any audio.

Every stored value carries a checksum bound to its key: a damaged entry is
reported once (a :class:`CacheWarning` naming the key) and recomputed. A store
that cannot be written (full disk, read-only medium, damaged database) is
reported once and the run goes on without it: the caller always gets freshly
computed vectors, never a wrong one.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import sqlite3
import threading
import warnings
from collections.abc import Iterable, Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from .._exceptions import ParameterError

__all__ = [
    "CACHE_ENV",
    "CacheWarning",
    "EmbeddingCache",
    "content_hash",
    "embedder_fingerprint",
    "fast_key",
    "resolve_cache",
]

#: environment variable naming the default cache folder (used when ``cache=None``)
CACHE_ENV = "SERTOOLS_CACHE"

#: layout of the stored values; a store written with another format is refused
FORMAT = 1
_FORMAT_KEY = "sertools-cache-format"
_VERSION_KEY = "sertools-version"
_MAGIC = b"SERTC1"
_DIGEST = 16
_KIND_VECTOR = b"v"
_KIND_HASH = b"h"

#: packages whose version is part of every fingerprint (reading and resampling)
_IO_PACKAGES = ("numpy", "soundfile", "soxr", "librosa")
#: extra packages per embedder module, for embedders that do not declare
#: ``_backend_packages`` themselves
_MODULE_PACKAGES = {
    "sertools.features.signal": ("scipy",),
    "sertools.features.nemo": ("torch", "nemo_toolkit"),
    "sertools.features.s3prl": ("torch", "torchaudio", "s3prl"),
    "sertools.features.hf": ("torch", "transformers"),
    "sertools.features.opensmile": ("opensmile",),
    "sertools.features.ge2e": ("torch", "resemblyzer"),
}


class CacheWarning(UserWarning):
    """A cache entry or folder could not be used; the vectors were recomputed.

    Issued once per damaged entry (naming its key) and once per store that
    cannot be read or written; the vectors returned are computed afresh.

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("error", CacheWarning)  # a damaged entry is fatal here
    """


def _sha256(*parts: bytes) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(p)
    return h.hexdigest()


def content_hash(wave: np.ndarray) -> str:
    """SHA-256 of a decoded clip (float32 samples at the model's rate).

    Parameters
    ----------
    wave : ndarray of shape (n_samples,)
        As returned by :func:`sertools.audio.load_clip`.

    Returns
    -------
    str
        64 hex digits.
    """
    arr = np.ascontiguousarray(wave, dtype=np.float32)
    return _sha256(b"f32:%d:" % arr.shape[0], arr.tobytes())


def fast_key(item: Any, *, sampling_rate: int | None, target_rate: int) -> str | None:
    """A cheap key standing for a clip's content hash, or None when there is none.

    Files: resolved path, size and modification time (ns); arrays: dtype, shape,
    raw bytes and ``sampling_rate``. Both include ``target_rate`` (the content
    hash is taken at that rate).

    Parameters
    ----------
    item : str, path-like or array-like
        One clip of ``X``.
    sampling_rate : int or None
        Rate of array clips.
    target_rate : int
        The model's rate.

    Returns
    -------
    str or None
        None for a file that cannot be stat'ed (it is then read, and its reading
        error reported, as without a cache) or an item that is not an array.
    """
    if isinstance(item, (str, os.PathLike)):
        try:
            path = Path(item).resolve()
            st = path.stat()
        except OSError:
            return None
        ident = f"file|{path}|{st.st_size}|{st.st_mtime_ns}|{target_rate}"
        return "f:" + _sha256(ident.encode())
    if not isinstance(item, np.ndarray):
        try:
            item = np.asarray(item)
        except (ValueError, TypeError):
            return None
    if item.dtype == object or item.dtype.kind not in "biuf":
        return None
    arr = np.ascontiguousarray(item)
    head = f"array|{arr.dtype.str}|{arr.shape}|{sampling_rate}|{target_rate}|".encode()
    return "f:" + _sha256(head, arr.tobytes())


# --- fingerprint -----------------------------------------------------------------


def _canon(value: Any) -> Any:
    """A JSON-able, deterministic form of a parameter value."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if isinstance(value, (list, tuple)):
        return [_canon(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _canon(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {f.name: _canon(getattr(value, f.name)) for f in dataclasses.fields(value)}
        return {"__class__": type(value).__qualname__, **fields}
    if isinstance(value, np.generic):
        return _canon(value.item())
    return f"{type(value).__module__}.{type(value).__qualname__}:{value!r}"


def _is_location(value: Any) -> bool:
    """True for a parameter value naming an existing file or folder."""
    if not isinstance(value, (str, os.PathLike)):
        return False
    try:
        return Path(value).expanduser().exists()
    except (OSError, ValueError):
        return False


def _package_versions(names: Iterable[str]) -> dict[str, str]:
    versions = {}
    for name in sorted(set(names)):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "absent"
    return versions


def model_identity(embedder: Any) -> str:
    """The identity of the model a fitted embedder runs ("" for signal features).

    Uses, in order: the fitted ``model_fingerprint_`` attribute, the
    ``_model_fingerprint()`` method (a checkpoint content hash), and for neural
    embedders that have neither, the backend key (checkpoint path, size and
    modification time, or the pretrained name).
    """
    fp = getattr(embedder, "model_fingerprint_", None)
    if not fp:
        method = getattr(embedder, "_model_fingerprint", None)
        fp = method() if callable(method) else ""
    if not fp and callable(getattr(embedder, "_backend_key", None)):
        fp = "backend-key:" + json.dumps(_canon(embedder._backend_key()))
    return str(fp or "")


def embedder_fingerprint(embedder: Any) -> str:
    """Hash of everything that changes a fitted embedder's vectors.

    Covered: the embedder class; its parameters except those listed in its
    ``_cache_ignore`` (execution settings: ``verbose``, ``n_jobs``, ``n_threads``,
    ``device``, ``sampling_rate``, ``cache``); the model identity
    (:func:`model_identity`) — when it is a content hash, parameters that merely
    say where the model lies (an existing path) are left out, so a moved
    checkpoint keeps its vectors; the output width; the sertools version and the
    versions of numpy, soundfile, soxr, librosa and the embedder's backend
    packages (``_backend_packages`` or its module's defaults).

    Parameters
    ----------
    embedder : BaseEmbedder
        A fitted embedder.

    Returns
    -------
    str
        64 hex digits.
    """
    from .. import __version__

    cls = type(embedder)
    ignore = set(getattr(embedder, "_cache_ignore", ()))
    identity = model_identity(embedder)
    content_identified = bool(identity) and not identity.startswith("backend-key:")
    params = {}
    for name, value in embedder.get_params(deep=False).items():
        if name in ignore or (content_identified and _is_location(value)):
            continue
        params[name] = _canon(value)
    packages = getattr(embedder, "_backend_packages", None)
    if packages is None:
        packages = _MODULE_PACKAGES.get(cls.__module__, ())
    record = {
        "format": FORMAT,
        "class": f"{cls.__module__}.{cls.__qualname__}",
        "params": params,
        "model": identity,
        "n_features": int(getattr(embedder, "n_features_out_", -1)),
        "sertools": __version__,
        "packages": _package_versions((*_IO_PACKAGES, *packages)),
    }
    return _sha256(json.dumps(record, sort_keys=True).encode())


def vector_key(content: str, fingerprint: str) -> str:
    """Store key of the vector of a clip content under an embedder fingerprint."""
    return "v:" + _sha256(content.encode(), b"|", fingerprint.encode())


# --- the store -------------------------------------------------------------------

# open stores, per process and folder (SQLite connections must not cross a fork)
_OPEN: dict[tuple[int, str], EmbeddingCache] = {}
_OPEN_LOCK = threading.Lock()
_STORE_ERRORS = (OSError, sqlite3.Error)


class EmbeddingCache:
    """A folder of per-clip embeddings shared by every embedder and process.

    Parameters
    ----------
    directory : str or path-like
        Created if needed. Use one folder per machine (local disk): SQLite's
        locking is not reliable on network file systems.
    size_limit : int, default=2**40
        Bytes kept before diskcache evicts the least recently stored entries
        (evicted vectors are recomputed when needed).
    timeout : float, default=60
        Seconds a writer waits for another process's lock.

    Raises
    ------
    ParameterError
        If the folder cannot be created or opened, or holds a store of another
        format (written by an incompatible sertools) or something that is not
        a sertools embedding cache.

    Notes
    -----
    Pickling or deep-copying the store keeps its folder and settings; each
    process opens its own connection. Use :func:`resolve_cache` to obtain one
    shared handle per folder.

    Examples
    --------
    >>> import tempfile
    >>> from sertools.features import MFCCEmbedder
    >>> store = EmbeddingCache(tempfile.mkdtemp())
    >>> emb = MFCCEmbedder(sampling_rate=16000, cache=store)  # or cache="path/to/folder"
    """

    def __init__(
        self, directory: str | os.PathLike[str], *, size_limit: int = 2**40, timeout: float = 60
    ) -> None:
        import diskcache

        self.directory = Path(directory).expanduser().resolve()
        self.size_limit = int(size_limit)
        self.timeout = float(timeout)
        if self.directory.exists() and not self.directory.is_dir():
            raise ParameterError(
                f"cache folder {self.directory} is a file; expected a folder (or a new path)"
            )
        try:
            self._store = diskcache.Cache(
                str(self.directory), timeout=self.timeout, size_limit=self.size_limit
            )
            from .. import __version__

            self._store.add(_FORMAT_KEY, FORMAT)
            self._store.add(_VERSION_KEY, __version__)
            found = self._store.get(_FORMAT_KEY)
        except _STORE_ERRORS as exc:
            raise ParameterError(
                f"cache folder {self.directory} cannot be used: {type(exc).__name__}: {exc}; "
                "expected a writable folder on a local disk"
            ) from exc
        if found != FORMAT:
            writer = self._store.get(_VERSION_KEY)
            self._store.close()
            raise ParameterError(
                f"cache folder {self.directory} holds a store of format {found!r} (written by "
                f"sertools {writer}); this sertools reads format {FORMAT}: use another folder "
                "or delete this one"
            )
        self._reported: set[str] = set()
        self._read_only = False

    # pickling / copying: same folder, fresh connection
    def __reduce__(self):
        return (_reopen, (str(self.directory), self.size_limit, self.timeout))

    def __deepcopy__(self, memo: dict) -> EmbeddingCache:
        return self

    def __repr__(self) -> str:
        return f"EmbeddingCache({str(self.directory)!r})"

    def __len__(self) -> int:
        """Number of stored clip vectors."""
        return sum(1 for k in self._store.iterkeys() if isinstance(k, str) and k[:2] == "v:")

    # --- values ------------------------------------------------------------------
    @staticmethod
    def _seal(key: str, kind: bytes, payload: bytes) -> bytes:
        body = _MAGIC + kind + payload
        digest = hashlib.blake2b(key.encode() + body, digest_size=_DIGEST).digest()
        return body + digest

    def _unseal(self, key: str, kind: bytes, blob: Any) -> bytes | None:
        """The payload of a stored value, or None (reported) when it is damaged."""
        ok = isinstance(blob, bytes) and len(blob) >= len(_MAGIC) + 1 + _DIGEST
        if ok:
            body, digest = blob[:-_DIGEST], blob[-_DIGEST:]
            expected = hashlib.blake2b(key.encode() + body, digest_size=_DIGEST).digest()
            ok = digest == expected and body[: len(_MAGIC) + 1] == _MAGIC + kind
        if ok:
            return body[len(_MAGIC) + 1 :]
        self._warn_once(
            key,
            f"sertools cache {self.directory}: entry {key} is damaged (checksum mismatch); "
            "it is recomputed",
        )
        try:
            self._store.delete(key)
        except _STORE_ERRORS:
            pass
        return None

    def _warn_once(self, tag: str, message: str) -> None:
        if tag not in self._reported:
            self._reported.add(tag)
            warnings.warn(message, CacheWarning, stacklevel=4)

    def _read(self, key: str) -> Any:
        try:
            return self._store.get(key)
        except _STORE_ERRORS as exc:
            self._warn_once(
                "read",
                f"sertools cache {self.directory} cannot be read ({type(exc).__name__}: "
                f"{exc}); the vectors are computed without it",
            )
            return None

    def _get_contents(self, fast_keys: Mapping[int, str | None]) -> dict[int, str]:
        """Look up content hashes by fast key.

        Parameters
        ----------
        fast_keys : mapping of int -> str or None
            Clip index -> :func:`fast_key`.

        Returns
        -------
        dict of int -> str
            Clip index -> content hash, for the keys found intact.
        """
        found = {}
        for i, key in fast_keys.items():
            if key is None:
                continue
            blob = self._read(key)
            if blob is None:
                continue
            payload = self._unseal(key, _KIND_HASH, blob)
            if payload is not None:
                found[i] = payload.decode("ascii")
        return found

    def _get_vectors(self, keys: Mapping[int, str], width: int) -> dict[int, np.ndarray]:
        """Look up vectors.

        Parameters
        ----------
        keys : mapping of int -> str
            Clip index -> :func:`vector_key`.
        width : int
            Expected vector length (an entry of another length counts as damaged).

        Returns
        -------
        dict of int -> ndarray of shape (width,), float32
        """
        found = {}
        for i, key in keys.items():
            blob = self._read(key)
            if blob is None:
                continue
            payload = self._unseal(key, _KIND_VECTOR, blob)
            if payload is None:
                continue
            vec = np.frombuffer(payload, dtype="<f4")
            if vec.shape != (width,):
                self._warn_once(
                    key,
                    f"sertools cache {self.directory}: entry {key} has {vec.shape[0]} values, "
                    f"expected {width}; it is recomputed",
                )
                continue
            found[i] = vec.astype(np.float32)
        return found

    def _put(
        self,
        vectors: Iterable[tuple[str, np.ndarray]] = (),
        contents: Iterable[tuple[str, str]] = (),
    ) -> bool:
        """Store vectors and fast-key -> content mappings in one transaction.

        Parameters
        ----------
        vectors : iterable of (vector key, ndarray of shape (width,))
        contents : iterable of (fast key, content hash)

        Returns
        -------
        bool
            False when the store could not be written (reported once; later
            writes of this handle are skipped).
        """
        if self._read_only:
            return False
        rows = [
            (k, self._seal(k, _KIND_VECTOR, np.asarray(v, dtype="<f4").tobytes()))
            for k, v in vectors
        ]
        rows += [(k, self._seal(k, _KIND_HASH, c.encode("ascii"))) for k, c in contents if k]
        if not rows:
            return True
        try:
            with self._store.transact():
                for key, blob in rows:
                    self._store.set(key, blob)
        except _STORE_ERRORS as exc:
            self._read_only = True
            self._warn_once(
                "write",
                f"sertools cache {self.directory} cannot be written ({type(exc).__name__}: "
                f"{exc}); the vectors are returned but not cached",
            )
            return False
        return True

    def merge_from(self, other: EmbeddingCache | str | os.PathLike[str]) -> int:
        """Copy into this store the entries of another one that it lacks.

        For several machines that each filled a local cache: copy their folders
        to one machine and merge them.

        Parameters
        ----------
        other : EmbeddingCache or folder
            The store to copy from (left unchanged); entries failing their
            checksum are skipped.

        Returns
        -------
        int
            Number of entries copied (vectors and fast keys).

        Examples
        --------
        >>> import tempfile
        >>> EmbeddingCache(tempfile.mkdtemp()).merge_from(tempfile.mkdtemp())
        0
        """
        src = other if isinstance(other, EmbeddingCache) else EmbeddingCache(other)
        copied = 0
        for key in src._store.iterkeys():
            if not (isinstance(key, str) and key[:2] in ("v:", "f:")) or key in self._store:
                continue
            blob = src._store.get(key)
            kind = _KIND_VECTOR if key[:2] == "v:" else _KIND_HASH
            if src._unseal(key, kind, blob) is None:
                continue
            self._store.set(key, blob)
            copied += 1
        return copied

    def clear(self) -> None:
        """Delete every stored vector and fast key (the folder stays usable).

        Examples
        --------
        >>> import tempfile
        >>> store = EmbeddingCache(tempfile.mkdtemp())
        >>> store.clear()
        >>> len(store)
        0
        """
        self._store.clear()
        self._store.add(_FORMAT_KEY, FORMAT)

    def close(self) -> None:
        """Close this process's connection (reopened on next use).

        Examples
        --------
        >>> import tempfile
        >>> store = EmbeddingCache(tempfile.mkdtemp())
        >>> store.close()
        >>> len(store)
        0
        """
        self._store.close()


def _reopen(directory: str, size_limit: int, timeout: float) -> EmbeddingCache:
    return _open(directory, size_limit=size_limit, timeout=timeout)


def _open(directory: str | os.PathLike[str], **settings: Any) -> EmbeddingCache:
    path = str(Path(directory).expanduser().resolve())
    key = (os.getpid(), path)
    with _OPEN_LOCK:
        store = _OPEN.get(key)
        if store is None:
            store = EmbeddingCache(path, **settings)
            _OPEN[key] = store
        return store


def resolve_cache(spec: Any) -> EmbeddingCache | None:
    """Turn an embedder's ``cache`` parameter into a store (or None: no caching).

    Parameters
    ----------
    spec : None, False, True, str, path-like or EmbeddingCache
        None: the folder in ``$SERTOOLS_CACHE`` when set, else no cache;
        False: no cache; True: ``$SERTOOLS_CACHE`` (an error when unset);
        a folder: that folder; a store: itself.

    Returns
    -------
    EmbeddingCache or None
        One handle per folder and process.

    Raises
    ------
    ParameterError
        For an unusable folder or any other kind of value.
    """
    if spec is False:
        return None
    if isinstance(spec, EmbeddingCache):
        return spec
    if spec is None or spec is True:
        env = os.environ.get(CACHE_ENV, "").strip()
        if not env:
            if spec is True:
                raise ParameterError(
                    f"cache=True uses the folder in ${CACHE_ENV}, which is not set; pass "
                    "cache='path/to/folder' or set the variable"
                )
            return None
        spec = env
    if isinstance(spec, (str, os.PathLike)):
        if not os.fspath(spec):
            raise ParameterError("cache='' names no folder; pass a folder path or None")
        return _open(spec)
    raise ParameterError(
        f"cache={spec!r} is not a cache; expected None, False, a folder path or an EmbeddingCache"
    )
