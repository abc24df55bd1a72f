"""Run a Table-II-style study: corpora x protocols x feature sets x classifiers x folds."""

from __future__ import annotations

import contextlib
import functools
import os
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, clone
from sklearn.model_selection import StratifiedKFold, check_cv

from .._exceptions import ParameterError
from ..features._registry import FeatureSetNames, get_feature_set
from ..metrics import unweighted_average_recall, weighted_average_recall
from ..utils._progress import progress_bar
from ._store import STD_DDOF, CellStore, fingerprint

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

#: feature-set name -> embedder class name: a live view of the feature-set
#: registry (:func:`sertools.features.available_feature_sets`)
FEATURE_SETS: Mapping[str, str] = FeatureSetNames()

#: classifier name -> description (see :func:`make_classifier`)
CLASSIFIERS: dict[str, str] = {
    "svm": "SVC(C=10, gamma=1e-3) on unscaled features (the paper)",
    "dnn": "DNNClassifier(), the paper's 4-layer feed-forward network",
    "svm-scaled": "StandardScaler + SVC(C=10, gamma='scale')",
}

#: protocol name -> description (see :func:`run_study`)
PROTOCOLS: dict[str, str] = {
    "paper": "stratified 5-fold CV, shuffled and seeded; speakers on both sides (the paper)",
    "speaker": "speaker-independent folds from the corpus's speakers: leave-one-speaker-out "
    "(EMODB, EMOVO, SAVEE), speaker 5-fold (RAVDESS, CREMA-D), leave-one-session-out "
    "(IEMOCAP)",
    "loso": "leave-one-speaker-out",
    "session": "leave-one-session-out (IEMOCAP)",
    "speaker-kfold": "stratified speaker-grouped 5-fold",
}


def _embedder_class(name: str) -> type:
    """The embedder class of a feature-set name, from the feature-set registry."""
    return get_feature_set(name).load()


def _accepted(name: str) -> set[str]:
    return set(_embedder_class(name)().get_params(deep=False))


