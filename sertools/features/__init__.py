"""Feature sets: scikit-learn transformers from raw waveforms to one vector per clip.

Signal features (librosa): :class:`MelSpectrogramEmbedder`, :class:`MFCCEmbedder`;
openSMILE functionals: :class:`EGeMAPSEmbedder`, :class:`ComParEEmbedder`.
Neural embedders (:class:`NeuralEmbedder` subclasses) share one extraction
engine and import their backend (NeMo, S3PRL, transformers) only when fitted.
Pretrained models are data (:class:`ModelBundle` constants such as
:data:`TITANET_LARGE`, all in :data:`BUNDLES`): each family module offers a
bundle as a named estimator, a short class statement
(``class TitaNetEmbedder(NeMoEmbedder)`` with ``bundle = TITANET_LARGE``,
completed by its one ``@named_embedder`` decorator), and the feature sets are
listed once, in :mod:`sertools.features._registry`
(:func:`available_feature_sets`), derived from the bundles. Third-party
embedders subclass :class:`BaseEmbedder` or :class:`NeuralEmbedder` (with a
:class:`Backend`; :class:`LayerPooling` for layered models), declare their
parameters with :func:`inherit_parameters`, test themselves with
:mod:`sertools.utils.estimator_checks` and :func:`register_feature_set`.

The names below are imported on first use (PEP 562): ``import sertools.features``
imports neither librosa nor torch.
"""

from __future__ import annotations

from .._lazy import lazy_exports
from . import _bundles
from ._registry import (
    BUILTIN_FEATURE_SETS,
    FeatureSet,
    available_feature_sets,
    get_feature_set,
    register_feature_set,
)

#: the bundle constants (TITANET_LARGE, ...): _bundles imports only dataclasses
_BUNDLE_NAMES = tuple(n for n in _bundles.__all__ if n.isupper() and n != "BUNDLES")

# public name -> module defining it: the extension API, the family estimators,
# and every built-in feature set's class (from the registry)
_LAZY: dict[str, str] = {
    "BaseEmbedder": "sertools.features._base",
    "inherit_parameters": "sertools.features._base",
    "NeuralEmbedder": "sertools.features._neural",
    "Backend": "sertools.features._engine",
    "EmbeddingCache": "sertools.features._cache",
    "CacheWarning": "sertools.features._cache",
    "LayerPooling": "sertools.features._layers",
    "ModelBundle": "sertools.features._bundles",
    "BUNDLES": "sertools.features._bundles",
    **{b: "sertools.features._bundles" for b in _BUNDLE_NAMES},
    "NeMoEmbedder": "sertools.features.nemo",
    "S3PRLEmbedder": "sertools.features.s3prl",
    "HFEmbedder": "sertools.features.hf",
    **{fs.class_name: fs.module for fs in BUILTIN_FEATURE_SETS},
    # named estimators of bundles not offered as feature sets
    **{
        b.class_name: f"sertools.features.{b.family}"
        for b in _bundles.BUNDLES.values()
        if b.class_name
    },
}

__all__ = [
    "FeatureSet",
    "available_feature_sets",
    "get_feature_set",
    "register_feature_set",
    *_LAZY,
]

__getattr__, __dir__ = lazy_exports(__name__, _LAZY, submodules=("nemo", "s3prl", "signal"))
