"""Run a Table-II-style study: feature sets x classifiers x cross-validation folds."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, clone
from sklearn.model_selection import StratifiedKFold, check_cv

from .._exceptions import ParameterError
from ..metrics import unweighted_average_recall, weighted_average_recall

__all__ = [
    "CLASSIFIERS",
    "FEATURE_SETS",
    "StudyResult",
    "make_classifier",
    "make_embedder",
    "run_study",
]

#: feature-set name -> embedder class name in :mod:`sertools.features`
FEATURE_SETS: dict[str, str] = {
    "mel": "MelSpectrogramEmbedder",
    "mfcc": "MFCCEmbedder",
    "speakernet": "SpeakerNetEmbedder",
    "titanet": "TitaNetEmbedder",
    "ecapa": "EcapaTdnnEmbedder",
    "ambernet": "AmberNetEmbedder",
    "wav2vec2": "Wav2Vec2Embedder",
    "decoar": "DecoarEmbedder",
    "hubert": "HubertEmbedder",
}

#: classifier name -> description (see :func:`make_classifier`)
CLASSIFIERS: dict[str, str] = {
    "svm": "SVC(C=10, gamma=1e-3), no input scaling (the paper)",
    "dnn": "DNNClassifier(), the paper's 4-layer feed-forward network",
}


def make_embedder(name: str, **params: Any) -> BaseEstimator:
    """Build the embedder of a named feature set.

    Parameters
    ----------
    name : str
        One of :data:`FEATURE_SETS`.
    **params
        Passed to the embedder's constructor; keys it does not take are
        dropped (so one dict, e.g. ``{"device": "cuda", "sampling_rate": 16000}``,
        can serve every feature set).

    Returns
    -------
    BaseEmbedder
    """
    from .. import features

    if name not in FEATURE_SETS:
        raise ParameterError(
            f"unknown feature set {name!r}; expected one of {sorted(FEATURE_SETS)}"
        )
    cls = getattr(features, FEATURE_SETS[name])
    accepted = cls().get_params(deep=False)
    return cls(**{k: v for k, v in params.items() if k in accepted})


def make_classifier(name: str, *, random_state: int | None = 0) -> BaseEstimator:
    """Build a named classifier of the paper.

    Parameters
    ----------
    name : {"svm", "dnn"}
        ``svm``: ``SVC(C=10, gamma=1e-3)`` (no scaling, as in the paper);
        ``dnn``: :class:`sertools.models.DNNClassifier` with its defaults.
    random_state : int or None, default=0
        Seed of the DNN.

    Returns
    -------
    estimator
    """
    if name == "svm":
        from sklearn.svm import SVC

        return SVC(C=10, gamma=1e-3)
    if name == "dnn":
        from ..models import DNNClassifier

        return DNNClassifier(random_state=random_state)
    raise ParameterError(f"unknown classifier {name!r}; expected one of {sorted(CLASSIFIERS)}")


@dataclass
class StudyResult:
    """Per-fold scores and out-of-fold predictions of a study.

    Attributes
    ----------
    scores : pandas.DataFrame
        One row per (feature, classifier, fold): ``uar``, ``war`` (in [0, 1]),
        ``fit_time``, ``n_train``, ``n_test``.
    predictions : dict of (str, str) -> ndarray of shape (n_samples,)
        Out-of-fold predicted label of every sample, per (feature, classifier).
    y : ndarray of shape (n_samples,)
        True labels.
    extraction_time : dict of str -> float
        Seconds spent embedding the clips, per feature set.
    """

    scores: pd.DataFrame
    predictions: dict[tuple[str, str], np.ndarray]
    y: np.ndarray
    extraction_time: dict[str, float] = field(default_factory=dict)

    def summary(self) -> pd.DataFrame:
        """Mean and standard deviation over folds, in percent.

        Returns
        -------
        pandas.DataFrame
            Indexed by (feature, classifier), columns ``uar_mean, uar_std,
            war_mean, war_std`` in percent, in the order the study ran them.
        """
        grouped = self.scores.groupby(["feature", "classifier"], sort=False)[["uar", "war"]]
        table = grouped.agg(["mean", "std"]) * 100
        table.columns = [f"{m}_{s}" for m, s in table.columns]
        return table

    def best(self) -> tuple[str, str]:
        """The (feature, classifier) pair with the highest mean UAR."""
        return self.summary()["uar_mean"].idxmax()

    def to_markdown(self) -> str:
        """The summary as a Markdown table (``mean ± std`` over folds, percent)."""
        s = self.summary()
        lines = ["| feature | classifier | UAR % | WAR % |", "|---|---|---|---|"]
        for (feat, clf), row in s.iterrows():
            lines.append(
                f"| {feat} | {clf} | {row.uar_mean:.2f} ± {row.uar_std:.2f} "
                f"| {row.war_mean:.2f} ± {row.war_std:.2f} |"
            )
        return "\n".join(lines)

    def confusion_matrix(self, feature: str, classifier: str) -> pd.DataFrame:
        """Out-of-fold confusion matrix (rows: true, columns: predicted)."""
        from sklearn.metrics import confusion_matrix

        labels = np.unique(self.y)
        cm = confusion_matrix(self.y, self.predictions[feature, classifier], labels=labels)
        return pd.DataFrame(cm, index=labels, columns=labels)

    def save(self, out_dir: str | Path, *, title: str = "") -> dict[str, Path]:
        """Write the tables and plots of the study.

        Parameters
        ----------
        out_dir : str or Path
            Created if needed.
        title : str
            Prefix of plot titles (e.g. the corpus name).

        Returns
        -------
        dict of str -> Path
            ``scores`` (per-fold CSV), ``summary`` (CSV), ``table`` (Markdown),
            ``confusion`` (PNG of the best pipeline), ``uar_plot`` (PNG).
        """
        from .report import plot_confusion, plot_scores

        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        paths = {
            "scores": out / "scores.csv",
            "summary": out / "summary.csv",
            "table": out / "summary.md",
            "confusion": out / "confusion_best.png",
            "uar_plot": out / "uar.png",
        }
        self.scores.to_csv(paths["scores"], index=False)
        self.summary().round(2).to_csv(paths["summary"])
        paths["table"].write_text(self.to_markdown() + "\n", encoding="utf-8")
        feat, clf = self.best()
        plot_confusion(
            self.confusion_matrix(feat, clf),
            paths["confusion"],
            title=f"{title} {feat} + {clf}".strip(),
        )
        plot_scores(self.summary(), paths["uar_plot"], title=title)
        return paths


def _feature_cache_path(cache_dir: Path, name: str, embedder: BaseEstimator, X: Sequence) -> Path:
    """Content key of an extraction: the embedder's params and the input clips."""
    h = hashlib.sha256()
    h.update(json.dumps(embedder.get_params(deep=False), sort_keys=True, default=str).encode())
    for item in X:
        if isinstance(item, (str, Path)):
            p = Path(item)
            st = p.stat()
            h.update(f"{p.resolve()}|{st.st_size}|{st.st_mtime_ns}".encode())
        else:
            arr = np.ascontiguousarray(item)
            h.update(arr.dtype.str.encode())
            h.update(arr.tobytes())
    return cache_dir / f"{name}-{h.hexdigest()[:16]}.npy"


