"""Cross-corpus cells: train on one corpus, test on another, on the labels they share.

The corpus loaders already harmonise emotion names (``angry``, ``happy``,
``neutral``, ``sad``, ...), so two corpora share the labels whose names are
equal. A cross-corpus cell keeps, in both corpora, only the clips of the
shared labels, fits the classifier on all of the training corpus and scores
every clip of the test corpus. Ask for them with
``run_study(corpora, cross_corpus=True)`` (or ``sertools study --cross-corpus``);
:func:`cross_matrix` arranges them as a train x test UAR matrix per feature set.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, clone

from .._exceptions import ParameterError
from ..metrics import unweighted_average_recall, weighted_average_recall
from ._store import CROSS_FIELDS

__all__ = ["cross_matrix", "run_cross", "shared_labels"]


def shared_labels(y_train: Any, y_test: Any) -> list:
    """Sorted labels present in both label arrays.

    Parameters
    ----------
    y_train, y_test : array-like of shape (n,)
        Labels of the training and of the test corpus.

    Returns
    -------
    list
        The labels found in both, sorted.

    Examples
    --------
    >>> shared_labels(["angry", "sad", "boredom"], ["sad", "angry", "surprise"])
    ['angry', 'sad']
    """
    return sorted(set(np.asarray(y_train).tolist()) & set(np.asarray(y_test).tolist()))


def run_cross(
    corpora: Mapping[str, Any],
    pairs: Sequence[tuple[str, str]],
    *,
    embedders: Sequence[str],
    estimators: Mapping[str, BaseEstimator],
    features_of: Callable[[str, str], tuple[np.ndarray, float]],
    errors: Mapping[str, str],
    store: Any,
    cell_digest: Callable[..., str],
    say: Callable[[str], None],
) -> tuple[list[dict], list[pd.DataFrame], list[dict]]:
    """Compute (or read back) every cross-corpus cell; used by :func:`run_study`.

    Parameters
    ----------
    corpora : mapping of str -> corpus
        The study's loaded corpora (``name``, ``y``, ``groups``).
    pairs : sequence of (str, str)
        (training corpus, test corpus) pairs.
    embedders : sequence of str
        Feature-set names.
    estimators : mapping of str -> estimator
        Classifiers by name.
    features_of : callable
        ``features_of(corpus, feature)`` -> (features, extraction seconds).
    errors : mapping of str -> str
        Feature sets that could not be prepared, with the reason.
    store : CellStore or None
        Where finished cells are read from and written to.
    cell_digest : callable
        ``cell_digest(train, test, feature, classifier, labels)`` -> digest.
    say : callable
        Receives progress lines.

    Returns
    -------
    rows : list of dict
        One per finished cell (feature, classifier, train, test, labels, uar,
        war, n_train, n_test, fit_time).
    predictions : list of DataFrame
        Test-corpus predictions of each finished cell.
    failures : list of dict
        Cells that could not be computed, with the reason.

    Examples
    --------
    :func:`run_study` calls it with ``cross_corpus=True``. Called directly, the
    corpora need ``name``, ``y`` and ``groups``, and ``features_of`` gives the
    feature matrix of a corpus:

    >>> from types import SimpleNamespace
    >>> import numpy as np
    >>> from sklearn.svm import SVC
    >>> from sertools.study.cross import run_cross
    >>> rng = np.random.default_rng(0)
    >>> y_a = np.repeat(["angry", "sad", "boredom"], 10)
    >>> y_b = np.repeat(["angry", "sad"], 10)
    >>> corpora = {"a": SimpleNamespace(name="a", y=y_a, groups=None),
    ...            "b": SimpleNamespace(name="b", y=y_b, groups=None)}
    >>> features = {name: rng.normal(size=(len(c.y), 4)) + 3.0 * (c.y == "angry")[:, None]
    ...             for name, c in corpora.items()}
    >>> rows, predictions, failures = run_cross(
    ...     corpora, [("a", "b")], embedders=["toy"], estimators={"svm": SVC()},
    ...     features_of=lambda corpus, feature: (features[corpus], 0.0), errors={},
    ...     store=None, cell_digest=lambda *key: "", say=print)
    [cross a->b/toy/svm] UAR 100.00
    >>> {k: rows[0][k] for k in ("train", "test", "labels", "n_train", "n_test")}
    {'train': 'a', 'test': 'b', 'labels': 'angry,sad', 'n_train': 20, 'n_test': 20}
    >>> predictions[0].shape, failures
    ((20, 8), [])
    """
    rows: list[dict] = []
    preds: list[pd.DataFrame] = []
    failures: list[dict] = []
    for a, b in pairs:
        labels = shared_labels(corpora[a].y, corpora[b].y)
        for fname in embedders:
            for cname, est in estimators.items():
                ident = {"feature": fname, "classifier": cname, "train": a, "test": b}
                fail = {
                    "corpus": f"{a}->{b}",
                    "protocol": "cross-corpus",
                    "feature": fname,
                    "classifier": cname,
                }
                if len(labels) < 2:
                    reason = (
                        f"corpora {a!r} and {b!r} share {len(labels)} label(s) "
                        f"({', '.join(map(str, labels)) or 'none'}); cross-corpus needs 2 or more"
                    )
                    failures.append({**fail, "reason": reason})
                    continue
                key = ("cross", a, b, fname, cname)
                digest = cell_digest(a, b, fname, cname, labels)
                rec = None if store is None else store.load(key, digest, fields=CROSS_FIELDS)
                if rec is None:
                    try:
                        if fname in errors:
                            raise ParameterError(errors[fname])
                        rec = _fit_cross(corpora[a], corpora[b], labels, fname, est, features_of)
                    except (KeyboardInterrupt, SystemExit):
                        raise
                    except Exception as exc:
                        reason = " ".join(str(exc).split()) or type(exc).__name__
                        failures.append({**fail, "reason": f"cross-corpus {a}->{b}: {reason}"})
                        continue
                    if store is not None:
                        store.save(key, digest, rec)
                    say(f"[cross {a}->{b}/{fname}/{cname}] UAR {100 * rec['row']['uar']:.2f}")
                rows.append({**ident, **rec["row"]})
                p = pd.DataFrame(rec["predictions"])
                for i, (k, v) in enumerate(ident.items()):
                    p.insert(i, k, v)
                preds.append(p)
    return rows, preds, failures


def _fit_cross(train, test, labels, fname, est, features_of) -> dict:
    Fa, _ = features_of(train.name, fname)
    Fb, _ = features_of(test.name, fname)
    ma = np.isin(train.y, labels)
    mb = np.isin(test.y, labels)
    model = clone(est)
    start = time.perf_counter()
    model.fit(Fa[ma], train.y[ma])
    fit_time = time.perf_counter() - start
    yhat = np.asarray(model.predict(Fb[mb]))
    y_true = test.y[mb]
    groups = test.groups if test.groups is not None else np.arange(len(test.y))
    return {
        "row": {
            "labels": ",".join(map(str, labels)),
            "uar": float(unweighted_average_recall(y_true, yhat)),
            "war": float(weighted_average_recall(y_true, yhat)),
            "n_train": int(ma.sum()),
            "n_test": int(mb.sum()),
            "fit_time": float(fit_time),
        },
        "predictions": {
            "index": np.flatnonzero(mb).tolist(),
            "group": [str(g) for g in groups[mb]],
            "y_true": [v.item() if isinstance(v, np.generic) else v for v in y_true],
            "y_pred": [v.item() if isinstance(v, np.generic) else v for v in yhat],
        },
    }


def cross_matrix(
    cross: pd.DataFrame,
    feature: str,
    classifier: str,
    *,
    within: pd.DataFrame | None = None,
    metric: str = "uar",
) -> pd.DataFrame:
    """Train x test matrix of one feature set and classifier, in percent.

    Parameters
    ----------
    cross : pandas.DataFrame
        :attr:`StudyResult.cross`.
    feature, classifier : str
        The cells to arrange.
    within : pandas.DataFrame, optional
        :meth:`StudyResult.summary` of the in-corpus study of one protocol
        (indexed by corpus); its mean UAR fills the diagonal.
    metric : {"uar", "war"}

    Returns
    -------
    pandas.DataFrame
        Rows: training corpus; columns: test corpus.

    Examples
    --------
    >>> import pandas as pd
    >>> from sertools.study import cross_matrix
    >>> cross = pd.DataFrame({"feature": "mfcc", "classifier": "svm",
    ...                       "train": ["emodb", "emovo"], "test": ["emovo", "emodb"],
    ...                       "uar": [0.412, 0.385]})
    >>> cross_matrix(cross, "mfcc", "svm")
    test   emodb  emovo
    train
    emodb    NaN   41.2
    emovo   38.5    NaN

    With the in-corpus summary (indexed by corpus), its mean UAR fills the diagonal:

    >>> within = pd.DataFrame({"uar_mean": [78.1, 45.6]}, index=["emodb", "emovo"])
    >>> cross_matrix(cross, "mfcc", "svm", within=within)
    test   emodb  emovo
    train
    emodb   78.1   41.2
    emovo   38.5   45.6
    """
    sel = cross[(cross.feature == feature) & (cross.classifier == classifier)]
    if sel.empty:
        raise ParameterError(f"no cross-corpus cells for {feature}/{classifier}")
    m = sel.pivot_table(index="train", columns="test", values=metric) * 100
    names = sorted(set(m.index) | set(m.columns))
    m = m.reindex(index=names, columns=names)
    if within is not None:
        for c in names:
            if c in within.index:
                m.loc[c, c] = within.loc[c, f"{metric}_mean"]
    m.index.name, m.columns.name = "train", "test"
    return m
