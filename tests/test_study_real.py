"""A study over the real EMOVO and the EMODB subset ($SERTOOLS_TEST_DATA), resumed.

Kept affordable for CI: mel/mfcc x svm/dnn under both protocols with the DNN
trained for 10 epochs instead of its default 100 (``classifier_params``), and
500 bootstrap resamples.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sertools.study import execute as run_module
from sertools.study import run_study, write_reports

pytestmark = pytest.mark.realdata

DNN_EPOCHS = 10  # CI budget; the full study (docs/study.md) uses the default 100


def _study(emovo_root: Path, emodb_root: Path, store: Path):
    return run_study(
        {"emovo": emovo_root, "emodb": emodb_root},
        features=("mel", "mfcc"),
        classifiers=("svm", "dnn"),
        protocols=("paper", "speaker"),
        classifier_params={"dnn": {"max_epochs": DNN_EPOCHS}},
        store=store,
    )


@pytest.mark.slow
def test_real_study_reports_and_resume(emovo_root, emodb_root, tmp_path, monkeypatch):
    # count classifier fits (one per fold: the SVM's one by one, the DNN's folds trained
    # together by sertools.models.fit_folds) and corpus embeddings, calling through
    import sertools.models

    calls = {"fit": 0, "embed": 0}
    fit_fold, extract = run_module._fit_fold, run_module.extract_features
    fit_folds = sertools.models.fit_folds

    def counting_fit(*args, **kwargs):
        calls["fit"] += 1
        return fit_fold(*args, **kwargs)

    def counting_fit_folds(estimator, X, y, folds, **kwargs):
        calls["fit"] += len(folds)
        return fit_folds(estimator, X, y, folds, **kwargs)

    def counting_extract(*args, **kwargs):
        calls["embed"] += 1
        return extract(*args, **kwargs)

    monkeypatch.setattr(run_module, "_fit_fold", counting_fit)
    monkeypatch.setattr(sertools.models, "fit_folds", counting_fit_folds)
    monkeypatch.setattr(run_module, "extract_features", counting_extract)
    result = _study(emovo_root, emodb_root, tmp_path / "cells")
    assert result.ok, result.failures
    n_folds = (5 + 6) + (5 + 10)  # (paper + speaker) on EMOVO, then on EMODB
    assert calls == {"fit": n_folds * 2 * 2, "embed": 2 * 2}
    s = result.summary(n_boot=500)
    assert len(s) == 2 * 2 * 2 * 2
    # folds: paper 5-fold; speaker leave-one-speaker-out (EMOVO 6 speakers, EMODB subset 10)
    folds = s.n_folds.unstack("protocol").groupby(level="corpus").first()
    assert folds.loc["emovo", "paper"] == 5 and folds.loc["emovo", "speaker"] == 6
    assert folds.loc["emodb", "paper"] == 5 and folds.loc["emodb", "speaker"] == 10
    # MFCC + SVM is far above chance (EMOVO 7 classes: 14 %, EMODB subset 4 classes: 25 %);
    # the paper reports 66.98 (EMOVO) and 67.94 (EMODB, 7 classes)
    assert s.loc[("emovo", "paper", "mfcc", "svm"), "uar_mean"] > 50
    assert s.loc[("emodb", "paper", "mfcc", "svm"), "uar_mean"] > 50
    # unseen speakers are harder than seen ones for the paper's pipeline on EMOVO
    assert (
        s.loc[("emovo", "speaker", "mfcc", "svm"), "uar_mean"]
        < s.loc[("emovo", "paper", "mfcc", "svm"), "uar_mean"]
    )
    assert (s.uar_ci_low < s.uar_ci_high).all()
    # every clip has exactly one out-of-fold prediction per cell
    counts = result.predictions.groupby(["corpus", "protocol", "feature", "classifier"]).size()
    assert set(counts.loc["emovo"]) == {588} and set(counts.loc["emodb"]) == {339}

    out = tmp_path / "reports"
    paths = write_reports(result, out, title="EMOVO + EMODB", n_boot=500)
    for key in (
        "table2_paper_md",
        "table2_paper_tex",
        "table2_paper_csv",
        "table2_speaker_md",
        "report_html",
        "report_md",
        "summary",
        "significance",
        "paper_comparison",
    ):
        assert paths[key].stat().st_size > 0, key
    md = paths["report_md"].read_text()
    assert "corrected resampled t-test" in md and "95 % CI" in md
    assert "| mfcc | svm |" in paths["table2_paper_md"].read_text()
    assert r"\textbf{" in paths["table2_paper_tex"].read_text()
    html = paths["report_html"].read_text()
    assert html.count("data:image/png;base64,") >= 6 and "src='http" not in html
    summary = pd.read_csv(paths["summary"])
    assert {"uar_ci_low", "uar_ci_high"} <= set(summary.columns)
    sig = pd.read_csv(paths["significance"])
    assert len(sig) == 2 * 2 * 3  # per corpus and protocol, 3 cells against the best
    comp = pd.read_csv(paths["paper_comparison"])
    row = comp[(comp.corpus == "emovo") & (comp.feature == "mfcc") & (comp.classifier == "svm")]
    assert row.uar_paper.item() == 66.98
    assert row.uar_diff.item() == pytest.approx(row.uar.item() - 66.98, abs=0.006)  # 2 decimals

    # resumed: no fit, no embedding
    calls.update(fit=0, embed=0)
    again = _study(emovo_root, emodb_root, tmp_path / "cells")
    assert calls == {"fit": 0, "embed": 0}
    pd.testing.assert_frame_equal(again.scores, result.scores)
    np.testing.assert_array_equal(again.predictions.y_pred, result.predictions.y_pred)
