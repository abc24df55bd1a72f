"""Tests of the corpus loaders and cross-validation protocols (sertools.datasets)."""

from __future__ import annotations

import warnings
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile as sf
from _fake_corpora import (
    LFS_POINTER,
    every_code_cremad,
    every_code_emodb,
    every_code_emovo,
    every_code_iemocap,
    every_code_ravdess,
    every_code_savee,
    full_emodb_names,
    full_ravdess_names,
    full_savee_names,
    iemocap_line,
    noise,
    write_iemocap_dialog,
    write_text,
    write_tree,
    write_wav,
)
from sklearn.dummy import DummyClassifier
from sklearn.model_selection import (
    LeaveOneGroupOut,
    StratifiedGroupKFold,
    StratifiedKFold,
    cross_validate,
)
from sklearn.utils import Bunch

from sertools import ParameterError
from sertools.datasets import (
    CORPORA,
    CORPUS_SPECS,
    LABELS,
    RECOMMENDED_PROTOCOL,
    CorpusWarning,
    get_cv,
    load_corpus,
    load_cremad,
    load_emodb,
    load_emovo,
    load_iemocap,
    load_ravdess,
    load_savee,
)


def load_silently(loader, root, **kwargs):
    """Call a loader, asserting that it issues no warning at all."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return loader(root, **kwargs)


def names(bunch: Bunch) -> list[str]:
    return [Path(f).name for f in bunch.filenames]


def check_bunch(bunch: Bunch, corpus: str, sampling_rate: int) -> None:
    """Invariants shared by every loader's Bunch."""
    n = len(bunch.filenames)
    assert bunch.corpus == corpus
    assert bunch.sampling_rate == sampling_rate
    assert isinstance(bunch.sampling_rate, int)
    assert list(bunch.filenames) == sorted(bunch.filenames)
    assert all(Path(f).is_absolute() and Path(f).is_file() for f in bunch.filenames)
    assert bunch.filenames.dtype == object and bunch.filenames.shape == (n,)
    assert all(isinstance(f, str) for f in bunch.filenames)
    for field in ("target", "speaker", "gender"):
        assert isinstance(bunch[field], np.ndarray) and bunch[field].shape == (n,)
        assert bunch[field].dtype.kind == "U"
    assert list(bunch.target_names) == sorted(set(bunch.target))
    assert set(bunch.target) <= set(LABELS)
    assert isinstance(bunch.frame, pd.DataFrame) and len(bunch.frame) == n
    assert list(bunch.frame.columns[:5]) == [
        "filename",
        "speaker",
        "gender",
        "target",
        "label_code",
    ]
    assert list(bunch.frame["filename"]) == list(bunch.filenames)
    assert list(bunch.frame["target"]) == list(bunch.target)
    assert isinstance(bunch.DESCR, str) and "Citation" in bunch.DESCR


# --------------------------------------------------------------------- EMODB

EMODB_SAMPLE = ["03a01Fa.wav", "08a02Wb.wav", "10b01Tc.wav", "16a04Nd.wav", "09b10Lb.wav"]


@pytest.fixture
def emodb_tree(tmp_path: Path) -> Path:
    write_tree(tmp_path / "wav", EMODB_SAMPLE, 16000)
    return tmp_path


def test_emodb_parses_names(emodb_tree: Path) -> None:
    with pytest.warns(CorpusWarning, match="differs from the full corpus"):
        bunch = load_emodb(emodb_tree)
    check_bunch(bunch, "emodb", 16000)
    assert names(bunch) == sorted(EMODB_SAMPLE)
    assert list(bunch.target) == ["happy", "angry", "boredom", "sad", "neutral"]
    assert list(bunch.speaker) == ["03", "08", "09", "10", "16"]
    assert list(bunch.gender) == ["male", "female", "female", "male", "female"]
    assert list(bunch.frame.columns) == [
        "filename",
        "speaker",
        "gender",
        "target",
        "label_code",
        "text",
        "version",
    ]
    assert list(bunch.frame["label_code"]) == ["F", "W", "L", "T", "N"]
    assert list(bunch.frame["text"]) == ["a01", "a02", "b10", "b01", "a04"]
    assert list(bunch.frame["version"]) == ["a", "b", "b", "c", "d"]
    assert "German" in bunch.DESCR and "EMOVB" in bunch.DESCR


def test_emodb_partial_tree_warning_lists_missing_classes(emodb_tree: Path) -> None:
    with pytest.warns(CorpusWarning) as record:
        load_emodb(emodb_tree)
    [message] = [str(w.message) for w in record]
    assert "5 of 535 files" in message
    assert "angry 1/127" in message and "boredom 1/81" in message and "disgust 0/46" in message
    assert "missing classes: disgust, fear" in message
    assert record[0].filename == __file__  # attributed to the caller, not to sertools


def test_emodb_full_tree_loads_without_warning(tmp_path: Path) -> None:
    write_tree(tmp_path / "wav", full_emodb_names(), 16000)
    bunch = load_silently(load_emodb, tmp_path)
    assert len(bunch.filenames) == 535
    assert Counter(bunch.target) == {
        "angry": 127,
        "boredom": 81,
        "disgust": 46,
        "fear": 69,
        "happy": 71,
        "sad": 62,
        "neutral": 79,
    }
    assert len(set(bunch.speaker)) == 10


def test_emodb_root_may_be_the_wav_folder(emodb_tree: Path) -> None:
    with pytest.warns(CorpusWarning):
        bunch = load_emodb(emodb_tree / "wav")
    assert names(bunch) == sorted(EMODB_SAMPLE)


def test_return_X_y(emodb_tree: Path) -> None:
    with pytest.warns(CorpusWarning):
        bunch = load_emodb(emodb_tree)
        X, y = load_emodb(emodb_tree, return_X_y=True)
    np.testing.assert_array_equal(X, bunch.filenames)
    np.testing.assert_array_equal(y, bunch.target)


