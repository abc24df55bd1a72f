"""Audio input layer: the one place where clips are validated, read and resampled.

Every embedder turns its ``X`` into a list of float32 mono waveforms at its own
sampling rate through :func:`as_waveforms`. Accepted forms of ``X``:

* a list, tuple or 1-D object array whose items are 1-D numeric arrays (clips of
  different lengths) or audio file paths (``str`` / :class:`os.PathLike`);
* a 2-D numeric array of shape ``(n_clips, n_samples)``: one equal-length clip
  per row. An array with at most 8 columns and more rows than columns is
  rejected: it looks like one multichannel clip ``(n_samples, n_channels)``.

Arrays carry no rate of their own, so array input needs ``sampling_rate``; files
are read at their native rate with :mod:`soundfile`. Multichannel files are
downmixed by averaging the channels, and every clip is resampled with soxr (high
quality, the same result as ``librosa.resample(..., res_type="soxr_hq")``).

Sample formats: one rule for every dtype
----------------------------------------
* Floating point (float16, float32, float64): taken as is; audio is expected in
  [-1, 1]. A clip whose peak exceeds 1.5 (for instance integer PCM values
  stored as floats, peaks near 32767) is kept, and one
  :class:`~sertools.AudioWarning` names every such clip.
* ``int8``, ``int16``, ``int32``: signed PCM at the full scale of the type,
  divided by ``2**(bits - 1)`` (int16 -32768 -> -1.0, 16384 -> 0.5).
* ``uint8``: unsigned 8-bit PCM as stored in 8-bit WAV files, centred on 128:
  ``(x - 128) / 128``.
* ``int64``, ``uint16``, ``uint32``, ``uint64``, and Python lists of integers
  (which numpy stores as int64) are rejected with a
  :class:`~sertools.ParameterError`: no audio format stores 64-bit or unsigned
  16/32-bit PCM, and int64 is numpy's default integer type, so such data carries
  no scale (16-bit? 24-bit?) and dividing by ``2**63`` would turn speech into
  silence. Say the scale by casting to the PCM type it was recorded in
  (``np.asarray(x, dtype=np.int16)``) or pass floats in [-1, 1]. Fixed-width
  integer arrays cannot hold values outside their type's range, so with int64
  excluded no integer input can exceed its declared scale.
* Booleans, complex numbers, strings and objects are rejected.

Files: a missing, unreadable or empty file, a Git LFS pointer, a float file
with NaN or infinite samples, and a truncated file (a WAV/RF64/AIFF header that
declares more frames than the file holds) raise a
:class:`~sertools.ParameterError` naming the file; :func:`audio_info` checks a
file from its header alone, without decoding it.

Bad input raises :class:`~sertools.ParameterError` naming the clip index or path.
The caller's arrays are never modified: every returned waveform is a new array.
"""

from __future__ import annotations

import collections
import functools
import itertools
import math
import os
import struct
import sys
import warnings
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np

from ._exceptions import AudioWarning, ParameterError

__all__ = [
    "AudioInfo",
    "as_waveforms",
    "audio_info",
    "clip_items",
    "is_lfs_pointer",
    "iter_clips",
    "load_clip",
    "read_ahead",
    "read_audio",
    "resample",
    "to_float32",
]

