"""openSMILE functionals: eGeMAPS and ComParE, the field's standard baselines.

The `opensmile <https://github.com/audeering/opensmile-python>`_ package wraps
the openSMILE C++ extractor and ships its configuration files. Its
*functionals* are statistics (means, percentiles, slopes, ...) of frame-level
low-level descriptors over the whole clip, so every clip gives one vector:

* eGeMAPS v02 [Eyben et al. 2016]: 88 expert-chosen parameters (pitch,
  jitter, shimmer, formants, loudness, spectral balance, MFCC 1-4, rates of
  voiced segments) — :class:`EGeMAPSEmbedder`;
* ComParE 2016 [Schuller et al. 2016]: 6,373 brute-force functionals of 65
  descriptors — :class:`ComParEEmbedder`.

Clips are read and resampled by :mod:`sertools.audio` (16 kHz by default) and
handed to ``opensmile.Smile.process_signal`` one at a time. openSMILE is
imported in :meth:`fit` only.
"""

from __future__ import annotations

import importlib.util
import math
from numbers import Integral
from typing import Any

import numpy as np

from .._exceptions import BackendNotAvailableError, install_hint
from ..utils._sklearn_compat import Interval
from ._base import BaseEmbedder, inherit_parameters

__all__ = ["ComParEEmbedder", "EGeMAPSEmbedder"]

#: shortest clip (seconds) openSMILE's functionals are finite for: its longest
#: analysis window is 60 ms, and clips below that give NaN for every feature.
#: Shorter clips are zero-padded to this length (as the neural engine does).
MIN_SECONDS = 0.0625

_INSTALL_HINT = install_hint("opensmile")


def _import_opensmile(owner: str) -> Any:
    """Import the opensmile package, or explain what to install."""
    if importlib.util.find_spec("opensmile") is None:
        raise BackendNotAvailableError(
            f"{owner} needs the opensmile package, which is not installed: {_INSTALL_HINT}"
        )
    try:
        import opensmile
    except Exception as exc:  # a broken install (missing shared library, ...)
        raise BackendNotAvailableError(
            f"{owner} needs the opensmile package, which is installed but cannot be imported "
            f"({type(exc).__name__}: {exc}); {_INSTALL_HINT}"
        ) from exc
    return opensmile


@inherit_parameters
class _OpenSmileEmbedder(BaseEmbedder):
    """Shared machinery: one openSMILE feature set, functionals level.

    Parameters
    ----------
    target_sampling_rate : int, default=16000
        Rate clips are resampled to before openSMILE sees them. openSMILE
        works at any rate; 16 kHz keeps corpora recorded at different rates
        comparable.
    """

    _parameter_constraints: dict[str, list[Any]] = {
        **BaseEmbedder._parameter_constraints,
        "target_sampling_rate": [Interval(Integral, 8000, None, closed="left")],
    }
    #: name of the member of ``opensmile.FeatureSet``
    _feature_set: str = ""

    def __init__(self, *, target_sampling_rate: int = 16000, **params: Any) -> None:
        super().__init__(**params)
        self.target_sampling_rate = target_sampling_rate

    # --- BaseEmbedder hooks -----------------------------------------------------
    def _target_rate(self) -> int:
        return int(self.target_sampling_rate)

    def _load(self) -> None:
        smile = self._get_smile()
        self.feature_names_ = np.asarray(list(smile.feature_names), dtype=object)

    def _n_features_out(self) -> int:
        return len(self.feature_names_)

    def _feature_names(self) -> list[str]:
        return list(self.feature_names_)

    def _get_smile(self) -> Any:
        """The ``opensmile.Smile`` extractor (made once; not pickled)."""
        smile = self.__dict__.get("_smile")
        if smile is None:
            opensmile = _import_opensmile(type(self).__name__)
            smile = opensmile.Smile(
                feature_set=getattr(opensmile.FeatureSet, self._feature_set),
                feature_level=opensmile.FeatureLevel.Functionals,
            )
            self._smile = smile
        return smile

    def __getstate__(self) -> dict[str, Any]:
        # BaseEstimator.__getstate__ may return the live __dict__: copy, never pop
        return {k: v for k, v in super().__getstate__().items() if k != "_smile"}

    def _embed(self, waves: list[np.ndarray]) -> np.ndarray:
        smile = self._get_smile()
        rate = self._target_rate()
        min_samples = math.ceil(MIN_SECONDS * rate)
        rows = np.empty((len(waves), len(self.feature_names_)), dtype=np.float32)
        # progress: BaseEmbedder.transform's bar counts the clips of each chunk
        for i, wave in enumerate(waves):
            if len(wave) < min_samples:
                wave = np.pad(wave, (0, min_samples - len(wave)))
            row = smile.process_signal(wave, rate).to_numpy(dtype=np.float32)
            if row.shape != (1, rows.shape[1]) or not np.isfinite(row).all():
                raise RuntimeError(  # not a user error: openSMILE broke its own contract
                    f"openSMILE's {self._feature_set} gave a non-finite or misshapen row "
                    f"{row.shape} for X[{i}] ({len(wave)} samples at {rate} Hz)"
                )
            rows[i] = row[0]
        return rows