def test_unparsed_names_warn_and_are_skipped(emodb_tree: Path) -> None:
    write_tree(emodb_tree / "wav", ["99a01Fa.wav", "03a01Xa.wav", "notes.wav"], 16000)
    with pytest.warns(CorpusWarning) as record:
        bunch = load_emodb(emodb_tree)
    messages = [str(w.message) for w in record]
    [unparsed] = [m for m in messages if "naming convention" in m]
    assert "3 EMODB item(s)" in unparsed
    assert all(n in unparsed for n in ("99a01Fa.wav", "03a01Xa.wav", "notes.wav"))
    assert "03a01Fa.wav" in unparsed  # the example of a correct name
    assert names(bunch) == sorted(EMODB_SAMPLE)


def test_unparsed_names_raise_when_strict(emodb_tree: Path) -> None:
    write_tree(emodb_tree / "wav", ["99a01Fa.wav"], 16000)
    with pytest.raises(ParameterError, match=r"99a01Fa\.wav"):
        load_emodb(emodb_tree, strict=True)


def test_unparsed_listing_is_truncated(emodb_tree: Path) -> None:
    write_tree(emodb_tree / "wav", [f"junk{i:02d}.wav" for i in range(15)], 16000)
    with pytest.raises(ParameterError, match=r"15 EMODB item\(s\).*junk09\.wav, \.\.\. \(5 more\)"):
        load_emodb(emodb_tree, strict=True)


def test_dotfiles_are_ignored(emodb_tree: Path) -> None:
    write_text(emodb_tree / "wav" / "._03a01Fa.wav", "AppleDouble")
    write_text(emodb_tree / "wav" / ".DS_Store", "Bud1")
    write_tree(emodb_tree / ".hidden", ["03a01Wa.wav"], 16000)
    with pytest.warns(CorpusWarning, match="differs from the full corpus") as record:
        bunch = load_emodb(emodb_tree, strict=True)  # strict: nothing unparsed
    assert len(record) == 1
    assert names(bunch) == sorted(EMODB_SAMPLE)


