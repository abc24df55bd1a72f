"""The study fits cells and folds in parallel, and a DNN's folds together (issue 24)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.svm import SVC

from sertools.datasets import make_synthetic_corpus
from sertools.models import DNNClassifier
from sertools.study import execute as execute_module
from sertools.study import extract_features, make_embedder, run_study

FAST_DNN = {"max_epochs": 8}


@pytest.fixture(scope="module")
def corpus():
    return make_synthetic_corpus(n_per_class=10, random_state=0)


def _run(corpus, **kwargs):
    return run_study(
        {"syn": corpus},
        features=["mfcc"],
        classifiers=["svm", "dnn"],
        protocols=["paper", "speaker"],
        classifier_params={"dnn": FAST_DNN},
        **kwargs,
    )


def test_two_workers_give_the_results_of_one(corpus):
    one = _run(corpus, n_jobs=1)
    two = _run(corpus, n_jobs=2)
    assert one.ok and two.ok
    cols = ["corpus", "protocol", "feature", "classifier", "repeat", "fold", "uar", "war"]
    pd.testing.assert_frame_equal(one.scores[cols], two.scores[cols])
    pd.testing.assert_frame_equal(one.predictions, two.predictions)
    assert set(one.scores.classifier) == {"svm", "dnn"}


def test_the_dnns_folds_train_together_as_each_fold_alone(corpus, monkeypatch):
    stacks = []
    real = execute_module._fit_cell

    def spy(clf, F, y, splits):
        stacks.append((type(clf).__name__, execute_module._fits_together(clf), len(splits)))
        return real(clf, F, y, splits)

    monkeypatch.setattr(execute_module, "_fit_cell", spy)
    result = run_study(
        {"syn": corpus}, features=["mfcc"], classifiers=["dnn"], classifier_params={"dnn": FAST_DNN}
    )
    assert stacks == [("DNNClassifier", True, 5)]
    # every fold's predictions are those of the DNN fitted on that fold alone
    F = extract_features("mfcc", make_embedder("mfcc", sampling_rate=corpus.sampling_rate),
                         corpus.data)  # fmt: skip
    y = np.asarray(corpus.target)
    pred = result.predictions
    same = []
    for _, rows in pred.groupby("fold"):
        test = rows["index"].to_numpy()
        train = np.setdiff1d(np.arange(len(y)), test)
        alone = clone(DNNClassifier(random_state=0, **FAST_DNN)).fit(F[train], y[train])
        same.append(np.mean(alone.predict(F[test]) == rows["y_pred"].to_numpy()))
    assert np.mean(same) >= 0.99


def test_a_failing_cell_fails_alone_in_parallel(corpus):
    result = run_study(
        {"syn": corpus},
        features=["mfcc"],
        classifiers={"bad": SVC(C=-1.0), "svm": SVC(C=10, gamma=1e-3)},
        n_jobs=2,
    )
    assert list(result.failures.classifier) == ["bad"]
    assert "C" in result.failures.reason.iloc[0]
    assert set(result.scores.classifier) == {"svm"}


def test_dimensional_study_trains_the_dnn_regressors_folds_together(corpus):
    from sertools.models import DNNRegressor
    from sertools.study.dimensional import run_dimensional

    reg = DNNRegressor(random_state=0, max_epochs=30)
    result = run_dimensional(
        {"syn": corpus}, tasks=["arousal"], regressors={"dnn": reg}, protocols=["paper"], n_boot=50
    )
    assert result.summary()["ccc"].iloc[0] > 0.3  # the synthetic arousal is learnable
    F = extract_features("mfcc", make_embedder("mfcc", sampling_rate=corpus.sampling_rate),
                         corpus.data)  # fmt: skip
    y = np.asarray(corpus.arousal, dtype=np.float64)
    pred = result.predictions
    for _, rows in pred.groupby("fold"):
        test = rows["clip"].to_numpy()
        train = np.setdiff1d(np.arange(len(y)), test)
        alone = clone(reg).fit(F[train], y[train])
        np.testing.assert_allclose(rows["y_pred"], alone.predict(F[test]), rtol=0, atol=1e-4)