@inherit_parameters
class EGeMAPSEmbedder(_OpenSmileEmbedder):
    """The eGeMAPS v02 functionals (88 per clip), through openSMILE.

    The extended Geneva Minimalistic Acoustic Parameter Set [1]_: 25
    low-level descriptors (F0 in semitones, jitter, shimmer, HNR, formants
    F1-F3 with bandwidths and amplitudes, loudness, alpha ratio, Hammarberg
    index, spectral slopes, MFCC 1-4, spectral flux) summarised by their mean
    and coefficient of variation (some also percentiles and rise/fall slopes),
    plus the rate and length of voiced and unvoiced segments. openSMILE's
    ``eGeMAPSv02`` configuration, functionals level.

    Attributes
    ----------
    n_features_out_ : int
        88.
    feature_names_ : ndarray of str, shape (88,)
        openSMILE's names, e.g. ``F0semitoneFrom27.5Hz_sma3nz_amean``; also
        returned by :meth:`get_feature_names_out`.

    Notes
    -----
    Clips shorter than 62.5 ms are zero-padded to it: openSMILE's functionals
    are NaN below its 60 ms analysis window. The features span very different
    scales (Hz, dB, ratios): standardise them (``StandardScaler``) before an
    RBF SVM. See docs/opensmile.md for EMOVO results and throughput.

    References
    ----------
    .. [1] F. Eyben et al., "The Geneva Minimalistic Acoustic Parameter Set
       (GeMAPS) for Voice Research and Affective Computing", IEEE Trans.
       Affective Computing 7(2), 2016.

    Examples
    --------
    One second of a 220 Hz tone at 16 kHz:

    >>> import numpy as np
    >>> tone = 0.1 * np.sin(2 * np.pi * 220 * np.arange(16000) / 16000)
    >>> emb = EGeMAPSEmbedder(sampling_rate=16000, cache=False)
    >>> emb.fit_transform([tone]).shape
    (1, 88)
    >>> emb.get_feature_names_out()[:2].tolist()
    ['F0semitoneFrom27.5Hz_sma3nz_amean', 'F0semitoneFrom27.5Hz_sma3nz_stddevNorm']
    """

    _feature_set = "eGeMAPSv02"


@inherit_parameters
class ComParEEmbedder(_OpenSmileEmbedder):
    """ComParE 2016 functionals (6,373 per clip), through openSMILE.

    The feature set of the INTERSPEECH Computational Paralinguistics
    Challenge [1]_: 65 low-level descriptors (energy, spectral, MFCC 1-14,
    voicing-related: F0, jitter, shimmer, HNR) and their deltas, each
    summarised by dozens of functionals. openSMILE's ``ComParE_2016``
    configuration, functionals level.

    Attributes
    ----------
    n_features_out_ : int
        6373.
    feature_names_ : ndarray of str, shape (6373,)
        openSMILE's names, e.g. ``audspec_lengthL1norm_sma_range``.

    Notes
    -----
    As :class:`EGeMAPSEmbedder`: clips below 62.5 ms are zero-padded, and the
    features need standardising before an RBF SVM (some reach 1e12).

    References
    ----------
    .. [1] B. Schuller et al., "The INTERSPEECH 2016 Computational
       Paralinguistics Challenge: Deception, Sincerity & Native Language",
       Proc. Interspeech 2016.

    Examples
    --------
    Standardised, as an RBF SVM needs them; two half-second tones:

    >>> import numpy as np
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> t = np.arange(8000) / 16000
    >>> clips = [0.1 * np.sin(2 * np.pi * f0 * t) for f0 in (150, 300)]
    >>> pipe = make_pipeline(ComParEEmbedder(sampling_rate=16000, cache=False), StandardScaler())
    >>> pipe.fit_transform(clips).shape
    (2, 6373)
    >>> pipe[0].get_feature_names_out()[0]
    'audspec_lengthL1norm_sma_range'
    """

    _feature_set = "ComParE_2016"
