"""Statistics of a study: speaker bootstrap CIs, corrected resampled t-test, paired bootstrap."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from sertools import ParameterError
from sertools.datasets import make_synthetic_corpus
from sertools.metrics import unweighted_average_recall
from sertools.study import (
    cluster_bootstrap_uar,
    compare,
    corrected_resampled_ttest,
    paired_bootstrap_uar,
    run_study,
    significance_table,
)


def _speaker_correlated(seed: int = 0, n_spk: int = 8, per_spk: int = 60):
    """Predictions whose accuracy depends on the speaker (correlated within a speaker)."""
    rng = np.random.default_rng(seed)
    y, pred, grp = [], [], []
    for s in range(n_spk):
        acc = rng.uniform(0.2, 1.0)  # strong between-speaker spread
        t = rng.choice(["a", "b", "c"], per_spk)
        wrong = rng.choice(["a", "b", "c"], per_spk)
        p = np.where(rng.random(per_spk) < acc, t, wrong)
        y += list(t)
        pred += list(p)
        grp += [f"s{s}"] * per_spk
    return np.array(y), np.array(pred), np.array(grp)


def test_cluster_bootstrap_point_estimate_is_the_pooled_uar():
    y, p, g = _speaker_correlated()
    uar, lo, hi = cluster_bootstrap_uar(y, p, g, n_boot=500)
    assert uar == pytest.approx(unweighted_average_recall(y, p))
    assert lo < uar < hi


def test_speaker_bootstrap_is_wider_than_utterance_bootstrap():
    y, p, g = _speaker_correlated()
    _, lo_s, hi_s = cluster_bootstrap_uar(y, p, g, n_boot=1000)
    _, lo_u, hi_u = cluster_bootstrap_uar(y, p, np.arange(len(y)), n_boot=1000)
    # speakers differ strongly in accuracy, so resampling speakers must give a clearly
    # wider interval than resampling utterances (2.1x with this seed; asserted 1.5x)
    assert (hi_s - lo_s) > 1.5 * (hi_u - lo_u)


def test_cluster_bootstrap_resamples_whole_speakers():
    # two speakers: one always right, one always wrong -> resamples give 0, 0.5 or 1
    y = np.array(["a", "b"] * 10)
    p = y.copy()
    p[10:] = np.where(y[10:] == "a", "b", "a")
    g = np.array(["s1"] * 10 + ["s2"] * 10)
    uar, lo, hi = cluster_bootstrap_uar(y, p, g, n_boot=400, confidence=0.9)
    assert uar == 0.5
    assert (lo, hi) == (0.0, 1.0)
    # one speaker: no spread to estimate
    assert cluster_bootstrap_uar(y[:10], p[:10], g[:10]) == (1.0, 1.0, 1.0)


def test_unseen_predicted_label_counts_as_a_miss():
    y = np.array(["a", "a", "b", "b"])
    p = np.array(["a", "zzz", "b", "b"])
    uar, _, _ = cluster_bootstrap_uar(y, p, [1, 1, 2, 2])
    assert uar == pytest.approx(unweighted_average_recall(y, p)) == pytest.approx(0.75)


def test_corrected_ttest_matches_the_formula_and_reduces_to_the_paired_ttest():
    a = np.array([0.71, 0.69, 0.75, 0.70, 0.73])
    b = np.array([0.66, 0.68, 0.70, 0.64, 0.69])
    d = a - b
    t, p = corrected_resampled_ttest(a, b, n_train=400, n_test=100)
    t_ref = d.mean() / np.sqrt((1 / 5 + 100 / 400) * d.var(ddof=1))
    assert t == pytest.approx(t_ref)
    assert p == pytest.approx(2 * sps.t.sf(t_ref, 4))
    # without the correction term it is scipy's paired t-test; the correction is conservative
    t0, p0 = corrected_resampled_ttest(a, b, n_train=400, n_test=0)
    ref = sps.ttest_rel(a, b)
    assert (t0, p0) == pytest.approx((ref.statistic, ref.pvalue))
    assert p > p0
    assert corrected_resampled_ttest(a, a, n_train=4, n_test=1) == (0.0, 1.0)
    with pytest.raises(ParameterError, match="2 or more folds"):
        corrected_resampled_ttest([0.5], [0.4], n_train=4, n_test=1)
    with pytest.raises(ParameterError, match="equal length"):
        corrected_resampled_ttest([0.5, 0.6], [0.4], n_train=4, n_test=1)


def test_paired_bootstrap_of_the_uar_difference():
    y, p, g = _speaker_correlated(seed=1)
    same = paired_bootstrap_uar(y, p, p, g, n_boot=300)
    assert same == {"diff": 0.0, "low": 0.0, "high": 0.0, "p": 1.0}
    better = paired_bootstrap_uar(y, y, p, g, n_boot=300)  # perfect vs imperfect
    assert better["diff"] == pytest.approx(1 - unweighted_average_recall(y, p))
    assert 0 < better["low"] <= better["diff"] <= better["high"]
    # every resample favours the perfect predictions: the smallest p, 2 / (n_boot + 1)
    assert better["p"] == pytest.approx(2 / 301)
    worse = paired_bootstrap_uar(y, p, y, g, n_boot=300)
    assert worse["diff"] == pytest.approx(-better["diff"]) and worse["high"] < 0


@pytest.fixture(scope="module")
def result():
    corpus = make_synthetic_corpus(n_per_class=8, random_state=0)
    return run_study(
        {"synthetic": corpus},
        features=("mel", "mfcc"),
        classifiers=("svm", "svm-scaled"),
        protocols=("paper", "speaker"),
    )


def test_compare_two_cells(result):
    c = compare(result, "synthetic/paper/mfcc/svm", ("synthetic", "paper", "mel", "svm"))
    s = result.scores
    a = s[(s.protocol == "paper") & (s.feature == "mfcc") & (s.classifier == "svm")]
    b = s[(s.protocol == "paper") & (s.feature == "mel") & (s.classifier == "svm")]
    t, p = corrected_resampled_ttest(a.uar, b.uar, n_train=a.n_train, n_test=a.n_test)
    assert (c["t"], c["p_ttest"]) == pytest.approx((t, p))
    assert c["diff"] == pytest.approx(100 * (a.uar.mean() - b.uar.mean()))
    assert c["boot_low"] <= c["boot_diff"] <= c["boot_high"]
    with pytest.raises(ParameterError, match="different corpora or protocols"):
        compare(result, "synthetic/paper/mfcc/svm", "synthetic/speaker/mfcc/svm")
    with pytest.raises(ParameterError, match="no cell synthetic/paper/hubert/svm"):
        compare(result, "synthetic/paper/mfcc/svm", "synthetic/paper/hubert/svm")
    with pytest.raises(ParameterError, match="corpus/protocol/feature/classifier"):
        compare(result, "synthetic/mfcc/svm", "synthetic/paper/mel/svm")


def test_significance_table_holm(result):
    sig = significance_table(result, n_boot=200)
    # 4 cells per corpus and protocol: 3 comparisons against the best, in 2 protocols
    assert len(sig) == 6
    for _, block in sig.groupby("protocol"):
        raw = block.p_ttest.to_numpy()
        order = np.argsort(raw)
        holm = np.maximum.accumulate(np.minimum(1, (len(raw) - np.arange(len(raw))) * raw[order]))
        np.testing.assert_allclose(block.p_holm.to_numpy()[order], holm)
        assert (block.significant == (block.p_holm < 0.05)).all()
        assert (block["diff"] >= 0).all()  # the best is never beaten
    assert isinstance(sig, pd.DataFrame)


def test_summary_has_speaker_cis(result):
    s = result.summary(n_boot=200)
    assert {"uar_ci_low", "uar_ci_high"} <= set(s.columns)
    for key, row in s.iterrows():
        p = result.cell_predictions(*key)
        pooled = 100 * unweighted_average_recall(p.y_true, p.y_pred)
        assert row.uar_ci_low <= pooled <= row.uar_ci_high
