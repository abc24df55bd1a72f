"""Per-clip embedding store: one vector per (clip content, model fingerprint).

An :class:`EmbeddingCache` is a folder holding one SQLite database
(``sertools-cache.sqlite3``, WAL mode, safe for many threads and processes on one
machine) in sertools' own format. Two kinds of entry live in it:

* **vectors**, keyed on ``sha256(content hash | embedder fingerprint)``: the
  content hash is the SHA-256 of the clip's decoded float32 samples at the
  model's rate; the fingerprint (:func:`embedder_fingerprint`) covers everything
  that changes the output — embedder class, output-affecting parameters, the
  model's identity (checkpoint content hash), sertools and backend versions;
* **fast keys**, mapping a file's token (:func:`sertools.utils._files.file_token`:
  resolved path, device, inode, size, mtime and ctime) or an in-memory array's raw
  bytes and rate to its content hash, so that a warm run finds its vectors
  without reading or resampling any audio.

Nothing read from the store is ever executed or unpickled: values are raw
bytes (little-endian float32 vectors, ASCII content hashes) with a checksum
bound to their key, and the store's format record is JSON. A value that is not
in that format (damaged, or crafted) is reported once (a :class:`CacheWarning`
naming the key), deleted from the database and recomputed; no value is ever
taken as a file name. A store that cannot be written (full disk, read-only
medium) is reported once and the run goes on without it: the caller always
gets freshly computed vectors, never a wrong one.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import json
import os
import sqlite3
import threading
import warnings
from collections.abc import Iterable, Iterator, Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from .._exceptions import ParameterError
from ..utils._files import file_token

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
#: (2: sertools' own SQLite file; 1 was a diskcache store, which could hold pickles)
FORMAT = 2
#: the database file of a store, inside its folder
DB_NAME = "sertools-cache.sqlite3"
#: the database of a format-1 store (diskcache): never opened, never read
_LEGACY_DB = "cache.db"
_MAGIC = b"SERTC1"
_DIGEST = 16
_KIND_VECTOR = b"v"
_KIND_HASH = b"h"
#: most keys per ``IN (...)`` query
_BATCH = 500

#: packages whose version is part of every fingerprint (reading and resampling)
_IO_PACKAGES = ("numpy", "soundfile", "soxr", "librosa")

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS entries (key TEXT PRIMARY KEY, value BLOB NOT NULL)",
    "CREATE TABLE IF NOT EXISTS total "
    "(id INTEGER PRIMARY KEY CHECK (id = 0), bytes INTEGER NOT NULL)",
    "INSERT OR IGNORE INTO total VALUES (0, 0)",
    # the bytes held, kept by the database itself (for size_limit)
    "CREATE TRIGGER IF NOT EXISTS entries_added AFTER INSERT ON entries BEGIN "
    "UPDATE total SET bytes = bytes + length(NEW.key) + length(NEW.value) WHERE id = 0; END",
    "CREATE TRIGGER IF NOT EXISTS entries_removed AFTER DELETE ON entries BEGIN "
    "UPDATE total SET bytes = bytes - length(OLD.key) - length(OLD.value) WHERE id = 0; END",
)


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

    Files: their :func:`~sertools.utils._files.file_token` (resolved path, device,
    inode, size, modification and status-change times in ns: a file rewritten in
    place with its size and mtime restored, or replaced through a rename that
    keeps its mtime, gets another key); arrays: dtype, shape, raw bytes and
    ``sampling_rate``. Both include ``target_rate`` (the content hash is taken at
    that rate).

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
        token = file_token(item)
        if token is None:
            return None
        return "f:" + _sha256(f"file|{token}|{target_rate}".encode())
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


def _package_versions(names: Iterable[str]) -> dict[str, str]:
    versions = {}
    for name in sorted(set(names)):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "absent"
    return versions


@functools.cache
def _distributions_of(top_level: str) -> tuple[str, ...]:
    """The installed distribution(s) providing an import package (or its own name)."""
    try:
        found = metadata.packages_distributions().get(top_level)
    except Exception:  # a broken installation's metadata: fall back to the name
        found = None
    return tuple(sorted(set(found))) if found else (top_level,)


def backend_packages(cls: type) -> tuple[str, ...]:
    """The packages whose versions key an embedder class's vectors (beyond I/O).

    A family declares them as ``_backend_packages`` (e.g. ``("torch",
    "nemo_toolkit")``); a class that declares none — e.g. a third-party embedder —
    falls back to the distribution of its top-level module, so that upgrading
    that package never serves vectors of the old version.

    Parameters
    ----------
    cls : type
        An embedder class.

    Returns
    -------
    tuple of str
        Distribution names.
    """
    declared = getattr(cls, "_backend_packages", None)
    if declared is not None:
        return tuple(declared)
    return _distributions_of(cls.__module__.split(".", 1)[0])


def embedder_fingerprint(embedder: Any) -> str:
    """Hash of everything that changes a fitted embedder's vectors.

    Covered: the embedder class; what its :meth:`~BaseEmbedder.output_identity`
    returns — its parameters except the execution settings (role
    ``"execution"`` in :meth:`~BaseEmbedder.parameter_roles`: ``verbose``,
    ``n_jobs``, ``n_threads``, ``device``, ``sampling_rate``, ``cache``), the model
    identity (the checkpoint content hash; when there is one, the parameters
    declared to name the model — role ``"model"`` — are left out, so a moved
    checkpoint keeps its vectors) and its backend packages; the output width;
    the sertools version and the versions of numpy, soundfile, soxr, librosa and
    the backend packages.

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
    identity = embedder.output_identity()
    record = {
        "format": FORMAT,
        "class": f"{cls.__module__}.{cls.__qualname__}",
        "params": _canon(dict(identity["params"])),
        "model": _canon(identity["model"]),
        "n_features": int(getattr(embedder, "n_features_out_", -1)),
        "sertools": __version__,
        "packages": _package_versions((*_IO_PACKAGES, *identity["packages"])),
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


def _chunks(items: list[Any], size: int = _BATCH) -> Iterator[list[Any]]:
    for k in range(0, len(items), size):
        yield items[k : k + size]


class EmbeddingCache:
    """A folder of per-clip embeddings shared by every embedder and process.

    Parameters
    ----------
    directory : str or path-like
        Created if needed. Use one folder per machine (local disk): SQLite's
        locking is not reliable on network file systems.
    size_limit : int, default=2**40
        Bytes of entries kept; past it, the entries stored first are evicted
        (evicted vectors are recomputed when needed). The store's format record
        is never evicted.
    timeout : float, default=60
        Seconds a writer waits for another process's lock.

    Raises
    ------
    ParameterError
        If the folder cannot be created or opened, or holds a store of another
        format (written by an incompatible sertools) or something that is not
        a sertools embedding cache.

    Warns
    -----
    CacheWarning
        When the folder holds a store of an older sertools (a diskcache
        ``cache.db``, which may hold pickles): it is never opened; a new store
        is made beside it and its vectors are recomputed.

    Notes
    -----
    Nothing read from the folder is executed or unpickled: vectors are raw
    float32 bytes and content hashes ASCII, each with a checksum bound to its
    key; the format record is JSON. An entry that is not in this format is
    reported (:class:`CacheWarning`), deleted from the database and
    recomputed; no entry names a file.

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
        self.directory = Path(directory).expanduser().resolve()
        self.size_limit = int(size_limit)
        self.timeout = float(timeout)
        self._lock = threading.RLock()
        self._conn: sqlite3.Connection | None = None
        self._pid = os.getpid()
        self._reported: set[str] = set()
        self._read_only = False
        if self.directory.exists() and not self.directory.is_dir():
            raise ParameterError(
                f"cache folder {self.directory} is a file; expected a folder (or a new path)"
            )
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            found, writer = self._open_checked()
        except _STORE_ERRORS as exc:
            self.close()
            raise ParameterError(
                f"cache folder {self.directory} cannot be used: {type(exc).__name__}: {exc}; "
                "expected a writable folder on a local disk"
            ) from exc
        if found is None:
            self.close()
            raise ParameterError(
                f"cache folder {self.directory} holds a {DB_NAME} that is not a sertools "
                "embedding cache (its format record is not sertools' JSON): use another "
                "folder or delete this one"
            )
        if found != FORMAT:
            self.close()
            raise ParameterError(
                f"cache folder {self.directory} holds a store of format {found!r} (written by "
                f"sertools {writer}); this sertools reads format {FORMAT}: use another folder "
                "or delete this one"
            )
        if (self.directory / _LEGACY_DB).exists():
            self._warn_once(
                "legacy",
                f"sertools cache {self.directory} holds a store of an older sertools "
                f"({_LEGACY_DB}, diskcache format, which may hold pickles): it is not read; "
                f"vectors are recomputed into {DB_NAME} beside it (delete {_LEGACY_DB} to "
                "reclaim the space)",
                stacklevel=3,
            )

    # --- the database ------------------------------------------------------------
    def _connection(self) -> sqlite3.Connection:
        if self._conn is not None and self._pid == os.getpid():
            return self._conn
        # a connection inherited through fork must not be used: open our own
        conn = sqlite3.connect(
            str(self.directory / DB_NAME),
            timeout=self.timeout,
            isolation_level=None,  # explicit transactions
            check_same_thread=False,  # shared by this process's threads, under self._lock
        )
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(self.timeout * 1000)}")
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
        except sqlite3.Error:
            conn.close()
            raise
        self._conn, self._pid = conn, os.getpid()
        return conn

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """This process's connection inside ``BEGIN IMMEDIATE`` ... ``COMMIT``, under the lock;
        any exception rolls back and propagates."""
        with self._lock:
            conn = self._connection()
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise

    def _open_checked(self) -> tuple[Any, Any]:
        """Create the tables (if new) and read the format record (JSON, never code)."""
        from .. import __version__

        with self._transaction() as conn:
            for statement in _SCHEMA:
                conn.execute(statement)
            conn.execute(
                "INSERT OR IGNORE INTO meta VALUES ('format', ?), ('sertools', ?)",
                (json.dumps(FORMAT), json.dumps(__version__)),
            )
            rows = dict(conn.execute("SELECT name, value FROM meta").fetchall())
        return _json_or_none(rows.get("format")), _json_or_none(rows.get("sertools"))

    def _select(self, keys: list[str]) -> dict[str, Any]:
        """Raw stored values by key (absent keys left out); None on a read error."""
        found: dict[str, Any] = {}
        try:
            with self._lock:
                conn = self._connection()
                for part in _chunks(keys):
                    marks = ",".join("?" * len(part))
                    found.update(
                        conn.execute(
                            f"SELECT key, value FROM entries WHERE key IN ({marks})", part
                        ).fetchall()
                    )
        except _STORE_ERRORS as exc:
            self._warn_once(
                "read",
                f"sertools cache {self.directory} cannot be read ({type(exc).__name__}: "
                f"{exc}); the vectors are computed without it",
            )
        return found

    def _write(self, rows: list[tuple[str, bytes]]) -> None:
        """Store rows in one transaction, then evict past ``size_limit``.

        Rows with the same key (two files with the same content) are stored once.
        """
        rows = list(dict(rows).items())
        with self._transaction() as conn:
            for part in _chunks(rows):
                conn.executemany("DELETE FROM entries WHERE key = ?", [(k,) for k, _ in part])
                conn.executemany("INSERT INTO entries (key, value) VALUES (?, ?)", part)
            self._evict(conn)

    def _evict(self, conn: sqlite3.Connection) -> None:
        """Delete the entries stored first until the store holds at most ``size_limit``."""
        while True:
            (total,) = conn.execute("SELECT bytes FROM total WHERE id = 0").fetchone() or (0,)
            if not isinstance(total, int) or total <= self.size_limit:
                return
            (count,) = conn.execute("SELECT COUNT(*) FROM entries").fetchone()
            if not count:
                return
            conn.execute(
                "DELETE FROM entries WHERE rowid IN "
                "(SELECT rowid FROM entries ORDER BY rowid LIMIT ?)",
                (max(1, count // 10),),
            )

    def _delete(self, key: str) -> None:
        try:
            with self._lock:
                self._connection().execute("DELETE FROM entries WHERE key = ?", (key,))
        except _STORE_ERRORS:
            pass

    def _keys(self) -> list[str]:
        with self._lock:
            rows = self._connection().execute("SELECT key FROM entries").fetchall()
        return [k for (k,) in rows if isinstance(k, str)]

    # pickling / copying: same folder, fresh connection
    def __reduce__(self):
        return (_reopen, (str(self.directory), self.size_limit, self.timeout))

    def __deepcopy__(self, memo: dict) -> EmbeddingCache:
        return self

    def __repr__(self) -> str:
        return f"EmbeddingCache({str(self.directory)!r})"

    def __len__(self) -> int:
        """Number of stored clip vectors."""
        with self._lock:
            (n,) = (
                self._connection()
                .execute("SELECT COUNT(*) FROM entries WHERE key >= 'v:' AND key < 'v;'")
                .fetchone()
            )
        return int(n)

    # --- values ------------------------------------------------------------------
    @staticmethod
    def _seal(key: str, kind: bytes, payload: bytes) -> bytes:
        body = _MAGIC + kind + payload
        digest = hashlib.blake2b(key.encode() + body, digest_size=_DIGEST).digest()
        return body + digest

    def _unseal(
        self, key: str, kind: bytes, blob: Any, *, delete: bool = True, stacklevel: int = 4
    ) -> bytes | None:
        """The payload of a stored value, or None (reported) when it is not ours or damaged.

        The report points ``stacklevel`` frames up (as :func:`warnings.warn`'s, counted
        from :meth:`_warn_once`): by default at the caller of the public method."""
        ok = isinstance(blob, bytes) and len(blob) >= len(_MAGIC) + 1 + _DIGEST
        if ok:
            body, digest = blob[:-_DIGEST], blob[-_DIGEST:]
            expected = hashlib.blake2b(key.encode() + body, digest_size=_DIGEST).digest()
            ok = digest == expected and body[: len(_MAGIC) + 1] == _MAGIC + kind
        if ok:
            return body[len(_MAGIC) + 1 :]
        self._warn_once(
            key,
            f"sertools cache {self.directory}: entry {key} is damaged or not in sertools' "
            "format (checksum mismatch); it is recomputed",
            stacklevel,
        )
        if delete:
            self._delete(key)  # a database row, never a file
        return None

    def _warn_once(self, tag: str, message: str, stacklevel: int = 4) -> None:
        if tag not in self._reported:
            self._reported.add(tag)
            warnings.warn(message, CacheWarning, stacklevel=stacklevel)

    def _payloads(self, keys: Mapping[int, str], kind: bytes) -> Iterator[tuple[int, str, bytes]]:
        """``(index, key, payload)`` for each key stored intact; a damaged entry is reported
        and deleted once (the indices that share its key are passed over with it)."""
        rows = self._select(sorted(set(keys.values())))
        for i, key in keys.items():
            if key not in rows:
                continue
            payload = self._unseal(key, kind, rows[key], stacklevel=5)  # past this generator
            if payload is None:
                rows.pop(key)
                continue
            yield i, key, payload

    def get_contents(self, fast_keys: Mapping[int, str | None]) -> dict[int, str]:
        """Look up content hashes by fast key.

        Parameters
        ----------
        fast_keys : mapping of int -> str or None
            Clip index -> :func:`fast_key` (None: no key, skipped).

        Returns
        -------
        dict of int -> str
            Clip index -> content hash, for the keys found intact.

        Examples
        --------
        >>> import tempfile
        >>> EmbeddingCache(tempfile.mkdtemp()).get_contents({0: "f:0", 1: None})
        {}
        """
        wanted = {i: k for i, k in fast_keys.items() if k is not None}
        found = {}
        for i, _, payload in self._payloads(wanted, _KIND_HASH):
            text = payload.decode("latin-1")
            if len(text) == 64 and all(c in "0123456789abcdef" for c in text):
                found[i] = text
        return found

    def get_vectors(self, keys: Mapping[int, str], width: int) -> dict[int, np.ndarray]:
        """Look up vectors.

        Parameters
        ----------
        keys : mapping of int -> str
            Clip index -> vector key (``vector_key(content hash, fingerprint)``).
        width : int
            Expected vector length (an entry of another length counts as damaged).

        Returns
        -------
        dict of int -> ndarray of shape (width,), float32
            For the keys found intact.

        Examples
        --------
        >>> import tempfile
        >>> EmbeddingCache(tempfile.mkdtemp()).get_vectors({0: "v:0"}, 39)
        {}
        """
        found = {}
        for i, key, payload in self._payloads(keys, _KIND_VECTOR):
            if len(payload) != 4 * width:
                self._warn_once(
                    key,
                    f"sertools cache {self.directory}: entry {key} has {len(payload) / 4:g} "
                    f"values, expected {width}; it is recomputed",
                )
                continue
            found[i] = np.frombuffer(payload, dtype="<f4").astype(np.float32)
        return found

    def put(
        self,
        vectors: Iterable[tuple[str, np.ndarray]] = (),
        contents: Iterable[tuple[str | None, str]] = (),
    ) -> bool:
        """Store vectors and fast-key -> content mappings in one transaction.

        Parameters
        ----------
        vectors : iterable of (vector key, ndarray of shape (width,))
            Stored as little-endian float32 bytes.
        contents : iterable of (fast key or None, content hash)
            Pairs without a fast key are skipped.

        Returns
        -------
        bool
            False when the store could not be written (reported once; later
            writes of this handle are skipped).

        Examples
        --------
        >>> import tempfile
        >>> import numpy as np
        >>> store = EmbeddingCache(tempfile.mkdtemp())
        >>> store.put(vectors=[("v:0", np.ones(3))])
        True
        >>> store.get_vectors({7: "v:0"}, 3)
        {7: array([1., 1., 1.], dtype=float32)}
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
            self._write(rows)
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
            The store to copy from (its entries are left unchanged); entries
            that are not in sertools' format or fail their checksum are
            skipped (reported once each, :class:`CacheWarning`).

        Returns
        -------
        int
            Number of entries copied (vectors and fast keys).

        Raises
        ------
        ParameterError
            If ``other`` is not a usable store of this format.

        Examples
        --------
        >>> import tempfile
        >>> EmbeddingCache(tempfile.mkdtemp()).merge_from(tempfile.mkdtemp())
        0
        """
        src = other if isinstance(other, EmbeddingCache) else EmbeddingCache(other)
        wanted = [k for k in src._keys() if k[:2] in ("v:", "f:")]
        have = set(self._select(wanted))
        rows = []
        for part in _chunks([k for k in wanted if k not in have]):
            for key, blob in src._select(part).items():
                kind = _KIND_VECTOR if key[:2] == "v:" else _KIND_HASH
                if src._unseal(key, kind, blob, delete=False) is not None:
                    rows.append((key, blob))
        if rows:
            self._write(rows)
        return len(rows)

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
        with self._transaction() as conn:
            conn.execute("DELETE FROM entries")
            conn.execute("UPDATE total SET bytes = 0 WHERE id = 0")

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
        with self._lock:
            if self._conn is not None and self._pid == os.getpid():
                self._conn.close()
            self._conn = None


def _json_or_none(text: Any) -> Any:
    """A JSON value from the format record (anything else: None, i.e. not ours)."""
    if not isinstance(text, str):
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, (int, str)) and not isinstance(value, bool) else None


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