_LFS_MAGIC = b"version https://git-lfs"
#: Git LFS pointer files are about 130 bytes; larger files are not opened to look for one.
_LFS_MAX_BYTES = 1024
RESAMPLE_TYPE = "soxr_hq"
#: Float clips peaking above this are probably integer PCM stored as float.
PCM_SCALE_PEAK = 1.5
#: A 2-D ``X`` with at most this many columns (and more rows) looks like (n_samples, n_channels).
_MAX_CHANNELS = 8
#: Integer dtypes accepted as PCM, with the value that maps to 0.0 and the full scale.
_PCM = {
    np.dtype(np.int8): (0.0, 2.0**7),
    np.dtype(np.int16): (0.0, 2.0**15),
    np.dtype(np.int32): (0.0, 2.0**31),
    np.dtype(np.uint8): (128.0, 2.0**7),
}
#: How many clips a warning lists before summarising the rest.
_LIST_LIMIT = 10


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

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> pointer = Path(tempfile.mkdtemp()) / "03a01Fa.wav"
    >>> _ = pointer.write_text("version https://git-lfs.github.com/spec/v1\\n")
    >>> is_lfs_pointer(pointer)
    True
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
        Samples. ``int8``/``int16``/``int32`` are scaled by ``2**(bits-1)``,
        ``uint8`` is centred on 128, floating point is cast (see the module
        docstring for the rule and why other integer types are rejected).
    name : str
        How to call the clip in error messages.

    Returns
    -------
    ndarray of float32
        A copy; ``x`` is left untouched.

    Raises
    ------
    ParameterError
        For ``int64`` (e.g. a Python list of integers), unsigned types wider
        than 8 bits, and non-real dtypes.

    Examples
    --------
    >>> import numpy as np
    >>> to_float32(np.array([-32768, 0, 16384], dtype=np.int16))
    array([-1. ,  0. ,  0.5], dtype=float32)
    >>> to_float32(np.array([0, 128, 192], dtype=np.uint8))
    array([-1. ,  0. ,  0.5], dtype=float32)
    """
    dtype = x.dtype
    if dtype.kind == "f":
        return np.array(x, dtype=np.float32, copy=True)
    if dtype in _PCM:
        offset, scale = _PCM[dtype]
        return ((x.astype(np.float64) - offset) / scale).astype(np.float32)
    if dtype.kind in "iu":
        origin = " (a Python list of integers becomes int64)" if dtype == np.int64 else ""
        raise ParameterError(
            f"{name} has integer dtype {dtype}{origin}, whose PCM scale is unknown; cast it "
            "to the PCM type it was recorded in (np.asarray(x, dtype=np.int16) or np.int32; "
            "uint8 for unsigned 8-bit) or pass floating-point samples in [-1, 1]"
        )
    what = "complex dtype" if dtype.kind == "c" else "non-numeric dtype"
    raise ParameterError(
        f"{name} has {what} {dtype}; expected real samples: floating point in [-1, 1] or "
        "integer PCM (int8, int16, int32, uint8)"
    )


@dataclass(frozen=True)
class AudioInfo:
    """What an audio file's header says, read without decoding the samples.

    Returned by :func:`audio_info`; the parameters are kept as attributes of
    the same names (the object is frozen).

    Parameters
    ----------
    path : Path
        The file.
    frames : int
        Frames (samples per channel) that can be read from the file.
    declared_frames : int or None
        Frames the header declares (WAV, RF64/BW64, AIFF); None for other
        formats or a header that leaves the length open (streamed WAV).
    sampling_rate : int
        Native rate in Hz.
    channels : int
        Number of channels.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> import numpy as np
    >>> import soundfile as sf
    >>> from sertools.audio import audio_info
    >>> tmp = tempfile.TemporaryDirectory()
    >>> path = Path(tmp.name) / "stereo.wav"
    >>> sf.write(path, np.zeros((8000, 2)), 16000)  # 0.5 s, 2 channels
    >>> info = audio_info(path)
    >>> info.frames, info.declared_frames, info.sampling_rate, info.channels
    (8000, 8000, 16000, 2)
    >>> info.truncated
    False
    >>> tmp.cleanup()
    """

    path: Path
    frames: int
    declared_frames: int | None
    sampling_rate: int
    channels: int

    @property
    def truncated(self) -> bool:
        """True if the header declares more frames than the file holds.

        Examples
        --------
        >>> from pathlib import Path
        >>> from sertools.audio import AudioInfo
        >>> AudioInfo(Path("a.wav"), 800, 1600, 16000, 1).truncated
        True
        >>> AudioInfo(Path("a.wav"), 1600, 1600, 16000, 1).truncated
        False
        >>> AudioInfo(Path("a.ogg"), 1600, None, 16000, 1).truncated  # length not declared
        False
        """
        return self.declared_frames is not None and self.frames < self.declared_frames

    def truncation_message(self, read: int | None = None) -> str:
        """Describe the truncation for an error or a warning.

        Parameters
        ----------
        read : int, optional
            Frames actually read, when known (else ``frames``).

        Returns
        -------
        str
            A message naming the file, the declared and the held frame counts,
            and asking to re-download or re-export the file.

        Examples
        --------
        >>> from pathlib import Path
        >>> from sertools.audio import AudioInfo
        >>> info = AudioInfo(Path("corpus/03a01Fa.wav"), 800, 1600, 16000, 1)
        >>> print(info.truncation_message())
        audio file corpus/03a01Fa.wav is truncated: its header declares 1600 frames but
        the file holds 800; re-download or re-export it
        >>> print(info.truncation_message(read=750))
        audio file corpus/03a01Fa.wav is truncated: its header declares 1600 frames but
        the file holds 750; re-download or re-export it
        """
        held = self.frames if read is None else read
        return (
            f"audio file {self.path} is truncated: its header declares "
            f"{self.declared_frames} frames but the file holds {held}; "
            "re-download or re-export it"
        )


def _skip(fh: IO[bytes], size: int) -> None:
    fh.seek(size + (size & 1), os.SEEK_CUR)  # chunks are padded to an even size


def _riff_frames(fh: IO[bytes], *, rf64: bool) -> int | None:
    block_align, data64 = None, None
    for _ in range(256):  # a real file has a handful of chunks before "data"
        head = fh.read(8)
        if len(head) < 8:
            return None
        chunk, size = head[:4], struct.unpack("<I", head[4:])[0]
        if chunk == b"ds64" and size >= 16:
            body = fh.read(16)
            data64 = struct.unpack("<Q", body[8:16])[0] if len(body) == 16 else None
            _skip(fh, size - 16)
        elif chunk == b"fmt " and size >= 14:
            body = fh.read(14)
            block_align = struct.unpack("<H", body[12:14])[0] if len(body) == 14 else None
            _skip(fh, size - 14)
        elif chunk == b"data":
            if rf64 and size == 0xFFFFFFFF:
                size = data64 if data64 is not None else 0
            if not block_align or size in (0, 0xFFFFFFFF):  # open length (streamed WAV)
                return None
            return size // block_align
        else:
            _skip(fh, size)
    return None


def _aiff_frames(fh: IO[bytes]) -> int | None:
    for _ in range(256):
        head = fh.read(8)
        if len(head) < 8:
            return None
        chunk, size = head[:4], struct.unpack(">I", head[4:])[0]
        if chunk == b"COMM":
            body = fh.read(6)
            return struct.unpack(">I", body[2:6])[0] if len(body) == 6 else None
        _skip(fh, size)
    return None


def _declared_frames(path: Path) -> int | None:
    """Frame count declared by a WAV/RF64/BW64/AIFF header, or None."""
    with open(path, "rb") as fh:
        head = fh.read(12)
        if len(head) < 12:
            return None
        magic, form = head[:4], head[8:]
        if magic in (b"RIFF", b"RF64", b"BW64") and form == b"WAVE":
            return _riff_frames(fh, rf64=magic != b"RIFF")
        if magic == b"FORM" and form in (b"AIFF", b"AIFC"):
            return _aiff_frames(fh)
    return None


def _not_a_file(path: Path) -> str:
    """Why ``path`` cannot be read as an audio file (it is not a regular file)."""
    import stat

    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return f"audio file not found: {path}"
    except OSError as exc:
        return f"cannot read audio file {path}: {exc.strerror or exc}"
    kinds = (
        (stat.S_ISDIR, "a folder"),
        (stat.S_ISFIFO, "a FIFO (named pipe)"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
    )
    kind = next((name for test, name in kinds if test(mode)), "not a regular file")
    return f"{path} is {kind}, not an audio file; expected a regular audio file (WAV, FLAC, ...)"


def audio_info(path: str | os.PathLike[str]) -> AudioInfo:
    """Read an audio file's header (no decoding) and check that it is audio.

    Parameters
    ----------
    path : str or path-like
        Any file :mod:`soundfile` can read.

    Returns
    -------
    AudioInfo
        Frames readable and declared, rate, channels. Check
        :attr:`AudioInfo.truncated` and ``frames == 0`` (no audio) yourself:
        they are returned, not raised, so that corpus loaders can report them.

    Raises
    ------
    ParameterError
        If the file is missing, a Git LFS pointer, or not audio that
        :mod:`soundfile` can read.

    Examples
    --------
    A WAV file cut short (a partial download) is detected from its header:

    >>> import tempfile
    >>> from pathlib import Path
    >>> import numpy as np
    >>> import soundfile as sf
    >>> from sertools.audio import audio_info
    >>> tmp = tempfile.TemporaryDirectory()
    >>> path = Path(tmp.name) / "clip.wav"
    >>> sf.write(path, np.zeros(1600), 16000, subtype="PCM_16")  # 44-byte header + 3200
    >>> _ = path.write_bytes(path.read_bytes()[:-1600])  # lose the second half
    >>> info = audio_info(path)
    >>> info.frames, info.declared_frames, info.truncated
    (800, 1600, True)
    >>> tmp.cleanup()
    """
    import soundfile as sf

    path = Path(path)
    if not path.is_file():
        raise ParameterError(_not_a_file(path))
    # a pointer is ~130 bytes: only small files are opened to look for one
    if path.stat().st_size <= _LFS_MAX_BYTES and is_lfs_pointer(path):
        raise ParameterError(
            f"{path} is a Git LFS pointer, not audio: fetch the data with `git lfs pull`"
        )
    try:
        with sf.SoundFile(str(path)) as fh:  # the header only; cheaper than sf.info
            frames, rate, channels = fh.frames, fh.samplerate, fh.channels
        declared = _declared_frames(path)
    except Exception as exc:  # soundfile raises several types (LibsndfileError, RuntimeError)
        raise ParameterError(f"cannot read audio file {path}: {exc}") from exc
    return AudioInfo(
        path=path,
        frames=int(frames),
        declared_frames=declared,
        sampling_rate=int(rate),
        channels=int(channels),
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
        Channels averaged; PCM files give samples in [-1, 1].
    sampling_rate : int
        The file's native rate.

    Raises
    ------
    ParameterError
        If the file is missing, unreadable, a Git LFS pointer, empty,
        truncated (fewer frames than its header declares), or holds NaN or
        infinite samples. The message names the file.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> import numpy as np
    >>> import soundfile as sf
    >>> from sertools.audio import read_audio
    >>> tmp = tempfile.TemporaryDirectory()
    >>> path = Path(tmp.name) / "stereo.wav"
    >>> left_right = np.stack([np.full(4410, 0.5), np.zeros(4410)], axis=1)
    >>> sf.write(path, left_right, 44100)  # 0.1 s, shape (n_samples, n_channels)
    >>> wave, sr = read_audio(path)
    >>> wave.shape, wave.dtype, sr
    ((4410,), dtype('float32'), 44100)
    >>> float(wave[0])  # the mean of the two channels
    0.25
    >>> tmp.cleanup()
    """
    import soundfile as sf

    info = audio_info(path)
    path = info.path
    if info.truncated:
        raise ParameterError(info.truncation_message())
    try:
        data, sr = sf.read(str(path), dtype="float32", always_2d=True)
    except Exception as exc:  # soundfile raises several types (LibsndfileError, RuntimeError)
        raise ParameterError(f"cannot read audio file {path}: {exc}") from exc
    if data.shape[0] == 0:
        raise ParameterError(f"audio file {path} contains no samples")
    expected = info.frames if info.declared_frames is None else info.declared_frames
    if data.shape[0] < expected:
        raise ParameterError(info.truncation_message(read=data.shape[0]))
    if not np.isfinite(data).all():
        raise ParameterError(
            f"audio file {path} contains NaN or infinite samples; expected finite audio"
        )
    wave = data[:, 0].copy() if data.shape[1] == 1 else data.mean(axis=1, dtype=np.float32)
    return wave, int(sr)


