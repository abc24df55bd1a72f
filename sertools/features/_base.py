"""The contract shared by every waveform embedder."""

from __future__ import annotations

import os
import sys
from numbers import Integral
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from .._exceptions import BackendError, ParameterError
from ..utils._sklearn_compat import Interval, validate_estimator_params
from ._cache import EmbeddingCache, resolve_cache

__all__ = ["BaseEmbedder"]


class BaseEmbedder(TransformerMixin, BaseEstimator):
    """Base class of the transformers from raw waveforms to one vector per clip.

    Subclasses set :attr:`_feature_prefix`, implement :meth:`_target_rate`,
    :meth:`_n_features_out` and :meth:`_embed`, and may override :meth:`_load`
    (called by :meth:`fit`; neural embedders load their model there). Input
    validation, reading and resampling happen once, in :mod:`sertools.audio`,
    lazily and a few clips ahead; the per-clip cache (``cache`` parameter, see
    :mod:`sertools.features._cache`) and the spreading of chunks over joblib
    workers are :meth:`transform`'s, the same for every embedder.

    The embedders are unsupervised and work per clip: ``fit`` learns nothing
    from the data (it only validates parameters and loads models), so fitting
    them on a training fold and applying them to a test fold leaks nothing.
    """

    _parameter_constraints: dict[str, list[Any]] = {
        "sampling_rate": [Interval(Integral, 1, None, closed="left"), None],
        "verbose": ["verbose"],
        "cache": [str, os.PathLike, EmbeddingCache, "boolean", None],
    }
    #: parameters that never change the vectors: left out of the cache key
    #: (``device``: CPU and GPU floats differ at rounding level only, see docs/cache.md)
    _cache_ignore: frozenset[str] = frozenset(
        {"cache", "verbose", "n_jobs", "n_threads", "device", "sampling_rate"}
    )
    #: prefix of the output feature names (``mfcc`` -> ``mfcc0, mfcc1, ...``)
    _feature_prefix: str = "x"
    #: parameters read afresh at every transform (input rate, progress, threads,
    #: batching): ``set_params`` may change them on a fitted embedder. A change of
    #: any other parameter needs a refit (see :meth:`_check_params_unchanged`).
    _live_params: frozenset[str] = frozenset(
        {
            "sampling_rate",
            "verbose",
            "n_jobs",
            "n_threads",
            "batch_seconds",
            "max_chunk_seconds",
            "cache",
        }
    )

    # --- hooks for subclasses -------------------------------------------------
    def _target_rate(self) -> int:
        """Sampling rate (Hz) the embedder works at."""
        raise NotImplementedError

    def _n_features_out(self) -> int:
        """Width of the output vectors (known after ``_load``)."""
        raise NotImplementedError

    def _embed(self, waves: list[np.ndarray]) -> np.ndarray:
        """Map validated float32 waveforms at the target rate to ``(n_clips, n_features)``."""
        raise NotImplementedError

    def _load(self) -> None:
        """Load models or other resources; called by :meth:`fit` (nothing by default)."""

    def _model_fingerprint(self) -> str:
        """Identity of the model behind the features, after :meth:`_load`.

        ``""`` for features computed by a fixed algorithm (signal features);
        neural embedders return the content hash of their checkpoint file(s)
        (``"sha256:..."``). :meth:`fit` stores it as ``model_fingerprint_``;
        caches key features on it.
        """
        return ""

    # --- public API -----------------------------------------------------------
    def fit(self, X: Any = None, y: Any = None) -> BaseEmbedder:
        """Validate the parameters and load what the embedder needs.

        Parameters
        ----------
        X : ignored
            Accepted for Pipeline compatibility; the embedder learns nothing from data.
        y : ignored

        Returns
        -------
        self : object
            The fitted embedder.
        """
        validate_estimator_params(self)
        self.__dict__.pop("_fitted_params", None)
        resolve_cache(getattr(self, "cache", None))  # an unusable cache folder fails here
        self._load()
        self.n_features_out_ = int(self._n_features_out())
        self.model_fingerprint_ = str(self._model_fingerprint())
        self._fitted_params = self.get_params(deep=False)
        return self

    def transform(self, X: Any) -> np.ndarray:
        """Embed each clip as one time-pooled vector.

        Parameters
        ----------
        X : sequence of clips or ndarray of shape (n_clips, n_samples)
            1-D waveforms of any lengths (needs ``sampling_rate``) or audio file
            paths; see :func:`sertools.audio.as_waveforms`.

        Returns
        -------
        ndarray of shape (n_clips, n_features_out_), float32
            One row per clip, in input order (a DataFrame after
            ``set_output(transform="pandas")``).

        Notes
        -----
        Clips are read lazily, a few ahead, and embedded in chunks (memory
        depends on the chunk, not on ``X``). With a cache (``cache`` parameter
        or ``$SERTOOLS_CACHE``), clips embedded before — by this or any earlier
        process — are taken from it and new vectors are stored chunk by chunk.
        Sets ``n_embedded_`` (clips the model embedded) and ``n_from_cache_``
        (clips found in the cache, or repeats of a clip already in ``X``);
        with ``verbose``, prints them.
        """
        from ._extract import embed_clips

        check_is_fitted(self, "n_features_out_")
        self._check_params_unchanged()
        try:
            features, self.n_embedded_, self.n_from_cache_ = embed_clips(self, X)
        except BackendError as exc:  # name the files of the failing clips
            raise exc.naming_files(X) from exc.__cause__
        if self.verbose:
            print(
                f"{type(self).__name__}: {len(features)} clips, {self.n_embedded_} embedded, "
                f"{self.n_from_cache_} from the cache",
                file=sys.stderr,
            )
        return features

    def fit_transform(self, X: Any, y: Any = None, **fit_params: Any) -> np.ndarray:
        """Fit, then transform ``X`` (reads every clip once).

        Parameters
        ----------
        X : sequence of clips or ndarray of shape (n_clips, n_samples)
        y : ignored

        Returns
        -------
        ndarray of shape (n_clips, n_features_out_), float32
        """
        return self.fit(X, y).transform(X)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Output feature names, ``<prefix>0 ... <prefix>{n-1}``.

        Parameters
        ----------
        input_features : ignored
            Waveforms have no input feature names.

        Returns
        -------
        ndarray of str, shape (n_features_out_,)
        """
        check_is_fitted(self, "n_features_out_")
        self._check_params_unchanged()
        return np.asarray(self._feature_names(), dtype=object)

    def _check_params_unchanged(self) -> None:
        """Refuse to transform with parameters other than those of the fit.

        ``set_params(n_mfcc=20)`` on a fitted embedder changes what
        ``transform`` would compute, but not what ``fit`` prepared (the model,
        the output width): the results would mix both. Only the parameters in
        :attr:`_live_params` may change without a refit.

        Raises
        ------
        ParameterError
            Naming the changed parameters, their fitted and current values.
        """
        fitted = self.__dict__.get("_fitted_params")
        if fitted is None:  # fitted by an older sertools: nothing to compare with
            return
        current = self.get_params(deep=False)
        changed = [
            k
            for k in current
            if k not in self._live_params and not _same(fitted.get(k), current[k])
        ]
        if changed:
            what = ", ".join(f"{k}: {fitted.get(k)!r} -> {current[k]!r}" for k in changed)
            raise ParameterError(
                f"{type(self).__name__}'s parameters changed since fit ({what}): "
                "refit after set_params (fit, or fit_transform)"
            )

    def _feature_names(self) -> list[str]:
        return [f"{self._feature_prefix}{i}" for i in range(self.n_features_out_)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = True  # (n_clips, n_samples) equal-length clips
        tags.input_tags.string = True  # file paths
        tags.requires_fit = True
        tags.transformer_tags.preserves_dtype = ["float32"]
        return tags


def _same(a: Any, b: Any) -> bool:
    """Whether two parameter values are equal (never raising on odd types)."""
    if a is b:
        return True
    try:
        return bool(a == b)
    except Exception:  # e.g. arrays: compare by identity only
        return False
