"""load_manifest, load_folder and manifests through load_corpus (issue #22)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from _fake_corpora import write_tree

from sertools import ParameterError
from sertools.datasets import (
    PredefinedFolds,
    audit_folds,
    get_cv,
    load_corpus,
    load_emovo,
    load_folder,
    load_manifest,
)


@pytest.fixture
def clips(tmp_path: Path) -> Path:
    write_tree(tmp_path / "audio", ["a.wav", "b.wav", "c.wav", "d.wav"], 16000)
    return tmp_path


def test_csv_manifest_columns_metadata_and_folds(clips: Path) -> None:
    (clips / "m.csv").write_text(
        "wav,Emotion,spk,sex,fold,mic\n"
        "audio/a.wav,angry,s1,F,1,near\n"
        "audio/b.wav,sad,s2,m,2,far\n"
        "audio/c.wav,sad,s1,female,1,near\n"
        "audio/d.wav,angry,s2,M,2,far\n"
    )
    bunch = load_manifest(clips / "m.csv")
    assert bunch.corpus == "m"
    assert [Path(f).name for f in bunch.filenames] == ["a.wav", "b.wav", "c.wav", "d.wav"]
    assert bunch.target.tolist() == ["angry", "sad", "sad", "angry"]
    assert bunch.speaker.tolist() == ["s1", "s2", "s1", "s2"]
    assert bunch.gender.tolist() == ["female", "male", "female", "male"]
    assert bunch.frame["mic"].tolist() == ["near", "far", "near", "far"]
    assert bunch.frame["row"].tolist() == [2, 3, 4, 5]
    assert bunch.fold.tolist() == ["1", "2", "1", "2"]
    assert isinstance(bunch.cv, PredefinedFolds)
    folds = [(tr.tolist(), te.tolist()) for tr, te in bunch.cv.split(bunch.filenames)]
    assert folds == [([1, 3], [0, 2]), ([0, 2], [1, 3])]
    cv, groups = get_cv(bunch, "predefined")
    assert cv is bunch.cv and groups is None
    # fold = speaker here: the audit says so
    assert not audit_folds(cv, bunch.filenames, bunch.target, bunch.speaker).speaker_dependent


def test_tsv_and_jsonl_with_audio_root_and_label_map(clips: Path) -> None:
    (clips / "m.tsv").write_text("file\tlabel\na.wav\tA\nb.wav\tS\n")
    bunch = load_manifest(
        clips / "m.tsv", audio_root=clips / "audio", label_map={"A": "angry", "S": "sad"}
    )
    assert bunch.target.tolist() == ["angry", "sad"]
    assert bunch.frame["label_code"].tolist() == ["A", "S"]
    assert set(bunch.speaker) == {"unknown"} and not hasattr(bunch, "cv")
    lines = [
        {"audio": "a.wav", "emo": "hap", "split": "train"},
        {"audio": "b.wav", "emo": "sad", "split": "test"},
    ]
    lines.append({"audio": "c.wav", "emo": "sad", "split": "dev"})
    (clips / "m.jsonl").write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    bunch = load_manifest(clips / "m.jsonl", clips / "audio", name="mine")
    assert bunch.corpus == "mine" and bunch.target.tolist() == ["hap", "sad", "sad"]
    # train/test/dev words: one split, dev in neither side
    assert [(tr.tolist(), te.tolist()) for tr, te in bunch.cv.split(bunch.filenames)] == [
        ([0], [1])
    ]


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ("audio/a.wav,angry\naudio/x.wav,sad\n", r"line 3: audio file .*x\.wav does not exist"),
        ("audio/a.wav,angry\naudio/b.wav,\n", r"line 3: empty label \(label\) for audio/b\.wav"),
        ("audio/a.wav,angry\n,sad\n", r"line 3: empty file path"),
        (
            "audio/a.wav,angry\naudio/b.wav,sad\naudio/../audio/a.wav,sad\n",
            r"line 4: audio/\.\./audio/a\.wav is the same file as line 2",
        ),
    ],
    ids=["missing-file", "empty-label", "empty-path", "duplicate-path"],
)
def test_bad_rows_raise_naming_the_line(clips: Path, rows: str, message: str) -> None:
    (clips / "m.csv").write_text("file,label\n" + rows)
    with pytest.raises(ParameterError, match=message):
        load_manifest(clips / "m.csv")


def test_missing_columns_and_unknown_label(clips: Path) -> None:
    (clips / "m.csv").write_text("clip,label\naudio/a.wav,angry\n")
    with pytest.raises(ParameterError, match="no file column; expected one of file, filename"):
        load_manifest(clips / "m.csv")
    assert load_manifest(clips / "m.csv", file_column="clip").target.tolist() == ["angry"]
    with pytest.raises(ParameterError, match=r"line 2: label 'angry' is not in label_map"):
        load_manifest(clips / "m.csv", file_column="clip", label_map={"sad": "sad"})
    (clips / "bad.jsonl").write_text('{"file": "audio/a.wav", "label": "x"}\n[1, 2]\n')
    with pytest.raises(ParameterError, match="line 2: expected a JSON object"):
        load_manifest(clips / "bad.jsonl")


def test_load_corpus_takes_a_manifest(clips: Path) -> None:
    (clips / "m.csv").write_text("file,label\naudio/a.wav,angry\naudio/b.wav,sad\n")
    assert load_corpus(str(clips / "m.csv")).corpus == "m"
    assert load_corpus("mydata", clips / "m.csv").corpus == "mydata"
    assert load_corpus("CREMA-D", clips / "m.csv").corpus == "cremad"  # a known name
    with pytest.raises(ParameterError, match="unknown corpus 'mydata'"):
        load_corpus("mydata", clips)  # a folder still needs a known corpus


def test_folder_per_label_and_per_speaker(tmp_path: Path) -> None:
    write_tree(tmp_path / "a", ["angry/1.wav", "angry/2.flac", "sad/3.wav", ".hidden/4.wav"], 16000)
    bunch = load_folder(tmp_path / "a")
    assert bunch.target.tolist() == ["angry", "angry", "sad"] and bunch.corpus == "a"
    assert [Path(f).name for f in bunch.filenames] == ["1.wav", "2.flac", "3.wav"]
    write_tree(tmp_path / "b", ["s1/angry/1.wav", "s2/sad/1.wav"], 16000)
    bunch = load_folder(tmp_path / "b", name="mine")
    assert bunch.speaker.tolist() == ["s1", "s2"] and bunch.target.tolist() == ["angry", "sad"]
    write_tree(tmp_path / "c", ["angry/1.wav", "s1/sad/2.wav"], 16000)
    with pytest.raises(
        ParameterError, match=re.escape("depth 2: angry/1.wav; depth 3: s1/sad/2.wav")
    ):
        load_folder(tmp_path / "c")


def emovo_manifest(bunch, root: Path, out: Path) -> Path:
    """A manifest of a loaded corpus, with paths relative to its root."""
    frame = bunch.frame.assign(file=[Path(f).relative_to(root).as_posix() for f in bunch.filenames])
    frame[["file", "target", "speaker", "gender", "sentence"]].rename(
        columns={"target": "label"}
    ).to_csv(out, index=False)
    return out


def test_manifest_of_a_corpus_equals_its_loader(tmp_path: Path) -> None:
    from _fake_corpora import every_code_emovo

    write_tree(tmp_path / "emovo", every_code_emovo(), 22050)
    with pytest.warns(UserWarning):
        native = load_emovo(tmp_path / "emovo")
    manifest = emovo_manifest(native, tmp_path / "emovo", tmp_path / "emovo.csv")
    bunch = load_manifest(manifest, tmp_path / "emovo", name="emovo")
    for field in ("filenames", "target", "speaker", "gender"):
        np.testing.assert_array_equal(bunch[field], native[field])


@pytest.mark.realdata
@pytest.mark.slow
def test_real_emovo_manifest_gives_the_loader_figures(emovo_root: Path, tmp_path: Path) -> None:
    """Done-when: a manifest of the EMOVO folder gives load_emovo's UAR, fold for fold."""
    from sklearn.model_selection import cross_validate
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    from sertools import SCORING, MFCCEmbedder

    native = load_emovo(emovo_root)
    manifest = emovo_manifest(native, emovo_root, tmp_path / "emovo.csv")
    bunch = load_manifest(manifest, emovo_root, name="emovo")
    assert len(bunch.filenames) == 588
    np.testing.assert_array_equal(bunch.filenames, native.filenames)
    scores = []
    for data in (native, bunch):
        cv, groups = get_cv(data, "loso")
        pipe = make_pipeline(MFCCEmbedder(), StandardScaler(), SVC(C=10, gamma=1e-3))
        scores.append(
            cross_validate(pipe, data.filenames, data.target, cv=cv, groups=groups, scoring=SCORING)
        )
    np.testing.assert_array_equal(scores[0]["test_uar"], scores[1]["test_uar"])
