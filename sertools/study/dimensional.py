"""Dimensional studies: arousal, valence and dominance regression scored with the CCC.

The dimensional counterpart of the categorical study, cell by cell, with the
same shape (this module is its front door; the parts live where their concern
does):

* :func:`make_regressor` builds a named regressor of :data:`REGRESSORS` (``svr``:
  standardised features + ``SVR``, the classical baseline; ``dnn-regressor``:
  :class:`sertools.models.DNNRegressor`, imported on first use), the
  ``"regression"`` entries of the study's catalogue (:mod:`.catalogue`);
* :func:`dimensional_targets` reads the ``arousal`` / ``valence`` / ``dominance``
  fields of a corpus Bunch; the corpora, folds and cell digests are the plan
  (:mod:`._dim_plan`);
* :func:`cluster_bootstrap_ccc` gives a CCC with its speaker-level (cluster)
  bootstrap confidence interval (:mod:`._cluster_stats`, beside :mod:`.stats`);
* :func:`run_dimensional` cross-validates every (corpus, protocol, feature set,
  regressor, task) cell (:mod:`._dim_execute`): each feature set embeds each
  corpus once (through the embedders' per-clip cache, shared with categorical
  studies on the same clips), finished cells are stored and read back on a
  re-run, and the result holds the per-fold CCC, Pearson's r and MAE and the
  out-of-fold predictions;
* :class:`DimensionalResult` (:mod:`._dim_result`) summarises the cells (fold
  mean CCC, pooled CCC with its speaker-level CI, r, MAE), compares two cells
  with the corrected resampled t-test on their fold CCCs, builds a
  Table-II-style table and writes reports (:mod:`._dim_report`, rendered from
  :mod:`._document` blocks) with a predicted-vs-true scatter per cell
  (:func:`plot_predictions`).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sklearn.base import BaseEstimator

from ._cluster_stats import cluster_bootstrap_ccc
from ._dim_execute import run_cells
from ._dim_plan import (
    DIMENSIONAL_PROTOCOLS,
    DIMENSIONS,
    build_regressors,
    dimensional_targets,
    read_protocols,
    read_tasks,
)
from ._dim_report import plot_predictions
from ._dim_result import DimensionalResult
from ._store import CellStore
from .catalogue import REGRESSORS, _make_estimator
from .plan import build_embedders

__all__ = [
    "DIMENSIONAL_PROTOCOLS",
    "DIMENSIONS",
    "REGRESSORS",
    "DimensionalResult",
    "cluster_bootstrap_ccc",
    "dimensional_targets",
    "make_regressor",
    "plot_predictions",
    "run_dimensional",
]


def make_regressor(name: str, *, random_state: int | None = 0, **params: Any) -> BaseEstimator:
    """Build a named regressor.

    Parameters
    ----------
    name : {"svr", "dnn-regressor"}
        A name of :data:`REGRESSORS` (the ``"regression"`` entries of the
        study's catalogue, :data:`sertools.study.catalogue.ESTIMATORS`):
        ``svr``: ``make_pipeline(StandardScaler(), SVR())`` (the classical
        baseline; ``params`` go to the ``SVR`` step); ``dnn-regressor``:
        :class:`sertools.models.DNNRegressor` (imported on first use).
    random_state : int or None, default=0
        Seed of the DNN.
    **params
        Parameters of the estimator.

    Returns
    -------
    estimator
        Unfitted scikit-learn regressor.

    Raises
    ------
    ParameterError
        For an unknown name or parameter, or ``"dnn-regressor"`` where this
        sertools has no ``DNNRegressor``.

    Examples
    --------
    >>> from sertools.study.dimensional import make_regressor
    >>> make_regressor("svr", C=10)
    Pipeline(steps=[('standardscaler', StandardScaler()), ('svr', SVR(C=10))])
    """
    return _make_estimator(name, "regression", random_state, params)


def run_dimensional(
    corpora: Mapping[str, Any],
    *,
    tasks: Sequence[str] = ("arousal",),
    features: Sequence[str] | Mapping[str, BaseEstimator] = ("mfcc",),
    regressors: Sequence[str] | Mapping[str, BaseEstimator] = ("svr",),
    protocols: Sequence[str] = ("speaker",),
    n_splits: int = 5,
    embedder_params: Mapping[str, Any] | None = None,
    store: str | os.PathLike[str] | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    n_boot: int = 1000,
    random_state: int | None = 0,
    progress: bool | Callable[[str], None] = False,
) -> DimensionalResult:
    """Cross-validate every (corpus, protocol, feature set, regressor, task) cell.

    Each feature set embeds each corpus once (the embedders are per-clip
    transforms that learn nothing in ``fit``), then each regressor is fitted on
    the training folds of each task's ratings and scored on the test fold with
    the CCC, Pearson's r and the MAE.

    Parameters
    ----------
    corpora : mapping of str -> corpus
        Corpora by name: a folder (loaded with
        :func:`sertools.datasets.load_corpus` under that name) or a Bunch with
        the tasks' rating fields (``make_synthetic_corpus()``, ``load_iemocap``,
        ``load_msp_podcast``).
    tasks : sequence of str, default=("arousal",)
        Names from :data:`DIMENSIONS`.
    features : sequence of str or mapping of str -> embedder, default=("mfcc",)
        Feature-set names (:data:`sertools.study.FEATURE_SETS`) or ready embedders.
    regressors : sequence of str or mapping of str -> estimator, default=("svr",)
        Names from :data:`REGRESSORS` or ready regressors.
    protocols : sequence of str, default=("speaker",)
        Names from :data:`DIMENSIONAL_PROTOCOLS` (those of the categorical
        study, plus ``"predefined"``): ``"speaker"`` (speaker-independent),
        ``"loso"``, ``"session"``, ``"speaker-kfold"``, ``"paper"`` (shuffled,
        seeded k-fold; not stratified, the targets are continuous) or
        ``"predefined"`` (the corpus's own partition).
    n_splits : int, default=5
        Folds of ``"paper"`` and of speaker k-fold.
    embedder_params : mapping, optional
        Parameters for the embedders built by name; each key goes to the
        feature sets that take it (as in :func:`sertools.study.run_study`).
    store : str or path-like, optional
        Folder of finished cells (one JSON file each): a re-run reads them
        back instead of fitting again; a changed clip, rating, fold or
        parameter is a new cell.
    cache_dir : str or path-like, optional
        Per-clip embedding cache (see :func:`sertools.study.extract_features`);
        give the one of a categorical study on the same clips to share its
        embeddings.
    n_boot : int, default=1000
        Bootstrap resamples of the speaker-level CIs.
    random_state : int or None, default=0
        Seed of the folds, the DNN and the bootstrap.
    progress : bool or callable, default=False
        True prints one line per cell; a callable receives the lines.

    Returns
    -------
    DimensionalResult
        Per-fold scores and out-of-fold predictions of every cell.

    Raises
    ------
    ParameterError
        For an unknown task, feature set, regressor or protocol, or a corpus
        without the tasks' ratings.

    Examples
    --------
    >>> from sertools.datasets import make_synthetic_corpus
    >>> from sertools.study.dimensional import run_dimensional
    >>> corpus = make_synthetic_corpus(n_per_class=10)
    >>> result = run_dimensional({"synthetic": corpus}, tasks=["arousal"], n_boot=200)
    >>> row = result.summary().iloc[0]
    >>> row["task"], bool(row["ccc_low"] < row["ccc"] < row["ccc_high"]), bool(row["ccc"] > 0.5)
    ('arousal', True, True)
    """
    say = progress if callable(progress) else (print if progress else (lambda _msg: None))
    tasks = read_tasks(tasks)
    embedders = build_embedders(features, embedder_params, None)
    estimators = build_regressors(regressors, random_state)
    protocols = read_protocols(protocols)
    scores, predictions = run_cells(
        corpora,
        tasks=tasks,
        protocols=protocols,
        embedders=embedders,
        regressors=estimators,
        n_splits=n_splits,
        store=None if store is None else CellStore(store),
        cache_dir=cache_dir,
        random_state=random_state,
        say=say,
    )
    return DimensionalResult(scores, predictions, n_boot=n_boot, random_state=random_state)
