"""sertools: speech emotion recognition research with a scikit-learn API.

Feature extractors turn lists of raw waveforms (or audio file paths) into one
time-pooled vector per utterance; any scikit-learn classifier can follow them in
a :class:`~sklearn.pipeline.Pipeline`, and :data:`SCORING` gives the UAR/WAR pair
used throughout the speech emotion recognition literature::

    from sklearn.model_selection import cross_validate
    from sklearn.pipeline import make_pipeline
    from sklearn.svm import SVC
    import sertools

    pipe = make_pipeline(sertools.MFCCEmbedder(), SVC(C=10, gamma=1e-3))
    cross_validate(pipe, X, y, cv=5, scoring=sertools.SCORING)

Heavy submodules (torch, skorch, NeMo, S3PRL) are imported on first use, so
``import sertools`` stays fast.
"""

from __future__ import annotations

from . import features as _features  # cheap: imports only the feature-set registry
from ._exceptions import AudioWarning, BackendError, BackendNotAvailableError, ParameterError
from ._lazy import lazy_exports

__version__ = "0.1.0"

# public name -> submodule that defines it (imported lazily, PEP 562); the
# embedders are those sertools.features exports
_LAZY: dict[str, str] = {
    # metrics
    "unweighted_average_recall": "sertools.metrics",
    "weighted_average_recall": "sertools.metrics",
    "uar_scorer": "sertools.metrics",
    "war_scorer": "sertools.metrics",
    "SCORING": "sertools.metrics",
    # features: the embedders (the extension API stays in sertools.features)
    **{
        name: "sertools.features"
        for name in _features.__all__
        if name.endswith("Embedder") and name not in {"BaseEmbedder", "NeuralEmbedder"}
    },
    # models
    "DNNClassifier": "sertools.models",
    "DNNRegressor": "sertools.models",
}

__all__ = [
    "AudioWarning",
    "BackendError",
    "BackendNotAvailableError",
    "ParameterError",
    "__version__",
    "audio",
    "datasets",
    "features",
    "metrics",
    "models",
    "persist",
    "study",
    *_LAZY,
]

__getattr__, __dir__ = lazy_exports(
    __name__,
    _LAZY,
    submodules=("audio", "datasets", "features", "metrics", "models", "persist", "study"),
)
