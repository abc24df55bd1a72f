"""How :meth:`BaseEmbedder.transform` runs: cache lookups, streaming reads, chunks, workers.

1. The clips of ``X`` are listed without reading them (:func:`sertools.audio.clip_items`).
2. With a cache, each clip's fast key (the file's token — path, device, inode,
   size, mtime, ctime — or an array's bytes) is mapped to its content hash and
   the content hash to a stored vector: a warm run reads no audio at all.
3. The remaining clips are read, validated and resampled by a prefetching
   reader (:func:`sertools.audio.read_ahead`) and embedded in chunks of at most
   :data:`CHUNK_CLIPS` clips and :data:`CHUNK_SECONDS` of audio, so peak memory
   depends on the chunk, not on the corpus. Each chunk's vectors are stored as
   soon as they exist: an interrupted run keeps every finished chunk.
4. When ``joblib.effective_n_jobs(embedder.n_jobs)`` is above one (``n_jobs``
   of the embedder, or the ``n_jobs`` of an enclosing ``joblib.parallel_config``
   / ``parallel_backend`` such as ``"dask"``), groups of clips (at least four
   per worker, at most :data:`CHUNK_CLIPS`) go to joblib workers, which read and
   embed them and return the vectors; this process writes the cache. Per-clip
   features (MFCC, Mel) are identical bit for bit either way (one BLAS thread,
   held by ``embedder._compute_context()``); a neural model batches within
   smaller groups, which moves its floats at rounding level only.
"""

from __future__ import annotations

import contextlib
import dataclasses
import re
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from .. import audio
from .._exceptions import BackendError
from ..utils._progress import progress_bar
from ._cache import (
    EmbeddingCache,
    content_hash,
    embedder_fingerprint,
    fast_key,
    resolve_cache,
    vector_key,
)

__all__ = ["CHUNK_CLIPS", "CHUNK_SECONDS", "embed_clips"]

#: most clips embedded in one call of ``_embed`` (and sent to a worker at once)
CHUNK_CLIPS = 64
#: most seconds of decoded audio (at the model's rate) held for one chunk
CHUNK_SECONDS = 600.0


@dataclasses.dataclass
class Chunk:
    """The vectors of some clips of ``X``."""

    indices: list[int]
    vectors: np.ndarray  # (len(indices), width) float32
    contents: list[str] | None  # content hashes (None without a cache)
    embedded: list[bool]  # which rows were computed (not found in the cache)


class Clips(list):
    """The waveforms handed to ``_embed``: a list, plus ``indices``, their positions in ``X``.

    Embedders that name clips in their errors use ``indices`` (an embedder may
    ignore it: it is a plain list otherwise).
    """

    indices: list[int]


def _in_x(error: BackendError, indices: list[int]) -> BackendError:
    """The engine's error with the chunk's clip positions turned into positions in ``X``."""

    def renumber(match: re.Match) -> str:
        k = int(match.group(1))
        return f"X[{indices[k]}]" if k < len(indices) else match.group(0)

    clips = [indices[k] for k in error.clips if k < len(indices)]
    renamed = type(error)(re.sub(r"X\[(\d+)\]", renumber, str(error)), clips, error.out_of_memory)
    renamed.__cause__ = error.__cause__
    return renamed


def _checked_embed(embedder: Any, waves: Clips) -> np.ndarray:
    try:
        features = np.asarray(embedder._embed(waves), dtype=np.float32)
    except BackendError as exc:  # the engine names clips by their place in the chunk
        raise _in_x(exc, waves.indices) from exc.__cause__
    if features.shape != (len(waves), embedder.n_features_out_):
        raise RuntimeError(  # an internal contract, not a user error
            f"{type(embedder).__name__} produced shape {features.shape}, expected "
            f"({len(waves)}, {embedder.n_features_out_})"
        )
    return features


def _quiet(embedder: Any) -> Any:
    """The embedder without its own progress bar (the caller shows one over all clips)."""
    if not getattr(embedder, "verbose", False):
        return embedder
    # a plain attribute copy: copy.copy would go through __getstate__, which drops
    # a neural embedder's loaded model
    quiet = object.__new__(type(embedder))
    quiet.__dict__.update(embedder.__dict__)
    quiet.verbose = False
    return quiet


def _process(
    embedder: Any,
    pairs: list[tuple[int, np.ndarray]],
    store: EmbeddingCache | None,
    fingerprint: str | None,
) -> Chunk:
    waves = [w for _, w in pairs]
    width = embedder.n_features_out_
    vectors = np.empty((len(waves), width), dtype=np.float32)
    contents = None
    hits: dict[int, np.ndarray] = {}
    if fingerprint is not None:
        contents = [content_hash(w) for w in waves]
        if store is not None:  # the same audio may be cached under another path
            keys = {k: vector_key(c, fingerprint) for k, c in enumerate(contents)}
            hits = store.get_vectors(keys, width)
    for k, vec in hits.items():
        vectors[k] = vec
    todo = [k for k in range(len(waves)) if k not in hits]
    if todo:
        batch = Clips(waves[k] for k in todo)
        batch.indices = [pairs[k][0] for k in todo]
        vectors[todo] = _checked_embed(_quiet(embedder), batch)
    return Chunk(
        indices=[i for i, _ in pairs],
        vectors=vectors,
        contents=contents,
        embedded=[k not in hits for k in range(len(waves))],
    )