def resample(x: np.ndarray, *, orig_sr: int, target_sr: int) -> np.ndarray:
    """Resample a mono float32 waveform with soxr (high quality).

    The result equals ``librosa.resample(x, orig_sr=orig_sr, target_sr=target_sr,
    res_type="soxr_hq")``: soxr's output padded or trimmed to
    ``ceil(n_samples * target_sr / orig_sr)`` samples. soxr is called directly so
    that the audio layer does not import librosa (whose first import on a fresh
    install compiles numba kernels for tens of seconds).

    Parameters
    ----------
    x : ndarray of shape (n_samples,)
        Waveform.
    orig_sr, target_sr : int
        Rates in Hz.

    Returns
    -------
    ndarray of shape (ceil(n_samples * target_sr / orig_sr),), float32
        ``x`` itself when the rates are equal.

    Examples
    --------
    >>> import numpy as np
    >>> resample(np.zeros(22050, dtype=np.float32), orig_sr=22050, target_sr=16000).shape
    (16000,)
    """
    if orig_sr == target_sr:
        return x
    import soxr

    n_out = math.ceil(x.shape[0] * float(target_sr) / orig_sr)
    y = soxr.resample(x, orig_sr, target_sr, quality=RESAMPLE_TYPE)
    if y.shape[0] < n_out:
        y = np.pad(y, (0, n_out - y.shape[0]))
    return np.asarray(y[:n_out], dtype=np.float32)


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


