"""The executor of a dimensional study: embed each corpus once, fit each cell's folds, store it.

The dimensional counterpart of :mod:`.execute`, with its parts: the features
come from :func:`.execute.extract_features` (the embedders' per-clip cache,
shared with categorical studies on the same clips) and a cell's folds are
fitted by :func:`.execute._fit_cell` (a DNN's folds trained together). A
finished cell is a JSON-able record in the :class:`~._store.CellStore`, read
back on a re-run.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from ..metrics import ccc, mae, pearson_r
from ._dim_plan import (
    CELL,
    _RatedCorpus,
    as_rated_corpus,
    cell_digest,
    dimensional_folds,
    embedder_for,
)
from ._store import CellStore
from .execute import _fit_cell, extract_features
from .plan import model_identity

#: what a finished dimensional cell's record holds: one value per fold or per prediction
_RECORD = ("n_train", "n_test", "ccc", "r", "mae", "fit_time", "clip", "fold", "y_pred")


def run_cell(F: np.ndarray, y: np.ndarray, folds: list, est: BaseEstimator) -> dict[str, Any]:
    """Fit and score one cell on its folds; a JSON-able record."""
    record: dict[str, list] = {k: [] for k in _RECORD}
    fitted = _fit_cell(est, F, y, folds)
    for j, ((train, test), (pred, fit_time)) in enumerate(zip(folds, fitted, strict=True)):
        pred = np.asarray(pred, dtype=np.float64).ravel()
        record["n_train"].append(len(train))
        record["n_test"].append(len(test))
        record["ccc"].append(float(ccc(y[test], pred)))
        record["r"].append(float(pearson_r(y[test], pred)))
        record["mae"].append(float(mae(y[test], pred)))
        record["fit_time"].append(fit_time)
        record["clip"] += np.asarray(test).tolist()
        record["fold"] += [j] * len(test)
        record["y_pred"] += pred.tolist()
    return record


def _score_rows(key: tuple[str, ...], record: Mapping[str, list]) -> list[dict[str, Any]]:
    """One row per fold of a cell's record."""
    coords = dict(zip(CELL, key, strict=True))
    return [
        {
            **coords,
            "fold": j,
            **{k: record[k][j] for k in ("n_train", "n_test", "ccc", "r", "mae", "fit_time")},
        }
        for j in range(len(record["n_test"]))
    ]


def _predictions(
    key: tuple[str, ...], record: Mapping[str, list], corpus: _RatedCorpus, task: str
) -> pd.DataFrame:
    """One row per out-of-fold prediction of a cell's record."""
    clip = np.asarray(record["clip"], dtype=int)
    speakers = corpus.groups[clip] if corpus.groups is not None else clip.astype(str)
    return pd.DataFrame(
        {
            **dict(zip(CELL, key, strict=True)),
            "fold": record["fold"],
            "clip": clip,
            "speaker": speakers,
            "y_true": corpus.Y[task][clip],
            "y_pred": np.asarray(record["y_pred"], dtype=np.float64),
        }
    )


def run_cells(
    corpora: Mapping[str, Any],
    *,
    tasks: Sequence[str],
    protocols: Sequence[str],
    embedders: Mapping[str, BaseEstimator],
    regressors: Mapping[str, BaseEstimator],
    n_splits: int,
    store: CellStore | None,
    cache_dir: str | os.PathLike[str] | None,
    random_state: int | None,
    say: Callable[[str], None],
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every (corpus, protocol, feature set, regressor, task) cell, read back or computed.

    Each feature set embeds a corpus at most once, and only when one of its
    cells is not in ``store``.

    Returns
    -------
    scores : pandas.DataFrame
        One row per fold (:attr:`DimensionalResult.scores`).
    predictions : pandas.DataFrame
        One row per out-of-fold prediction (:attr:`DimensionalResult.predictions`).
    """
    score_rows: list[dict[str, Any]] = []
    pred_rows: list[pd.DataFrame] = []
    for cname, value in corpora.items():
        corpus = as_rated_corpus(cname, value, tasks)
        feats: dict[str, np.ndarray] = {}
        models: dict[str, dict[str, Any]] = {}
        for protocol in protocols:
            folds = dimensional_folds(corpus, protocol, n_splits=n_splits, seed=random_state)
            for fname, embedder in embedders.items():
                emb = embedder_for(embedder, corpus)
                if fname not in models:  # loads the model once: its content keys the cells
                    models[fname] = model_identity(emb)
                for rname, est in regressors.items():
                    for task in tasks:
                        key = (cname, protocol, fname, rname, task)
                        digest = cell_digest(
                            corpus, task, folds, models[fname], rname, est, random_state
                        )
                        record = None if store is None else store.load(key, digest)
                        if record is None:
                            if fname not in feats:
                                feats[fname] = extract_features(
                                    fname, emb, corpus.X, cache_dir=cache_dir
                                )
                            record = run_cell(feats[fname], corpus.Y[task], folds, est)
                            if store is not None:
                                store.save(key, digest, record)
                            say(f"{' / '.join(key)}: CCC {np.mean(record['ccc']):.3f}")
                        else:
                            say(f"{' / '.join(key)}: read back")
                        score_rows += _score_rows(key, record)
                        pred_rows.append(_predictions(key, record, corpus, task))
    return pd.DataFrame(score_rows), pd.concat(pred_rows, ignore_index=True)