def test_missing_root_raises(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    with pytest.raises(ParameterError, match=f"EMODB root {missing} does not exist"):
        load_emodb(missing)


def test_root_that_is_a_file_raises(tmp_path: Path) -> None:
    path = write_text(tmp_path / "emodb.zip", "PK")
    with pytest.raises(ParameterError, match="is not a folder"):
        load_emodb(path)


def test_empty_root_names_path_and_pattern(tmp_path: Path) -> None:
    with pytest.raises(ParameterError) as info:
        load_emodb(tmp_path)
    message = str(info.value)
    assert str(tmp_path) in message and "'wav/*.wav'" in message and "03a01Fa.wav" in message


def test_root_with_only_unparsable_names_raises(tmp_path: Path) -> None:
    write_tree(tmp_path / "wav", ["hello.wav"], 16000)
    with pytest.warns(CorpusWarning, match="hello.wav"):
        with pytest.raises(ParameterError, match="none follows the naming convention"):
            load_emodb(tmp_path)


def test_git_lfs_pointer_raises(emodb_tree: Path) -> None:
    write_text(emodb_tree / "wav" / "03a01Fa.wav", LFS_POINTER)
    with pytest.raises(ParameterError, match=r"03a01Fa\.wav.*Git LFS.*git lfs pull"):
        load_emodb(emodb_tree)


def truncate(path: Path, keep: float = 0.5) -> int:
    """Cut ``path`` to ``keep`` of its bytes; return the frames its header still declares."""
    frames = sf.info(str(path)).frames
    data = path.read_bytes()
    path.write_bytes(data[: max(44, int(len(data) * keep))])  # 44: a bare WAV header
    return frames


@pytest.mark.parametrize("keep", [0.5, 0.0])  # half the bytes; the header alone
def test_truncated_files_are_reported_and_skipped(emodb_tree: Path, keep: float) -> None:
    declared = truncate(emodb_tree / "wav" / "08a02Wb.wav", keep)
    held = sf.info(str(emodb_tree / "wav" / "08a02Wb.wav")).frames
    with pytest.warns(CorpusWarning) as record:
        bunch = load_emodb(emodb_tree)
    [message] = [str(w.message) for w in record if "are truncated (" in str(w.message)]
    assert message.startswith("1 EMODB file(s) under")
    assert f"wav/08a02Wb.wav ({held} of {declared} frames)" in message
    assert "08a02Wb.wav" not in names(bunch) and len(bunch.filenames) == 4
    # a damaged file is still part of the tree: the partial-tree count includes it
    assert any("5 of 535 files" in str(w.message) for w in record)
    with pytest.raises(ParameterError, match=r"are truncated \(fewer frames.*08a02Wb\.wav"):
        load_emodb(emodb_tree, strict=True)


@pytest.mark.parametrize("name", ["03a01Fa.wav", "16b10Na.wav"])  # sorts first / last
def test_non_audio_file_whose_name_parses_is_reported(emodb_tree: Path, name: str) -> None:
    (emodb_tree / "wav" / name).write_bytes(b"<html>" + b"x" * 4096)  # over 1 KiB
    with pytest.warns(CorpusWarning) as record:
        bunch = load_emodb(emodb_tree)
    [message] = [str(w.message) for w in record if "not readable audio" in str(w.message)]
    assert f"1 EMODB file(s) under {emodb_tree} are not readable audio: wav/{name} (" in message
    assert message.count(name) == 1  # the reason is soundfile's, without the path again
    assert name not in names(bunch)
    with pytest.raises(ParameterError, match=rf"not readable audio: wav/{name}"):
        load_emodb(emodb_tree, strict=True)


def test_tree_of_damaged_files_raises_with_the_reasons(tmp_path: Path) -> None:
    write_tree(tmp_path / "wav", ["03a01Fa.wav", "08a02Wb.wav"], 16000)
    truncate(tmp_path / "wav" / "03a01Fa.wav")
    (tmp_path / "wav" / "08a02Wb.wav").write_bytes(b"x" * 2048)
    with pytest.warns(CorpusWarning):
        with pytest.raises(
            ParameterError, match="of 2 expected files, 1 truncated and 1 not audio"
        ):
            load_emodb(tmp_path)


def test_load_audio_reads_mono_float32(emodb_tree: Path) -> None:
    with pytest.warns(CorpusWarning):
        bunch = load_emodb(emodb_tree, load_audio=True)
        data, y = load_emodb(emodb_tree, load_audio=True, return_X_y=True)
    assert len(bunch.data) == len(bunch.filenames) == len(data)
    for wave, name in zip(bunch.data, bunch.filenames, strict=True):
        assert wave.dtype == np.float32 and wave.ndim == 1
        np.testing.assert_array_equal(wave, sf.read(name, dtype="float32")[0])
    np.testing.assert_array_equal(y, bunch.target)


def test_no_data_without_load_audio(emodb_tree: Path) -> None:
    with pytest.warns(CorpusWarning):
        assert "data" not in load_emodb(emodb_tree)


def test_load_audio_warns_on_mixed_rates(emodb_tree: Path) -> None:
    write_wav(emodb_tree / "wav" / "16b01Fa.wav", noise(8000), 8000)
    with pytest.warns(CorpusWarning) as record:
        bunch = load_emodb(emodb_tree, load_audio=True)
    assert "1 EMODB file(s) are not at the corpus rate 16000 Hz" in str(record[-1].message)
    assert "16b01Fa.wav (8000 Hz)" in str(record[-1].message)
    assert bunch.sampling_rate == 16000


# --------------------------------------------------------------------- EMOVO

EMOVO_SAMPLE = {
    "f1/dis-f1-b1.wav": ("disgust", "f1", "female", "b1"),
    "f2/gio-f2-n5.wav": ("happy", "f2", "female", "n5"),
    "m1/neu-m1-l4.wav": ("neutral", "m1", "male", "l4"),
    "m2/pau-m2-d2.wav": ("fear", "m2", "male", "d2"),
    "m3/rab-m3-b3.wav": ("angry", "m3", "male", "b3"),
    "f3/sor-f3-l1.wav": ("surprise", "f3", "female", "l1"),
    "f3/tri-f3-n1.wav": ("sad", "f3", "female", "n1"),
}


@pytest.mark.parametrize("level", ["", "Dataset"])
def test_emovo_parses_names(tmp_path: Path, level: str) -> None:
    stereo = ["f1/dis-f1-b1.wav", "m3/rab-m3-b3.wav"]
    write_tree(tmp_path / level, EMOVO_SAMPLE, 48000, stereo=stereo)
    with pytest.warns(CorpusWarning, match="7 of 588 files"):
        bunch = load_emovo(tmp_path)
    check_bunch(bunch, "emovo", 48000)
    expected = sorted(EMOVO_SAMPLE.items(), key=lambda item: str(tmp_path / level / item[0]))
    assert list(bunch.filenames) == [str(tmp_path / level / rel) for rel, _ in expected]
    assert list(bunch.target) == [meta[0] for _, meta in expected]
    assert list(bunch.speaker) == [meta[1] for _, meta in expected]
    assert list(bunch.gender) == [meta[2] for _, meta in expected]
    assert list(bunch.frame["sentence"]) == [meta[3] for _, meta in expected]
    assert list(bunch.frame["label_code"]) == [Path(rel).name[:3] for rel, _ in expected]
    assert list(bunch.frame.columns[5:]) == ["sentence"]
    assert "Italian" in bunch.DESCR


def test_emovo_rate_is_read_from_the_files(tmp_path: Path) -> None:
    write_tree(tmp_path, EMOVO_SAMPLE, 22050)
    with pytest.warns(CorpusWarning):
        assert load_emovo(tmp_path).sampling_rate == 22050


def test_emovo_load_audio_downmixes_stereo(tmp_path: Path) -> None:
    stereo = noise(48000, channels=2, seed=3)
    write_wav(tmp_path / "f1" / "dis-f1-b1.wav", stereo, 48000, subtype="FLOAT")
    write_wav(tmp_path / "m1" / "neu-m1-b1.wav", noise(48000, seed=4), 48000, subtype="FLOAT")
    with pytest.warns(CorpusWarning):
        bunch = load_emovo(tmp_path, load_audio=True)
    downmix, mono = bunch.data
    assert downmix.dtype == np.float32 and downmix.shape == (2400,)
    np.testing.assert_allclose(downmix, stereo.mean(axis=1), atol=1e-7)
    np.testing.assert_array_equal(mono, noise(48000, seed=4))


def test_emovo_unknown_emotion_code_is_unparsed(tmp_path: Path) -> None:
    write_tree(tmp_path, [*EMOVO_SAMPLE, "f1/xyz-f1-b1.wav", "f1/dis-x1-b1.wav"], 48000)
    with pytest.raises(ParameterError, match=r"2 EMOVO item\(s\).*f1/dis-x1-b1\.wav"):
        load_emovo(tmp_path, strict=True)


# ------------------------------------------------------------------- RAVDESS

RAVDESS_SAMPLE = [
    "Actor_01/03-01-01-01-01-01-01.wav",
    "Actor_01/03-01-02-02-02-02-01.wav",
    "Actor_02/03-01-06-01-01-02-02.wav",
    "Actor_02/03-01-08-02-02-01-02.wav",
    "Actor_13/03-01-03-01-02-01-13.wav",
]
RAVDESS_OUT_OF_SCOPE = [
    "Actor_01/03-02-03-01-01-01-01.wav",  # song
    "Actor_02/01-01-03-01-01-01-02.wav",  # audio-video
]


@pytest.fixture
def ravdess_tree(tmp_path: Path) -> Path:
    write_tree(tmp_path, RAVDESS_SAMPLE, 48000, stereo=RAVDESS_SAMPLE[1:2])
    return tmp_path


def test_ravdess_parses_names(ravdess_tree: Path) -> None:
    with pytest.warns(CorpusWarning, match="5 of 1440 files"):
        bunch = load_ravdess(ravdess_tree)
    check_bunch(bunch, "ravdess", 48000)
    assert list(bunch.target) == ["neutral", "calm", "fear", "surprise", "happy"]
    assert list(bunch.speaker) == ["01", "01", "02", "02", "13"]
    assert list(bunch.gender) == ["male", "male", "female", "female", "male"]
    frame = bunch.frame
    assert list(frame.columns[5:]) == [
        "intensity",
        "statement",
        "repetition",
        "modality",
        "vocal_channel",
    ]
    assert list(frame["label_code"]) == ["01", "02", "06", "08", "03"]
    assert list(frame["intensity"]) == ["normal", "strong", "normal", "strong", "normal"]
    assert list(frame["statement"]) == [1, 2, 1, 2, 2]
    assert list(frame["repetition"]) == [1, 2, 2, 1, 1]


def test_ravdess_skips_song_and_video_with_a_count(ravdess_tree: Path) -> None:
    write_tree(ravdess_tree, RAVDESS_OUT_OF_SCOPE, 48000)
    with pytest.warns(CorpusWarning) as record:
        bunch = load_ravdess(ravdess_tree, strict=True)  # out-of-scope is not unparsed
    assert str(record[0].message).startswith("skipped 2 RAVDESS song or video file(s)")
    assert len(bunch.filenames) == 5


def test_ravdess_calm_as_neutral(ravdess_tree: Path) -> None:
    with pytest.warns(CorpusWarning):
        bunch = load_ravdess(ravdess_tree, calm_as_neutral=True)
    assert list(bunch.target) == ["neutral", "neutral", "fear", "surprise", "happy"]
    assert list(bunch.frame["label_code"]) == ["01", "02", "06", "08", "03"]
    assert "calm" not in bunch.target_names


@pytest.mark.parametrize("calm_as_neutral", [False, True])
def test_ravdess_full_tree_loads_without_warning(tmp_path: Path, calm_as_neutral: bool) -> None:
    write_tree(tmp_path / "Audio_Speech_Actors_01-24", full_ravdess_names(), 48000)
    bunch = load_silently(load_ravdess, tmp_path, calm_as_neutral=calm_as_neutral)
    counts = Counter(bunch.target)
    assert len(bunch.filenames) == 1440 and len(set(bunch.speaker)) == 24
    if calm_as_neutral:
        assert counts["neutral"] == 288 and "calm" not in counts
    else:
        assert counts["neutral"] == 96 and counts["calm"] == 192
    assert Counter(bunch.gender) == {"male": 720, "female": 720}


def test_ravdess_load_audio_downmixes(ravdess_tree: Path) -> None:
    with pytest.warns(CorpusWarning):
        bunch = load_ravdess(ravdess_tree, load_audio=True)
    stereo, _ = sf.read(bunch.filenames[1], dtype="float32")
    assert stereo.shape == (2400, 2)
    assert all(w.dtype == np.float32 and w.ndim == 1 for w in bunch.data)
    np.testing.assert_allclose(bunch.data[1], stereo.mean(axis=1), atol=1e-6)


# --------------------------------------------------------------------- SAVEE

SAVEE_NESTED = ["DC/a01.wav", "DC/sa03.wav", "JE/su15.wav", "JK/n30.wav", "KL/d02.wav"]
SAVEE_EXPECTED = {
    "targets": ["angry", "sad", "surprise", "neutral", "disgust"],
    "speakers": ["DC", "DC", "JE", "JK", "KL"],
    "codes": ["a", "sa", "su", "n", "d"],
    "sentences": [1, 3, 15, 30, 2],
}


@pytest.mark.parametrize("layout", ["AudioData", "root-is-AudioData", "flat"])
def test_savee_layouts(tmp_path: Path, layout: str) -> None:
    if layout == "flat":
        write_tree(tmp_path, [n.replace("/", "_") for n in SAVEE_NESTED], 44100)
        root = tmp_path
    else:
        write_tree(tmp_path / "AudioData", SAVEE_NESTED, 44100)
        root = tmp_path if layout == "AudioData" else tmp_path / "AudioData"
    with pytest.warns(CorpusWarning, match="5 of 480 files"):
        bunch = load_savee(root)
    check_bunch(bunch, "savee", 44100)
    assert list(bunch.target) == SAVEE_EXPECTED["targets"]
    assert list(bunch.speaker) == SAVEE_EXPECTED["speakers"]
    assert list(bunch.frame["label_code"]) == SAVEE_EXPECTED["codes"]
    assert list(bunch.frame["sentence"]) == SAVEE_EXPECTED["sentences"]
    assert set(bunch.gender) == {"male"}


def test_savee_full_flat_tree_loads_without_warning(tmp_path: Path) -> None:
    write_tree(tmp_path, full_savee_names(), 44100)
    bunch = load_silently(load_savee, tmp_path)
    assert len(bunch.filenames) == 480
    assert Counter(bunch.target)["neutral"] == 120 and Counter(bunch.target)["sad"] == 60


def test_savee_bad_codes_and_speakers_are_unparsed(tmp_path: Path) -> None:
    write_tree(tmp_path, ["DC_a01.wav", "DC_s01.wav", "XX_a01.wav", "DC_a1.wav"], 44100)
    with pytest.warns(CorpusWarning) as record:
        bunch = load_savee(tmp_path)
    [unparsed] = [str(w.message) for w in record if "naming convention" in str(w.message)]
    assert all(n in unparsed for n in ("DC_s01.wav", "XX_a01.wav", "DC_a1.wav"))
    assert names(bunch) == ["DC_a01.wav"]


# ------------------------------------------------------------------- CREMA-D

CREMAD_SAMPLE = [
    "1001_DFA_ANG_XX.wav",
    "1001_IEO_HAP_HI.wav",
    "1002_TIE_NEU_XX.wav",
    "1076_MTI_SAD_XX.wav",  # no audio in the release
    "1091_WSI_FEA_LO.wav",
    "1091_ITS_DIS_MD.wav",
]
DEMOGRAPHICS = (
    "ActorID,Age,Sex,Race,Ethnicity\n"
    "1001,51,Male,Caucasian,Not Hispanic\n"
    "1002,21,Female,Caucasian,Not Hispanic\n"
    "1076,25,Female,African American,Not Hispanic\n"
    "1091,29,Female,Asian,Not Hispanic\n"
)


@pytest.fixture
def cremad_tree(tmp_path: Path) -> Path:
    audio = tmp_path / "AudioWAV"
    write_tree(audio, [n for n in CREMAD_SAMPLE if not n.startswith("1076")], 16000)
    write_wav(audio / "1076_MTI_SAD_XX.wav", np.zeros(0, dtype=np.float32), 16000)
    write_text(tmp_path / "VideoDemographics.csv", DEMOGRAPHICS)
    return tmp_path


def test_cremad_parses_names_and_demographics(cremad_tree: Path) -> None:
    with pytest.warns(CorpusWarning) as record:
        bunch = load_cremad(cremad_tree)
    messages = [str(w.message) for w in record]
    assert len(messages) == 2
    assert "1 CREMA-D file(s) contain no audio" in messages[0]
    assert "AudioWAV/1076_MTI_SAD_XX.wav" in messages[0]
    # the empty file is part of the tree: counted as present, not as missing
    assert "6 of 7442 files" in messages[1] and "sad 1/1271" in messages[1]
    check_bunch(bunch, "cremad", 16000)
    assert names(bunch) == sorted(n for n in CREMAD_SAMPLE if not n.startswith("1076"))
    assert list(bunch.target) == ["angry", "happy", "neutral", "disgust", "fear"]
    assert list(bunch.speaker) == ["1001", "1001", "1002", "1091", "1091"]
    assert list(bunch.gender) == ["male", "male", "female", "female", "female"]
    frame = bunch.frame
    assert list(frame.columns[5:]) == ["sentence", "intensity", "age", "race", "ethnicity"]
    assert list(frame["sentence"]) == ["DFA", "IEO", "TIE", "ITS", "WSI"]
    assert list(frame["intensity"]) == ["unspecified", "high", "unspecified", "medium", "low"]
    assert list(frame["label_code"]) == ["ANG", "HAP", "NEU", "DIS", "FEA"]
    assert list(frame["age"]) == [51, 51, 21, 29, 29]
    assert "English" in bunch.DESCR and "Chinese" in bunch.DESCR


def test_cremad_root_may_be_audiowav_with_demographics_next_to_it(cremad_tree: Path) -> None:
    with pytest.warns(CorpusWarning):
        bunch = load_cremad(cremad_tree / "AudioWAV")
    assert list(bunch.gender) == ["male", "male", "female", "female", "female"]


def test_cremad_without_demographics_gender_is_unknown(cremad_tree: Path) -> None:
    (cremad_tree / "VideoDemographics.csv").unlink()
    with pytest.warns(CorpusWarning) as record:
        bunch = load_cremad(cremad_tree)
    assert str(record[0].message).startswith("no CREMA-D VideoDemographics.csv in")
    assert set(bunch.gender) == {"unknown"}
    assert "age" not in bunch.frame.columns


def test_cremad_actor_missing_from_demographics(cremad_tree: Path) -> None:
    write_text(cremad_tree / "VideoDemographics.csv", DEMOGRAPHICS.replace("1091,", "1090,"))
    with pytest.warns(CorpusWarning) as record:
        bunch = load_cremad(cremad_tree)
    assert "has no row for actor(s) 1091" in str(record[0].message)
    assert list(bunch.gender) == ["male", "male", "female", "unknown", "unknown"]


def test_cremad_bad_demographics_columns_raise(cremad_tree: Path) -> None:
    write_text(cremad_tree / "VideoDemographics.csv", "id,sex\n1001,Male\n")
    with pytest.raises(ParameterError, match=r"VideoDemographics\.csv.*ActorID and Sex"):
        load_cremad(cremad_tree)


def test_tree_of_empty_files_raises(tmp_path: Path) -> None:
    write_wav(tmp_path / "1076_MTI_SAD_XX.wav", np.zeros(0, dtype=np.float32), 16000)
    with pytest.warns(CorpusWarning):
        with pytest.raises(ParameterError, match="of 1 expected files, 1 without audio"):
            load_cremad(tmp_path)


# ------------------------------------------------------------------- IEMOCAP

IEMOCAP_LABELS = {
    "Ses01F_impro01": {
        "Ses01F_impro01_F000": "neu",
        "Ses01F_impro01_M001": "exc",
        "Ses01F_impro01_F002": "fru",
        "Ses01F_impro01_M003": "ang",
    },
    "Ses05M_script01_3": {
        "Ses05M_script01_3_F000": "sad",
        "Ses05M_script01_3_M001": "hap",
        "Ses05M_script01_3_F002": "xxx",
    },
}


@pytest.fixture
def iemocap_tree(tmp_path: Path) -> Path:
    for dialog, labels in IEMOCAP_LABELS.items():
        write_iemocap_dialog(tmp_path, dialog, labels)
    # sub-folders of EmoEvaluation hold per-evaluator labels: never read
    write_text(
        tmp_path / "Session1/dialog/EmoEvaluation/Categorical/Ses01F_impro01_e1_cat.txt",
        iemocap_line("Ses01F_impro01_F002", "ang"),
    )
    return tmp_path


def test_iemocap_parses_labels(iemocap_tree: Path) -> None:
    with pytest.warns(CorpusWarning, match="5 of 5531 files"):
        bunch = load_iemocap(iemocap_tree)
    check_bunch(bunch, "iemocap", 16000)
    assert names(bunch) == [
        "Ses01F_impro01_F000.wav",
        "Ses01F_impro01_M001.wav",
        "Ses01F_impro01_M003.wav",
        "Ses05M_script01_3_F000.wav",
        "Ses05M_script01_3_M001.wav",
    ]
    assert list(bunch.target) == ["neutral", "happy", "angry", "sad", "happy"]
    assert list(bunch.frame["label_code"]) == ["neu", "exc", "ang", "sad", "hap"]
    # speaker: session + the last token's letter, not the dialog's
    assert list(bunch.speaker) == ["Ses01F", "Ses01M", "Ses01M", "Ses05F", "Ses05M"]
    assert list(bunch.gender) == ["female", "male", "male", "female", "male"]
    assert bunch.session.tolist() == [1, 1, 1, 5, 5]
    frame = bunch.frame
    assert list(frame.columns[5:]) == [
        "session",
        "dialog",
        "utterance",
        "improvised",
        "start",
        "end",
        "valence",
        "activation",
        "dominance",
    ]
    assert list(frame["dialog"]) == ["Ses01F_impro01"] * 3 + ["Ses05M_script01_3"] * 2
    assert list(frame["improvised"]) == [True, True, True, False, False]
    assert list(frame["start"]) == [0.0, 2.0, 6.0, 0.0, 2.0]
    assert list(frame["end"]) == [1.5, 3.5, 7.5, 1.5, 3.5]
    assert set(frame["valence"]) == {2.5} and set(frame["dominance"]) == {3.5}
    assert bunch.filenames[3] == str(
        iemocap_tree / "Session5/sentences/wav/Ses05M_script01_3/Ses05M_script01_3_F000.wav"
    )


def test_iemocap_merge_excited_false_drops_exc(iemocap_tree: Path) -> None:
    with pytest.warns(CorpusWarning, match=r"4 of 4490 files.*happy 1/595"):
        bunch = load_iemocap(iemocap_tree, merge_excited=False)
    assert "exc" not in set(bunch.frame["label_code"])
    assert list(bunch.target) == ["neutral", "angry", "sad", "happy"]


def test_iemocap_missing_audio_warns_or_raises(iemocap_tree: Path) -> None:
    missing = "Session1/sentences/wav/Ses01F_impro01/Ses01F_impro01_M003.wav"
    (iemocap_tree / missing).unlink()
    with pytest.warns(CorpusWarning) as record:
        bunch = load_iemocap(iemocap_tree)
    assert (
        f"1 IEMOCAP file(s) listed in the labels under {iemocap_tree} are missing: {missing}"
        in (str(record[0].message))
    )
    assert len(bunch.filenames) == 4
    with pytest.raises(ParameterError, match=missing):
        load_iemocap(iemocap_tree, strict=True)


def test_iemocap_without_any_audio_raises(iemocap_tree: Path) -> None:
    for path in (iemocap_tree / "Session1").rglob("*.wav"):
        path.unlink()
    for path in (iemocap_tree / "Session5").rglob("*.wav"):
        path.unlink()
    with pytest.warns(CorpusWarning, match="missing"):
        with pytest.raises(
            ParameterError,
            match=r"no usable IEMOCAP audio.*of 5 expected files, 5 missing \(e\.g\. Session1/",
        ):
            load_iemocap(iemocap_tree)


def test_iemocap_bad_label_lines(iemocap_tree: Path) -> None:
    label_file = iemocap_tree / "Session1/dialog/EmoEvaluation/Ses01F_impro01.txt"
    label_file.write_text(label_file.read_text() + "\n[1.0 - oops]\tSes01F_impro01_F009\tneu\n")
    with pytest.raises(ParameterError, match=r"Ses01F_impro01\.txt line 15"):
        load_iemocap(iemocap_tree, strict=True)


def test_iemocap_lfs_label_file_raises(iemocap_tree: Path) -> None:
    write_text(iemocap_tree / "Session1/dialog/EmoEvaluation/Ses01F_impro01.txt", LFS_POINTER)
    with pytest.raises(ParameterError, match="git lfs pull"):
        load_iemocap(iemocap_tree)


def test_iemocap_without_label_files_raises(tmp_path: Path) -> None:
    (tmp_path / "Session1").mkdir()
    with pytest.raises(ParameterError, match=r"Session\[1-5\]/dialog/EmoEvaluation/\*\.txt"):
        load_iemocap(tmp_path)


# ------------------------------------------- every emotion code of every loader

# Each corpus's emotion codes, written out from its documentation independently of
# the loaders, so that swapping two codes in a loader's map (SAVEE f<->h, RAVDESS
# 04<->05) fails here: the trees below hold every code, not just a sample.
EMOTION_CODES = {
    "emodb": {
        "W": "angry",  # Wut
        "L": "boredom",  # Langeweile
        "E": "disgust",  # Ekel
        "A": "fear",  # Angst
        "F": "happy",  # Freude
        "T": "sad",  # Trauer
        "N": "neutral",
    },
    "ravdess": {
        "01": "neutral",
        "02": "calm",
        "03": "happy",
        "04": "sad",
        "05": "angry",
        "06": "fear",
        "07": "disgust",
        "08": "surprise",
    },
    "savee": {
        "a": "angry",
        "d": "disgust",
        "f": "fear",
        "h": "happy",
        "n": "neutral",
        "sa": "sad",
        "su": "surprise",
    },
    "cremad": {
        "ANG": "angry",
        "DIS": "disgust",
        "FEA": "fear",
        "HAP": "happy",
        "NEU": "neutral",
        "SAD": "sad",
    },
    "emovo": {
        "dis": "disgust",  # disgusto
        "gio": "happy",  # gioia
        "neu": "neutral",
        "pau": "fear",  # paura
        "rab": "angry",  # rabbia
        "sor": "surprise",  # sorpresa
        "tri": "sad",  # tristezza
    },
    "iemocap": {"ang": "angry", "hap": "happy", "exc": "happy", "neu": "neutral", "sad": "sad"},
}
EMODB_GENDER = {
    **dict.fromkeys(["03", "10", "11", "12", "15"], "male"),
    **dict.fromkeys(["08", "09", "13", "14", "16"], "female"),
}
CREMAD_INTENSITY = {"LO": "low", "MD": "medium", "HI": "high", "XX": "unspecified"}


def code_in_name(corpus: str, filename: str) -> str:
    """The emotion code of a file, read from its name by the corpus's own convention."""
    name = Path(filename).name
    if corpus == "emodb":
        return name[5]  # 03a01Fa.wav
    if corpus == "ravdess":
        return name.split("-")[2]  # 03-01-05-01-01-01-01.wav
    if corpus == "savee":
        return (
            name.split("_")[-1].removesuffix(".wav").rstrip("0123456789")
        )  # DC_sa01.wav, sa01.wav
    if corpus == "cremad":
        return name.split("_")[2]  # 1001_IEO_ANG_HI.wav
    return name.split("-")[0]  # emovo: rab-m1-b1.wav


@pytest.mark.parametrize(
    ("corpus", "relpaths", "loader"),
    [
        ("emodb", every_code_emodb(), load_emodb),
        ("ravdess", every_code_ravdess(), load_ravdess),
        ("savee", every_code_savee(flat=True), load_savee),
        ("savee", every_code_savee(flat=False), load_savee),
        ("cremad", every_code_cremad(), load_cremad),
        ("emovo", every_code_emovo(), load_emovo),
    ],
    ids=["emodb", "ravdess", "savee-flat", "savee-nested", "cremad", "emovo"],
)
def test_every_emotion_code_is_mapped_by_name(tmp_path: Path, corpus, relpaths, loader) -> None:
    write_tree(tmp_path, relpaths, 16000)
    if corpus == "cremad":
        write_text(tmp_path / "VideoDemographics.csv", DEMOGRAPHICS)
    with pytest.warns(CorpusWarning, match="differs from the full corpus"):
        bunch = loader(tmp_path, strict=True)
    assert len(bunch.filenames) == len(relpaths)  # nothing dropped
    codes = [code_in_name(corpus, f) for f in bunch.filenames]
    assert set(codes) == set(EMOTION_CODES[corpus])  # the tree holds every code
    assert list(bunch.frame["label_code"]) == codes
    assert list(bunch.target) == [EMOTION_CODES[corpus][code] for code in codes]
    # speakers and genders, by the corpus's convention too
    if corpus == "emodb":
        assert list(bunch.speaker) == [Path(f).name[:2] for f in bunch.filenames]
        assert list(bunch.gender) == [EMODB_GENDER[s] for s in bunch.speaker]
        assert set(bunch.speaker) == set(EMODB_GENDER)
    elif corpus == "ravdess":
        assert list(bunch.speaker) == [Path(f).stem.split("-")[6] for f in bunch.filenames]
        assert list(bunch.gender) == [("female", "male")[int(s) % 2] for s in bunch.speaker]
        intensities = [Path(f).name.split("-")[3] for f in bunch.filenames]
        assert list(bunch.frame["intensity"]) == [
            {"01": "normal", "02": "strong"}[i] for i in intensities
        ]
    elif corpus == "emovo":
        assert list(bunch.speaker) == [Path(f).name.split("-")[1] for f in bunch.filenames]
        assert list(bunch.gender) == [{"f": "female", "m": "male"}[s[0]] for s in bunch.speaker]
    elif corpus == "cremad":
        levels = [Path(f).stem.split("_")[3] for f in bunch.filenames]
        assert list(bunch.frame["intensity"]) == [CREMAD_INTENSITY[lv] for lv in levels]
        assert list(bunch.gender) == [{"1001": "male", "1002": "female"}[s] for s in bunch.speaker]


def test_ravdess_calm_as_neutral_maps_only_calm(tmp_path: Path) -> None:
    write_tree(tmp_path, every_code_ravdess(), 48000)
    with pytest.warns(CorpusWarning):
        bunch = load_ravdess(tmp_path, calm_as_neutral=True)
    codes = [code_in_name("ravdess", f) for f in bunch.filenames]
    expected = {**EMOTION_CODES["ravdess"], "02": "neutral"}
    assert list(bunch.target) == [expected[code] for code in codes]
    assert list(bunch.frame["label_code"]) == codes


@pytest.mark.parametrize("merge_excited", [True, False])
def test_every_iemocap_code_is_mapped_by_name(tmp_path: Path, merge_excited: bool) -> None:
    labels = every_code_iemocap(tmp_path)
    with pytest.warns(CorpusWarning, match="differs from the full corpus"):
        bunch = load_iemocap(tmp_path, merge_excited=merge_excited, strict=True)
    expected = dict(EMOTION_CODES["iemocap"])
    if not merge_excited:
        del expected["exc"]
    utterances = [Path(f).stem for f in bunch.filenames]
    codes = [labels[u] for u in utterances]
    # every kept code is there; frustration, surprise, fear, disgust, other, xxx are not
    assert set(codes) == set(expected)
    assert sorted(utterances) == sorted(u for u, c in labels.items() if c in expected)
    assert list(bunch.frame["label_code"]) == codes
    assert list(bunch.target) == [expected[code] for code in codes]
    assert list(bunch.gender) == [{"F": "female", "M": "male"}[u[-4]] for u in utterances]
    assert list(bunch.session) == [int(u[4]) for u in utterances]


# ---------------------------------------------------------------- dispatcher


@pytest.mark.parametrize("name", ["crema-d", "CREMAD", "cremad"])
def test_load_corpus_dispatches(cremad_tree: Path, name: str) -> None:
    with pytest.warns(CorpusWarning):
        X, y = load_corpus(name, cremad_tree, return_X_y=True)
    assert len(X) == len(y) == 5


def test_load_corpus_passes_options(ravdess_tree: Path) -> None:
    with pytest.warns(CorpusWarning):
        bunch = load_corpus("ravdess", ravdess_tree, calm_as_neutral=True)
    assert "calm" not in bunch.target_names


def test_load_corpus_unknown_name_lists_valid_ones(tmp_path: Path) -> None:
    with pytest.raises(ParameterError, match="unknown corpus 'emovb'") as info:
        load_corpus("emovb", tmp_path)
    names = {*CORPUS_SPECS, *(a for spec in CORPUS_SPECS.values() for a in spec.aliases)}
    assert {"cremad", "crema-d", "crema_d", "emodb", "emo-db", "emovo", "iemocap"} <= names
    for name in names:
        assert name in str(info.value)
    assert set(CORPORA) == names


# ----------------------------------------------------------------- protocols


def toy_dataset(n_speakers: int = 6, per_speaker: int = 8, corpus: str = "emodb") -> Bunch:
    speaker = np.repeat([f"s{i}" for i in range(n_speakers)], per_speaker)
    target = np.tile(["angry", "happy", "neutral", "sad"], n_speakers * per_speaker // 4)
    session = np.repeat(np.arange(1, n_speakers + 1) // 2 + 1, per_speaker)
    return Bunch(target=target, speaker=speaker, session=session, corpus=corpus)


def cv_test_groups(dataset: Bunch, protocol: str, **kwargs) -> list[tuple[set, set]]:
    """Run cross_validate and return the (train, test) speaker sets of each fold."""
    cv, groups = get_cv(dataset, protocol, **kwargs)
    X = np.zeros((len(dataset.target), 1))
    result = cross_validate(
        DummyClassifier(), X, dataset.target, cv=cv, groups=groups, return_indices=True
    )
    return [
        (set(dataset.speaker[train]), set(dataset.speaker[test]))
        for train, test in zip(result["indices"]["train"], result["indices"]["test"], strict=True)
    ]


def test_paper_protocol_is_stratified_5_fold() -> None:
    cv, groups = get_cv(toy_dataset(), "paper", random_state=3)
    assert isinstance(cv, StratifiedKFold) and groups is None
    assert cv.n_splits == 5 and cv.shuffle and cv.random_state == 3
    folds = cv_test_groups(toy_dataset(), "paper")
    assert len(folds) == 5
    assert any(train & test for train, test in folds)  # speakers are shared


def test_loso_never_shares_a_speaker() -> None:
    cv, groups = get_cv(toy_dataset(), "loso")
    assert isinstance(cv, LeaveOneGroupOut)
    np.testing.assert_array_equal(groups, toy_dataset().speaker)
    folds = cv_test_groups(toy_dataset(), "loso")
    assert len(folds) == 6
    assert all(len(test) == 1 and not train & test for train, test in folds)


def test_session_protocol_leaves_one_session_out() -> None:
    dataset = toy_dataset()
    cv, groups = get_cv(dataset, "session")
    np.testing.assert_array_equal(groups, dataset.session)
    splits = list(cv.split(np.zeros(len(groups)), dataset.target, groups))
    assert len(splits) == len(set(dataset.session))
    for train, test in splits:
        assert len(set(groups[test])) == 1 and not set(groups[train]) & set(groups[test])


def test_session_protocol_needs_sessions() -> None:
    dataset = toy_dataset()
    del dataset["session"]
    with pytest.raises(ParameterError, match=r"dataset\.session"):
        get_cv(dataset, "session")


def test_speaker_kfold() -> None:
    dataset = toy_dataset(n_speakers=10)
    cv, _ = get_cv(dataset, "speaker-kfold", n_splits=5)
    assert isinstance(cv, StratifiedGroupKFold) and cv.n_splits == 5
    folds = cv_test_groups(dataset, "speaker-kfold", n_splits=5)
    assert len(folds) == 5 and all(not train & test for train, test in folds)
    assert set().union(*(test for _, test in folds)) == set(dataset.speaker)


def test_speaker_kfold_needs_enough_speakers() -> None:
    with pytest.raises(ParameterError, match="at least 5 speakers, got 3"):
        get_cv(toy_dataset(n_speakers=3), "speaker-kfold")


@pytest.mark.parametrize("n_splits", [1, 2.5, True])
def test_bad_n_splits(n_splits) -> None:
    with pytest.raises(ParameterError, match="n_splits"):
        get_cv(toy_dataset(), "paper", n_splits=n_splits)


@pytest.mark.parametrize(
    ("corpus", "cv_type"),
    [("emodb", LeaveOneGroupOut), ("ravdess", StratifiedGroupKFold), ("iemocap", LeaveOneGroupOut)],
)
def test_recommended_protocol(corpus: str, cv_type: type) -> None:
    dataset = toy_dataset(corpus=corpus)
    cv, groups = get_cv(dataset, "recommended")
    assert isinstance(cv, cv_type)
    field = "session" if RECOMMENDED_PROTOCOL[corpus] == "session" else "speaker"
    np.testing.assert_array_equal(groups, dataset[field])


def test_unknown_protocol_and_corpus() -> None:
    with pytest.raises(ParameterError, match=r"unknown protocol 'lolo'.*loso"):
        get_cv(toy_dataset(), "lolo")
    with pytest.raises(ParameterError, match="no recommended protocol for corpus 'other'"):
        get_cv(toy_dataset(corpus="other"), "recommended")


def test_loso_on_a_loaded_corpus(emodb_tree: Path) -> None:
    with pytest.warns(CorpusWarning):
        bunch = load_emodb(emodb_tree)
    folds = cv_test_groups(bunch, "loso")
    assert len(folds) == 5 and all(not train & test for train, test in folds)


# ----------------------------------------------------------------- real data


@pytest.mark.realdata
def test_real_emodb_partial_tree(emodb_root: Path) -> None:
    with pytest.warns(CorpusWarning) as record:
        bunch = load_emodb(emodb_root)
    [message] = [str(w.message) for w in record]
    assert "339 of 535 files" in message and "missing classes: boredom, disgust, fear" in message
    check_bunch(bunch, "emodb", 16000)
    assert len(bunch.filenames) == 339
    assert Counter(bunch.target) == {"angry": 127, "happy": 71, "neutral": 79, "sad": 62}
    assert len(set(bunch.speaker)) == 10
    speakers_by_gender = bunch.frame.groupby("gender")["speaker"].nunique().to_dict()
    assert speakers_by_gender == {"female": 5, "male": 5}


@pytest.mark.realdata
def test_real_emovo_full_tree(emovo_root: Path) -> None:
    bunch = load_silently(load_emovo, emovo_root, strict=True)
    check_bunch(bunch, "emovo", 22050)
    assert len(bunch.filenames) == 588
    assert Counter(bunch.target) == dict.fromkeys(
        ("angry", "disgust", "fear", "happy", "neutral", "sad", "surprise"), 84
    )
    assert sorted(set(bunch.speaker)) == ["f1", "f2", "f3", "m1", "m2", "m3"]
    assert bunch.frame["sentence"].nunique() == 14
    folds = cv_test_groups(bunch, "loso")
    assert len(folds) == 6 and all(not train & test for train, test in folds)


def test_fill_doc_puts_the_shared_paragraphs_where_a_loader_names_them() -> None:
    from sertools.datasets import _base, emodb

    def load_x(root: str) -> None:
        """Load X.

        Warns
        -----
        %(warns)s
            Also for something of its own.
        """

    filled = _base.fill_doc(emodb.SPEC)(load_x).__doc__
    assert "        CorpusWarning\n            For the files skipped" in filled
    assert "full 535-file release.\n            Also for something" in filled

    def load_y(root: str) -> None:
        """Load Y.

        %(no_such_paragraph)s
        """

    with pytest.raises(ValueError, match=r"%\(no_such_paragraph\)s"):
        _base.fill_doc(emodb.SPEC)(load_y)
    for name in CORPORA:
        doc = CORPORA[name].__doc__
        assert "%(" not in doc and "strict : bool" in doc and "(X, target) : tuple" in doc
