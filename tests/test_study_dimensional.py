"""Dimensional studies: speaker-level CCC intervals, cells, store, shared embeddings, reports."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.model_selection import LeaveOneGroupOut, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVR

from sertools import ParameterError, models
from sertools.datasets import make_synthetic_corpus
from sertools.features import MFCCEmbedder
from sertools.features._cache import EmbeddingCache
from sertools.metrics import ccc
from sertools.study import corrected_resampled_ttest, run_study
from sertools.study._cluster_stats import _ccc_from_sums, _moments
from sertools.study._document import md_escape
from sertools.study.dimensional import (
    cluster_bootstrap_ccc,
    dimensional_targets,
    make_regressor,
    plot_predictions,
    run_dimensional,
)


@pytest.fixture(scope="module")
def corpus():
    return make_synthetic_corpus(n_per_class=12, random_state=0)


# --- speaker-level bootstrap of the CCC -------------------------------------------


def test_moment_sums_give_the_ccc():
    rng = np.random.default_rng(0)
    for _ in range(20):
        t = rng.normal(3, 1, 80)
        p = 0.7 * t + rng.normal(1, 0.5, 80)
        sums, _ = _moments(t, p, rng.integers(0, 7, 80))
        assert abs(_ccc_from_sums(sums.sum(axis=0)) - ccc(t, p)) < 1e-12


def test_cluster_bootstrap_ccc_interval():
    rng = np.random.default_rng(1)
    speakers = np.repeat(np.arange(10), 20)
    # a speaker-level offset shared by all of a speaker's predictions: correlated errors
    t = rng.normal(3, 1, 200)
    p = t + rng.normal(0, 0.6, 10)[speakers] + rng.normal(0, 0.3, 200)
    value, low, high = cluster_bootstrap_ccc(t, p, speakers, n_boot=2000)
    assert value == ccc(t, p)
    assert low < value < high
    # resampling utterances (one group each) ignores the correlation: a narrower interval
    _, u_low, u_high = cluster_bootstrap_ccc(t, p, np.arange(200), n_boot=2000)
    assert (high - low) > 1.3 * (u_high - u_low)
    # one speaker: no interval to draw
    assert cluster_bootstrap_ccc(t, p, np.zeros(200)) == (value, value, value)
    # seeded
    assert cluster_bootstrap_ccc(t, p, speakers, random_state=3) == cluster_bootstrap_ccc(
        t, p, speakers, random_state=3
    )


def test_cluster_bootstrap_ccc_errors():
    with pytest.raises(ParameterError, match="non-finite value"):
        cluster_bootstrap_ccc([1.0, np.nan, 2.0], [1.0, 2.0, 3.0], [0, 1, 2])
    with pytest.raises(ParameterError, match=r"groups has shape \(2,\); expected \(3,\)"):
        cluster_bootstrap_ccc([1.0, 2.0, 3.0], [1.0, 2.0, 3.0], [0, 1])
    with pytest.raises(ParameterError, match="confidence must be in"):
        cluster_bootstrap_ccc([1.0, 2.0], [1.0, 2.0], [0, 1], confidence=1.5)
    with pytest.raises(ParameterError, match="n_boot must be an integer >= 1"):
        cluster_bootstrap_ccc([1.0, 2.0], [1.0, 2.0], [0, 1], n_boot=0)


# --- targets and regressors -------------------------------------------------------


def test_dimensional_targets(corpus):
    Y = dimensional_targets(corpus, ["valence", "arousal"])
    np.testing.assert_array_equal(Y, np.column_stack([corpus.valence, corpus.arousal]))
    with pytest.raises(ParameterError, match=r"unknown dimensional task.*'joy'"):
        dimensional_targets(corpus, ["joy"])
    with pytest.raises(ParameterError, match="synthetic has no 'dominance' field"):
        dimensional_targets({"corpus": "synthetic", "arousal": [1.0]}, ["dominance"])
    with pytest.raises(ParameterError, match="the arousal rating of clip 1 is nan"):
        dimensional_targets({"arousal": [1.0, np.nan]}, ["arousal"])


def test_make_regressor():
    svr = make_regressor("svr", C=3.0)
    assert [type(s).__name__ for s in svr.named_steps.values()] == ["StandardScaler", "SVR"]
    assert svr.named_steps["svr"].C == 3.0
    with pytest.raises(ParameterError, match="regressor 'svr' does not take 'Q'; valid"):
        make_regressor("svr", Q=1)
    with pytest.raises(
        ParameterError, match="unknown regressor 'svc'; expected one of svr, dnn-regressor"
    ):
        make_regressor("svc")
    with pytest.raises(ParameterError, match="unknown regressor 'svm'"):
        make_regressor("svm")  # a classifier of the catalogue, not a regressor
    if hasattr(models, "DNNRegressor"):  # helper "models"' DNNRegressor, once merged
        assert type(make_regressor("dnn-regressor", random_state=3)).__name__ == "DNNRegressor"
    else:
        with pytest.raises(ParameterError, match=r"needs sertools\.models\.DNNRegressor"):
            make_regressor("dnn-regressor")


# --- the study --------------------------------------------------------------------


def test_cells_equal_scikit_learn_cross_validation(corpus):
    result = run_dimensional({"syn": corpus}, tasks=["arousal", "valence"], n_boot=200)
    X = MFCCEmbedder(sampling_rate=corpus.sampling_rate).fit_transform(corpus.data)
    folds = list(LeaveOneGroupOut().split(X, groups=corpus.speaker))  # 6 speakers: LOSO
    for task in ("arousal", "valence"):
        y = corpus[task]
        pred = cross_val_predict(make_pipeline(StandardScaler(), SVR()), X, y, cv=folds)
        scores = result.scores[result.scores["task"] == task]
        assert scores["fold"].tolist() == list(range(6))
        expected = [ccc(y[te], pred[te]) for _, te in folds]
        np.testing.assert_allclose(scores["ccc"], expected, rtol=1e-6, atol=1e-9)
        preds = result.predictions[result.predictions["task"] == task].sort_values("clip")
        np.testing.assert_allclose(preds["y_pred"], pred, rtol=1e-6, atol=1e-9)
        np.testing.assert_array_equal(preds["y_true"], y)
        np.testing.assert_array_equal(preds["speaker"], corpus.speaker)


def test_synthetic_arousal_is_learned_with_a_speaker_level_ci():
    full = make_synthetic_corpus()  # the default corpus: 160 clips, 6 speakers
    result = run_dimensional({"synthetic": full}, tasks=["arousal"], n_boot=1000)
    row = result.summary().iloc[0]
    # measured: leave-one-speaker-out, pooled CCC 0.863 [0.796, 0.905], fold mean 0.820
    assert row["protocol"] == "speaker" and row["n_folds"] == 6
    assert row["ccc_low"] > 0.6 and row["ccc_low"] < row["ccc"] < row["ccc_high"]
    assert row["ccc"] == pytest.approx(
        ccc(result.predictions["y_true"], result.predictions["y_pred"])
    )


def test_store_reads_cells_back_and_changes_make_new_cells(corpus, tmp_path):
    lines: list[str] = []
    first = run_dimensional(
        {"syn": corpus}, tasks=["arousal"], store=tmp_path, progress=lines.append, n_boot=100
    )
    again = run_dimensional(
        {"syn": corpus}, tasks=["arousal"], store=tmp_path, progress=lines.append, n_boot=100
    )
    assert lines[0].startswith("syn / speaker / mfcc / svr / arousal: CCC ")
    assert lines[1] == "syn / speaker / mfcc / svr / arousal: read back"
    pd.testing.assert_frame_equal(
        first.scores.drop(columns="fit_time"), again.scores.drop(columns="fit_time")
    )
    pd.testing.assert_frame_equal(first.predictions, again.predictions)
    # another regressor parameter or other ratings: new cells, never the old result
    run_dimensional(
        {"syn": corpus},
        tasks=["arousal"],
        regressors={"svr": make_regressor("svr", C=10.0)},
        store=tmp_path,
        progress=lines.append,
        n_boot=100,
    )
    changed = corpus.copy()
    changed["arousal"] = corpus.arousal[::-1].copy()
    run_dimensional({"syn": changed}, tasks=["arousal"], store=tmp_path, progress=lines.append)
    assert "read back" not in lines[2] and "read back" not in lines[3]
    assert len(list(tmp_path.rglob("*.json"))) == 3


def test_categorical_and_dimensional_studies_share_the_embeddings(corpus, tmp_path):
    cache = tmp_path / "embeddings"
    run_study({"syn": corpus}, features=["mfcc"], classifiers=["svm"], cache_dir=cache)
    n = len(EmbeddingCache(cache))
    assert n == len(corpus.data)
    result = run_dimensional({"syn": corpus}, tasks=["arousal"], cache_dir=cache, n_boot=100)
    assert len(EmbeddingCache(cache)) == n  # every vector read back, none added
    assert result.summary()["ccc"].iloc[0] > 0.5


def test_compare_is_the_corrected_t_test_on_fold_cccs(corpus):
    result = run_dimensional(
        {"syn": corpus},
        tasks=["arousal"],
        regressors={"svr": make_regressor("svr"), "svr-c10": make_regressor("svr", C=10.0)},
        n_boot=100,
    )
    out = result.compare({"regressor": "svr"}, {"regressor": "svr-c10"})
    a = result.scores[result.scores["regressor"] == "svr"]
    b = result.scores[result.scores["regressor"] == "svr-c10"]
    t, p = corrected_resampled_ttest(a["ccc"], b["ccc"], n_train=a["n_train"], n_test=a["n_test"])
    assert (out["t"], out["p"]) == (t, p)
    assert out["ccc_a"] == a["ccc"].mean()
    with pytest.raises(ParameterError, match="matches 0 cells"):
        result.compare({"regressor": "dnn"}, {"regressor": "svr"})
    with pytest.raises(ParameterError, match="matches 2 cells"):
        result.compare({"task": "arousal"}, {"regressor": "svr"})


def test_protocols(corpus):
    result = run_dimensional(
        {"syn": corpus},
        tasks=["dominance"],
        protocols=["paper", "loso", "speaker-kfold"],
        n_splits=3,
        n_boot=100,
    )
    assert result.scores.groupby("protocol")["fold"].count().to_dict() == {
        "loso": 6,
        "paper": 3,
        "speaker-kfold": 3,
    }
    with pytest.raises(ParameterError, match="unknown protocol 'kfold'"):
        run_dimensional({"syn": corpus}, protocols=["kfold"])
    with pytest.raises(ParameterError, match="protocol 'predefined' needs a corpus with a split"):
        run_dimensional({"syn": corpus}, protocols=["predefined"])
    with pytest.raises(ParameterError, match="unknown dimensional task"):
        run_dimensional({"syn": corpus}, tasks=["happiness"])


def test_reports_and_scatter(corpus, tmp_path):
    result = run_dimensional({"../x": corpus}, tasks=["arousal", "valence"], n_boot=100)
    written = result.write_reports(tmp_path / "out")
    names = sorted(p.name for p in written)
    assert names == [
        "dimensional.md",
        "dimensional_scores.csv",
        "dimensional_summary.csv",
        "scatter_.._x_speaker_mfcc_svr_arousal.png",
        "scatter_.._x_speaker_mfcc_svr_valence.png",
    ]
    assert all(p.parent == tmp_path / "out" and p.stat().st_size > 0 for p in written)
    md = (tmp_path / "out" / "dimensional.md").read_text()
    summary = result.summary()
    row = summary[summary["task"] == "arousal"].iloc[0]
    # rendered from report blocks: Markdown's brackets escaped, shown as "CCC [low, high]"
    assert md_escape(f"{row['ccc']:.3f} [{row['ccc_low']:.3f}, {row['ccc_high']:.3f}]") in md
    table = result.table()
    assert list(table.columns) == ["arousal ../x", "valence ../x", "arousal mean", "valence mean"]
    fig = plot_predictions([1.0, 2.0, 3.0], [1.0, 2.5, 2.5], label="valence", title="t")
    assert fig.axes[0].get_ylabel() == "predicted valence"
    # means 2 and 2, variances 2/3 and 1/2, covariance 1/2: CCC = 1 / (2/3 + 1/2) = 0.857
    assert "CCC 0.857" in fig.axes[0].get_title()


def test_report_shows_names_as_written_like_the_categorical_report(corpus, tmp_path):
    # before: a private pipe-table writer escaped only "|": "*c*" turned italic, "<d>" a tag
    name = "a|b *c* <d>"
    result = run_dimensional({name: corpus}, tasks=["arousal"], n_boot=50)
    md = (result.write_reports(tmp_path)[-1]).read_text()
    assert md_escape(name) == r"a\|b \*c\* \<d\>"
    table = [line for line in md.splitlines() if line.startswith("| mfcc | svr |")]
    assert len(table) == 1 and table[0].count(" | ") == 3  # features, regressor, 2 columns
    assert f"| {md_escape(name)} | speaker | mfcc | svr | arousal |" in md  # the cells table
    assert "*c*" not in md.replace(r"\*", "") and "<d>" not in md
