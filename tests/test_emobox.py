"""EmoBox partitions (load_emobox), PredefinedFolds and the leak audit (issue #22)."""

from __future__ import annotations

import copy
import json
import pickle
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from _fake_corpora import write_tree
from sklearn.base import clone
from sklearn.model_selection import KFold, LeaveOneGroupOut, StratifiedKFold

from sertools import ParameterError
from sertools.datasets import (
    EMOBOX_RESULTS,
    CorpusWarning,
    PredefinedFolds,
    audit_folds,
    emobox_folds,
    emobox_reference,
    get_cv,
    load_emobox,
)


def write_jsonl(path: Path, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))


def emobox_row(key: str, wav: str, emo: str, *, alt: bool = False) -> dict:
    if alt:  # the second spelling found in EmoBox's EMODB fold_1
        return {"key": key, "dataset": "emodb", "audio": wav, "label": emo}
    return {"key": key, "dataset": "emodb", "wav": wav, "emo": emo, "channel": 1}


@pytest.fixture
def fake_emobox(tmp_path: Path) -> tuple[Path, Path, list[str]]:
    """EMODB-like EmoBox files: 2 folds, mixed keys, 'boredem', a 'Neutral' map key."""
    names = ["03a01Wa", "03a01Lb", "08a01Na", "08a01Wa", "09a01Lb", "09a01Nc"]
    emo = {"W": "anger", "L": "boredem", "N": "neutral"}
    rows = [emobox_row(f"emodb-{n}", f"downloads/emodb/wav/{n}.wav", emo[n[5]]) for n in names]
    meta = tmp_path / "data" / "emodb"
    write_jsonl(meta / "emodb.jsonl", rows)
    (meta / "label_map.json").write_text(
        json.dumps({"anger": "Angry", "boredem": "Boredom", "Neutral": "Neutral"})
    )
    tests = [[0, 2, 4], [1, 3, 5]]
    for f, test in enumerate(tests, start=1):
        train = [i for i in range(6) if i not in test]
        write_jsonl(meta / f"fold_{f}/emodb_test_fold_{f}.jsonl", [rows[i] for i in test])
        write_jsonl(meta / f"fold_{f}/emodb_train_fold_{f}.jsonl", [rows[i] for i in train])
    alt = [emobox_row(rows[i]["key"], rows[i]["wav"], rows[i]["emo"], alt=True) for i in (1, 3, 5)]
    write_jsonl(meta / "fold_1/emodb_train_fold1.jsonl", alt)
    audio = tmp_path / "EMODB"
    write_tree(audio, [f"wav/{n}.wav" for n in names[:5]], 16000)  # 09a01Nc is missing
    return tmp_path / "data", audio, names


def test_fake_emobox_maps_keys_labels_paths_and_says_so(fake_emobox) -> None:
    meta, audio, names = fake_emobox
    with pytest.warns(CorpusWarning) as record:
        bunch = load_emobox("emodb", meta, audio)
    [message] = [str(w.message) for w in record if "EmoBox emodb" in str(w.message)]
    assert "'boredem' is EmoBox's spelling of 'boredom'" in message
    assert "label_map.json spells the key 'Neutral': matched ignoring case" in message
    assert "1 fold sides have several files listing the same clips" in message
    assert "fold_1 train: emodb_train_fold_1.jsonl = emodb_train_fold1.jsonl (3 clips)" in message
    assert "audio/label (1 files, e.g. emodb_train_fold1.jsonl)" in message and "wav/emo" in message
    assert "'anger' is" not in message  # an ordinary word, not a misspelling
    assert "downloads/emodb/<rest>" in message and "5 of 6 found" in message
    assert "1 of the 6 clips EmoBox lists for emodb are not under" in message
    assert "neutral 1" in message
    assert [Path(f).stem for f in bunch.filenames] == sorted(names[:5])
    by_name = dict(zip((Path(f).stem for f in bunch.filenames), bunch.target, strict=True))
    assert by_name == {
        "03a01Wa": "angry",
        "03a01Lb": "boredom",
        "08a01Na": "neutral",
        "08a01Wa": "angry",
        "09a01Lb": "boredom",
    }
    assert bunch.frame["label_code"].tolist()[:2] == ["boredem", "anger"]
    # speakers and texts from the EMODB file names
    assert bunch.speaker.tolist() == [Path(f).stem[:2] for f in bunch.filenames]
    assert set(bunch.gender) == {"male", "female"}
    # the folds, exactly as published, less the missing clip
    stems = [Path(f).stem for f in bunch.filenames]
    folds = [
        ({stems[i] for i in tr}, {stems[i] for i in te})
        for tr, te in bunch.cv.split(bunch.filenames)
    ]
    assert folds == [
        ({"03a01Lb", "08a01Wa"}, {"03a01Wa", "08a01Na", "09a01Lb"}),
        ({"03a01Wa", "08a01Na", "09a01Lb"}, {"03a01Lb", "08a01Wa"}),
    ]
    assert get_cv(bunch, "emobox")[0] is bunch.cv
    assert bunch.n_listed == 6 and bunch.reference is None
    with pytest.raises(ParameterError, match="1 of the 6 clips"):
        load_emobox("emodb", meta, audio, strict=True)


