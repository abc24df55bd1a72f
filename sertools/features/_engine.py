"""The neural extraction engine shared by every neural embedder.

One function, :func:`extract`, takes validated float32 waveforms (already at
the model's rate) and a *backend*: any callable mapping a zero-padded batch
``(batch, n_samples)`` and its true lengths ``(batch,)`` to pooled embeddings
``(batch, n_features)``. The engine

1. splits clips longer than ``max_chunk_samples`` into nearly equal chunks
   (memory stays bounded; the chunk embeddings are averaged back, weighted by
   chunk duration);
2. zero-pads clips shorter than the backend's ``min_samples`` up to it;
3. sorts the pieces by length and fills batches up to a padded-audio budget
   (``batch_size * longest <= max_batch_samples``, at least one piece a batch);
4. zero-pads each batch, runs the backend under ``torch.inference_mode()``
   on the chosen device (from page-locked memory on CUDA; under
   ``torch.autocast`` for ``precision="bf16"|"fp16"``), with a progress bar
   when asked;
5. restores the input order.

Backends pool over *valid* frames only (see :func:`masked_mean`), so padding
does not leak into the embeddings of shorter clips.
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Sequence
from typing import Protocol

import numpy as np

from ..utils._torch import resolve_device, torch_threads  # re-exported: one device policy

__all__ = [
    "PRECISIONS",
    "Backend",
    "autocast",
    "extract",
    "masked_mean",
    "plan_batches",
    "resolve_device",
    "split_chunks",
    "torch_threads",
]


class Backend(Protocol):
    """What :func:`extract` needs from a model adapter (public: ``sertools.features.Backend``).

    A structural type: any object with the three required attributes and a
    ``__call__(batch, lengths)`` mapping a zero-padded float32 batch of shape
    ``(batch, n_samples)`` and its true lengths ``(batch,)`` to pooled embeddings
    of shape ``(batch, n_features)`` is a backend; it need not inherit from this
    class. A backend also carries its policies, read by
    :class:`~sertools.features.NeuralEmbedder` when present (the optional
    attributes below, and two optional methods):

    - ``feature_names(prefix) -> list of str``: output names (default
      ``<prefix>0 ...``);
    - ``fitted_attributes() -> dict``: attributes the fitted embedder exposes
      (e.g. ``n_layers_``).

    Parameters
    ----------
    *args, **kwargs
        Not used: a protocol is never instantiated. A backend is built by its
        embedder's ``_make_backend(device)``.

    Attributes
    ----------
    sampling_rate : int
        Input rate of the model in Hz (required).
    n_features : int
        Width of the returned embeddings (required).
    min_samples : int
        Shortest input (in samples) the model accepts; shorter clips are
        zero-padded to it (required).
    checkpoint_files : tuple of str, optional
        The file(s) the model was loaded from; their content hash is the
        fitted embedder's ``model_fingerprint_``.
    padding_exact : bool, optional
        Whether a clip's embedding is the same in any zero-padded batch
        (default True); ``batch_seconds="auto"`` runs a backend that is not one
        clip at a time.
    auto_batch_seconds : dict of str -> float, optional
        The ``"auto"`` batch budget in seconds of an exact backend, by device
        type (``"cpu"``, ``"cuda"``, ...).
    max_samples : int, optional
        Longest input the model accepts (a fixed window, as Whisper's): longer
        clips are split into chunks of at most this many samples.
    feature_prefix : str, optional
        Prefix of the output feature names, when the embedder's model
        parameter does not name a bundle.

    Examples
    --------
    A backend that embeds each clip as the mean absolute amplitude of its
    valid samples (padding excluded, so batching does not change the result):

    >>> import numpy as np
    >>> import torch
    >>> class MeanAbs:
    ...     sampling_rate, n_features, min_samples = 16000, 1, 1
    ...     def __call__(self, batch, lengths):
    ...         valid = torch.arange(batch.shape[1])[None, :] < lengths[:, None]
    ...         return ((batch.abs() * valid).sum(dim=1) / lengths)[:, None]
    >>> clips = [np.full(16000, 0.5, np.float32), -np.ones(8000, np.float32)]
    >>> extract(clips, MeanAbs(), device=torch.device("cpu"), max_batch_samples=32000)
    array([[0.5],
           [1. ]], dtype=float32)
    """

    #: input rate of the model in Hz
    sampling_rate: int
    #: width of the returned embeddings
    n_features: int
    #: shortest input (in samples) the model accepts; shorter clips are zero-padded
    min_samples: int

    def __call__(self, batch, lengths):  # (B, T) float32, (B,) int64 -> (B, D)
        """Embed a zero-padded batch given the true lengths."""


def split_chunks(n_samples: int, max_chunk_samples: int | None) -> list[tuple[int, int]]:
    """Split ``[0, n_samples)`` into nearly equal chunks of at most ``max_chunk_samples``.

    Parameters
    ----------
    n_samples : int
        Clip length.
    max_chunk_samples : int or None
        Longest chunk; None keeps the clip whole.

    Returns
    -------
    list of (start, stop)
        Contiguous, covering the clip, lengths differing by at most one.

    Examples
    --------
    >>> split_chunks(10, 4)
    [(0, 3), (3, 7), (7, 10)]
    """
    if max_chunk_samples is None or n_samples <= max_chunk_samples:
        return [(0, n_samples)]
    n_chunks = -(-n_samples // max_chunk_samples)
    bounds = np.linspace(0, n_samples, n_chunks + 1).round().astype(int)
    return [(int(a), int(b)) for a, b in itertools.pairwise(bounds)]


def plan_batches(lengths: Sequence[int], *, max_batch_samples: int) -> list[list[int]]:
    """Group indices into batches of similar length under a padded-audio budget.

    Pieces are taken longest first; a batch grows while
    ``len(batch) * longest_in_batch <= max_batch_samples`` (a piece longer
    than the budget gets a batch of its own).

    Parameters
    ----------
    lengths : sequence of int
        Length of each piece in samples.
    max_batch_samples : int
        Budget of padded samples per batch.

    Returns
    -------
    list of list of int
        Indices into ``lengths``; every index appears exactly once.

    Examples
    --------
    >>> plan_batches([1, 5, 2, 5], max_batch_samples=10)
    [[1, 3], [2, 0]]
    """
    order = sorted(range(len(lengths)), key=lambda i: (-lengths[i], i))
    batches: list[list[int]] = []
    current: list[int] = []
    for i in order:
        longest = lengths[current[0]] if current else lengths[i]
        if current and (len(current) + 1) * longest > max_batch_samples:
            batches.append(current)
            current = []
        current.append(i)
    if current:
        batches.append(current)
    return batches


def masked_mean(hidden, lengths):
    """Average frame features over the valid frames of each sequence.

    Parameters
    ----------
    hidden : torch.Tensor of shape (batch, n_frames, n_features)
        Frame-level features, padded at the end.
    lengths : torch.Tensor of shape (batch,)
        Number of valid frames of each sequence (at least 1).

    Returns
    -------
    torch.Tensor of shape (batch, n_features)
    """
    import torch

    n_frames = hidden.shape[1]
    lengths = lengths.to(hidden.device).clamp(min=1, max=n_frames)
    mask = torch.arange(n_frames, device=hidden.device)[None, :] < lengths[:, None]
    summed = (hidden * mask[..., None].to(hidden.dtype)).sum(dim=1)
    return summed / lengths[:, None].to(hidden.dtype)


#: ``precision=`` values and the autocast dtype each runs the backend under
PRECISIONS = {"fp32": None, "bf16": "bfloat16", "fp16": "float16"}


def autocast(device, precision: str):
    """``torch.autocast`` to ``precision`` on ``device``'s type (a no-op for ``"fp32"``).

    Parameters
    ----------
    device : torch.device
    precision : {"fp32", "bf16", "fp16"}

    Returns
    -------
    context manager
    """
    import torch

    dtype = PRECISIONS[precision]
    if dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=getattr(torch, dtype))


def extract(
    waves: Sequence[np.ndarray],
    backend: Backend,
    *,
    device,
    max_batch_samples: int,
    max_chunk_samples: int | None = None,
    verbose: bool = False,
    desc: str = "embedding",
    precision: str = "fp32",
) -> np.ndarray:
    """Embed clips in length-sorted, zero-padded batches.

    Parameters
    ----------
    waves : sequence of ndarray of shape (n_samples_i,), float32
        Validated clips at ``backend.sampling_rate``.
    backend : Backend
        Model adapter, already on ``device`` and in eval mode.
    device : torch.device
        Where batches are sent.
    max_batch_samples : int
        Padded-audio budget per batch (``1`` runs one piece at a time).
    max_chunk_samples : int or None
        Clips longer than this are split into chunks whose embeddings are
        averaged, weighted by chunk length.
    verbose : bool
        Show a tqdm progress bar over pieces.
    desc : str
        Progress bar label.
    precision : {"fp32", "bf16", "fp16"}
        ``"bf16"`` / ``"fp16"`` run the backend under ``torch.autocast`` with
        that dtype (faster on GPUs; embeddings drift slightly, see
        docs/benchmarks-gpu.md). On CUDA, batches are copied from page-locked
        host memory without blocking.

    Returns
    -------
    ndarray of shape (n_clips, backend.n_features), float32
        In input order.

    Raises
    ------
    BackendError
        When the backend fails on a batch: names the clips of that batch by
        input index and chains the backend's error; ``out_of_memory`` is set
        (and the message says so) when it ran out of memory.
    """
    import torch

    from .._exceptions import BackendError, ParameterError
    from ..utils._progress import progress_bar

    min_samples = int(getattr(backend, "min_samples", 1))
    pieces: list[np.ndarray] = []
    owner: list[int] = []
    weight: list[float] = []
    for i, wave in enumerate(waves):
        for start, stop in split_chunks(len(wave), max_chunk_samples):
            piece = wave[start:stop]
            weight.append(float(stop - start))
            if len(piece) < min_samples:
                piece = np.pad(piece, (0, min_samples - len(piece)))
            pieces.append(piece)
            owner.append(i)

    lengths = [len(p) for p in pieces]
    out = np.zeros((len(pieces), backend.n_features), dtype=np.float32)
    cuda = device.type == "cuda"
    with (
        torch.inference_mode(),
        autocast(device, precision),
        progress_bar(total=len(pieces), desc=desc, unit="clip", enabled=verbose) as bar,
    ):
        for batch_idx in plan_batches(lengths, max_batch_samples=max_batch_samples):
            longest = lengths[batch_idx[0]]
            batch = np.zeros((len(batch_idx), longest), dtype=np.float32)
            for row, j in enumerate(batch_idx):
                batch[row, : lengths[j]] = pieces[j]
            true_lengths = [lengths[j] for j in batch_idx]
            try:
                signal = torch.from_numpy(batch)
                lens = torch.tensor(true_lengths, dtype=torch.long)
                if cuda:  # page-locked: the host-to-device copies run asynchronously
                    signal, lens = signal.pin_memory(), lens.pin_memory()
                signal = signal.to(device, non_blocking=cuda)
                emb = backend(signal, lens.to(device, non_blocking=cuda))
                out[batch_idx] = emb.detach().float().cpu().numpy().reshape(len(batch_idx), -1)
            except (ParameterError, BackendError):
                raise
            except Exception as exc:  # name the clips; the original error is chained
                clips = sorted({owner[j] for j in batch_idx})
                error = _batch_error(exc, clips, batch.shape, max_batch_samples, backend, desc)
                raise error from exc
            bar.update(len(batch_idx))

    if len(pieces) == len(waves):  # no chunking happened
        return out
    owner_arr = np.asarray(owner)
    w = np.asarray(weight, dtype=np.float64)
    totals = np.bincount(owner_arr, weights=w, minlength=len(waves))
    pooled = np.zeros((len(waves), backend.n_features), dtype=np.float64)
    np.add.at(pooled, owner_arr, out * w[:, None])
    return (pooled / totals[:, None]).astype(np.float32)


def _is_out_of_memory(exc: BaseException) -> bool:
    """Whether ``exc`` says that a device (or the host) ran out of memory."""
    import torch

    oom_types = tuple(
        t
        for t in (getattr(torch, "OutOfMemoryError", None), torch.cuda.OutOfMemoryError)
        if isinstance(t, type)
    )
    if isinstance(exc, (MemoryError, *oom_types)):
        return True
    text = str(exc).lower()
    return "out of memory" in text or "can't allocate memory" in text


def _batch_error(
    exc: Exception,
    clips: Sequence[int],
    shape: tuple[int, ...],
    max_batch_samples: int,
    backend: Backend,
    desc: str,
):
    """A :class:`~sertools.BackendError` naming the clips of a failed batch."""
    from .._exceptions import BackendError

    rate = float(backend.sampling_rate)
    shown = ", ".join(f"X[{i}]" for i in clips[:10])
    if len(clips) > 10:
        shown += f" and {len(clips) - 10} more"
    lines = str(exc).strip().splitlines()
    reason = f"{type(exc).__name__}: {lines[0][:300] if lines else ''}"
    n_pieces, longest = shape
    message = (
        f"{desc} failed on a batch of {n_pieces} piece(s) of clips {shown} (padded to "
        f"{longest / rate:.2f} s): {reason}"
    )
    oom = _is_out_of_memory(exc)
    if oom:
        message += (
            f". It ran out of memory: pass a smaller batch_seconds (this batch budget was "
            f"{max_batch_samples / rate:.3g} s of padded audio)"
        )
        if n_pieces == 1:
            message += "; this batch held a single piece: pass a smaller max_chunk_seconds"
    return BackendError(message, clips, oom)
