"""Studies in the style of the paper's Table II: corpora x protocols x feature sets x classifiers.

:func:`run_study` runs the cells (resumable, fault-isolated) in named steps:
:mod:`.catalogue` (the named feature sets, classifiers and protocols),
:mod:`.plan` (corpora, folds, cell digests, finished cells), :mod:`.execute`
(prepare models, embed once, fit folds, store cells) and :mod:`.result`
(:class:`StudyResult`). :mod:`.stats`
gives speaker-level confidence intervals and paired tests, :mod:`.report`
writes Table II (Markdown, LaTeX, CSV), the paper side by side, figures and
one HTML report, and :mod:`.cross` trains on one corpus and tests on another.
:mod:`.dimensional` runs the arousal / valence / dominance regression study
(``run_study(..., task="arousal")``), scored with the CCC.
"""

from ._run import run_study
from ._store import STD_DDOF
from .catalogue import (
    CLASSIFIERS,
    FEATURE_SETS,
    PROTOCOLS,
    make_classifier,
    make_embedder,
    model_param,
)
from .cross import cross_matrix
from .dimensional import (
    REGRESSORS,
    DimensionalResult,
    cluster_bootstrap_ccc,
    make_regressor,
    run_dimensional,
)
from .execute import extract_features
from .layers import layer_slices, layerwise_scores, plot_layerwise
from .report import paper_table, plot_confusion, plot_scores, table2, write_reports
from .result import StudyResult
from .stats import (
    cluster_bootstrap_uar,
    compare,
    corrected_resampled_ttest,
    paired_bootstrap_uar,
    significance_table,
)

__all__ = [
    "CLASSIFIERS",
    "FEATURE_SETS",
    "PROTOCOLS",
    "REGRESSORS",
    "STD_DDOF",
    "DimensionalResult",
    "StudyResult",
    "cluster_bootstrap_ccc",
    "cluster_bootstrap_uar",
    "compare",
    "corrected_resampled_ttest",
    "cross_matrix",
    "extract_features",
    "layer_slices",
    "layerwise_scores",
    "make_classifier",
    "make_embedder",
    "make_regressor",
    "model_param",
    "paired_bootstrap_uar",
    "paper_table",
    "plot_confusion",
    "plot_layerwise",
    "plot_scores",
    "run_dimensional",
    "run_study",
    "significance_table",
    "table2",
    "write_reports",
]