def test_label_map_override_and_disagreeing_fold_files(fake_emobox) -> None:
    meta, audio, _ = fake_emobox
    with pytest.warns(CorpusWarning):
        bunch = load_emobox("emodb", meta / "emodb", audio, label_map={"boredem": "neutral"})
    assert "boredom" not in set(bunch.target)
    write_jsonl(
        meta / "emodb/fold_1/emodb_train_fold1.jsonl",
        [emobox_row("emodb-03a01Wa", "downloads/emodb/wav/03a01Wa.wav", "anger", alt=True)],
    )
    with pytest.raises(ParameterError, match="list different train clips"):
        load_emobox("emodb", meta, audio)


def test_no_audio_under_root_and_no_metadata(fake_emobox, tmp_path: Path) -> None:
    meta, _, _ = fake_emobox
    (tmp_path / "empty").mkdir()
    with pytest.raises(ParameterError, match="none of the 6 clips EmoBox lists"):
        load_emobox("emodb", meta, tmp_path / "empty")
    with pytest.raises(ParameterError, match="no EmoBox metadata for 'emovo'"):
        load_emobox("emovo", meta, tmp_path / "empty")


def test_published_figures_are_data_with_their_source() -> None:
    assert {k: v["uar"] for k, v in EMOBOX_RESULTS.items()} == {
        "emovo": 57.82,
        "ravdess": 75.32,
        "cremad": 76.75,
        "iemocap": 73.54,
    }
    assert "Interspeech 2024" in emobox_reference("emovo")["source"]
    assert emobox_reference("tess") is None


# ------------------------------------------------------------------ PredefinedFolds


def test_predefined_folds_are_a_plain_scikit_learn_splitter() -> None:
    cv = PredefinedFolds(membership=np.array([[2, 1], [1, 2], [0, 1]]))
    for other in (clone(cv, safe=False), copy.deepcopy(cv), pickle.loads(pickle.dumps(cv))):
        assert [(a.tolist(), b.tolist()) for a, b in other.split(np.zeros(3))] == [
            ([1], [0]),
            ([0, 2], [1]),
        ]
    assert "PredefinedFolds(membership=" in repr(cv) and cv.get_n_splits() == 2
    with pytest.raises(ParameterError, match="holds 3 clips but X has 4"):
        list(cv.split(np.zeros(4)))
    with pytest.raises(ParameterError, match=r"membership\[0, 1\] is 7"):
        PredefinedFolds(membership=[[2, 7]]).get_n_splits()


# ------------------------------------------------------------------------ the audit


