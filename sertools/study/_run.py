"""Run a Table-II-style study: corpora x protocols x feature sets x classifiers x folds.

:func:`run_study` is a short sequence of named steps: read the arguments
(:mod:`.plan`, with the named parts of :mod:`.catalogue`), plan the cells
(corpora, folds, digests, finished cells read back), execute what is left
(:mod:`.execute`: prepare models, embed once, fit folds, store cells), and
assemble the :class:`~sertools.study.StudyResult` (:mod:`.result`).
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from sklearn.base import BaseEstimator

from .._exceptions import ParameterError
from ._store import CellStore
from .audits import plan_audits
from .catalogue import (
    CLASSIFIERS,
    FEATURE_SETS,
    PROTOCOLS,
    make_classifier,
    make_embedder,
)
from .execute import Executor, extract_features
from .plan import build_embedders, build_estimators, make_plan, read_corpora, read_protocols
from .result import StudyResult, assemble

if TYPE_CHECKING:
    from .dimensional import DimensionalResult

__all__ = [
    "CLASSIFIERS",
    "FEATURE_SETS",
    "PROTOCOLS",
    "StudyResult",
    "extract_features",
    "make_classifier",
    "make_embedder",
    "run_study",
]


def _progress(progress: bool | Callable[[str], None]) -> tuple[Callable[[str], None], bool]:
    """Where progress lines go, and whether to show the cells' bar."""
    if callable(progress):
        return progress, False
    if progress:
        from tqdm import tqdm

        return functools.partial(tqdm.write, file=sys.stderr), True
    return (lambda _m: None), False


