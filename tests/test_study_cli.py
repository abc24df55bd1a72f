"""The study runner and the command line (on the synthetic corpus)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.model_selection import StratifiedKFold, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.svm import SVC

from sertools import SCORING, MFCCEmbedder, ParameterError
from sertools.cli import main
from sertools.datasets import make_synthetic_corpus
from sertools.study import make_embedder, run_study


@pytest.fixture(scope="module")
def corpus():
    return make_synthetic_corpus(n_per_class=10, random_state=0)


def test_run_study_equals_pipeline_cross_validation(corpus, tmp_path: Path):
    cv = StratifiedKFold(5, shuffle=True, random_state=0)
    result = run_study(
        corpus.data,
        corpus.target,
        features=("mfcc",),
        classifiers=("svm",),
        cv=cv,
        embedder_params={"sampling_rate": corpus.sampling_rate},
        cache_dir=tmp_path / "cache",
    )
    pipe = make_pipeline(MFCCEmbedder(sampling_rate=corpus.sampling_rate), SVC(C=10, gamma=1e-3))
    X = np.empty(len(corpus.data), dtype=object)
    X[:] = corpus.data
    ref = cross_validate(pipe, X, corpus.target, cv=cv, scoring=SCORING)
    np.testing.assert_allclose(result.scores.uar, ref["test_uar"])
    np.testing.assert_allclose(result.scores.war, ref["test_war"])
    summary = result.summary()
    assert summary.loc[("mfcc", "svm"), "uar_mean"] == pytest.approx(100 * ref["test_uar"].mean())
    # features were cached once; a second run reads them back
    assert len(list((tmp_path / "cache").glob("mfcc-*.npy"))) == 1
    again = run_study(
        corpus.data,
        corpus.target,
        features=("mfcc",),
        classifiers=("svm",),
        cv=cv,
        embedder_params={"sampling_rate": corpus.sampling_rate},
        cache_dir=tmp_path / "cache",
    )
    pd.testing.assert_frame_equal(
        again.scores.drop(columns="fit_time"), result.scores.drop(columns="fit_time")
    )
    paths = result.save(tmp_path / "out", title="synthetic")
    assert all(p.is_file() and p.stat().st_size > 0 for p in paths.values())
    assert "| mfcc | svm |" in paths["table"].read_text()


def test_unknown_names_and_mismatched_lengths(corpus):
    with pytest.raises(ParameterError, match="unknown feature set 'mfccs'"):
        make_embedder("mfccs")
    with pytest.raises(ParameterError, match="unknown classifier 'rf'"):
        run_study(
            corpus.data,
            corpus.target,
            features=("mfcc",),
            classifiers=("rf",),
            embedder_params={"sampling_rate": 16000},
        )
    with pytest.raises(ParameterError, match="clips but y has"):
        run_study(corpus.data, corpus.target[:-1])


def test_make_embedder_filters_params():
    emb = make_embedder("mel", sampling_rate=8000, device="cuda", model_dir="/x")
    assert emb.sampling_rate == 8000


def test_cli_demo_writes_tables_and_plots(tmp_path: Path, capsys):
    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out), "--classifiers", "svm", "--n-per-class", "8"]) == 0
    printed = capsys.readouterr().out
    assert "| mel | svm |" in printed and "| mfcc | svm |" in printed
    for name in ("scores.csv", "summary.csv", "summary.md", "confusion_best.png", "uar.png"):
        assert (out / name).stat().st_size > 0
    scores = pd.read_csv(out / "scores.csv")
    assert len(scores) == 10 and scores.uar.between(0, 1).all()


def test_cli_study_missing_corpus_is_a_clear_error(tmp_path: Path, capsys):
    code = main(["study", "--corpus", "emovo", "--root", str(tmp_path / "nope")])
    assert code == 2
    assert "nope" in capsys.readouterr().err


@pytest.mark.realdata
def test_cli_study_on_real_emodb(emodb_root: Path, tmp_path: Path, capsys):
    out = tmp_path / "emodb"
    code = main(
        [
            "study",
            "--corpus",
            "emodb",
            "--root",
            str(emodb_root),
            "--features",
            "mfcc",
            "--classifiers",
            "svm",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    summary = pd.read_csv(out / "summary.csv")
    assert summary.uar_mean.iloc[0] > 50  # 4 classes, chance 25 %
    assert list((out / "features").glob("mfcc-*.npy"))


def test_python_m_sertools_help():
    res = subprocess.run(
        [sys.executable, "-m", "sertools", "--help"], capture_output=True, text=True, check=True
    )
    assert "demo" in res.stdout and "study" in res.stdout


def test_import_is_lazy_and_fast():
    code = (
        "import sys, time; t = time.perf_counter(); import sertools; "
        "import sertools.features, sertools.datasets, sertools.metrics; "
        "dt = time.perf_counter() - t; "
        "bad = [m for m in ('nemo', 's3prl', 'torchaudio') if m in sys.modules]; "
        "print(dt, bad)"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    seconds, bad = res.stdout.split(maxsplit=1)
    assert bad.strip() == "[]"
    assert float(seconds) < 10  # generous bound for a loaded CI box; typically well under 2 s
