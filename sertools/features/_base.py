"""The contract shared by every waveform embedder."""

from __future__ import annotations

import inspect
import os
import re
import sys
import weakref
from numbers import Integral
from typing import Any, TypeVar

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from .._exceptions import BackendError, ParameterError
from ..utils._sklearn_compat import Interval, validate_estimator_params
from ._cache import EmbeddingCache, resolve_cache

__all__ = ["BaseEmbedder", "inherit_parameters"]


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

    Parameters are declared once, by the class that introduces them: a
    subclass's ``__init__`` takes its own keyword-only parameters and
    ``**params``, which it passes to ``super().__init__``, and the class is
    decorated with :func:`~sertools.features.inherit_parameters`, which
    completes its signature (what :meth:`get_params`,
    :func:`~sklearn.base.clone` and the documentation see) and its docstring's
    Parameters section from its bases': a subclass documents only what it adds
    or changes. Nothing is rewritten without the decorator; an undecorated
    class whose ``__init__`` forwards ``**params`` is refused when built.

    Parameters
    ----------
    sampling_rate : int or None, default=None
        Rate in Hz of waveform arrays passed to :meth:`transform`; required for
        arrays, unused for file paths (read at their own rate).
    verbose : bool, default=False
        Show a progress bar.
    cache : str, path-like, EmbeddingCache or bool, default=None
        Per-clip embedding cache (a folder or a store; None: ``$SERTOOLS_CACHE``
        if set; False: off): see :class:`~sertools.features.EmbeddingCache`.

    Examples
    --------
    A new embedder declares its own parameters and implements three hooks:

    >>> import numpy as np
    >>> from sertools.features import BaseEmbedder, inherit_parameters
    >>> @inherit_parameters
    ... class RMSEmbedder(BaseEmbedder):
    ...     _feature_prefix = "rms"
    ...     def __init__(self, *, scale=1.0, **params):
    ...         super().__init__(**params)
    ...         self.scale = scale
    ...     def _target_rate(self):
    ...         return 16000
    ...     def _n_features_out(self):
    ...         return 1
    ...     def _embed(self, waves):
    ...         return np.array([[self.scale * np.sqrt(np.mean(w**2))] for w in waves],
    ...                         dtype=np.float32)
    >>> sorted(RMSEmbedder().get_params())
    ['cache', 'sampling_rate', 'scale', 'verbose']
    >>> emb = RMSEmbedder(sampling_rate=16000, cache=False).fit()
    >>> emb.transform([np.full(16000, 0.5), np.zeros(8000)])
    array([[0.5],
           [0. ]], dtype=float32)
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

    def __init__(
        self,
        *,
        sampling_rate: int | None = None,
        verbose: bool = False,
        cache: str | os.PathLike[str] | EmbeddingCache | bool | None = None,
    ) -> None:
        _check_declared(type(self))  # a subclass forwarding **params is decorated
        self.sampling_rate = sampling_rate
        self.verbose = verbose
        self.cache = cache

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
        X : None or sequence of clips
            Ignored: accepted for Pipeline compatibility; the embedder learns
            nothing from data.
        y : None or array-like of shape (n_clips,)
            Ignored: accepted for Pipeline compatibility.

        Returns
        -------
        self : object
            The fitted embedder: ``n_features_out_`` and ``model_fingerprint_``
            are set.

        Raises
        ------
        ParameterError
            If a parameter is invalid, or the ``cache`` folder is unusable.
        BackendNotAvailableError
            If the embedder needs a package that is not installed.

        Examples
        --------
        >>> from sertools.features import MFCCEmbedder
        >>> emb = MFCCEmbedder(sampling_rate=16000, cache=False).fit()
        >>> emb.n_features_out_
        39
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

        Examples
        --------
        Two clips of different lengths, 1 s and 0.5 s at 16 kHz:

        >>> import numpy as np
        >>> from sertools.features import MFCCEmbedder
        >>> emb = MFCCEmbedder(sampling_rate=16000, cache=False).fit()
        >>> X = [np.sin(2 * np.pi * 220 * np.arange(16000) / 16000), np.zeros(8000)]
        >>> emb.transform(X).shape
        (2, 39)
        >>> emb.n_embedded_, emb.n_from_cache_
        (2, 0)
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
            1-D waveforms of any lengths (needs ``sampling_rate``) or audio file
            paths; see :func:`sertools.audio.as_waveforms`.
        y : None or array-like of shape (n_clips,)
            Ignored: accepted for Pipeline compatibility.
        **fit_params : dict
            Ignored: accepted for scikit-learn compatibility.

        Returns
        -------
        ndarray of shape (n_clips, n_features_out_), float32
            One row per clip, in input order, as :meth:`transform` returns.

        Examples
        --------
        >>> import numpy as np
        >>> from sertools.features import MFCCEmbedder
        >>> emb = MFCCEmbedder(sampling_rate=16000, n_mfcc=13, cache=False)
        >>> emb.fit_transform([np.zeros(16000), np.ones(4000)]).shape
        (2, 13)
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
            One name per output column (``object`` dtype); some embedders name
            their features otherwise (openSMILE's names, ``layer{i}_{j}``, ...).

        Examples
        --------
        >>> from sertools.features import MFCCEmbedder
        >>> emb = MFCCEmbedder(sampling_rate=16000, n_mfcc=13, cache=False).fit()
        >>> emb.get_feature_names_out()
        array(['mfcc0', 'mfcc1', 'mfcc2', ..., 'mfcc12'], dtype=object)
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


# ---- parameters declared once ------------------------------------------------------
#: a numpydoc section heading (after ``inspect.cleandoc``)
_SECTION = re.compile(r"\n\n(?=[A-Z][A-Za-z ]+\n-+\n)")
_PARAMETERS = "Parameters\n----------\n"


_T = TypeVar("_T", bound=type)


def inherit_parameters(klass: _T) -> _T:
    """Class decorator: an embedder's parameters are its own and its bases'.

    The one step that completes a class from its bases, applied visibly (no
    base class rewrites its subclasses): ``def __init__(self, *, own=1,
    **params)``, which forwards ``params`` to ``super().__init__``, gets the
    signature ``(self, *, own=1, <the bases' parameters>)`` (scikit-learn's
    :meth:`~sklearn.base.BaseEstimator.get_params`, :func:`~sklearn.base.clone`
    and ``repr`` read parameters from it; a parameter the class lists itself
    keeps its own default), and the class docstring's Parameters section gets
    an entry for each parameter it does not document, from the nearest base
    that does (with this class's default).

    Parameters
    ----------
    klass : type
        A :class:`~sertools.features.BaseEmbedder` subclass whose bases are
        complete (built-in ones are; a decorated third-party one is).

    Returns
    -------
    type
        ``klass`` itself, completed.

    Raises
    ------
    TypeError
        If a base's ``__init__`` still takes ``**params`` (an undecorated base).

    Examples
    --------
    >>> import inspect
    >>> from sertools.features import MFCCEmbedder, inherit_parameters
    >>> @inherit_parameters
    ... class ScaledMFCC(MFCCEmbedder):
    ...     '''MFCCs times a factor.
    ...
    ...     Parameters
    ...     ----------
    ...     factor : float, default=2.0
    ...         The factor.
    ...     '''
    ...     def __init__(self, *, factor=2.0, n_mfcc=13, **params):
    ...         super().__init__(n_mfcc=n_mfcc, **params)
    ...         self.factor = factor
    >>> list(inspect.signature(ScaledMFCC).parameters)[:4]
    ['factor', 'n_mfcc', 'n_mels', 'target_sampling_rate']
    >>> ScaledMFCC(factor=3.0, n_fft=1024)
    ScaledMFCC(factor=3.0, n_fft=1024)
    >>> "cache : " in ScaledMFCC.__doc__  # documented once, by BaseEmbedder
    True
    """
    if "__init__" in klass.__dict__:
        _inherit_signature(klass)
    if klass.__dict__.get("__doc__"):
        klass.__doc__ = inherit_parameter_docs(klass, klass.__doc__)
    return klass


#: classes whose constructor signature was checked (see _check_declared)
_DECLARED: weakref.WeakSet[type] = weakref.WeakSet()


def _check_declared(cls: type) -> None:
    """Refuse a class whose ``__init__`` forwards ``**params`` undecorated.

    scikit-learn reads an estimator's parameters from its ``__init__``
    signature and skips ``**params``: without :func:`inherit_parameters`,
    ``get_params`` and ``clone`` would silently drop every inherited parameter.
    """
    if cls in _DECLARED:
        return
    params = inspect.signature(cls.__init__).parameters.values()  # type: ignore[misc]
    var = next((p.name for p in params if p.kind is p.VAR_KEYWORD), None)
    if var is not None:
        raise TypeError(
            f"{cls.__name__}.__init__ takes **{var}: decorate the class with "
            "@sertools.features.inherit_parameters, which lists its bases' parameters in "
            "its signature (scikit-learn's get_params, clone and repr read them from it)"
        )
    _DECLARED.add(cls)


def _inherit_signature(cls: type) -> None:
    """Give ``cls.__init__`` its full keyword-only signature (see :func:`inherit_parameters`)."""
    init = cls.__dict__["__init__"]
    signature = inspect.signature(init)
    params = list(signature.parameters.values())
    if not any(p.kind is p.VAR_KEYWORD for p in params):
        return
    own = [p for p in params if p.kind is not p.VAR_KEYWORD]
    names = {p.name for p in own}
    base = inspect.signature(super(cls, cls).__init__)  # type: ignore[misc]
    if any(p.kind is p.VAR_KEYWORD for p in base.parameters.values()):
        raise TypeError(
            f"{cls.__name__}'s base {cls.__mro__[1].__name__} forwards **params without "
            "@inherit_parameters: decorate the base first"
        )
    inherited = [
        p.replace(kind=p.KEYWORD_ONLY)
        for p in base.parameters.values()
        if p.name not in names and p.name != "self" and p.kind is not p.VAR_KEYWORD
    ]
    init.__signature__ = signature.replace(parameters=[*own, *inherited])


def parameter_entries(doc: str) -> dict[str, str]:
    """The entries of a numpydoc docstring's Parameters section, by parameter name."""
    body = _split_parameters(inspect.cleandoc(doc))[1]
    return {entry.split(" :", 1)[0].strip(): entry for entry in body}


def _split_parameters(doc: str) -> tuple[str, list[str], str]:
    """``(text before the entries, entries, text after)`` of a cleandoc'd docstring."""
    if _PARAMETERS not in doc:
        parts = _SECTION.split(doc, maxsplit=1)
        after = "\n\n" + parts[1] if len(parts) > 1 else "\n"
        return parts[0].rstrip() + "\n\n" + _PARAMETERS, [], after
    before, body = doc.split(_PARAMETERS, 1)
    parts = _SECTION.split(body, maxsplit=1)
    after = "\n\n" + parts[1] if len(parts) > 1 else "\n"
    entries = [e for e in re.split(r"\n(?=\S)", parts[0].strip("\n")) if e.strip()]
    return before + _PARAMETERS, entries, after


def format_default(value: Any) -> str:
    """A default as numpydoc writes it: ``"auto"`` for strings, ``repr`` otherwise."""
    return f'"{value}"' if isinstance(value, str) else repr(value)


def inherit_parameter_docs(cls: type, doc: str) -> str:
    """``doc`` with a Parameters entry for every parameter of ``cls.__init__``.

    The class's own entries are kept as written; each parameter it does not
    document takes the entry of the nearest base class that does, with the
    default rewritten to ``cls``'s where it differs. Entries follow the
    signature's order (numpydoc's PR03).
    """
    signature = inspect.signature(cls.__init__)
    before, own, after = _split_parameters(inspect.cleandoc(doc))
    mine = {entry.split(" :", 1)[0].strip(): entry for entry in own}
    entries = []
    for name, param in signature.parameters.items():
        if name == "self":
            continue
        if name in mine:
            entries.append(mine.pop(name))
            continue
        entry = next(
            (
                found[name]
                for base in cls.__mro__[1:]
                if (found := parameter_entries(base.__dict__.get("__doc__") or ""))
                and name in found
            ),
            None,
        )
        if entry is None:
            continue  # left for numpydoc's validation (PR01) to report
        default = format_default(param.default)
        entries.append(re.sub(r"default=[^\n]*", f"default={default}", entry, count=1))
    entries += list(mine.values())  # not parameters: left for numpydoc's PR02 to report
    if not entries:
        return doc
    return (before + "\n".join(entries) + after).rstrip("\n") + "\n"  # numpydoc's GL02