def _check_2d(X: np.ndarray) -> None:
    if X.ndim != 2:
        raise ParameterError(
            f"X is a numeric array of shape {X.shape}; expected 2-D (n_clips, n_samples) "
            "or a list of 1-D waveforms"
        )
    n_rows, n_cols = X.shape
    if n_cols <= _MAX_CHANNELS and n_rows > n_cols:
        raise ParameterError(
            f"X is a 2-D array of shape {X.shape}: {n_rows} clips of {n_cols} sample(s) each, "
            "which looks like one multichannel clip (n_samples, n_channels); rows are clips. "
            "Downmix it (x.mean(axis=1)) and pass a list, e.g. [x.mean(axis=1)]"
        )


#: modules whose frames a warning skips to reach the user's code: sertools, and the
#: scikit-learn / joblib layers between it and the caller (``set_output``'s wrapper
#: of ``transform``, ``Pipeline``, ``cross_validate``)
_LIBRARY_MODULES = ("sertools", "sklearn", "joblib")


def _outside_stacklevel() -> int:
    """``stacklevel`` that attributes a warning to the first caller outside the libraries.

    The first frame whose module is not sertools', scikit-learn's or joblib's: the
    user's line that called ``transform``, ``fit`` or ``cross_validate``.
    """
    frame, level = sys._getframe(2), 2
    while frame.f_back is not None and frame.f_globals.get("__name__", "").startswith(
        _LIBRARY_MODULES
    ):
        frame = frame.f_back
        level += 1
    return level