def test_audit_reports_shared_speakers_texts_and_coverage() -> None:
    y = np.array(["a", "b"] * 6)
    spk = np.repeat(["s1", "s2", "s3"], 4)
    texts = np.tile(["t1", "t2"], 6)
    loso = audit_folds(LeaveOneGroupOut(), np.zeros((12, 1)), y, spk, texts=texts)
    assert not loso.speaker_dependent
    assert loso.folds["shared_speakers"].tolist() == [0, 0, 0]
    assert loso.folds["shared_texts"].tolist() == [2, 2, 2]
    assert str(loso).startswith("Speaker-independent: no fold of 3")
    kfold = audit_folds(StratifiedKFold(3), np.zeros((12, 1)), y, np.tile(["s1", "s2", "s3"], 4))
    assert kfold.speaker_dependent and "Speaker-dependent" in kfold.to_markdown()
    assert kfold.folds["test_classes"][0] == {"a": 2, "b": 2}
    # one test fold that covers only a third, and a clip tested twice
    partial = audit_folds([([4, 5], [0, 1, 2, 3]), ([0, 1], [3])], np.zeros((6, 1)))
    assert partial.never_tested == [4, 5] and partial.tested_more_than_once == [3]
    assert "2 of 6 clips are in no test fold" in str(partial)
    assert "Speakers unknown" in partial.headline()
    with pytest.raises(ParameterError, match="groups has 2 entries but X has 12"):
        audit_folds(KFold(2), np.zeros((12, 1)), groups=["a", "b"])


# ------------------------------------------------------------------ real EmoBox files


def emobox_root() -> Path:
    import os

    root = os.environ.get("SERTOOLS_TEST_DATA")
    if not root or not (Path(root) / "emobox").is_dir():
        pytest.skip("SERTOOLS_TEST_DATA/emobox not found (the real EmoBox partitions)")
    return Path(root)


@pytest.mark.realdata
def test_real_emobox_emovo_reproduces_the_published_folds() -> None:
    data = emobox_root()
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # EMOVO's files need no special handling
        bunch = load_emobox("emovo", data / "emobox", data / "emovo")
    assert len(bunch.filenames) == 588 and bunch.cv.get_n_splits() == 6
    key_of = dict(zip(bunch.filenames, bunch.frame["key"], strict=True))
    for j, (train, test) in enumerate(bunch.cv.split(bunch.filenames), start=1):
        folder = data / "emobox" / "emovo" / f"fold_{j}"
        published = {
            side: [json.loads(x)["key"] for x in (folder / f"emovo_{side}_fold_{j}.jsonl").open()]
            for side in ("train", "test")
        }
        assert sorted(key_of[bunch.filenames[i]] for i in test) == sorted(published["test"])
        assert sorted(key_of[bunch.filenames[i]] for i in train) == sorted(published["train"])
        assert len(set(bunch.speaker[test])) == 1  # one speaker per test fold
    audit = audit_folds(bunch.cv, bunch.filenames, bunch.target, bunch.speaker)
    assert not audit.speaker_dependent
    assert Counter(bunch.target) == dict.fromkeys(
        ("angry", "disgust", "fear", "happy", "neutral", "sad", "surprise"), 84
    )


@pytest.mark.realdata
def test_real_emobox_emodb_folds_share_every_speaker() -> None:
    data = emobox_root()
    with pytest.warns(CorpusWarning) as record:
        bunch = load_emobox("emodb", data / "emobox", data / "emodb")
    [message] = [str(w.message) for w in record if "EmoBox emodb" in str(w.message)]
    assert "196 of the 535 clips" in message
    assert "boredom 81, disgust 46, fear 69" in message
    assert "'boredem' is EmoBox's spelling of 'boredom'" in message
    assert len(bunch.filenames) == 339 and bunch.cv.get_n_splits() == 5
    audit = audit_folds(
        bunch.cv, bunch.filenames, bunch.target, bunch.speaker, texts=bunch.frame["text"]
    )
    assert audit.speaker_dependent
    # our 4-emotion copy: every test speaker of every fold is also in training
    assert audit.folds["shared_speakers"].tolist() == audit.folds["test_speakers"].tolist()
    assert str(audit).startswith("Speaker-dependent: 5 of 5 folds")
    # the published folds over all 535 clips: 10 of 10 speakers shared in every fold
    full = emobox_folds("emodb", data / "emobox")
    assert len(full.key) == 535 and sorted(set(full.speaker))[:2] == ["female_08", "female_09"]
    audit = audit_folds(full.cv, full.key, full.target, full.speaker)
    assert audit.folds["test_speakers"].tolist() == [10] * 5
    assert audit.folds["shared_speakers"].tolist() == [10] * 5
    assert audit.folds["n_test"].tolist() == [107] * 5 and not audit.never_tested
    assert "fold 1: 428 train / 107 test clips; 10 of 10 test speakers also in training" in str(
        audit
    )
