"""MSP-Podcast loader on fake trees in the real file format (labels_consensus.csv + Audios/)."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from _fake_corpora import LFS_POINTER, write_text
from _fake_dimensional import write_msp_podcast
from sklearn.dummy import DummyRegressor
from sklearn.model_selection import cross_validate

from sertools import ParameterError
from sertools.datasets import CORPORA, CorpusWarning, load_corpus, load_msp_podcast
from sertools.datasets.msp_podcast import msp_podcast_split

# one row per EmoClass code, as in the corpus (codes from its documentation):
# A angry, S sad, H happy, U surprise, F fear, D disgust, C contempt, N neutral,
# O other, X no agreement
ROWS = [
    ("MSP-PODCAST_0001_0008.wav", "A", "5.4", "2.8", "5.2", "127", "Female", "Train"),
    ("MSP-PODCAST_0001_0012.wav", "S", "2.4", "3", "3.8", "127", "Female", "Train"),
    ("MSP-PODCAST_0002_0003.wav", "H", "4.8", "5.4", "4.6", "928", "Male", "Development"),
    ("MSP-PODCAST_0002_0004.wav", "U", "4.8", "4.2", "4", "928", "Male", "Train"),
    ("MSP-PODCAST_0003_0001.wav", "F", "3.2", "2.2", "2.6", "NA", "Male", "Test1"),
    ("MSP-PODCAST_0003_0002.wav", "D", "4.2", "2", "4.4", "2979", "Female", "Test1"),
    (
        "MSP-PODCAST_0895_0265_0001.wav",
        "C",
        "2.888889",
        "2.222222",
        "4.333333",
        "1268",
        "Male",
        "Test2",
    ),
    ("MSP-PODCAST_0004_0001.wav", "N", "3", "3.6", "2.8", "Unknown", "Unknown", "Train"),
    ("MSP-PODCAST_0005_0001.wav", "O", "4", "4", "4", "25", "Female", "Train"),
    ("MSP-PODCAST_0005_0002.wav", "X", "3.4", "3.8", "3.6", "25", "Female", "Test1"),
]


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    return write_msp_podcast(tmp_path, ROWS)


def _load(root: Path, **kwargs):
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", ".*no speaker ID", CorpusWarning)
        return load_msp_podcast(root, **kwargs)


def test_every_field_by_name(tree: Path) -> None:
    bunch = _load(tree)
    stems = [Path(f).stem for f in bunch.filenames]
    assert stems == [
        "MSP-PODCAST_0001_0008",
        "MSP-PODCAST_0001_0012",
        "MSP-PODCAST_0002_0003",
        "MSP-PODCAST_0002_0004",
        "MSP-PODCAST_0003_0001",
        "MSP-PODCAST_0003_0002",
        "MSP-PODCAST_0004_0001",
        "MSP-PODCAST_0895_0265_0001",
    ]
    assert all(Path(f).parent == tree / "Audios" for f in bunch.filenames)
    assert bunch.filenames.dtype == object and all(isinstance(f, str) for f in bunch.filenames)
    expected_target = [
        "angry",
        "sad",
        "happy",
        "surprise",
        "fear",
        "disgust",
        "neutral",
        "contempt",
    ]
    assert bunch.target.tolist() == expected_target
    assert bunch.target_names.tolist() == sorted(expected_target)
    assert bunch.frame["label_code"].tolist() == ["A", "S", "H", "U", "F", "D", "N", "C"]
    # speaker "NA" stays the text NA (no NaN from pandas), Unknown is kept as its own group
    assert bunch.speaker.tolist() == ["127", "127", "928", "928", "NA", "2979", "Unknown", "1268"]
    assert bunch.gender.tolist() == [
        "female",
        "female",
        "male",
        "male",
        "male",
        "female",
        "unknown",
        "male",
    ]
    assert bunch.split.tolist() == [
        "Train",
        "Train",
        "Development",
        "Train",
        "Test1",
        "Test1",
        "Train",
        "Test2",
    ]
    assert bunch.arousal.tolist() == [5.4, 2.4, 4.8, 4.8, 3.2, 4.2, 3.0, 2.888889]
    assert bunch.valence.tolist() == [2.8, 3.0, 5.4, 4.2, 2.2, 2.0, 3.6, 2.222222]
    assert bunch.dominance.tolist() == [5.2, 3.8, 4.6, 4.0, 2.6, 4.4, 2.8, 4.333333]
    for dim in ("arousal", "valence", "dominance"):
        assert bunch[dim].dtype == np.float64 and np.isfinite(bunch[dim]).all()
    assert list(bunch.frame.columns) == [
        "filename",
        "speaker",
        "gender",
        "target",
        "label_code",
        "split",
        "arousal",
        "valence",
        "dominance",
    ]
    assert bunch.frame["filename"].tolist() == bunch.filenames.tolist()
    assert bunch.sampling_rate == 16000 and bunch.corpus == "msp_podcast"
    assert "Citation" in bunch.DESCR and "EmoClass" in bunch.DESCR


def test_include_other_keeps_o_and_x(tree: Path) -> None:
    bunch = _load(tree, include_other=True)
    assert len(bunch.filenames) == 10
    other = bunch.frame.set_index("label_code").loc[["O", "X"]]
    assert other["target"].tolist() == ["other", "no_agreement"]
    assert other["arousal"].tolist() == [4.0, 3.4]


def test_by_name_and_return_x_y(tree: Path) -> None:
    assert CORPORA["msp_podcast"] is load_msp_podcast is CORPORA["msp-podcast"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CorpusWarning)
        X, y = load_corpus("MSP-Podcast", tree, return_X_y=True)
    assert len(X) == len(y) == 8 and y[0] == "angry"


def test_unknown_speakers_are_reported(tree: Path) -> None:
    with pytest.warns(
        CorpusWarning,
        match=r"1 MSP-Podcast turn\(s\) .* no speaker ID .*"
        r"MSP-PODCAST_0004_0001\.wav",
    ):
        load_msp_podcast(tree)


def test_turns_without_a_rating_are_reported_not_guessed(tmp_path: Path) -> None:
    rows = [
        ROWS[0],
        ("MSP-PODCAST_0009_0001.wav", "H", "", "4", "4", "1", "Male", "Train"),
        ("MSP-PODCAST_0009_0002.wav", "N", "3", "nan", "4", "1", "Male", "Train"),
        ("MSP-PODCAST_0009_0003.wav", "S", "3", "4", "7.5", "1", "Male", "Train"),  # > 7
    ]
    write_msp_podcast(tmp_path, rows)
    with pytest.warns(CorpusWarning) as caught:
        bunch = load_msp_podcast(tmp_path)
    assert [str(w.message) for w in caught] == [
        f"3 MSP-Podcast turn(s) under {tmp_path} have no complete EmoAct, EmoVal, EmoDom "
        "rating on the 1-7 scale and are left out (not guessed): "
        "MSP-PODCAST_0009_0001.wav (Labels/labels_consensus.csv line 3), "
        "MSP-PODCAST_0009_0002.wav (Labels/labels_consensus.csv line 4), "
        "MSP-PODCAST_0009_0003.wav (Labels/labels_consensus.csv line 5)"
    ]
    assert bunch.target.tolist() == ["angry"] and bunch.arousal.tolist() == [5.4]


def test_bad_rows_warn_or_raise_and_never_leave_audios(tmp_path: Path) -> None:
    outside = tmp_path / "secret.wav"
    rows = [
        ROWS[0],
        ("../secret.wav", "H", "4", "4", "4", "1", "Male", "Train"),
        ("/abs/MSP-PODCAST_1.wav", "H", "4", "4", "4", "1", "Male", "Train"),
        ("MSP-PODCAST_0009_0001.wav", "Q", "4", "4", "4", "1", "Male", "Train"),
    ]
    write_msp_podcast(tmp_path / "corpus", rows, audio=[ROWS[0][0], "MSP-PODCAST_0009_0001.wav"])
    write_text(outside, "not read")
    with pytest.warns(
        CorpusWarning,
        match=r"3 MSP-Podcast item\(s\) .*labels_consensus\.csv "
        r"line 3, Labels/labels_consensus\.csv line 4, .*line 5",
    ):
        bunch = load_msp_podcast(tmp_path / "corpus")
    assert [Path(f).name for f in bunch.filenames] == [ROWS[0][0]]
    with pytest.raises(ParameterError, match=r"labels_consensus\.csv line 3"):
        load_msp_podcast(tmp_path / "corpus", strict=True)


def test_missing_audio_warns_or_raises(tree: Path) -> None:
    (tree / "Audios" / ROWS[1][0]).unlink()
    with pytest.warns(CorpusWarning) as caught:
        bunch = _load(tree)
    messages = [str(w.message) for w in caught]
    assert any(
        m.endswith(
            f"are missing: Audios/{ROWS[1][0]}; they are skipped (strict=True raises instead)"
        )
        for m in messages
    )
    # the label file is the reference release: a missing file also shows in the counts
    assert any("differs from the full corpus: 7 of 8 files" in m for m in messages)
    assert len(bunch.filenames) == 7
    with pytest.raises(ParameterError, match=ROWS[1][0]):
        _load(tree, strict=True)


def test_file_errors(tmp_path: Path) -> None:
    with pytest.raises(
        ParameterError, match=r"no MSP-Podcast files matching 'Labels/labels_consensus\.csv'"
    ):
        load_msp_podcast(tmp_path)
    write_text(tmp_path / "Labels/labels_consensus.csv", "FileName,EmoClass,EmoAct\nx.wav,A,3\n")
    with pytest.raises(
        ParameterError, match=r"lacks the column\(s\) EmoVal, EmoDom, SpkrID, Gender, Split_Set"
    ):
        load_msp_podcast(tmp_path)
    write_text(tmp_path / "Labels/labels_consensus.csv", LFS_POINTER)
    with pytest.raises(ParameterError, match="git lfs pull"):
        load_msp_podcast(tmp_path)


def test_predefined_split(tree: Path) -> None:
    bunch = _load(tree)
    [(train, test)] = msp_podcast_split(bunch.split)
    assert bunch.split[train].tolist() == ["Train"] * 4
    assert bunch.split[test].tolist() == ["Test1"] * 2
    [(train, test)] = msp_podcast_split(
        bunch.split, train=("Train", "Development"), test=("Test2",)
    )
    assert len(train) == 5 and bunch.split[test].tolist() == ["Test2"]
    with pytest.raises(ParameterError, match="Train are in both train and test"):
        msp_podcast_split(bunch.split, test=("Train",))
    with pytest.raises(ParameterError, match="Test3 hold no turn"):
        msp_podcast_split(bunch.split, test=("Test3",))
    # usable as cv= in scikit-learn
    res = cross_validate(
        DummyRegressor(), np.zeros((8, 1)), bunch.arousal, cv=msp_podcast_split(bunch.split)
    )
    assert res["test_score"].shape == (1,)
    assert pd.Series(bunch.split).isin(["Train", "Development", "Test1", "Test2"]).all()