def _warn_pcm_scale(loud: list[str]) -> None:
    shown = ", ".join(loud[:_LIST_LIMIT])
    rest = len(loud) - _LIST_LIMIT
    warnings.warn(
        f"{len(loud)} clip(s) peak above {PCM_SCALE_PEAK} although float audio is expected "
        f"in [-1, 1]: {shown}{f', ... ({rest} more)' if rest > 0 else ''}. If they hold "
        "integer PCM values stored as floats, divide by 32768 (16-bit) or pass the integer "
        "array (np.int16) itself",
        AudioWarning,
        stacklevel=_outside_stacklevel(),
    )


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
        clip per row. Sample dtypes follow the rule in the module docstring.
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
        For a bare string or scalar ``X``, no clips, rank > 2, a 2-D array that
        looks like ``(n_samples, n_channels)``, an empty or non-finite clip,
        non-numeric data or an integer dtype without a known PCM scale, an
        unreadable, truncated or non-finite file, or array input without
        ``sampling_rate``; the message names the clip index or path.

    Warns
    -----
    AudioWarning
        Once, naming every clip (array or file) whose peak exceeds 1.5.

    Examples
    --------
    Arrays of any lengths and dtypes, resampled from 8 kHz to 16 kHz:

    >>> import numpy as np
    >>> from sertools.audio import as_waveforms
    >>> clips = [np.zeros(800, dtype=np.float64), np.full(400, 16384, dtype=np.int16)]
    >>> waves = as_waveforms(clips, sampling_rate=8000, target_rate=16000)
    >>> [(w.shape, w.dtype) for w in waves]
    [((1600,), dtype('float32')), ((800,), dtype('float32'))]
    >>> round(float(waves[1][400]), 4)  # int16 PCM scaled to [-1, 1]
    0.5

    A 2-D array holds one clip per row, shape (n_clips, n_samples):

    >>> [w.shape for w in as_waveforms(np.zeros((3, 16000)), sampling_rate=16000,
    ...                                target_rate=16000)]
    [(16000,), (16000,), (16000,)]
    """
    items = clip_items(X, sampling_rate=sampling_rate)
    loud: list[str] = []
    waves = [
        load_clip(item, i, sampling_rate=sampling_rate, target_rate=target_rate, loud=loud)
        for i, item in enumerate(items)
    ]
    if loud:
        _warn_pcm_scale(loud)
    return waves


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
        other than 2 or one that looks like ``(n_samples, n_channels)``, or a
        bad ``sampling_rate``.

    Examples
    --------
    >>> import numpy as np
    >>> from sertools import ParameterError
    >>> from sertools.audio import clip_items
    >>> items = clip_items(["a.wav", np.zeros(800)], sampling_rate=8000)  # nothing is read
    >>> [type(item).__name__ for item in items]
    ['str', 'ndarray']
    >>> len(clip_items(np.zeros((3, 16000)), sampling_rate=16000))  # rows are clips
    3
    >>> try:
    ...     clip_items(np.zeros((16000, 2)), sampling_rate=16000)
    ... except ParameterError as err:
    ...     print(err)
    X is a 2-D array of shape (16000, 2): 16000 clips of 2 sample(s) each, which looks like
    one multichannel clip (n_samples, n_channels); rows are clips. ...
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
        _check_2d(X)
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


def load_clip(
    item: Any,
    index: int,
    *,
    sampling_rate: int | None,
    target_rate: int,
    loud: list[str] | None = None,
) -> np.ndarray:
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
    loud : list of str, optional
        Where to note the clip if it peaks above 1.5 (float audio at PCM
        scale), so that the caller warns once for many clips; when None, an
        :class:`~sertools.AudioWarning` is issued for this clip at once.

    Returns
    -------
    ndarray of shape (n_samples,), float32
        A new array.

    Raises
    ------
    ParameterError
        Naming ``X[index]`` (and the path for files).

    Examples
    --------
    >>> import numpy as np
    >>> from sertools import ParameterError
    >>> from sertools.audio import load_clip
    >>> load_clip(np.zeros(800), 0, sampling_rate=8000, target_rate=16000).shape
    (1600,)
    >>> loud = []
    >>> _ = load_clip(np.full(800, 300.0), 1, sampling_rate=8000, target_rate=8000, loud=loud)
    >>> loud
    ['clip X[1] (peak 300)']
    >>> try:
    ...     load_clip(np.zeros(800), 2, sampling_rate=None, target_rate=16000)
    ... except ParameterError as err:
    ...     print(err)
    clip X[2] is an array but sampling_rate is None; pass the rate of the waveforms, ...
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
    peak = float(np.max(np.abs(wave)))
    if peak > PCM_SCALE_PEAK:
        note = f"{name} (peak {peak:.6g})"
        if loud is None:
            _warn_pcm_scale([note])
        else:
            loud.append(note)
    wave = resample(wave, orig_sr=sr, target_sr=int(target_rate))
    if wave.shape[0] == 0:
        raise ParameterError(f"{name} is too short to resample to {target_rate} Hz")
    return wave


# --- streaming reader --------------------------------------------------------------
# (appended by the cache/streaming work; the functions above are the single clip path)

#: threads that read, validate and resample clips ahead of the consumer
READ_THREADS = 4


def read_ahead(
    pairs: Iterable[tuple[int, Any]],
    *,
    sampling_rate: int | None,
    target_rate: int,
    n_threads: int = READ_THREADS,
    prefetch: int | None = None,
) -> Iterator[tuple[int, np.ndarray]]:
    """Read clips lazily with a few threads working ahead, in the given order.

    Parameters
    ----------
    pairs : iterable of (int, item)
        Position in ``X`` (named in errors) and clip (path or array), e.g.
        ``enumerate(clip_items(X, sampling_rate=sr))``; consumed lazily.
    sampling_rate : int or None
        Rate of array clips.
    target_rate : int
        Rate in Hz to resample every clip to.
    n_threads : int, default=READ_THREADS
        Reading threads (reading, decoding and resampling release the GIL);
        0 reads in the consumer's thread.
    prefetch : int or None
        Clips read ahead of the consumer (default ``2 * n_threads``); memory
        holds at most this many decoded clips besides the consumer's own.

    Yields
    ------
    index : int
    wave : ndarray of shape (n_samples,), float32
        As :func:`load_clip` returns it.

    Raises
    ------
    ParameterError
        From :func:`load_clip`, when the consumer reaches the bad clip (clips
        before it have been yielded). Closing the generator (or an exception in
        the consumer) cancels the reads not yet started.

    Warns
    -----
    AudioWarning
        Once, after the last clip, naming every float clip that peaks above 1.5
        (as :func:`as_waveforms`).

    Examples
    --------
    >>> import numpy as np
    >>> clips = [np.zeros(800), np.ones(400) * 0.1]
    >>> [(i, w.shape) for i, w in read_ahead(enumerate(clips), sampling_rate=8000,
    ...                                      target_rate=16000)]
    [(0, (1600,)), (1, (800,))]
    """
    loud: list[str] = []  # float clips at PCM scale: one AudioWarning at the end
    load = functools.partial(
        load_clip, sampling_rate=sampling_rate, target_rate=target_rate, loud=loud
    )
    if n_threads <= 0:
        for i, item in pairs:
            yield i, load(item, i)
    else:
        yield from _read_in_threads(pairs, load, n_threads, prefetch)
    if loud:
        _warn_pcm_scale(loud)


def _read_in_threads(
    pairs: Iterable[tuple[int, Any]], load: Any, n_threads: int, prefetch: int | None
) -> Iterator[tuple[int, np.ndarray]]:
    from concurrent.futures import ThreadPoolExecutor

    window = max(1, prefetch if prefetch is not None else 2 * n_threads)
    source = iter(pairs)
    pool = ThreadPoolExecutor(max_workers=n_threads, thread_name_prefix="sertools-read")
    pending: collections.deque = collections.deque()
    try:
        for i, item in itertools.islice(source, window):
            pending.append((i, pool.submit(load, item, i)))
        while pending:
            i, future = pending.popleft()
            wave = future.result()
            for j, item in itertools.islice(source, 1):
                pending.append((j, pool.submit(load, item, j)))
            yield i, wave
    finally:
        for _, future in pending:
            future.cancel()
        pool.shutdown(wait=False, cancel_futures=True)


def iter_clips(
    X: Any,
    *,
    sampling_rate: int | None,
    target_rate: int,
    n_threads: int = READ_THREADS,
) -> Iterator[np.ndarray]:
    """Stream the clips of ``X`` as :func:`as_waveforms` would return them, lazily.

    Peak memory depends on the read-ahead window, not on the number of clips.

    Parameters
    ----------
    X : sequence of clips, or ndarray of shape (n_clips, n_samples)
        See :func:`as_waveforms`.
    sampling_rate : int or None
        Rate of array clips (required for them).
    target_rate : int
        Rate in Hz to resample every clip to.
    n_threads : int, default=READ_THREADS
        Reading threads (0: read in the consumer's thread).

    Yields
    ------
    ndarray of shape (n_samples_i,), float32
        In input order.

    Examples
    --------
    >>> import numpy as np
    >>> [w.shape for w in iter_clips([np.zeros(800), np.ones(400)],
    ...                               sampling_rate=8000, target_rate=16000)]
    [(1600,), (800,)]
    """
    items = clip_items(X, sampling_rate=sampling_rate)
    for _, wave in read_ahead(
        enumerate(items), sampling_rate=sampling_rate, target_rate=target_rate, n_threads=n_threads
    ):
        yield wave