def extract_features(
    name: str,
    embedder: BaseEstimator,
    X: Sequence,
    *,
    cache_dir: str | Path | None = None,
) -> np.ndarray:
    """Embed ``X`` once, reusing a cached result when one matches.

    Parameters
    ----------
    name : str
        Feature-set name (part of the cache file name).
    embedder : BaseEmbedder
        Unfitted embedder.
    X : sequence of clips
    cache_dir : str or Path or None
        Folder of ``.npy`` caches keyed by the embedder's parameters and the
        clips' content (paths: resolved path, size, mtime). None disables it.

    Returns
    -------
    ndarray of shape (n_clips, n_features)
    """
    path = None
    if cache_dir is not None:
        path = _feature_cache_path(Path(cache_dir), name, embedder, X)
        if path.is_file():
            return np.load(path)
    features = np.asarray(clone(embedder).fit_transform(X))
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp.npy")
        np.save(tmp, features)
        tmp.replace(path)  # atomic: a crash never leaves a half-written cache
    return features


def _fit_fold(clf: BaseEstimator, F: np.ndarray, y: np.ndarray, train, test):
    est = clone(clf)
    start = time.perf_counter()
    est.fit(F[train], y[train])
    fit_time = time.perf_counter() - start
    return est.predict(F[test]), fit_time


