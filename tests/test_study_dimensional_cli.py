"""``run_study(..., task=...)`` and ``sertools study --task``: the dimensional entry points."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from _fake_dimensional import write_msp_podcast

from sertools import ParameterError
from sertools.cli import main
from sertools.datasets import make_synthetic_corpus
from sertools.study import DimensionalResult, StudyResult, run_dimensional, run_study
from sertools.study.catalogue import CLASSIFIERS, ESTIMATORS, REGRESSORS


@pytest.fixture(scope="module")
def corpus():
    return make_synthetic_corpus(n_per_class=8, random_state=1)


def test_regressors_are_catalogue_entries():
    assert list(REGRESSORS) == ["svr", "dnn-regressor"]
    assert all(ESTIMATORS[name].task == "regression" for name in REGRESSORS)
    assert not set(REGRESSORS) & set(CLASSIFIERS)


def test_run_study_with_a_dimensional_task_is_the_dimensional_study(corpus, tmp_path):
    result = run_study(
        {"syn": corpus},
        task="arousal",
        features=["mfcc"],
        protocols=["speaker"],
        store=tmp_path / "cells",
        n_boot=100,
    )
    assert isinstance(result, DimensionalResult)
    direct = run_dimensional({"syn": corpus}, tasks=["arousal"], n_boot=100)
    np.testing.assert_allclose(result.scores["ccc"], direct.scores["ccc"], rtol=1e-12)
    assert len(list((tmp_path / "cells").rglob("*.json"))) == 1
    # several tasks; the default protocol is the paper's (shuffled, seeded k-fold)
    both = run_study({"syn": corpus}, task=["arousal", "valence"], features=["mfcc"], n_boot=100)
    assert both.summary()[["protocol", "task"]].values.tolist() == [
        ["paper", "arousal"],
        ["paper", "valence"],
    ]
    assert isinstance(
        run_study({"syn": corpus}, features=["mfcc"], classifiers=["svm-scaled"]), StudyResult
    )
    with pytest.raises(ParameterError, match=r"unknown task.*'happiness'"):
        run_study({"syn": corpus}, task=["arousal", "happiness"])
    with pytest.raises(ParameterError, match="needs corpora by name"):
        run_study(corpus.data, corpus.arousal, task="arousal")


MSP_ROWS = [
    (
        f"MSP-PODCAST_{spk:04d}_{i:04d}.wav",
        "HANS"[i % 4],
        f"{2 + (i % 4):.1f}",
        "4",
        "4",
        str(spk),
        "Female",
        "Train",
    )
    for spk in range(1, 5)
    for i in range(4)
]


def test_cli_task_on_msp_podcast_and_argument_checks(tmp_path: Path, capsys):
    root = write_msp_podcast(tmp_path / "msp", MSP_ROWS)
    out = tmp_path / "out"
    argv = [
        "study",
        "--corpus",
        f"msp_podcast={root}",
        "--features",
        "mfcc",
        "--protocol",
        "loso",
        "--n-boot",
        "50",
        "--quiet",
        "--out",
        str(out),
    ]
    assert main([*argv, "--task", "arousal", "valence"]) == 0
    printed = capsys.readouterr().out
    assert "CCC [speaker-level 95 % CI], protocol loso:" in printed
    assert "arousal msp_podcast" in printed and "valence msp_podcast" in printed
    assert (out / "dimensional" / "dimensional.md").is_file()
    assert sorted(p.name for p in (out / "dimensional").glob("scatter_*.png")) == [
        "scatter_msp_podcast_loso_mfcc_svr_arousal.png",
        "scatter_msp_podcast_loso_mfcc_svr_valence.png",
    ]
    assert len(list((out / "cells-dimensional").rglob("*.json"))) == 2
    # comma-separated like the other list options; a re-run reads the cells back
    assert main([*argv, "--task", "arousal,valence"]) == 0
    assert len(list((out / "cells-dimensional").rglob("*.json"))) == 2
    # bad values stop before any work, with exit status 2
    assert main([*argv, "--task", "joy"]) == 2
    assert "unknown task(s) joy" in capsys.readouterr().err
    assert main([*argv, "--task", "arousal", "--regressors", "svm"]) == 2
    assert "unknown regressor(s) svm" in capsys.readouterr().err
    emodb_argv = ["study", "--corpus", f"emodb={tmp_path}", "--task", "arousal", "--out", str(out)]
    assert main(emodb_argv) == 2
    assert "emodb has no dimensional ratings" in capsys.readouterr().err
