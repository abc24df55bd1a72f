"""The study runner and the command line (on the synthetic corpus)."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.model_selection import (
    RepeatedStratifiedKFold,
    ShuffleSplit,
    StratifiedKFold,
    cross_validate,
)
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from sertools import SCORING, MFCCEmbedder, ParameterError
from sertools.cli import main
from sertools.datasets import load_corpus, make_synthetic_corpus
from sertools.study import (
    CLASSIFIERS,
    FEATURE_SETS,
    PROTOCOLS,
    StudyResult,
    layerwise_scores,
    make_classifier,
    make_embedder,
    model_param,
    run_study,
)
from sertools.study import catalogue as run_module


@pytest.fixture(scope="module")
def corpus():
    return make_synthetic_corpus(n_per_class=10, random_state=0)


@pytest.fixture(scope="module")
def small():
    return make_synthetic_corpus(n_per_class=6, random_state=1)


def _X(corpus):
    X = np.empty(len(corpus.data), dtype=object)
    X[:] = corpus.data
    return X


class CountingSVC(SVC):
    """SVC that counts its fits (class-wide; the study clones it per fold)."""

    fits = 0

    def fit(self, X, y, sample_weight=None):
        type(self).fits += 1
        return super().fit(X, y, sample_weight=sample_weight)


class CountingMFCC(MFCCEmbedder):
    """MFCC embedder that counts the clips it embeds."""

    clips = 0

    def transform(self, X):
        type(self).clips += len(X)
        return super().transform(X)


class InterruptingSVC(SVC):
    """An SVC whose fit is interrupted (as by Ctrl-C) when ``C`` is 0.5."""

    def fit(self, X, y, sample_weight=None):
        if self.C == 0.5:
            raise KeyboardInterrupt
        return super().fit(X, y, sample_weight=sample_weight)


# --------------------------------------------------------------------------- run_study
def test_run_study_equals_pipeline_cross_validation(corpus, tmp_path: Path):
    cv = StratifiedKFold(5, shuffle=True, random_state=0)
    result = run_study(
        corpus.data,
        corpus.target,
        features=("mfcc",),
        classifiers=("svm", "svm-scaled"),
        cv=cv,
        embedder_params={"sampling_rate": corpus.sampling_rate},
        cache_dir=tmp_path / "cache",
    )
    X = _X(corpus)
    emb = MFCCEmbedder(sampling_rate=corpus.sampling_rate)
    pipes = {
        "svm": make_pipeline(emb, SVC(C=10, gamma=1e-3)),
        "svm-scaled": make_pipeline(emb, StandardScaler(), SVC(C=10, gamma="scale")),
    }
    for name, pipe in pipes.items():
        ref = cross_validate(pipe, X, corpus.target, cv=cv, scoring=SCORING)
        rows = result.scores[result.scores.classifier == name]
        np.testing.assert_allclose(rows.uar, ref["test_uar"])
        np.testing.assert_allclose(rows.war, ref["test_war"])
        summary = result.summary(ci=False)
        key = ("corpus", "cv", "mfcc", name)
        assert summary.loc[key, "uar_mean"] == pytest.approx(100 * ref["test_uar"].mean())


def test_paper_protocol_is_stratified_shuffled_seeded_5_fold(corpus):
    result = run_study(
        {"synthetic": corpus}, features=("mfcc",), classifiers=("svm",), random_state=3
    )
    ref = StratifiedKFold(5, shuffle=True, random_state=3).split(corpus.target, corpus.target)
    p = result.predictions
    for k, (_, test) in enumerate(ref):
        assert sorted(p[p.fold == k]["index"]) == sorted(test.tolist())
    assert set(p.protocol) == {"paper"}


def test_speaker_protocol_keeps_speakers_apart(corpus):
    result = run_study(
        {"synthetic": corpus}, features=("mfcc",), classifiers=("svm",), protocols=("speaker",)
    )
    p = result.predictions
    speakers = np.unique(corpus.speaker)
    # leave-one-speaker-out: one fold per speaker, each testing exactly that speaker
    assert result.scores.fold.nunique() == len(speakers)
    for _, block in p.groupby("fold"):
        assert block.group.nunique() == 1
    assert sorted(p.group.unique()) == sorted(speakers.tolist())


def test_oof_predictions_are_exactly_those_made(corpus):
    # #10: with ShuffleSplit never-tested clips used to count as predictions (np.empty)
    cv = ShuffleSplit(n_splits=2, test_size=0.2, random_state=0)
    result = run_study(
        corpus.data,
        corpus.target,
        features=("mfcc",),
        classifiers=("svm",),
        cv=cv,
        embedder_params={"sampling_rate": corpus.sampling_rate},
    )
    p = result.predictions
    splits = list(cv.split(corpus.target))
    assert len(p) == sum(len(te) for _, te in splits)
    for k, (_, test) in enumerate(splits):
        assert sorted(p[p.fold == k]["index"]) == sorted(test.tolist())
    tested = np.unique(np.concatenate([te for _, te in splits]))
    assert set(p["index"]) == set(tested.tolist()) and len(tested) < len(corpus.target)
    np.testing.assert_array_equal(p.y_true, corpus.target[p["index"].to_numpy()])
    cm = result.confusion_matrix("corpus", "cv", "mfcc", "svm")
    assert cm.to_numpy().sum() == len(p)  # untested clips are not in the matrix


def test_oof_predictions_are_kept_per_repeat(corpus):
    # #10: with repeated CV later repeats used to overwrite earlier ones
    cv = RepeatedStratifiedKFold(n_splits=3, n_repeats=2, random_state=0)
    result = run_study(
        corpus.data,
        corpus.target,
        features=("mfcc",),
        classifiers=("svm",),
        cv=cv,
        embedder_params={"sampling_rate": corpus.sampling_rate},
    )
    p = result.predictions
    n = len(corpus.target)
    assert len(p) == 2 * n
    assert sorted(p.repeat.unique()) == [0, 1]
    for rep in (0, 1):
        assert sorted(p[p.repeat == rep]["index"]) == list(range(n))
    assert list(result.scores.repeat) == [0, 0, 0, 1, 1, 1]
    # each prediction is the one of its fold's model
    F = MFCCEmbedder(sampling_rate=corpus.sampling_rate).fit_transform(corpus.data)
    for k, (train, test) in enumerate(cv.split(F, corpus.target)):
        pred = SVC(C=10, gamma=1e-3).fit(F[train], corpus.target[train]).predict(F[test])
        got = p[p.fold == k].set_index("index").loc[test, "y_pred"].to_numpy()
        np.testing.assert_array_equal(got, pred)


def test_std_is_the_sample_std_everywhere(corpus):
    # #10: "± std" used ddof=1 in _run.py and ddof=0 in layers.py
    result = run_study(
        corpus.data,
        corpus.target,
        features=("mfcc",),
        classifiers=("svm",),
        embedder_params={"sampling_rate": corpus.sampling_rate},
    )
    folds = result.scores.uar.to_numpy()
    s = result.summary(ci=False)
    assert s.uar_std.iloc[0] == pytest.approx(100 * np.std(folds, ddof=1))
    F = MFCCEmbedder(sampling_rate=corpus.sampling_rate).fit_transform(corpus.data)
    cv = StratifiedKFold(3, shuffle=True, random_state=0)
    curve = layerwise_scores(F, corpus.target, n_layers=3, cv=cv)
    ref = cross_validate(SVC(C=10, gamma=1e-3), F[:, :13], corpus.target, cv=cv, scoring=SCORING)
    assert curve.loc[0, "uar_std"] == pytest.approx(np.std(ref["test_uar"], ddof=1))


def test_unknown_names_and_mismatched_lengths(corpus):
    with pytest.raises(ParameterError, match="unknown feature set 'mfccs'"):
        make_embedder("mfccs")
    with pytest.raises(ParameterError, match=r"unknown classifier 'rf'.*svm-scaled"):
        run_study(corpus.data, corpus.target, features=("mfcc",), classifiers=("rf",))
    with pytest.raises(ParameterError, match=r"unknown protocol 'lopo'.*speaker"):
        run_study({"s": corpus}, features=("mfcc",), classifiers=("svm",), protocols=("lopo",))
    with pytest.raises(ParameterError, match="clips but y has"):
        run_study(corpus.data, corpus.target[:-1])
    with pytest.raises(ParameterError, match=r"unknown corpus 'emovoo'.*emovo"):
        run_study({"emovoo": "/data/emovo"}, features=("mfcc",))
    with pytest.raises(ParameterError, match="no feature sets given"):
        run_study(corpus.data, corpus.target, features=())
    with pytest.raises(ParameterError, match=r"'dnn'.*'max_epoch'.*max_epochs"):
        make_classifier("dnn", max_epoch=3)


def test_make_embedder_rejects_unknown_keys():
    # #10: make_embedder("mfcc", n_mfccs=20, devcie="cuda") returned a default MFCC embedder
    with pytest.raises(ParameterError, match=r"'devcie'.*valid parameters:.*n_mfcc"):
        make_embedder("mfcc", n_mfcc=20, devcie="cuda")
    assert make_embedder("mfcc", n_mfcc=20).n_mfcc == 20


def test_embedder_params_are_routed_and_unknown_ones_rejected(corpus):
    routed = run_module._route_params(["mel", "titanet"], {"device": "cpu", "n_mels": 40})
    assert routed == {"mel": {"n_mels": 40}, "titanet": {"device": "cpu"}}
    with pytest.raises(ParameterError, match="'devcie' not accepted by any of the feature sets"):
        run_study(
            corpus.data, corpus.target, features=("mel", "mfcc"), embedder_params={"devcie": 1}
        )
    with pytest.raises(ParameterError, match=r"'device'.*mel, mfcc"):
        run_study(
            corpus.data, corpus.target, features=("mel", "mfcc"), embedder_params={"device": "cpu"}
        )


def test_models_map_to_each_backends_parameter(tmp_path: Path, corpus):
    assert model_param("titanet") == "model" and model_param("ecapa") == "model"
    assert model_param("hubert") == "checkpoint" and model_param("decoar") == "checkpoint"
    assert model_param("mfcc") is None
    with pytest.raises(ParameterError, match="'mfcc' has no pretrained model"):
        run_study({"s": corpus}, features=("mfcc",), models={"mfcc": "x"})
    with pytest.raises(ParameterError, match=r"'hubert'.*not among the selected"):
        run_study({"s": corpus}, features=("mfcc",), models={"hubert": "x.pt"})


def test_missing_checkpoint_fails_before_any_extraction(tmp_path: Path, corpus):
    # #10: a missing checkpoint was found only when its feature set was reached
    CountingMFCC.clips = 0
    missing = tmp_path / "nowhere" / "titanet_large.nemo"
    with pytest.raises(ParameterError, match=r"titanet.*nowhere"):
        run_study(
            {"synthetic": corpus},
            features={
                "mfcc": CountingMFCC(sampling_rate=corpus.sampling_rate),
                "titanet": make_embedder("titanet", model=str(missing)),
            },
            classifiers=("svm",),
            store=tmp_path / "cells",
        )
    assert CountingMFCC.clips == 0
    # with keep_going the other feature set runs and the failure names the file
    result = run_study(
        {"synthetic": corpus},
        features={
            "mfcc": CountingMFCC(sampling_rate=corpus.sampling_rate),
            "titanet": make_embedder("titanet", model=str(missing)),
        },
        classifiers=("svm",),
        keep_going=True,
    )
    assert not result.ok and set(result.scores.feature) == {"mfcc"}
    assert result.failures.feature.tolist() == ["titanet"]
    assert "nowhere" in result.failures.reason.iloc[0]


def test_resumed_study_performs_no_fit_and_no_embedding(corpus, tmp_path: Path):
    def run():
        return run_study(
            {"synthetic": corpus},
            features={"mfcc": CountingMFCC(sampling_rate=corpus.sampling_rate)},
            classifiers={"svm": CountingSVC(C=10, gamma=1e-3)},
            protocols=("paper", "speaker"),
            store=tmp_path / "cells",
        )

    CountingSVC.fits = CountingMFCC.clips = 0
    first = run()
    n_folds = 5 + len(np.unique(corpus.speaker))
    assert (CountingSVC.fits, CountingMFCC.clips) == (n_folds, len(corpus.target))
    files = sorted((tmp_path / "cells").rglob("*.json"))
    assert len(files) == 2
    CountingSVC.fits = CountingMFCC.clips = 0
    again = run()
    assert (CountingSVC.fits, CountingMFCC.clips) == (0, 0)
    pd.testing.assert_frame_equal(again.scores, first.scores)
    pd.testing.assert_frame_equal(again.predictions, first.predictions)
    # a changed setting is a new cell, never a stale result
    CountingSVC.fits = 0
    run_study(
        {"synthetic": corpus},
        features={"mfcc": CountingMFCC(sampling_rate=corpus.sampling_rate)},
        classifiers={"svm": CountingSVC(C=1, gamma=1e-3)},
        store=tmp_path / "cells",
    )
    assert CountingSVC.fits == 5


def test_interrupt_keeps_finished_cells_and_resumes(corpus, tmp_path: Path):
    clfs = {"a": InterruptingSVC(C=10, gamma=1e-3), "b": InterruptingSVC(C=0.5, gamma=1e-3)}
    with pytest.raises(KeyboardInterrupt):
        run_study(
            {"synthetic": corpus},
            features={"mfcc": MFCCEmbedder(sampling_rate=corpus.sampling_rate)},
            classifiers=clfs,
            store=tmp_path / "cells",
        )
    stored = list((tmp_path / "cells").rglob("*.json"))
    assert [p.name.split("__")[0] for p in stored] == ["a"]
    json.loads(stored[0].read_text())  # whole, readable
    assert not [p for p in (tmp_path / "cells").rglob("*") if p.name.endswith(".tmp")]
    CountingSVC.fits = 0
    result = run_study(
        {"synthetic": corpus},
        features={"mfcc": MFCCEmbedder(sampling_rate=corpus.sampling_rate)},
        classifiers={"a": clfs["a"], "b": CountingSVC(C=1.0, gamma=1e-3)},
        store=tmp_path / "cells",
    )
    assert CountingSVC.fits == 5 and set(result.scores.classifier) == {"a", "b"}


def test_failing_cells_are_isolated(corpus, small, tmp_path: Path):
    X, y = small.data, small.target
    result = run_study(
        {
            "synthetic": corpus,
            "emovo": tmp_path / "no-such-folder",
            "nospeakers": (X, y),
        },
        features=("mfcc",),
        classifiers=("svm",),
        protocols=("paper", "speaker"),
        embedder_params={"sampling_rate": corpus.sampling_rate},
    )
    assert not result.ok
    done = set(result.summary(ci=False).index)
    assert ("synthetic", "paper", "mfcc", "svm") in done
    assert ("synthetic", "speaker", "mfcc", "svm") in done
    assert ("nospeakers", "paper", "mfcc", "svm") in done
    f = result.failures.set_index(["corpus", "protocol"]).reason
    assert "no-such-folder" in f.loc[("emovo", "paper")]
    assert "no speaker information" in f.loc[("nospeakers", "speaker")]
    assert len(result.failures) == 3


def test_predictions_table_is_tidy(corpus):
    result = run_study({"synthetic": corpus}, features=("mfcc",), classifiers=("svm",))
    assert list(result.predictions.columns) == [
        "corpus",
        "protocol",
        "feature",
        "classifier",
        "repeat",
        "fold",
        "index",
        "group",
        "y_true",
        "y_pred",
    ]
    assert list(result.scores.columns[:6]) == [
        "corpus",
        "protocol",
        "feature",
        "classifier",
        "repeat",
        "fold",
    ]
    assert {"uar", "war", "fit_time", "extraction_time", "n_train", "n_test"} <= set(
        result.scores.columns
    )


def test_crema_d_alias_and_loader_options(tmp_path: Path):
    with pytest.raises(ParameterError, match=r"'bogus'.*valid options: strict, load_audio"):
        load_corpus("emovo", tmp_path, bogus=1)
    with pytest.raises(ParameterError, match="unknown corpus 'emovoo'"):
        load_corpus("emovoo", tmp_path)


# --------------------------------------------------------------------------- CLI
def _one_line_error(capsys) -> str:
    captured = capsys.readouterr()
    err = captured.err.strip().splitlines()
    assert len(err) == 1, captured.err
    assert "Traceback" not in captured.err + captured.out
    return err[0]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--features", ","], "--features ',' names nothing; expected some of mel, mfcc"),
        (["--features", "mfcc,nope"], "unknown feature set 'nope'"),
        (["--classifiers", "rf"], "unknown classifier 'rf'"),
        (["--device", "gpu0"], "--device: device='gpu0' is not a device: expected 'auto'"),
        (["--model", "titanet"], "--model 'titanet': expected NAME=PATH"),
        (["--model", "mfcc=x.nemo"], "'mfcc' has no pretrained model"),
    ],
)
def test_cli_errors_are_one_clear_line(args, expected, tmp_path: Path, capsys):
    code = main(
        ["study", "--corpus", f"emovo={tmp_path}", "--quiet", "--out", str(tmp_path), *args]
    )
    assert code == 2
    assert expected in _one_line_error(capsys)


def _tiny_emovo(root: Path) -> Path:
    """A valid EMOVO-style tree: 2 speakers x 2 emotions x 2 sentences of noise."""
    import soundfile as sf

    rng = np.random.default_rng(0)
    for spk in ("f1", "m1"):
        (root / spk).mkdir(parents=True)
        for emo in ("dis", "gio"):
            for sent in ("b1", "b2"):
                wave = 0.1 * rng.standard_normal(8000).astype(np.float32)
                sf.write(root / spk / f"{emo}-{spk}-{sent}.wav", wave, 16000)
    return root


def test_cli_missing_checkpoint_fails_fast(tmp_path: Path, capsys):
    root = _tiny_emovo(tmp_path / "emovo")
    code = main(
        [
            "study",
            "--corpus",
            f"emovo={root}",
            "--features",
            "mfcc,titanet",
            "--quiet",
            "--n-splits",
            "2",
            "--model",
            f"titanet={tmp_path / 'missing.nemo'}",
            "--out",
            str(tmp_path / "out"),
        ]
    )
    assert code == 2
    assert "missing.nemo" in _one_line_error(capsys)
    assert not (tmp_path / "out" / "cells").exists()


def test_cli_accepts_crema_d_and_reports_an_unreadable_corpus(tmp_path: Path, capsys):
    # #10: the CLI rejected crema-d, which load_corpus accepts
    code = main(
        [
            "study",
            "--corpus",
            f"crema-d={tmp_path / 'nope'}",
            "--classifiers",
            "svm",
            "--quiet",
            "--out",
            str(tmp_path / "out"),
        ]
    )
    captured = capsys.readouterr()
    assert code == 1
    assert "invalid choice" not in captured.err and "Traceback" not in captured.err
    assert "failed cell cremad/paper/mel/svm" in captured.err and "nope" in captured.err


def test_cli_non_audio_file_is_a_failed_cell_not_a_traceback(tmp_path: Path, capsys):
    # #10: LibsndfileError reached the user as a traceback
    root = tmp_path / "emovo"
    for spk in ("f1", "m1"):
        (root / spk).mkdir(parents=True)
        for emo in ("dis", "gio"):
            (root / spk / f"{emo}-{spk}-b1.wav").write_bytes(b"not audio " * 200)
    code = main(
        [
            "study",
            "--corpus",
            f"emovo={root}",
            "--features",
            "mfcc",
            "--classifiers",
            "svm",
            "--quiet",
            "--out",
            str(tmp_path / "out"),
        ]
    )
    captured = capsys.readouterr()
    assert code in (1, 2)
    assert "Traceback" not in captured.err
    assert all(line.startswith("sertools: ") for line in captured.err.strip().splitlines())


def test_cli_demo_writes_tables_and_plots(tmp_path: Path, capsys):
    out = tmp_path / "demo"
    code = main(
        [
            "demo",
            "--out",
            str(out),
            "--classifiers",
            "svm",
            "--n-per-class",
            "8",
            "--quiet",
            "--protocol",
            "paper",
            "speaker",
            "--n-boot",
            "200",
        ]
    )
    assert code == 0
    printed = capsys.readouterr().out
    assert "| mel | svm |" in printed and "| mfcc | svm |" in printed
    for name in (
        "scores.csv",
        "predictions.csv",
        "summary.csv",
        "significance.csv",
        "report.md",
        "report.html",
        "table2_paper.md",
        "table2_paper.tex",
        "table2_paper.csv",
        "table2_speaker.md",
        "heatmap_paper.png",
        "folds_speaker.png",
        "confusion_synthetic_paper.png",
    ):
        assert (out / name).stat().st_size > 0, name
    scores = pd.read_csv(out / "scores.csv")
    assert len(scores) == 2 * 5 + 2 * 6
    # compare two cells of the finished study from the command line
    assert main(["compare", str(out), "synthetic/paper/mfcc/svm", "synthetic/paper/mel/svm"]) == 0
    printed = capsys.readouterr().out
    assert "corrected resampled t-test (Nadeau & Bengio 2003): t = " in printed
    assert "paired speaker bootstrap" in printed
    assert main(["compare", str(out), "synthetic/paper/mfcc/svm", "synthetic/speaker/mel/svm"]) == 2
    assert "different corpora or protocols" in _one_line_error(capsys)


def test_cli_help_documents_everything():
    res = subprocess.run(
        [sys.executable, "-m", "sertools", "study", "--help"],
        capture_output=True,
        text=True,
        check=True,
        env={"COLUMNS": "200", **__import__("os").environ},
    )
    text = " ".join(res.stdout.split())
    for name in (*FEATURE_SETS, *CLASSIFIERS, *PROTOCOLS):
        assert name in text, name
    for option in (
        "--corpus NAME=PATH",
        "--model FEATURE=PATH",
        "--protocol",
        "--cross-corpus",
        "--keep-going",
        "--dnn-epochs",
        "--n-boot",
        "--device",
        "--out",
        "--quiet",
        "report.html",
        "ddof=1",
    ):
        assert option in text, option
    top = subprocess.run(
        [sys.executable, "-m", "sertools", "--help"], capture_output=True, text=True, check=True
    ).stdout
    assert "demo" in top and "study" in top and "compare" in top and "Exit status" in top


def test_import_is_lazy():
    # which modules an import pulls in, not how long it takes (no timed assertions)
    code = (
        "import sys; import sertools; "
        "import sertools.features, sertools.datasets, sertools.metrics, sertools.study; "
        "import sertools.cli; "
        "print([m for m in ('nemo', 's3prl', 'torchaudio', 'torch', 'matplotlib') "
        "if m in sys.modules])"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert res.stdout.strip() == "[]"


def test_study_result_load_round_trip(corpus, tmp_path: Path):
    result = run_study({"synthetic": corpus}, features=("mfcc",), classifiers=("svm",))
    result.save(tmp_path, n_boot=100)
    back = StudyResult.load(tmp_path)
    pd.testing.assert_frame_equal(back.scores, result.scores, check_dtype=False)
    assert back.summary(ci=False).equals(result.summary(ci=False))
    with pytest.raises(ParameterError, match="holds no study results"):
        StudyResult.load(tmp_path / "empty")


def test_cross_corpus_on_shared_labels(tmp_path: Path):
    a = make_synthetic_corpus(n_per_class=6, classes=["angry", "happy", "sad"], random_state=0)
    b = make_synthetic_corpus(n_per_class=6, classes=["angry", "sad", "fear"], random_state=1)
    c = make_synthetic_corpus(n_per_class=6, classes=["neutral", "calm"], random_state=2)
    result = run_study(
        {"a": a, "b": b, "c": c},
        features=("mfcc",),
        classifiers=("svm",),
        cross_corpus=True,
        store=tmp_path / "cells",
    )
    cross = result.cross.set_index(["train", "test"])
    assert sorted(cross.index) == [("a", "b"), ("b", "a")]
    assert cross.loc[("a", "b"), "labels"] == "angry,sad"
    assert cross.loc[("a", "b"), "n_train"] == 12 and cross.loc[("a", "b"), "n_test"] == 12
    # the cell equals fitting on a's shared-label clips and scoring b's
    emb = MFCCEmbedder(sampling_rate=a.sampling_rate)
    Fa, Fb = emb.fit_transform(a.data), emb.fit_transform(b.data)
    ma, mb = np.isin(a.target, ["angry", "sad"]), np.isin(b.target, ["angry", "sad"])
    pred = SVC(C=10, gamma=1e-3).fit(Fa[ma], a.target[ma]).predict(Fb[mb])
    from sertools.metrics import unweighted_average_recall

    assert cross.loc[("a", "b"), "uar"] == pytest.approx(
        unweighted_average_recall(b.target[mb], pred)
    )
    # pairs with c share no labels: reported per pair, the rest goes on
    cross_fail = result.failures[result.failures.protocol == "cross-corpus"]
    assert len(cross_fail) == 4 and cross_fail.reason.str.contains("share 0 label").all()
    from sertools.study import cross_matrix

    m = cross_matrix(
        result.cross,
        "mfcc",
        "svm",
        within=result.summary(ci=False).xs(
            ("paper", "mfcc", "svm"), level=("protocol", "feature", "classifier")
        ),
    )
    assert m.loc["a", "b"] == pytest.approx(100 * cross.loc[("a", "b"), "uar"])
    assert m.loc["a", "a"] == pytest.approx(
        result.summary(ci=False).loc[("a", "paper", "mfcc", "svm"), "uar_mean"]
    )
    paths = result.save(tmp_path / "out", n_boot=100)
    assert paths["cross_corpus"].stat().st_size > 0 and paths["cross_mfcc_svm"].stat().st_size
    assert "Cross-corpus" in paths["report_md"].read_text()


def test_reports_table2_layout_and_paper_side_by_side(tmp_path: Path):
    # two synthetic corpora under the paper's corpus names, so the paper's cells match
    result = run_study(
        {
            "emovo": make_synthetic_corpus(n_per_class=6, random_state=0),
            "emodb": make_synthetic_corpus(n_per_class=6, random_state=1),
        },
        features=("mel", "mfcc"),
        classifiers=("svm", "svm-scaled"),
    )
    from sertools.study import paper_table, table2
    from sertools.study.report import table2_latex, table2_markdown

    t = table2(result, protocol="paper")
    assert list(t.columns) == [
        ("emovo", "UAR"),
        ("emovo", "WAR"),
        ("emodb", "UAR"),
        ("emodb", "WAR"),
        ("Feature Mean", "UAR"),
        ("Feature Mean", "WAR"),
    ]
    np.testing.assert_allclose(
        t[("Feature Mean", "UAR")], (t[("emovo", "UAR")] + t[("emodb", "UAR")]) / 2
    )
    md = table2_markdown(t, protocol="paper")
    best = t[("emovo", "UAR")].max()
    assert f"**{best:.2f}**" in md and "protocol `paper`" in md
    assert md.count("**") == 2 * sum(int((t[col] == t[col].max()).sum()) for col in t.columns)
    tex = table2_latex(t, protocol="paper")
    assert tex.count(r"\textbf{") == md.count("**") // 2 and r"\toprule" in tex
    paths = result.save(tmp_path, n_boot=100)
    comp = pd.read_csv(paths["paper_comparison"])
    # svm-scaled is not in the paper: only svm rows match, 2 features x 2 corpora
    assert len(comp) == 4 and set(comp.classifier) == {"svm"}
    ref = paper_table().set_index(["feature", "classifier", "corpus"])
    for r in comp.itertuples():
        assert r.uar_paper == ref.loc[(r.feature, r.classifier, r.corpus), "uar"]
        assert r.uar_diff == pytest.approx(r.uar - r.uar_paper, abs=0.006)  # CSV: 2 decimals
    comp_md = paths["paper_comparison_md"].read_text()
    assert "| mel | svm | " in comp_md
    # the synthetic stand-ins have 4 classes, the paper's EMOVO and EMODB 7: said so
    assert "EMOVO: ours 4 classes, the paper's 7" in comp_md
    assert set(comp.n_classes) == {4} and set(comp.n_classes_paper) == {7}
    html = paths["report_html"].read_text()
    assert "<table>" in html and "data:image/png;base64," in html and "src='http" not in html


def test_paper_table_is_transcribed_consistently():
    from sertools.study import paper_table

    t = paper_table()
    assert len(t) == 9 * 2 * 7
    per = t[t.corpus != "mean"].groupby(["feature", "classifier"])[["uar", "war"]].mean()
    means = t[t.corpus == "mean"].set_index(["feature", "classifier"])[["uar", "war"]]
    # the paper's Feature Mean column is the mean of its six corpus columns, printed with
    # two decimals: agreement within rounding (0.015) checks every transcribed cell
    assert (per - means.loc[per.index]).abs().max().max() < 0.015
    assert (
        t.set_index(["feature", "classifier", "corpus"]).loc[("titanet", "dnn", "emodb"), "uar"]
        == 98.34
    )


def test_speaker_protocol_on_iemocap_is_leave_one_session_out(tmp_path: Path):
    import warnings

    from _fake_corpora import write_iemocap_dialog

    root = tmp_path / "IEMOCAP"
    codes = ["ang", "hap", "neu", "sad"] * 3
    for s in range(1, 6):
        for g in "FM":
            d = f"Ses0{s}{g}_impro01"
            write_iemocap_dialog(root, d, {f"{d}_{g}{i:03d}": c for i, c in enumerate(codes)})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # librosa: clips shorter than n_fft
        result = run_study(
            {"iemocap": root}, features=("mfcc",), classifiers=("svm",), protocols=("speaker",)
        )
    assert result.ok
    p = result.predictions
    # five folds, each testing both speakers of one session and nothing else
    assert result.scores.fold.nunique() == 5
    for k, block in p.groupby("fold"):
        assert sorted(block.group.unique()) == [f"Ses0{k + 1}F", f"Ses0{k + 1}M"]


def test_progress_bar_and_lines(corpus, capsys, monkeypatch):
    # off a terminal (a log, CI): the lines, no bar
    run_study({"synthetic": corpus}, features=("mfcc",), classifiers=("svm",), progress=True)
    err = capsys.readouterr()
    text = err.err + err.out
    assert "[synthetic/paper/mfcc/svm] UAR" in text and "cells" not in text
    # on a terminal: the cells' bar too
    terminal = io.StringIO()
    terminal.isatty = lambda: True
    monkeypatch.setattr("sys.stderr", terminal)
    run_study({"synthetic": corpus}, features=("mfcc",), classifiers=("svm",), progress=True)
    text = terminal.getvalue()
    assert "cells:" in text and "/1 [" in text and "[synthetic/paper/mfcc/svm] UAR" in text
    monkeypatch.undo()
    lines = []
    run_study(
        {"synthetic": corpus}, features=("mfcc",), classifiers=("svm",), progress=lines.append
    )
    assert lines[0] == f"[synthetic/mfcc] embedding {len(corpus.target)} clips"
    assert lines[-1].startswith("[synthetic/paper/mfcc/svm] UAR ")


def test_report_says_when_the_unscaled_svm_is_near_chance(corpus):
    from sertools.study.report import scaling_notes

    # MFCCs x 100: distances so large that SVC(gamma=1e-3)'s kernel is ~0 between clips
    # (measured: x1 57.5 %, x10 45 %, x100 25 % = chance for 4 classes)
    F = MFCCEmbedder(sampling_rate=corpus.sampling_rate).fit_transform(corpus.data) * 100
    result = run_study(
        {"tiny": (list(F), corpus.target, corpus.speaker)},
        features={"mfcc": _Identity()},
        classifiers=("svm", "svm-scaled"),
    )
    s = result.summary(ci=False)
    assert s.loc[("tiny", "paper", "mfcc", "svm"), "uar_mean"] == pytest.approx(25.0)
    notes = scaling_notes(result)
    assert len(notes) == 1 and notes[0].startswith("tiny/paper/mfcc: the unscaled SVM")


class _Identity(MFCCEmbedder):
    """Rows in, the same rows out: lets precomputed features through the study."""

    def fit(self, X=None, y=None):
        return self

    def transform(self, X):
        return np.asarray(list(X), dtype=np.float32)


class EmbedCountingMFCC(MFCCEmbedder):
    """MFCC embedder that counts the clips its model embeds (cache misses)."""

    embedded = 0

    def _embed(self, waves):
        type(self).embedded += len(waves)
        return super()._embed(waves)


def test_cache_dir_embeds_each_clip_once(corpus, tmp_path: Path):
    def run(clf):
        return run_study(
            {"synthetic": corpus},
            features={"mfcc": EmbedCountingMFCC(sampling_rate=corpus.sampling_rate)},
            classifiers={"svm": clf},
            cache_dir=tmp_path / "embeddings",
        )

    EmbedCountingMFCC.embedded = 0
    first = run(SVC(C=10, gamma=1e-3))
    assert EmbedCountingMFCC.embedded == len(corpus.target)
    # another classifier: a new cell, but every clip's vector comes from the per-clip cache
    EmbedCountingMFCC.embedded = 0
    second = run(SVC(C=1, gamma=1e-3))
    assert EmbedCountingMFCC.embedded == 0
    assert list(second.predictions["index"]) == list(first.predictions["index"])
