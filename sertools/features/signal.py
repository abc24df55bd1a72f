"""Signal features of the paper: time-averaged Mel spectrogram and MFCC (librosa).

The features are computed with one BLAS thread (:func:`_one_blas_thread`, set
for the whole ``transform`` and again in each worker): the Mel filterbank product
then sums in the same order in every process, so a clip's vector is the same bit
for bit with ``n_jobs=1``, ``n_jobs=2`` or on a dask worker, whatever the
machine's core count (measured on 96 EMODB clips: with the default BLAS threads
the main process differed from the workers by up to 3.1e-5 absolute, MFCC, and
7.6e-6, Mel). It is also faster: clips are small products, which threads split
badly (96 EMODB clips on 2 shared cores: MFCC 9.0 s -> 1.6 s, Mel 7.7 s -> 1.0 s).
OpenBLAS ignores a thread limit set from a thread other than a process's main
thread (measured with OpenBLAS 0.3.31): a ``transform`` called from such a
thread uses the main thread's setting.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from numbers import Integral
from typing import Any

import numpy as np

from .._exceptions import ParameterError
from ..utils._sklearn_compat import Interval, StrOptions
from ._base import BaseEmbedder, inherit_parameters

__all__ = ["MFCCEmbedder", "MelSpectrogramEmbedder"]


_BLAS_LOCK = threading.Lock()
_blas_depth = 0
_blas_limiter: Any = None


@contextlib.contextmanager
def _one_blas_thread() -> Iterator[None]:
    """BLAS and OpenMP limited to one thread while signal features are computed.

    The BLAS limit is process-wide: nested and concurrent uses (threads of one
    process, e.g. dask's threaded workers) share it, set by the first to enter and
    restored by the last to leave. OpenMP's thread count is per calling thread, so
    each call limits (and restores) its own.
    """
    global _blas_depth, _blas_limiter
    from threadpoolctl import threadpool_limits

    with _BLAS_LOCK:
        if _blas_depth == 0:
            _blas_limiter = threadpool_limits(limits=1, user_api="blas")
        _blas_depth += 1
    openmp = threadpool_limits(limits=1, user_api="openmp")
    try:
        yield
    finally:
        openmp.restore_original_limits()
        with _BLAS_LOCK:
            _blas_depth -= 1
            if _blas_depth == 0:
                _blas_limiter.restore_original_limits()
                _blas_limiter = None


def _pool(frames: np.ndarray, pooling: str) -> np.ndarray:
    """Pool ``(n_coefficients, n_frames)`` over time to ``(n_coefficients * k,)``."""
    if pooling == "mean":
        return frames.mean(axis=1)
    return np.concatenate([frames.mean(axis=1), frames.std(axis=1)])


@inherit_parameters
class _LibrosaEmbedder(BaseEmbedder):
    """Shared machinery of the frame-wise librosa features, pooled over time.

    Parameters
    ----------
    target_sampling_rate : int, default=22050
        Rate the clips are resampled to before analysis.
    n_fft : int, default=2048
        FFT / analysis window length in samples.
    hop_length : int, default=512
        Hop between frames in samples.
    window : str, default="hann"
        Analysis window (any :func:`scipy.signal.get_window` name without parameters).
    pooling : {"mean", "mean+std"}, default="mean"
        Pooling over time: the mean (the paper), or mean and standard deviation
        concatenated.
    n_jobs : int or None, default=None
        Clips processed in parallel with joblib (None or 1: sequential).
    """

    _parameter_constraints: dict[str, list[Any]] = {
        **BaseEmbedder._parameter_constraints,
        "target_sampling_rate": [Interval(Integral, 1000, None, closed="left")],
        "n_fft": [Interval(Integral, 16, None, closed="left")],
        "hop_length": [Interval(Integral, 1, None, closed="left")],
        "window": [str],
        "pooling": [StrOptions({"mean", "mean+std"})],
        "n_jobs": [Integral, None],
    }
    _param_roles = {"n_jobs": "execution"}
    _backend_packages = ("scipy",)

    def __init__(
        self,
        *,
        target_sampling_rate: int = 22050,
        n_fft: int = 2048,
        hop_length: int = 512,
        window: str = "hann",
        pooling: str = "mean",
        n_jobs: int | None = None,
        **params: Any,
    ) -> None:
        super().__init__(**params)
        self.target_sampling_rate = target_sampling_rate
        self.n_fft = n_fft
        self.hop_length = hop_length
        self.window = window
        self.pooling = pooling
        self.n_jobs = n_jobs

    def _target_rate(self) -> int:
        return int(self.target_sampling_rate)

    def _compute_context(self) -> contextlib.AbstractContextManager[None]:
        return _one_blas_thread()

    def _n_coefficients(self) -> int:
        raise NotImplementedError

    def _frames(self, wave: np.ndarray) -> np.ndarray:
        """Frame-level features of one clip, shape ``(n_coefficients, n_frames)``."""
        raise NotImplementedError

    def _analysis(self, wave: np.ndarray) -> dict[str, Any]:
        """The clip and the analysis settings, as keyword arguments of ``librosa.feature``."""
        return {
            "y": wave,
            "sr": self.target_sampling_rate,
            "n_fft": self.n_fft,
            "hop_length": self.hop_length,
            "window": self.window,
        }

    def _n_features_out(self) -> int:
        return self._n_coefficients() * (2 if self.pooling == "mean+std" else 1)

    def _load(self) -> None:
        from scipy.signal import get_window

        try:
            get_window(self.window, self.n_fft)
        except (ValueError, TypeError) as exc:
            raise ParameterError(
                f"window={self.window!r} is not a window scipy.signal.get_window can build "
                f"without parameters ({exc}); expected e.g. 'hann', 'hamming' or 'blackman'"
            ) from exc

    def _one(self, index: int, wave: np.ndarray) -> np.ndarray:
        import librosa

        try:
            return _pool(self._frames(wave), self.pooling)
        except librosa.util.exceptions.ParameterError as exc:  # never raw to the user
            raise ParameterError(f"clip X[{index}]: librosa rejected it: {exc}") from exc

    def _embed(self, waves: list[np.ndarray]) -> np.ndarray:
        # n_jobs and the progress bar are BaseEmbedder.transform's (chunks over workers);
        # transform passes the clips' positions in X (``indices``) for error messages
        indices = getattr(waves, "indices", range(len(waves)))
        with _one_blas_thread():  # the same sums in every process (see the module)
            rows = [self._one(i, w) for i, w in zip(indices, waves, strict=True)]
        return np.stack(rows).astype(np.float32)

    def _feature_names(self) -> list[str]:
        p, n = self._feature_prefix, self._n_coefficients()
        names = [f"{p}{i}" for i in range(n)]
        if self.pooling == "mean+std":
            names += [f"{p}_std{i}" for i in range(n)]
        return names


@inherit_parameters
class MelSpectrogramEmbedder(_LibrosaEmbedder):
    """Time-averaged Mel spectrogram, with the paper's settings by default.

    Each clip is resampled to 22050 Hz, a power Mel spectrogram is computed
    with :func:`librosa.feature.melspectrogram` (n_fft 2048, hop 512, Hann
    window, 80 Mel bands) and averaged over time.

    Parameters
    ----------
    n_mels : int, default=80
        Number of Mel bands.
    log : bool, default=False
        If True, convert the power spectrogram to decibels
        (``librosa.power_to_db``) before pooling. The paper pools the plain
        power spectrogram (``False``).

    Attributes
    ----------
    n_features_out_ : int
        ``n_mels`` (or ``2 * n_mels`` with ``pooling="mean+std"``).

    Examples
    --------
    >>> import numpy as np
    >>> emb = MelSpectrogramEmbedder(sampling_rate=16000)
    >>> emb.fit_transform([np.zeros(16000), np.ones(8000) * 0.1]).shape
    (2, 80)
    """

    _parameter_constraints: dict[str, list[Any]] = {
        **_LibrosaEmbedder._parameter_constraints,
        "n_mels": [Interval(Integral, 1, None, closed="left")],
        "log": ["boolean"],
    }
    _feature_prefix = "mel"

    def __init__(self, *, n_mels: int = 80, log: bool = False, **params: Any) -> None:
        super().__init__(**params)
        self.n_mels = n_mels
        self.log = log

    def _n_coefficients(self) -> int:
        return int(self.n_mels)

    def _frames(self, wave: np.ndarray) -> np.ndarray:
        import librosa

        mel = librosa.feature.melspectrogram(**self._analysis(wave), n_mels=self.n_mels)
        return librosa.power_to_db(mel) if self.log else mel


@inherit_parameters
class MFCCEmbedder(_LibrosaEmbedder):
    """Time-averaged MFCCs, with the paper's settings by default.

    Each clip is resampled to 22050 Hz and 39 MFCCs are computed with
    :func:`librosa.feature.mfcc` (n_fft 2048, hop 512, Hann window; librosa's
    default 128 Mel bands, which the paper does not change), then averaged
    over time.

    Parameters
    ----------
    n_mfcc : int, default=39
        Number of cepstral coefficients (``mfcc0`` is the energy-like C0).
    n_mels : int, default=128
        Mel bands under the cepstrum (librosa's default).

    Attributes
    ----------
    n_features_out_ : int
        ``n_mfcc`` (or ``2 * n_mfcc`` with ``pooling="mean+std"``).

    Examples
    --------
    >>> import numpy as np
    >>> emb = MFCCEmbedder(sampling_rate=16000).fit()
    >>> emb.transform([np.zeros(16000)]).shape
    (1, 39)
    >>> emb.get_feature_names_out()[:3].tolist()
    ['mfcc0', 'mfcc1', 'mfcc2']
    """

    _parameter_constraints: dict[str, list[Any]] = {
        **_LibrosaEmbedder._parameter_constraints,
        "n_mfcc": [Interval(Integral, 1, None, closed="left")],
        "n_mels": [Interval(Integral, 1, None, closed="left")],
    }
    _feature_prefix = "mfcc"

    def __init__(self, *, n_mfcc: int = 39, n_mels: int = 128, **params: Any) -> None:
        super().__init__(**params)
        self.n_mfcc = n_mfcc
        self.n_mels = n_mels

    def _n_coefficients(self) -> int:
        return int(self.n_mfcc)

    def _load(self) -> None:
        super()._load()
        if self.n_mfcc > self.n_mels:
            raise ParameterError(
                f"MFCCEmbedder(n_mfcc={self.n_mfcc}, n_mels={self.n_mels}): a cepstrum has at "
                f"most as many coefficients as Mel bands; expected n_mfcc <= n_mels (raise "
                f"n_mels to at least {self.n_mfcc}, or lower n_mfcc)"
            )

    def _frames(self, wave: np.ndarray) -> np.ndarray:
        import librosa

        return librosa.feature.mfcc(**self._analysis(wave), n_mfcc=self.n_mfcc, n_mels=self.n_mels)