def run_study(
    X: Sequence,
    y: Iterable,
    *,
    features: Sequence[str] | dict[str, BaseEstimator] = ("mel", "mfcc"),
    classifiers: Sequence[str] | dict[str, BaseEstimator] = ("svm", "dnn"),
    cv: Any = None,
    groups: Any = None,
    embedder_params: dict[str, Any] | None = None,
    cache_dir: str | Path | None = None,
    n_jobs: int | None = None,
    random_state: int | None = 0,
    progress: Callable[[str], None] | None = None,
) -> StudyResult:
    """Cross-validate every (feature set, classifier) pair on one corpus.

    Each feature set is extracted once for all clips: the embedders are
    unsupervised, per-clip transforms whose ``fit`` learns nothing from the
    data, so this equals cross-validating the whole
    ``make_pipeline(embedder, classifier)`` while embedding each clip once
    instead of once per fold. The classifiers are fitted on the training
    folds only.

    Parameters
    ----------
    X : sequence of clips
        Waveforms or file paths (see :func:`sertools.audio.as_waveforms`).
    y : array-like of shape (n_clips,)
        Emotion labels.
    features : sequence of str or dict of str -> embedder, default=("mel", "mfcc")
        Names from :data:`FEATURE_SETS`, or ready embedders by name.
    classifiers : sequence of str or dict of str -> estimator, default=("svm", "dnn")
        Names from :data:`CLASSIFIERS`, or ready estimators by name.
    cv : int, splitter or None, default=None
        None: the paper's ``StratifiedKFold(5, shuffle=True, random_state)``.
    groups : array-like of shape (n_clips,) or None
        Groups for grouped splitters (speakers, sessions).
    embedder_params : dict or None
        Parameters for named embedders (e.g. ``sampling_rate``, ``device``,
        ``model_dir``); each embedder takes the keys it knows.
    cache_dir : str or Path or None
        Cache extracted features there (see :func:`extract_features`).
    n_jobs : int or None
        Folds fitted in parallel (joblib).
    random_state : int or None, default=0
        Seed of the default folds and of the DNN.
    progress : callable or None
        Called with a line of text at each step (the CLI prints them).

    Returns
    -------
    StudyResult
    """
    from joblib import Parallel, delayed

    y = np.asarray(y)
    if len(X) != len(y):
        raise ParameterError(f"X has {len(X)} clips but y has {len(y)} labels")
    say = progress or (lambda _msg: None)
    if cv is None:
        cv = StratifiedKFold(n_splits=5, shuffle=True, random_state=random_state)
    splitter = check_cv(cv, y, classifier=True)
    folds = list(splitter.split(np.zeros((len(y), 1)), y, groups))

    if isinstance(features, dict):
        embedders = dict(features)
    else:
        embedders = {n: make_embedder(n, **(embedder_params or {})) for n in features}
    if isinstance(classifiers, dict):
        models = dict(classifiers)
    else:
        models = {n: make_classifier(n, random_state=random_state) for n in classifiers}

    rows: list[dict[str, Any]] = []
    predictions: dict[tuple[str, str], np.ndarray] = {}
    extraction_time: dict[str, float] = {}
    for feat, embedder in embedders.items():
        say(f"[{feat}] extracting features from {len(y)} clips")
        start = time.perf_counter()
        F = extract_features(feat, embedder, X, cache_dir=cache_dir)
        extraction_time[feat] = time.perf_counter() - start
        say(f"[{feat}] {F.shape[1]} features in {extraction_time[feat]:.1f} s")
        for clf_name, clf in models.items():
            results = Parallel(n_jobs=n_jobs)(
                delayed(_fit_fold)(clf, F, y, train, test) for train, test in folds
            )
            oof = np.empty(len(y), dtype=y.dtype)
            for k, ((train, test), (pred, fit_time)) in enumerate(zip(folds, results, strict=True)):
                oof[test] = pred
                rows.append(
                    {
                        "feature": feat,
                        "classifier": clf_name,
                        "fold": k,
                        "uar": unweighted_average_recall(y[test], pred),
                        "war": weighted_average_recall(y[test], pred),
                        "fit_time": fit_time,
                        "n_train": len(train),
                        "n_test": len(test),
                    }
                )
            predictions[feat, clf_name] = oof
            last = pd.DataFrame(rows[-len(folds) :])
            say(
                f"[{feat} + {clf_name}] UAR {100 * last.uar.mean():.2f} ± "
                f"{100 * last.uar.std():.2f}  WAR {100 * last.war.mean():.2f} ± "
                f"{100 * last.war.std():.2f}"
            )
    return StudyResult(pd.DataFrame(rows), predictions, y, extraction_time)
