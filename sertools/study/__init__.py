"""Studies in the style of the paper's Table II: feature sets x classifiers x folds."""

from ._run import (
    CLASSIFIERS,
    FEATURE_SETS,
    StudyResult,
    extract_features,
    make_classifier,
    make_embedder,
    run_study,
)
from .layers import layer_slices, layerwise_scores, plot_layerwise
from .report import plot_confusion, plot_scores

__all__ = [
    "CLASSIFIERS",
    "FEATURE_SETS",
    "StudyResult",
    "extract_features",
    "layer_slices",
    "layerwise_scores",
    "make_classifier",
    "make_embedder",
    "plot_confusion",
    "plot_layerwise",
    "plot_scores",
    "run_study",
]