def run_study(
    X: Any,
    y: Any = None,
    *,
    features: Sequence[str] | Mapping[str, BaseEstimator] = ("mel", "mfcc"),
    classifiers: Sequence[str] | Mapping[str, BaseEstimator] = ("svm", "dnn"),
    protocols: Sequence[Any] | None = None,
    cv: Any = None,
    groups: Any = None,
    n_splits: int = 5,
    embedder_params: Mapping[str, Any] | None = None,
    models: Mapping[str, str | os.PathLike[str]] | None = None,
    classifier_params: Mapping[str, Mapping[str, Any]] | None = None,
    cross_corpus: bool = False,
    store: str | Path | None = None,
    cache_dir: str | Path | None = None,
    keep_going: bool = False,
    n_jobs: int | None = None,
    random_state: int | None = 0,
    progress: bool | Callable[[str], None] = False,
    task: str | Sequence[str] = "emotion",
    regressors: Sequence[str] | Mapping[str, BaseEstimator] = ("svr",),
    n_boot: int = 1000,
) -> StudyResult | DimensionalResult:
    """Cross-validate every (corpus, protocol, feature set, classifier) cell.

    Each feature set embeds each corpus once: the embedders are unsupervised,
    per-clip transforms whose ``fit`` learns nothing from the data, so this
    equals cross-validating ``make_pipeline(embedder, classifier)`` while
    embedding each clip once instead of once per fold. Classifiers are fitted
    on the training folds only.

    Parameters
    ----------
    X : mapping of str -> corpus, or sequence of clips
        Corpora by name: a folder (loaded with
        :func:`sertools.datasets.load_corpus` under that name), a loader's
        Bunch, or ``(X, y)`` / ``(X, y, speakers)``. A plain sequence of
        clips (waveforms or file paths) with ``y`` is one corpus named
        ``"corpus"``.
    y : array-like of shape (n_clips,), optional
        Labels when ``X`` is a sequence of clips.
    features : sequence of str or mapping of str -> embedder
        Names from :data:`FEATURE_SETS`, or ready embedders by name.
    classifiers : sequence of str or mapping of str -> estimator
        Names from :data:`CLASSIFIERS`, or ready estimators by name.
    protocols : sequence, optional
        Names from :data:`PROTOCOLS` (``"paper"``: stratified shuffled seeded
        ``n_splits``-fold; ``"speaker"``: speaker-independent folds from the
        corpus's speakers, leave-one-session-out on IEMOCAP) or splitters.
        Default ``("paper",)``, or ``(cv,)`` when ``cv`` is given.
    cv : int, splitter or None
        Shorthand for ``protocols=(cv,)`` (a splitter's cell protocol is
        ``"cv"``).
    groups : array-like of shape (n_clips,), optional
        Speakers when ``X`` is a sequence of clips.
    n_splits : int, default=5
        Folds of ``"paper"`` and speaker k-fold.
    embedder_params : mapping, optional
        Parameters for named embedders (``device``, ``model_dir``, ...); each
        key goes to the selected feature sets that take it, and a key that
        none takes is a :class:`~sertools.ParameterError`.
    models : mapping of str -> path, optional
        Checkpoint per feature set (``{"titanet": "x.nemo", "hubert":
        "hubert.pt"}``): the NeMo sets' ``model``, the S3PRL sets' ``checkpoint``.
    classifier_params : mapping of str -> mapping, optional
        Parameters per named classifier, e.g. ``{"dnn": {"max_epochs": 20}}``.
    cross_corpus : bool, default=False
        Also train on each corpus and test on each other one, on the labels
        they share (:attr:`StudyResult.cross`).
    store : str or Path, optional
        Folder of finished cells. A cell found there (same clips, labels,
        folds and parameters) is read back, not recomputed; each new cell is
        written atomically when it finishes, so an interrupted study resumes.
        A feature set whose cells are all finished is not embedded at all.
    cache_dir : str or Path, optional
        Folder of the embedders' per-clip cache (``cache=`` of every embedder,
        see :func:`extract_features`): each clip is embedded once per feature
        set across runs, classifiers and protocols.
    keep_going : bool, default=False
        If False, a feature set whose model cannot be loaded stops the study
        before any extraction (``ParameterError`` listing every such set). If
        True, its cells are reported in :attr:`StudyResult.failures` and the
        rest runs. Failures while running (an unreadable corpus, a corpus
        without speakers under ``"speaker"``, a failing extraction or fit)
        never stop the other cells.
    n_jobs : int or None
        Folds fitted in parallel (joblib).
    random_state : int or None, default=0
        Seed of the shuffled folds and of the DNN.
    progress : bool or callable, default=False
        True: a progress bar over cells (stderr) and progress lines;
        a callable receives each progress line.
    task : str or sequence of str, default="emotion"
        ``"emotion"``: the categorical study (classifiers, UAR/WAR). One or
        more of ``"arousal"``, ``"valence"``, ``"dominance"``: a dimensional
        study of the corpora's ratings, run by
        :func:`sertools.study.dimensional.run_dimensional` with ``regressors``
        instead of ``classifiers`` (CCC, r, MAE per fold; speaker-level CIs of
        the CCC); ``store`` and ``cache_dir`` work as for classes, and a
        categorical and a dimensional study given the same ``cache_dir``
        embed each clip once. ``X`` must then be a mapping of corpora whose
        Bunches have the rating fields.
    regressors : sequence of str or mapping of str -> estimator, default=("svr",)
        For dimensional tasks: names of
        :data:`sertools.study.catalogue.REGRESSORS` or ready regressors.
    n_boot : int, default=1000
        For dimensional tasks: bootstrap resamples of the CCC's CIs.

    Returns
    -------
    StudyResult or DimensionalResult
        Scores, predictions, failures and cross-corpus cells; for dimensional
        tasks a :class:`~sertools.study.dimensional.DimensionalResult`.

    Raises
    ------
    ParameterError
        For unknown names or parameters, and (unless ``keep_going``) for
        models that cannot be loaded. ``KeyboardInterrupt`` propagates; every
        cell finished before it is in ``store``.

    Examples
    --------
    Two feature sets and a classifier, cross-validated on a small synthetic
    corpus (a loader's Bunch); real corpora are given by folder, e.g.
    ``run_study({"emodb": "path/to/emodb"})``:

    >>> from sertools.datasets import make_synthetic_corpus
    >>> from sertools.study import run_study
    >>> corpus = make_synthetic_corpus(n_per_class=6, n_speakers=4, random_state=0)
    >>> result = run_study({"synthetic": corpus}, features=["mfcc", "mel"],
    ...                    classifiers=["svm-scaled"], n_splits=2)
    >>> print(result.to_markdown())
    | corpus | protocol | feature | classifier | UAR % | WAR % |
    |---|---|---|---|---|---|
    | synthetic | paper | mfcc | svm-scaled | 29.17 ± 5.89 | 29.17 ± 5.89 |
    | synthetic | paper | mel | svm-scaled | 62.50 ± 17.68 | 62.50 ± 17.68 |

    Under a speaker-independent protocol (for 4 speakers, leave one speaker
    out: one fold per speaker):

    >>> result = run_study({"synthetic": corpus}, features=["mfcc"],
    ...                    classifiers=["svm-scaled"], protocols=["speaker"])
    >>> result.summary(ci=False)[["uar_mean", "n_folds"]].round(2)
                                           uar_mean  n_folds
    corpus    protocol feature classifier
    synthetic speaker  mfcc    svm-scaled     46.88        4
    """
    tasks = [task] if isinstance(task, str) else list(task)
    if tasks != ["emotion"]:
        return _dimensional_study(
            X,
            tasks,
            features=features,
            regressors=regressors,
            protocols=protocols,
            n_splits=n_splits,
            embedder_params=embedder_params,
            store=store,
            cache_dir=cache_dir,
            n_boot=n_boot,
            random_state=random_state,
            progress=progress,
        )
    raw = read_corpora(X, y, groups)
    protos = read_protocols(protocols, cv)
    embedders = build_embedders(features, embedder_params, models)
    estimators = build_estimators(classifiers, classifier_params, random_state)
    say, bar = _progress(progress)

    plan = make_plan(
        raw,
        protos,
        embedders,
        estimators,
        n_splits=n_splits,
        seed=random_state,
        store=None if store is None else CellStore(store),
        cross_corpus=cross_corpus,
        say=say,
    )
    executor = Executor(plan, cache_dir=cache_dir, n_jobs=n_jobs, say=say, bar=bar)
    executor.prepare(keep_going=keep_going)
    executor.run_cells()
    executor.run_cross()
    result = assemble(
        plan.cell_keys(),
        plan.done,
        plan.failures,
        executor.cross_rows,
        executor.cross_predictions,
    )
    # the leak audit of every fold set, and clip columns for per-group UAR (reports only)
    result.fold_audits = plan_audits(plan)
    result.clip_metadata = {
        name: {"gender": np.asarray(c.bunch.gender)}
        for name, c in plan.corpora.items()
        if getattr(c.bunch, "gender", None) is not None
    }
    return result


def _dimensional_study(
    X: Any, tasks: list[str], *, protocols: Sequence[Any] | None, **kwargs: Any
) -> DimensionalResult:
    """``run_study(..., task=<dimensions>)``: the dimensional study of the same corpora."""
    from .dimensional import DIMENSIONS, run_dimensional

    wrong = [t for t in tasks if t not in DIMENSIONS]
    if wrong:
        raise ParameterError(
            f"unknown task(s) {', '.join(map(repr, wrong))}; expected 'emotion' alone or "
            f"dimensions from {', '.join(DIMENSIONS)} (one study is of one kind: run the "
            "categorical one separately with the same cache_dir to share the embeddings)"
        )
    if not isinstance(X, Mapping):
        raise ParameterError(
            "a dimensional task needs corpora by name (a mapping of folders or Bunches with "
            f"{', '.join(tasks)} fields), got {type(X).__name__}"
        )
    return run_dimensional(X, tasks=tasks, protocols=tuple(protocols or ("paper",)), **kwargs)