def _stream(
    embedder: Any,
    pairs: Sequence[tuple[int, Any]],
    store: EmbeddingCache | None,
    fingerprint: str | None,
) -> Iterator[Chunk]:
    """Read ``pairs`` ahead and embed them chunk by chunk, in order."""
    rate = int(embedder._target_rate())
    budget = int(CHUNK_SECONDS * rate)
    reader = audio.read_ahead(pairs, sampling_rate=embedder.sampling_rate, target_rate=rate)
    buffer: list[tuple[int, np.ndarray]] = []
    held = 0
    try:
        for pos, (i, wave) in enumerate(reader):
            if buffer and (pos % CHUNK_CLIPS == 0 or held + len(wave) > budget):
                yield _process(embedder, buffer, store, fingerprint)
                buffer, held = [], 0
            buffer.append((i, wave))
            held += len(wave)
        if buffer:
            yield _process(embedder, buffer, store, fingerprint)
    finally:
        reader.close()


def _worker(
    embedder: Any, pairs: list[tuple[int, Any]], directory: str | None, fingerprint: str | None
) -> list[Chunk]:
    """One group of clips in a joblib worker (reads the cache when it can open it)."""
    store = None
    if directory is not None:
        try:
            store = resolve_cache(directory)
        except Exception:  # another machine, without the folder: compute
            store = None
    return list(_stream(embedder, pairs, store, fingerprint))


def embed_clips(embedder: Any, X: Any) -> tuple[np.ndarray, int, int]:
    """Embed ``X`` with a fitted embedder, through its cache when it has one.

    Parameters
    ----------
    embedder : BaseEmbedder
        Fitted.
    X : sequence of clips or ndarray of shape (n_clips, n_samples)

    Returns
    -------
    features : ndarray of shape (n_clips, n_features_out_), float32
        In input order.
    n_embedded : int
        Clips embedded by the model in this call.
    n_from_cache : int
        Clips whose vector came from the cache.
    """
    from joblib import Parallel, delayed, effective_n_jobs

    rate = int(embedder._target_rate())
    width = int(embedder.n_features_out_)
    sampling_rate = embedder.sampling_rate
    items = audio.clip_items(X, sampling_rate=sampling_rate)
    n = len(items)
    out = np.empty((n, width), dtype=np.float32)

    store = resolve_cache(getattr(embedder, "cache", None))
    fingerprint = None
    fast: dict[int, str | None] = {}
    found: dict[int, np.ndarray] = {}
    if store is not None:
        fingerprint = embedder_fingerprint(embedder)
        fast = {
            i: fast_key(x, sampling_rate=sampling_rate, target_rate=rate)
            for i, x in enumerate(items)
        }
        contents = store.get_contents(fast)
        found = store.get_vectors(
            {i: vector_key(c, fingerprint) for i, c in contents.items()}, width
        )
        for i, vec in found.items():
            out[i] = vec
    # a clip given twice (same file, same array) is read and embedded once
    first: dict[str, int] = {}
    copies: dict[int, int] = {}
    todo = []
    for i in range(n):
        if i in found:
            continue
        key = fast.get(i)
        if key is not None and key in first:
            copies[i] = first[key]
            continue
        if key is not None:
            first[key] = i
        todo.append((i, items[i]))

    n_embedded, n_from_cache = 0, len(found)
    if not todo:
        return out, n_embedded, n_from_cache
    # e.g. one BLAS thread for signal features, held while workers of this process run
    held = contextlib.ExitStack()
    held.enter_context(getattr(embedder, "_compute_context", contextlib.nullcontext)())
    chunks: Any = None
    try:
        n_jobs = effective_n_jobs(getattr(embedder, "n_jobs", None))
        if n_jobs == 1:
            chunks = _stream(embedder, todo, store, fingerprint)
        else:
            directory = None if store is None else str(store.directory)
            # at least 4 groups per worker (load balance), at most CHUNK_CLIPS clips each
            n_groups = max(-(-len(todo) // CHUNK_CLIPS), min(len(todo), 4 * n_jobs))
            size = -(-len(todo) // n_groups)
            groups = [todo[k : k + size] for k in range(0, len(todo), size)]
            results = Parallel(n_jobs=n_jobs, return_as="generator")(
                delayed(_worker)(embedder, group, directory, fingerprint) for group in groups
            )
            chunks = (chunk for result in results for chunk in result)
        verbose = bool(getattr(embedder, "verbose", False))
        desc = type(embedder).__name__
        with progress_bar(total=len(todo), desc=desc, unit="clip", enabled=verbose) as bar:
            for chunk in chunks:
                out[chunk.indices] = chunk.vectors
                n_new = sum(chunk.embedded)
                n_embedded += n_new
                n_from_cache += len(chunk.indices) - n_new
                if store is not None and chunk.contents is not None:
                    store.put(
                        vectors=[
                            (vector_key(c, fingerprint), v)
                            for c, v, new in zip(
                                chunk.contents, chunk.vectors, chunk.embedded, strict=True
                            )
                            if new
                        ],
                        contents=[
                            (fast.get(i), c)
                            for i, c in zip(chunk.indices, chunk.contents, strict=True)
                        ],
                    )
                bar.update(len(chunk.indices))
    finally:
        close = getattr(chunks, "close", None)
        if close is not None:
            close()
        held.close()
    for i, j in copies.items():
        out[i] = out[j]
    n_from_cache += len(copies)  # served by the vector stored for their first occurrence
    return out, n_embedded, n_from_cache