def _route_params(names: Sequence[str], params: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Split one dict of embedder parameters over feature sets.

    Each key goes to the selected feature sets that accept it; a key that none
    of them accepts is an error naming it and the valid keys.
    """
    accepted = {n: _accepted(n) for n in names}
    valid = sorted(set().union(*accepted.values())) if accepted else []
    unknown = [k for k in params if not any(k in a for a in accepted.values())]
    if unknown:
        raise ParameterError(
            f"embedder parameter(s) {', '.join(map(repr, unknown))} not accepted by any of the "
            f"feature sets {', '.join(names)}; valid parameters: {', '.join(valid)}"
        )
    return {n: {k: v for k, v in params.items() if k in accepted[n]} for n in names}


def make_embedder(name: str, **params: Any) -> BaseEstimator:
    """Build the embedder of a named feature set.

    Parameters
    ----------
    name : str
        One of :data:`FEATURE_SETS`.
    **params
        Passed to the embedder's constructor. A key it does not take is a
        :class:`~sertools.ParameterError` naming the key and the valid ones
        (to give one dict to several feature sets, use ``run_study``'s
        ``embedder_params``, which routes each key to the sets that take it).

    Returns
    -------
    BaseEmbedder
        Unfitted embedder of the set's class with ``params``.

    Raises
    ------
    ParameterError
        For an unknown name or parameter.

    Examples
    --------
    >>> make_embedder("mfcc", n_mfcc=20)
    MFCCEmbedder(n_mfcc=20)
    """
    cls = _embedder_class(name)
    valid = _accepted(name)
    unknown = [k for k in params if k not in valid]
    if unknown:
        raise ParameterError(
            f"feature set {name!r} ({cls.__name__}) does not take "
            f"{', '.join(map(repr, unknown))}; valid parameters: {', '.join(sorted(valid))}"
        )
    return cls(**params)


def model_param(name: str) -> str | None:
    """The parameter naming the pretrained model of a feature set, if it has one.

    Parameters
    ----------
    name : str
        A feature-set name of :data:`FEATURE_SETS`.

    Returns
    -------
    str or None
        ``"checkpoint"`` (S3PRL sets and others taking a checkpoint file),
        ``"model"`` (NeMo sets), None (signal features).

    Examples
    --------
    >>> model_param("titanet"), model_param("hubert"), model_param("mfcc")
    ('model', 'checkpoint', None)
    """
    accepted = _accepted(name)
    for key in ("checkpoint", "model"):
        if key in accepted:
            return key
    return None


def make_classifier(name: str, *, random_state: int | None = 0, **params: Any) -> BaseEstimator:
    """Build a named classifier.

    Parameters
    ----------
    name : {"svm", "dnn", "svm-scaled"}
        ``svm``: ``SVC(C=10, gamma=1e-3)`` on unscaled features (the paper;
        near chance when the features' scale does not suit ``gamma=1e-3``,
        e.g. large magnitudes);
        ``dnn``: :class:`sertools.models.DNNClassifier` with its defaults;
        ``svm-scaled``: ``make_pipeline(StandardScaler(), SVC(C=10, gamma="scale"))``.
    random_state : int or None, default=0
        Seed of the DNN.
    **params
        Parameters of the estimator (of the ``SVC`` step for ``svm-scaled``),
        e.g. ``max_epochs=20`` for the DNN.

    Returns
    -------
    estimator
        Unfitted scikit-learn classifier.

    Raises
    ------
    ParameterError
        For an unknown name or parameter.

    Examples
    --------
    >>> make_classifier("svm-scaled", C=1)
    Pipeline(steps=[('standardscaler', StandardScaler()), ('svc', SVC(C=1))])
    """
    if name == "svm":
        from sklearn.svm import SVC

        est: BaseEstimator = SVC(C=10, gamma=1e-3)
    elif name == "svm-scaled":
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler
        from sklearn.svm import SVC

        est = make_pipeline(StandardScaler(), SVC(C=10, gamma="scale"))
        params = {f"svc__{k}": v for k, v in params.items()}
    elif name == "dnn":
        from ..models import DNNClassifier

        est = DNNClassifier(random_state=random_state)
    else:
        raise ParameterError(
            f"unknown classifier {name!r}; expected one of {', '.join(CLASSIFIERS)}"
        )
    if params:
        valid = est.get_params(deep=name == "svm-scaled")
        unknown = [k for k in params if k not in valid]
        if unknown:
            shown = sorted(k.removeprefix("svc__") for k in valid if "__" not in k[5:])
            raise ParameterError(
                f"classifier {name!r} does not take {', '.join(map(repr, unknown))}; "
                f"valid parameters: {', '.join(shown)}"
            )
        est.set_params(**params)
    return est


# --------------------------------------------------------------------------- corpora
@dataclass
class _Corpus:
    name: str
    X: Any = None
    y: np.ndarray | None = None
    groups: np.ndarray | None = None  # speakers (clusters of the bootstrap)
    bunch: Any = None
    sampling_rate: int | None = None
    error: str | None = None
    digest: str = ""


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    if isinstance(exc, ParameterError):
        return text
    return f"{type(exc).__name__}: {text}"


def _canonical(name: Any) -> str:
    """A known corpus alias as its canonical name (``crema-d`` -> ``cremad``); else as is."""
    from ..datasets._corpora import canonical_corpus_name

    try:
        return canonical_corpus_name(name)
    except ParameterError:
        return str(name)


def _as_corpus(name: str, value: Any) -> _Corpus:
    """Normalise a corpus given as a folder, a loader Bunch or ``(X, y[, groups])``."""
    from ..datasets import load_corpus

    try:
        if isinstance(value, (str, os.PathLike)):
            value = load_corpus(name, value)
        if isinstance(value, tuple):
            if len(value) not in (2, 3):
                raise ParameterError(
                    f"corpus {name!r}: expected (X, y) or (X, y, groups), got a tuple of "
                    f"{len(value)}"
                )
            X, y = value[0], np.asarray(value[1])
            groups = None if len(value) == 2 or value[2] is None else np.asarray(value[2])
            bunch = None
            rate = None
        elif hasattr(value, "target"):
            bunch = value
            y = np.asarray(bunch.target)
            files = getattr(bunch, "filenames", None)
            X = files if files is not None else bunch.data
            groups = getattr(bunch, "speaker", None)
            groups = None if groups is None else np.asarray(groups)
            rate = getattr(bunch, "sampling_rate", None) if files is None else None
        else:
            raise ParameterError(
                f"corpus {name!r}: expected a folder, a sertools.datasets Bunch or (X, y), "
                f"got {type(value).__name__}"
            )
        if len(X) != len(y):
            raise ParameterError(f"corpus {name!r}: X has {len(X)} clips but y has {len(y)} labels")
        if groups is not None and len(groups) != len(y):
            raise ParameterError(
                f"corpus {name!r}: groups has {len(groups)} entries but y has {len(y)}"
            )
        corpus = _Corpus(name, X, y, groups, bunch, rate)
        corpus.digest = fingerprint(y, groups, clips=X)
        return corpus
    except (KeyboardInterrupt, SystemExit):
        raise
    except Exception as exc:
        return _Corpus(name, error=f"corpus {name!r} could not be loaded: {_one_line(exc)}")


def _splits(corpus: _Corpus, protocol: Any, *, n_splits: int, seed: int | None) -> list:
    """Folds of ``protocol`` on ``corpus``: a list of (train, test) index arrays."""
    from ..datasets.protocols import PROTOCOLS as GET_CV_PROTOCOLS
    from ..datasets.protocols import RECOMMENDED_PROTOCOL, get_cv

    y = corpus.y
    groups = None
    if not isinstance(protocol, str):
        cv = check_cv(protocol, y, classifier=True)
        groups = corpus.groups
    elif protocol == "paper":
        cv = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    elif protocol == "speaker" or protocol in GET_CV_PROTOCOLS:
        if corpus.groups is None and getattr(corpus.bunch, "session", None) is None:
            raise ParameterError(
                f"protocol {protocol!r} needs speakers, but corpus {corpus.name!r} has no "
                "speaker information; give (X, y, speakers) or a loader's Bunch"
            )
        data = corpus.bunch
        if data is None:
            from sklearn.utils import Bunch

            data = Bunch(target=y, speaker=corpus.groups, corpus=corpus.name)
        if protocol == "speaker":
            name = getattr(data, "corpus", None)
            if name in RECOMMENDED_PROTOCOL:
                protocol = RECOMMENDED_PROTOCOL[name]
            else:  # few speakers: leave one out; many: grouped k-fold
                n_spk = np.unique(corpus.groups).size
                protocol = "loso" if n_spk <= 12 else "speaker-kfold"
        cv, groups = get_cv(data, protocol, n_splits=n_splits, random_state=seed)
    else:
        raise ParameterError(
            f"unknown protocol {protocol!r}; expected one of {', '.join(PROTOCOLS)} "
            "(or a scikit-learn splitter)"
        )
    return [
        (np.asarray(tr), np.asarray(te)) for tr, te in cv.split(np.zeros((len(y), 1)), y, groups)
    ]


def _repeats(folds: Sequence[tuple[np.ndarray, np.ndarray]]) -> list[int]:
    """Repeat number of each fold: a new repeat starts when a fold tests a clip again."""
    out, seen, rep = [], set(), 0
    for _, test in folds:
        t = set(test.tolist())
        if seen & t:
            rep, seen = rep + 1, set()
        seen |= t
        out.append(rep)
    return out


# --------------------------------------------------------------------------- features
def extract_features(
    name: str,
    embedder: BaseEstimator,
    X: Sequence,
    *,
    cache_dir: str | Path | None = None,
) -> np.ndarray:
    """Embed ``X`` with a fresh clone of ``embedder``, through its per-clip cache.

    Parameters
    ----------
    name : str
        Feature-set name (used in messages).
    embedder : BaseEmbedder
        Unfitted embedder.
    X : sequence of clips
        Waveforms or file paths.
    cache_dir : str or Path or None
        Folder of the embedders' per-clip cache (``embedder.set_params(cache=
        cache_dir)``, see :mod:`sertools.features._cache`): a clip already
        embedded by the same model with the same parameters is read back, and
        an interrupted extraction resumes where it stopped. None: the
        embedder's own ``cache`` setting. An embedder without a ``cache``
        parameter embeds every clip.

    Returns
    -------
    ndarray of shape (n_clips, n_features)
        One embedding per clip, in the order of ``X``.

    Examples
    --------
    >>> import tempfile
    >>> from sertools.datasets import make_synthetic_corpus
    >>> from sertools.study import extract_features, make_embedder
    >>> corpus = make_synthetic_corpus(n_per_class=2, random_state=0)
    >>> embedder = make_embedder("mfcc", sampling_rate=corpus.sampling_rate)
    >>> extract_features("mfcc", embedder, corpus.data).shape  # (n_clips, n_features)
    (8, 39)

    With a cache folder, a second extraction reads the vectors back:

    >>> tmp = tempfile.TemporaryDirectory()
    >>> first = extract_features("mfcc", embedder, corpus.data, cache_dir=tmp.name)
    >>> again = extract_features("mfcc", embedder, corpus.data, cache_dir=tmp.name)
    >>> bool((first == again).all())
    True
    >>> tmp.cleanup()
    """
    emb = clone(embedder)
    if cache_dir is not None and "cache" in emb.get_params(deep=False):
        emb.set_params(cache=os.fspath(cache_dir))
    return np.asarray(emb.fit_transform(X))


#: parameters that do not change results (left out of cell and cache keys)
_VOLATILE = frozenset({"verbose", "n_jobs", "n_threads", "batch_seconds", "cache"})


def _estimator_spec(est: BaseEstimator) -> dict[str, Any]:
    params = est.get_params(deep=True)
    return {
        "class": type(est).__name__,
        "params": {
            k: repr(v)
            for k, v in sorted(params.items())
            if k.rsplit("__", 1)[-1] not in _VOLATILE and not isinstance(v, BaseEstimator)
        },
    }


def _fit_fold(clf: BaseEstimator, F: np.ndarray, y: np.ndarray, train, test):
    est = clone(clf)
    start = time.perf_counter()
    est.fit(F[train], y[train])
    fit_time = time.perf_counter() - start
    return np.asarray(est.predict(F[test])), fit_time


# --------------------------------------------------------------------------- result
@dataclass
class StudyResult:
    """Per-fold scores, out-of-fold predictions and failures of a study.

    Parameters
    ----------
    scores : pandas.DataFrame
        One row per (corpus, protocol, feature, classifier, repeat, fold):
        ``uar``, ``war`` (in [0, 1]), ``fit_time``, ``extraction_time``
        (seconds), ``n_train``, ``n_test``.
    predictions : pandas.DataFrame
        Exactly the predictions made: one row per (corpus, protocol, feature,
        classifier, repeat, fold, tested clip) with ``index`` (position of the
        clip in its corpus), ``group`` (speaker, or the clip itself when the
        corpus has no speakers), ``y_true``, ``y_pred``. A clip that no fold
        tests has no row; a clip tested again in a later repeat has one row
        per repeat.
    failures : pandas.DataFrame
        One row per cell that could not be computed: corpus, protocol,
        feature, classifier, ``reason``.
    cross : pandas.DataFrame
        Cross-corpus cells (empty unless asked for): feature, classifier,
        ``train``, ``test``, ``labels``, ``uar``, ``war``, ``n_train``,
        ``n_test``, ``fit_time``.
    cross_predictions : pandas.DataFrame
        Test-corpus predictions of the cross-corpus cells: feature,
        classifier, train, test, ``index``, ``group``, ``y_true``, ``y_pred``.

    Examples
    --------
    A two-fold study of two feature sets on a small synthetic corpus:

    >>> from sertools.datasets import make_synthetic_corpus
    >>> from sertools.study import run_study
    >>> corpus = make_synthetic_corpus(n_per_class=6, n_speakers=4, random_state=0)
    >>> result = run_study({"synthetic": corpus}, features=["mfcc", "mel"],
    ...                    classifiers=["svm-scaled"], n_splits=2)
    >>> result.scores.shape, result.predictions.shape  # 2 cells x 2 folds; 2 x 24 clips
    ((4, 12), (48, 10))
    >>> result.scores.columns.tolist()
    ['corpus', 'protocol', 'feature', 'classifier', 'repeat', 'fold', 'uar', 'war', 'fit_time',
    'extraction_time', 'n_train', 'n_test']
    >>> result.predictions.columns.tolist()[4:]
    ['repeat', 'fold', 'index', 'group', 'y_true', 'y_pred']
    >>> result.ok, result.failures.empty, result.cross.empty
    (True, True, True)
    """

    scores: pd.DataFrame
    predictions: pd.DataFrame
    failures: pd.DataFrame = field(default_factory=pd.DataFrame)
    cross: pd.DataFrame = field(default_factory=pd.DataFrame)
    cross_predictions: pd.DataFrame = field(default_factory=pd.DataFrame)

    KEYS = ("corpus", "protocol", "feature", "classifier")

    @property
    def ok(self) -> bool:
        """True when no cell failed.

        Examples
        --------
        The speaker protocol needs speakers, which a bare ``(X, y)`` corpus lacks:

        >>> from sertools.datasets import make_synthetic_corpus
        >>> from sertools.study import run_study
        >>> corpus = make_synthetic_corpus(n_per_class=6, n_speakers=4, random_state=0)
        >>> result = run_study({"synthetic": (corpus.data, corpus.target)}, features=["mfcc"],
        ...                    classifiers=["svm-scaled"], protocols=["speaker"])
        >>> result.ok
        False
        >>> print(result.failures.reason[0])
        corpus 'synthetic', protocol 'speaker': protocol 'speaker' needs speakers, ...
        """
        return self.failures.empty

    def summary(
        self, *, ci: bool = True, n_boot: int = 1000, random_state: int = 0
    ) -> pd.DataFrame:
        """Mean and sample standard deviation (ddof=1) over folds, in percent.

        Parameters
        ----------
        ci : bool, default=True
            Add ``uar_ci_low``, ``uar_ci_high``: the 95 % speaker-level
            (cluster) bootstrap interval of the pooled out-of-fold UAR
            (:func:`sertools.study.stats.cluster_bootstrap_uar`).
        n_boot : int, default=1000
            Bootstrap resamples.
        random_state : int, default=0
            Seed of the bootstrap.

        Returns
        -------
        pandas.DataFrame
            Indexed by (corpus, protocol, feature, classifier) in run order;
            columns ``uar_mean, uar_std, war_mean, war_std, n_folds`` (and the
            CI columns), percent.

        Examples
        --------
        >>> from sertools.datasets import make_synthetic_corpus
        >>> from sertools.study import run_study
        >>> corpus = make_synthetic_corpus(n_per_class=6, n_speakers=4, random_state=0)
        >>> result = run_study({"synthetic": corpus}, features=["mfcc", "mel"],
        ...                    classifiers=["svm-scaled"], n_splits=2)
        >>> summary = result.summary(n_boot=200)
        >>> summary.columns.tolist()
        ['uar_mean', 'uar_std', 'war_mean', 'war_std', 'n_folds', 'uar_ci_low', 'uar_ci_high']
        >>> summary[["uar_mean", "uar_std", "n_folds"]].round(2)
                                               uar_mean  uar_std  n_folds
        corpus    protocol feature classifier
        synthetic paper    mfcc    svm-scaled     29.17     5.89        2
                           mel     svm-scaled     62.50    17.68        2
        """
        if self.scores.empty:
            cols = ["uar_mean", "uar_std", "war_mean", "war_std", "n_folds"]
            if ci:
                cols += ["uar_ci_low", "uar_ci_high"]
            index = pd.MultiIndex.from_arrays([[]] * 4, names=list(self.KEYS))
            return pd.DataFrame(columns=cols, index=index, dtype=float)
        grouped = self.scores.groupby(list(self.KEYS), sort=False)
        table = pd.DataFrame(
            {
                "uar_mean": grouped.uar.mean() * 100,
                "uar_std": grouped.uar.std(ddof=STD_DDOF) * 100,
                "war_mean": grouped.war.mean() * 100,
                "war_std": grouped.war.std(ddof=STD_DDOF) * 100,
                "n_folds": grouped.size(),
            }
        )
        if ci:
            from .stats import cluster_bootstrap_uar

            lows, highs = [], []
            preds = self.predictions.groupby(list(self.KEYS), sort=False)
            for key in table.index:
                p = preds.get_group(key)
                _, lo, hi = cluster_bootstrap_uar(
                    p.y_true.to_numpy(),
                    p.y_pred.to_numpy(),
                    p.group.to_numpy(),
                    n_boot=n_boot,
                    random_state=random_state,
                )
                lows.append(100 * lo)
                highs.append(100 * hi)
            table["uar_ci_low"] = lows
            table["uar_ci_high"] = highs
        return table

    def best(self) -> tuple[str, str, str, str]:
        """The cell with the highest mean UAR.

        Returns
        -------
        tuple of str
            Its key (corpus, protocol, feature, classifier).

        Examples
        --------
        >>> from sertools.datasets import make_synthetic_corpus
        >>> from sertools.study import run_study
        >>> corpus = make_synthetic_corpus(n_per_class=6, n_speakers=4, random_state=0)
        >>> result = run_study({"synthetic": corpus}, features=["mfcc", "mel"],
        ...                    classifiers=["svm-scaled"], n_splits=2)
        >>> result.best()
        ('synthetic', 'paper', 'mel', 'svm-scaled')
        """
        return self.summary(ci=False)["uar_mean"].idxmax()

    def cell_predictions(self, corpus: str, protocol: str, feature: str, classifier: str):
        """Out-of-fold predictions of one cell.

        Parameters
        ----------
        corpus, protocol, feature, classifier : str
            The cell's key.

        Returns
        -------
        pandas.DataFrame
            Its rows of :attr:`predictions`.

        Raises
        ------
        ParameterError
            If the study has no such cell (the message lists the cells).

        Examples
        --------
        >>> from sertools.datasets import make_synthetic_corpus
        >>> from sertools.study import run_study
        >>> corpus = make_synthetic_corpus(n_per_class=6, n_speakers=4, random_state=0)
        >>> result = run_study({"synthetic": corpus}, features=["mfcc", "mel"],
        ...                    classifiers=["svm-scaled"], n_splits=2)
        >>> pred = result.cell_predictions("synthetic", "paper", "mel", "svm-scaled")
        >>> pred.shape  # every clip is tested once
        (24, 10)
        >>> pred[["fold", "index", "group", "y_true", "y_pred"]].head(3)
            fold  index  group   y_true   y_pred
        24     0      1  spk00      sad  neutral
        25     0      2  spk02    happy  neutral
        26     0      6  spk01  neutral  neutral
        """
        p = self.predictions
        mask = (
            (p.corpus == corpus)
            & (p.protocol == protocol)
            & (p.feature == feature)
            & (p.classifier == classifier)
        )
        if not mask.any():
            raise ParameterError(
                f"no predictions for cell {corpus}/{protocol}/{feature}/{classifier}; cells: "
                + ", ".join("/".join(k) for k in self.summary(ci=False).index)
            )
        return p[mask]

    def confusion_matrix(
        self, corpus: str, protocol: str, feature: str, classifier: str
    ) -> pd.DataFrame:
        """Out-of-fold confusion matrix of one cell.

        Counts every prediction made (all repeats); clips never tested do not count.

        Parameters
        ----------
        corpus, protocol, feature, classifier : str
            The cell's key.

        Returns
        -------
        pandas.DataFrame of shape (n_labels, n_labels)
            Counts; rows: true label, columns: predicted label.

        Examples
        --------
        >>> from sertools.datasets import make_synthetic_corpus
        >>> from sertools.study import run_study
        >>> corpus = make_synthetic_corpus(n_per_class=6, n_speakers=4, random_state=0)
        >>> result = run_study({"synthetic": corpus}, features=["mfcc", "mel"],
        ...                    classifiers=["svm-scaled"], n_splits=2)
        >>> result.confusion_matrix("synthetic", "paper", "mel", "svm-scaled")
                 angry  happy  neutral  sad
        angry        4      2        0    0
        happy        1      3        2    0
        neutral      0      1        5    0
        sad          0      0        3    3
        """
        from sklearn.metrics import confusion_matrix

        p = self.cell_predictions(corpus, protocol, feature, classifier)
        labels = np.unique(np.concatenate([p.y_true.to_numpy(), p.y_pred.to_numpy()]))
        cm = confusion_matrix(p.y_true, p.y_pred, labels=labels)
        return pd.DataFrame(cm, index=labels, columns=labels)

    def to_markdown(self) -> str:
        """The summary as a Markdown table.

        Returns
        -------
        str
            One row per cell, ``mean ± std`` over folds (ddof=1), percent.

        Examples
        --------
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
        """
        s = self.summary(ci=False)
        lines = [
            "| corpus | protocol | feature | classifier | UAR % | WAR % |",
            "|---|---|---|---|---|---|",
        ]
        for (corpus, protocol, feat, clf), row in s.iterrows():
            lines.append(
                f"| {corpus} | {protocol} | {feat} | {clf} | {row.uar_mean:.2f} ± "
                f"{row.uar_std:.2f} | {row.war_mean:.2f} ± {row.war_std:.2f} |"
            )
        return "\n".join(lines)

    @classmethod
    def load(cls, out_dir: str | Path) -> StudyResult:
        """Read back a study written by :meth:`save` (``scores.csv``, ``predictions.csv``, ...).

        Raises
        ------
        ParameterError
            If the folder holds no ``scores.csv`` and ``predictions.csv``.
        """
        out = Path(out_dir)
        missing = [n for n in ("scores.csv", "predictions.csv") if not (out / n).is_file()]
        if missing:
            raise ParameterError(
                f"{out} holds no study results (missing {', '.join(missing)}); expected the "
                "output folder of run_study(...).save() or 'sertools study --out'"
            )
        keys = {k: str for k in (*cls.KEYS, "group", "y_true", "y_pred")}

        def read(name: str) -> pd.DataFrame:
            path = out / name
            return pd.read_csv(path, dtype=keys) if path.is_file() else pd.DataFrame()

        return cls(
            read("scores.csv"),
            read("predictions.csv"),
            read("failures.csv"),
            read("cross_corpus.csv"),
        )

    def save(self, out_dir: str | Path, *, title: str = "", **kwargs: Any) -> dict[str, Path]:
        """Write every table, figure and the HTML report.

        Parameters
        ----------
        out_dir : str or Path
            Created if needed.
        title : str
            Title of the reports.
        **kwargs
            Passed to :func:`~sertools.study.report.write_reports`.

        Returns
        -------
        dict of str -> Path
            The files written.

        Examples
        --------
        >>> import tempfile
        >>> from sertools.datasets import make_synthetic_corpus
        >>> from sertools.study import StudyResult, run_study
        >>> corpus = make_synthetic_corpus(n_per_class=6, n_speakers=4, random_state=0)
        >>> result = run_study({"synthetic": corpus}, features=["mfcc", "mel"],
        ...                    classifiers=["svm-scaled"], n_splits=2)
        >>> tmp = tempfile.TemporaryDirectory()
        >>> paths = result.save(tmp.name, title="demo", n_boot=100)
        >>> sorted(paths)
        ['confusion_synthetic_paper', 'folds_paper', 'heatmap_paper', 'predictions', 'report_html',
        'report_md', 'scores', 'significance', 'summary', 'table2_paper_csv', 'table2_paper_md',
        'table2_paper_tex']
        >>> StudyResult.load(tmp.name).scores.shape
        (4, 12)
        >>> tmp.cleanup()
        """
        from .report import write_reports

        return write_reports(self, out_dir, title=title, **kwargs)


# --------------------------------------------------------------------------- runner
def _named(
    kind: str,
    spec: Sequence[str] | Mapping[str, Any],
    valid: Mapping[str, str],
) -> list[str]:
    names = list(spec)
    if not names:
        raise ParameterError(f"no {kind} given; expected some of {', '.join(valid)}")
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise ParameterError(f"{kind} named more than once: {', '.join(dup)}")
    return names


def _prepare(embedders: Mapping[str, BaseEstimator], say: Callable[[str], None]) -> dict[str, str]:
    """Load every embedder's model once, before any extraction (fail fast).

    Returns the reason of each feature set that cannot be prepared.
    """
    errors: dict[str, str] = {}
    for name, emb in embedders.items():
        if not hasattr(emb, "_get_backend"):
            continue  # signal features: nothing to load
        say(f"[{name}] loading the model")
        try:
            clone(emb).fit()
        except (KeyboardInterrupt, SystemExit):
            raise
        except Exception as exc:
            errors[name] = f"feature set {name!r}: {_one_line(exc)}"
    return errors


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
) -> StudyResult:
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

    Returns
    -------
    StudyResult
        Scores, predictions, failures and cross-corpus cells.

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
    from joblib import Parallel, delayed

    # ---- inputs
    if isinstance(X, Mapping):
        if y is not None or groups is not None:
            raise ParameterError("give y and groups inside each corpus when X is a mapping")
        if not X:
            raise ParameterError("no corpora given")
        raw = {}
        for key, value in X.items():
            name = _canonical(key)
            if name in raw:
                raise ParameterError(f"corpus {name!r} given more than once")
            if isinstance(value, (str, os.PathLike)):
                from ..datasets._corpora import canonical_corpus_name

                canonical_corpus_name(name)  # a folder needs a known corpus name
            raw[name] = value
    else:
        if y is None:
            raise ParameterError("y is required when X is a sequence of clips")
        if len(X) != len(np.asarray(y)):
            raise ParameterError(f"X has {len(X)} clips but y has {len(np.asarray(y))} labels")
        raw = {"corpus": (X, y, groups)}
    if protocols is None:
        protocols = ("paper",) if cv is None else (cv,)
    elif cv is not None:
        raise ParameterError("give either protocols or cv, not both")
    protocols = list(protocols)
    if not protocols:
        raise ParameterError(f"no protocols given; expected some of {', '.join(PROTOCOLS)}")
    for p in protocols:
        if isinstance(p, str) and p not in PROTOCOLS:
            raise ParameterError(f"unknown protocol {p!r}; expected one of {', '.join(PROTOCOLS)}")
    proto_names = [p if isinstance(p, str) else "cv" for p in protocols]
    if len(set(proto_names)) != len(proto_names):
        raise ParameterError(f"protocols named more than once: {proto_names}")

    feat_names = _named("feature sets", features, FEATURE_SETS)
    clf_names = _named("classifiers", classifiers, CLASSIFIERS)
    if isinstance(features, Mapping):
        embedders = dict(features)
    else:
        for n in feat_names:
            _embedder_class(n)
        routed = _route_params(feat_names, dict(embedder_params or {}))
        for fname, path in (models or {}).items():
            if fname not in feat_names:
                raise ParameterError(
                    f"a model was given for {fname!r}, which is not among the selected feature "
                    f"sets {', '.join(feat_names)}"
                )
            key = model_param(fname)
            if key is None:
                raise ParameterError(
                    f"feature set {fname!r} has no pretrained model; models can be given for "
                    + ", ".join(n for n in FEATURE_SETS if model_param(n))
                )
            routed[fname][key] = os.fspath(path)
        embedders = {n: make_embedder(n, **routed[n]) for n in feat_names}
    if isinstance(classifiers, Mapping):
        estimators = dict(classifiers)
    else:
        cparams = dict(classifier_params or {})
        for cname in cparams:
            if cname not in clf_names:
                raise ParameterError(
                    f"classifier_params for {cname!r}, which is not among the selected "
                    f"classifiers {', '.join(clf_names)}"
                )
        estimators = {
            n: make_classifier(n, random_state=random_state, **cparams.get(n, {}))
            for n in clf_names
        }

    if callable(progress):
        say, bar_on = progress, False
    elif progress:
        from tqdm import tqdm

        say, bar_on = functools.partial(tqdm.write, file=sys.stderr), True
    else:
        say, bar_on = (lambda _m: None), False
    cells_store = None if store is None else CellStore(store)

    # ---- corpora, folds and cell keys (cheap: file lists, no audio)
    corpora = {name: _as_corpus(name, value) for name, value in raw.items()}
    failures: list[dict[str, Any]] = []
    folds: dict[tuple[str, str], list] = {}
    for cname, corpus in corpora.items():
        if corpus.error is not None:
            say(f"[{cname}] {corpus.error}")
            continue
        for proto, pname in zip(protocols, proto_names, strict=True):
            try:
                folds[cname, pname] = _splits(corpus, proto, n_splits=n_splits, seed=random_state)
            except (KeyboardInterrupt, SystemExit):
                raise
            except Exception as exc:
                reason = f"corpus {cname!r}, protocol {pname!r}: {_one_line(exc)}"
                say(f"[{cname}/{pname}] {reason}")
                failures += [
                    dict(zip(StudyResult.KEYS, (cname, pname, f, c), strict=True), reason=reason)
                    for f in embedders
                    for c in estimators
                ]
    for cname, corpus in corpora.items():
        if corpus.error is not None:
            failures += [
                dict(zip(StudyResult.KEYS, (cname, p, f, c), strict=True), reason=corpus.error)
                for p in proto_names
                for f in embedders
                for c in estimators
            ]

    def emb_for(fname: str, corpus: _Corpus) -> BaseEstimator:
        emb = clone(embedders[fname])
        params = emb.get_params(deep=False)
        if corpus.sampling_rate is not None and params.get("sampling_rate", 0) is None:
            emb.set_params(sampling_rate=corpus.sampling_rate)
        return emb

    def digest(cname: str, pname: str, fname: str, clf_name: str) -> str:
        corpus = corpora[cname]
        tests = [te for _, te in folds[cname, pname]]
        trains = [tr for tr, _ in folds[cname, pname]]
        return fingerprint(
            corpus.digest,
            fingerprint(*tests, *trains),
            _estimator_spec(emb_for(fname, corpus)),
            _estimator_spec(estimators[clf_name]),
        )

    todo: dict[tuple[str, str], list[tuple[str, str]]] = {}  # (corpus, feature) -> cells
    done: dict[tuple[str, str, str, str], dict] = {}
    for cname, pname in folds:
        for fname in embedders:
            for clf_name in estimators:
                key = (cname, pname, fname, clf_name)
                rec = None if cells_store is None else cells_store.load(key, digest(*key))
                if rec is not None:
                    done[key] = rec
                else:
                    todo.setdefault((cname, fname), []).append((pname, clf_name))
    cross_pairs: list[tuple[str, str]] = []
    if cross_corpus:
        ok = [c for c in corpora if corpora[c].error is None]
        cross_pairs = [(a, b) for a in ok for b in ok if a != b]
    n_cells = sum(len(v) for v in todo.values())
    if done:
        say(f"{len(done)} finished cell(s) read back from {store}")

    # ---- fail fast on models, before any extraction

    def cross_digest(a: str, b: str, f: str, c: str, labels: list) -> str:
        return fingerprint(
            corpora[a].digest,
            corpora[b].digest,
            labels,
            _estimator_spec(emb_for(f, corpora[a])),
            _estimator_spec(emb_for(f, corpora[b])),
            _estimator_spec(estimators[c]),
        )

    needed = {f for (_, f) in todo}
    if cross_pairs:
        from .cross import shared_labels

        for a, b in cross_pairs:
            labels = shared_labels(corpora[a].y, corpora[b].y)
            if len(labels) < 2:
                continue
            for f in embedders:
                for c in estimators:
                    key = ("cross", a, b, f, c)
                    if (
                        cells_store is None
                        or cells_store.load(key, cross_digest(a, b, f, c, labels)) is None
                    ):
                        needed.add(f)
    errors = _prepare({n: embedders[n] for n in embedders if n in needed}, say)
    if errors and not keep_going:
        raise ParameterError("; ".join(errors.values()))

    # ---- run
    # the cells' bar (on a terminal); the embedders' own bars stay hidden inside it
    bars = contextlib.ExitStack()
    bar = bars.enter_context(progress_bar(total=n_cells, desc="cells", unit="cell", enabled=bar_on))
    feature_cache: dict[tuple[str, str], tuple[np.ndarray, float]] = {}

    def features_of(cname: str, fname: str) -> tuple[np.ndarray, float]:
        if (cname, fname) not in feature_cache:
            if fname in errors:
                raise ParameterError(errors[fname])
            corpus = corpora[cname]
            say(f"[{cname}/{fname}] embedding {len(corpus.y)} clips")
            start = time.perf_counter()
            F = extract_features(fname, emb_for(fname, corpus), corpus.X, cache_dir=cache_dir)
            seconds = time.perf_counter() - start
            say(f"[{cname}/{fname}] {F.shape[1]} features in {seconds:.1f} s")
            feature_cache[cname, fname] = (F, seconds)
        return feature_cache[cname, fname]

    try:
        for (cname, fname), cells in todo.items():
            corpus = corpora[cname]
            try:
                F, ext_time = features_of(cname, fname)
            except (KeyboardInterrupt, SystemExit):
                raise
            except Exception as exc:
                reason = f"embedding corpus {cname!r} with {fname!r}: {_one_line(exc)}"
                say(f"[{cname}/{fname}] failed: {reason}")
                failures += [
                    dict(zip(StudyResult.KEYS, (cname, p, fname, c), strict=True), reason=reason)
                    for p, c in cells
                ]
                bar.update(len(cells))
                continue
            for pname, clf_name in cells:
                key = (cname, pname, fname, clf_name)
                bar.set_postfix_str("/".join(key))
                try:
                    splits = folds[cname, pname]
                    results = Parallel(n_jobs=n_jobs)(
                        delayed(_fit_fold)(estimators[clf_name], F, corpus.y, tr, te)
                        for tr, te in splits
                    )
                except (KeyboardInterrupt, SystemExit):
                    raise
                except Exception as exc:
                    reason = f"cell {'/'.join(key)}: {_one_line(exc)}"
                    say(f"failed: {reason}")
                    failures.append(dict(zip(StudyResult.KEYS, key, strict=True), reason=reason))
                    bar.update()
                    continue
                rec = _cell_record(corpus, splits, results, ext_time)
                done[key] = rec
                if cells_store is not None:
                    cells_store.save(key, digest(*key), rec)
                uar = np.array([r["uar"] for r in rec["rows"]])
                say(
                    f"[{'/'.join(key)}] UAR {100 * uar.mean():.2f} ± "
                    f"{100 * uar.std(ddof=STD_DDOF) if len(uar) > 1 else 0:.2f}"
                )
                bar.update()
    finally:
        bars.close()

    cross_rows, cross_preds = [], []
    if cross_pairs:
        from .cross import run_cross

        cross_rows, cross_preds, cross_fail = run_cross(
            corpora,
            cross_pairs,
            embedders=list(embedders),
            estimators=estimators,
            features_of=features_of,
            errors=errors,
            store=cells_store,
            cell_digest=cross_digest,
            say=say,
        )
        failures += cross_fail

    # ---- assemble in a stable order
    rows, preds = [], []
    for cname in corpora:
        for pname in proto_names:
            for fname in embedders:
                for clf_name in estimators:
                    key = (cname, pname, fname, clf_name)
                    rec = done.get(key)
                    if rec is None:
                        continue
                    ident = dict(zip(StudyResult.KEYS, key, strict=True))
                    rows += [{**ident, **r} for r in rec["rows"]]
                    p = pd.DataFrame(rec["predictions"])
                    for i, (k, v) in enumerate(ident.items()):
                        p.insert(i, k, v)
                    preds.append(p)
    score_cols = [
        *StudyResult.KEYS,
        "repeat",
        "fold",
        "uar",
        "war",
        "fit_time",
        "extraction_time",
        "n_train",
        "n_test",
    ]
    pred_cols = [*StudyResult.KEYS, "repeat", "fold", "index", "group", "y_true", "y_pred"]
    scores = pd.DataFrame(rows, columns=score_cols)
    predictions = (
        pd.concat(preds, ignore_index=True)[pred_cols] if preds else pd.DataFrame(columns=pred_cols)
    )
    fails = pd.DataFrame(failures, columns=[*StudyResult.KEYS, "reason"])
    return StudyResult(
        scores,
        predictions,
        fails,
        pd.DataFrame(cross_rows),
        pd.concat(cross_preds, ignore_index=True) if cross_preds else pd.DataFrame(),
    )


def _cell_record(corpus: _Corpus, splits: list, results: list, ext_time: float) -> dict:
    """Scores and exactly the predictions of one finished cell (JSON-able)."""
    y = corpus.y
    groups = corpus.groups if corpus.groups is not None else np.arange(len(y))
    rows: list[dict[str, Any]] = []
    pred: dict[str, list] = {
        k: [] for k in ("repeat", "fold", "index", "group", "y_true", "y_pred")
    }
    for k, ((train, test), (yhat, fit_time), rep) in enumerate(
        zip(splits, results, _repeats(splits), strict=True)
    ):
        rows.append(
            {
                "repeat": rep,
                "fold": k,
                "uar": float(unweighted_average_recall(y[test], yhat)),
                "war": float(weighted_average_recall(y[test], yhat)),
                "fit_time": float(fit_time),
                "extraction_time": float(ext_time),
                "n_train": len(train),
                "n_test": len(test),
            }
        )
        pred["repeat"] += [rep] * len(test)
        pred["fold"] += [k] * len(test)
        pred["index"] += test.tolist()
        pred["group"] += [str(g) for g in groups[test]]
        pred["y_true"] += [_plain(v) for v in y[test]]
        pred["y_pred"] += [_plain(v) for v in yhat]
    return {"rows": rows, "predictions": pred}


def _plain(v: Any) -> Any:
    return v.item() if isinstance(v, np.generic) else v
