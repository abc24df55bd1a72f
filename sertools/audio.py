"""Audio input layer: the one place where clips are validated, read and resampled.

Every embedder turns its ``X`` into a list of float32 mono waveforms at its own
sampling rate through :func:`as_waveforms`. Accepted forms of ``X``:

* a list, tuple or 1-D object array whose items are 1-D numeric arrays (clips of
  different lengths) or audio file paths (``str`` / :class:`os.PathLike`);
* a 2-D numeric array of shape ``(n_clips, n_samples)``: one equal-length clip
  per row.

Arrays carry no rate of their own, so array input needs ``sampling_rate``; files
are read at their native rate with :mod:`soundfile`. Integer PCM is scaled to
[-1, 1], multichannel files are downmixed by averaging the channels, and every
clip is resampled with soxr (through :func:`librosa.resample`, ``res_type="soxr_hq"``).
Bad input raises :class:`~sertools.ParameterError` naming the clip index or path.
The caller's arrays are never modified: every returned waveform is a new array.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ._exceptions import ParameterError

__all__ = [
    "as_waveforms",
    "clip_items",
    "is_lfs_pointer",
    "load_clip",
    "read_audio",
    "resample",
    "to_float32",
]

_LFS_MAGIC = b"version https://git-lfs"
RESAMPLE_TYPE = "soxr_hq"


def is_lfs_pointer(path: str | os.PathLike[str]) -> bool:
    """Tell whether ``path`` is a Git LFS pointer file rather than audio.

    Parameters
    ----------
    path : str or path-like
        File to inspect (only its first bytes are read).

    Returns
    -------
    bool
        True if the file starts with the Git LFS pointer header.
    """
    try:
        with open(path, "rb") as fh:
            return fh.read(len(_LFS_MAGIC)) == _LFS_MAGIC
    except OSError:
        return False


def to_float32(x: np.ndarray, *, name: str = "clip") -> np.ndarray:
    """Convert PCM or floating-point samples to a new float32 array.

    Parameters
    ----------
    x : ndarray
        Samples. Signed integers are scaled by ``2**(bits-1)``, unsigned 8-bit
        PCM is centred on 128; floating point is cast.
    name : str
        How to call the clip in error messages.

    Returns
    -------
    ndarray of float32
        A copy; ``x`` is left untouched.
    """
    kind = x.dtype.kind
    if kind == "f":
        return np.array(x, dtype=np.float32, copy=True)
    if kind == "i":
        scale = float(2 ** (8 * x.dtype.itemsize - 1))
        return (x.astype(np.float64) / scale).astype(np.float32)
    if kind == "u":
        half = float(2 ** (8 * x.dtype.itemsize - 1))
        return ((x.astype(np.float64) - half) / half).astype(np.float32)
    raise ParameterError(
        f"{name} has non-numeric dtype {x.dtype}; expected integer PCM or floating-point samples"
    )


def read_audio(path: str | os.PathLike[str]) -> tuple[np.ndarray, int]:
    """Read an audio file as a float32 mono waveform at its native rate.

    Parameters
    ----------
    path : str or path-like
        Any file :mod:`soundfile` can read (WAV, FLAC, OGG, ...).

    Returns
    -------
    waveform : ndarray of shape (n_samples,), float32
        Channels averaged, samples in [-1, 1].
    sampling_rate : int
        The file's native rate.

    Raises
    ------
    ParameterError
        If the file is missing, unreadable, a Git LFS pointer, or empty.
    """
    import soundfile as sf

    path = Path(path)
    if not path.is_file():
        raise ParameterError(f"audio file not found: {path}")
    if is_lfs_pointer(path):
        raise ParameterError(
            f"{path} is a Git LFS pointer, not audio: fetch the data with `git lfs pull`"
        )
    try:
        data, sr = sf.read(str(path), dtype="float32", always_2d=True)
    except Exception as exc:  # soundfile raises several types (LibsndfileError, RuntimeError)
        raise ParameterError(f"cannot read audio file {path}: {exc}") from exc
    if data.shape[0] == 0:
        raise ParameterError(f"audio file {path} contains no samples")
    wave = data[:, 0].copy() if data.shape[1] == 1 else data.mean(axis=1, dtype=np.float32)
    return wave, int(sr)


def resample(x: np.ndarray, *, orig_sr: int, target_sr: int) -> np.ndarray:
    """Resample a mono float32 waveform with soxr (high quality).

    Parameters
    ----------
    x : ndarray of shape (n_samples,)
        Waveform.
    orig_sr, target_sr : int
        Rates in Hz.

    Returns
    -------
    ndarray of shape (round(n_samples * target_sr / orig_sr),), float32
        ``x`` itself when the rates are equal.
    """
    if orig_sr == target_sr:
        return x
    import librosa

    return librosa.resample(x, orig_sr=orig_sr, target_sr=target_sr, res_type=RESAMPLE_TYPE).astype(
        np.float32, copy=False
    )


def _check_samples(x: np.ndarray, name: str) -> np.ndarray:
    if x.ndim != 1:
        raise ParameterError(
            f"{name} has shape {x.shape}; expected a 1-D mono waveform "
            "(downmix multichannel arrays first, e.g. x.mean(axis=0))"
        )
    if x.shape[0] == 0:
        raise ParameterError(f"{name} is empty; expected at least one sample")
    wave = to_float32(x, name=name)
    if not np.isfinite(wave).all():
        raise ParameterError(f"{name} contains NaN or infinite values")
    return wave


def _as_array(item: Any, name: str) -> np.ndarray:
    if isinstance(item, np.ndarray):
        return item
    try:
        arr = np.asarray(item)
    except (ValueError, TypeError) as exc:
        raise ParameterError(f"{name} cannot be read as a numeric array: {exc}") from exc
    if arr.dtype == object or arr.dtype.kind in "USb":
        raise ParameterError(
            f"{name} is {type(item).__name__!s} of dtype {arr.dtype}; expected a numeric "
            "waveform or an audio file path"
        )
    return arr


def as_waveforms(
    X: Any,
    *,
    sampling_rate: int | None,
    target_rate: int,
) -> list[np.ndarray]:
    """Validate ``X`` and return float32 mono waveforms at ``target_rate``.

    Parameters
    ----------
    X : sequence of clips, or ndarray of shape (n_clips, n_samples)
        Clips: a list/tuple/1-D object array of 1-D waveforms of any lengths or
        of audio file paths (they may be mixed), or a 2-D numeric array with one
        clip per row.
    sampling_rate : int or None
        Rate of the array clips in Hz. Required when ``X`` holds arrays; ignored
        for files, which are read at their native rate.
    target_rate : int
        Rate in Hz to resample every clip to.

    Returns
    -------
    list of ndarray of shape (n_samples_i,), float32
        New arrays; the caller's data is never modified.

    Raises
    ------
    ParameterError
        For a bare string or scalar ``X``, no clips, rank > 2, an empty or
        non-finite clip, non-numeric data, an unreadable file, or array input
        without ``sampling_rate``; the message names the clip index or path.
    """
    items = clip_items(X, sampling_rate=sampling_rate)
    return [
        load_clip(item, i, sampling_rate=sampling_rate, target_rate=target_rate)
        for i, item in enumerate(items)
    ]


def clip_items(X: Any, *, sampling_rate: int | None) -> list[Any]:
    """Check the container ``X`` and list its clips, without reading any of them.

    Parameters
    ----------
    X : sequence of clips, or ndarray of shape (n_clips, n_samples)
        See :func:`as_waveforms`.
    sampling_rate : int or None
        Checked here (a positive integer or None).

    Returns
    -------
    list
        One item per clip: a file path (``str`` or path-like) or an array-like,
        as given (nothing is copied or read).

    Raises
    ------
    ParameterError
        For a bare string or scalar ``X``, no clips, a numeric array of rank
        other than 2, or a bad ``sampling_rate``.
    """
    if isinstance(X, (str, os.PathLike)):
        raise ParameterError(
            f"X is a single path ({X!s}); expected a sequence of clips, e.g. [path]"
        )
    if sampling_rate is not None and (
        isinstance(sampling_rate, bool)
        or not float(sampling_rate).is_integer()
        or sampling_rate <= 0
    ):
        raise ParameterError(
            f"sampling_rate must be a positive integer in Hz, got {sampling_rate!r}"
        )

    if isinstance(X, np.ndarray) and X.dtype.kind in "US" and X.ndim == 1:
        items: Sequence[Any] = [str(p) for p in X]  # an array of file paths
    elif isinstance(X, np.ndarray) and X.dtype != object:
        if X.ndim != 2:
            raise ParameterError(
                f"X is a numeric array of shape {X.shape}; expected 2-D (n_clips, n_samples) "
                "or a list of 1-D waveforms"
            )
        items = list(X)
    elif isinstance(X, np.ndarray):  # object array
        if X.ndim != 1:
            raise ParameterError(
                f"X is an object array of shape {X.shape}; expected 1-D (one clip per item)"
            )
        items = list(X)
    elif isinstance(X, Sequence) or hasattr(X, "__iter__"):
        items = list(X)
    else:
        raise ParameterError(
            f"X of type {type(X).__name__} is not a sequence of clips; expected a list of "
            "1-D waveforms or file paths, or a 2-D array"
        )
    if len(items) == 0:
        raise ParameterError("X contains no clips; expected at least one")
    return list(items)


def load_clip(item: Any, index: int, *, sampling_rate: int | None, target_rate: int) -> np.ndarray:
    """Read or validate one clip of ``X`` and resample it to ``target_rate``.

    Parameters
    ----------
    item : str, path-like or array-like
        One element of :func:`clip_items`.
    index : int
        Its position in ``X`` (named in error messages).
    sampling_rate : int or None
        Rate of array clips (required for them).
    target_rate : int
        Rate in Hz to resample to.

    Returns
    -------
    ndarray of shape (n_samples,), float32
        A new array.

    Raises
    ------
    ParameterError
        Naming ``X[index]`` (and the path for files).
    """
    i = index
    if isinstance(item, (str, os.PathLike)):
        wave, sr = read_audio(item)
        name = f"file {item!s} (X[{i}])"
    else:
        name = f"clip X[{i}]"
        wave = _check_samples(_as_array(item, name), name)
        if sampling_rate is None:
            raise ParameterError(
                f"{name} is an array but sampling_rate is None; pass the rate of the "
                "waveforms, e.g. sampling_rate=16000 (files need none)"
            )
        sr = int(sampling_rate)
    wave = resample(wave, orig_sr=sr, target_sr=int(target_rate))
    if wave.shape[0] == 0:
        raise ParameterError(f"{name} is too short to resample to {target_rate} Hz")
    return wave
