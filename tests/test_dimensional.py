"""Dimensional labels of the corpora: IEMOCAP's EmoEvaluation [V, A, D] as Bunch fields."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
from _fake_dimensional import write_emoevaluation

from sertools import ParameterError
from sertools.datasets import CorpusWarning, load_corpus, load_iemocap

TURNS = {
    "Ses01F_impro01": {
        "Ses01F_impro01_F000": ("neu", "[2.5000, 2.5000, 2.5000]"),
        "Ses01F_impro01_M001": ("exc", "[4.0000, 3.5000, 3.0000]"),
        "Ses01F_impro01_F002": ("fru", "[1.5000, 4.0000, 4.0000]"),  # not a kept class
        "Ses01F_impro01_M003": ("ang", "[1.5000,  4.5000,  4.5000]"),  # spacing varies
    },
    "Ses05M_script01_3": {
        "Ses05M_script01_3_F000": ("sad", "[1.0000, 1.6667, 2.3333]"),
        "Ses05M_script01_3_M001": ("hap", "[5.0000, 3.3333, 3.0000]"),
    },
}


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    for dialog, turns in TURNS.items():
        write_emoevaluation(tmp_path, dialog, turns)
    return tmp_path


def _load(root: Path, **kwargs):
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "IEMOCAP under .* differs from the full corpus")
        return load_iemocap(root, **kwargs)


def test_iemocap_dimensions_are_bunch_fields(tree: Path) -> None:
    bunch = _load(tree)
    assert [Path(f).name for f in bunch.filenames] == [
        "Ses01F_impro01_F000.wav",
        "Ses01F_impro01_M001.wav",
        "Ses01F_impro01_M003.wav",
        "Ses05M_script01_3_F000.wav",
        "Ses05M_script01_3_M001.wav",
    ]
    assert bunch.target.tolist() == ["neutral", "happy", "angry", "sad", "happy"]
    # arousal is IEMOCAP's activation (the second number), valence the first, dominance the third
    assert bunch.arousal.tolist() == [2.5, 3.5, 4.5, 1.6667, 3.3333]
    assert bunch.valence.tolist() == [2.5, 4.0, 1.5, 1.0, 5.0]
    assert bunch.dominance.tolist() == [2.5, 3.0, 4.5, 2.3333, 3.0]
    for dim in ("arousal", "valence", "dominance"):
        assert bunch[dim].dtype == np.float64 and bunch[dim].shape == (5,)
        assert np.isfinite(bunch[dim]).all()
    np.testing.assert_array_equal(bunch.frame["activation"], bunch.arousal)
    np.testing.assert_array_equal(bunch.frame["valence"], bunch.valence)
    np.testing.assert_array_equal(bunch.frame["dominance"], bunch.dominance)
    # the rest of the Bunch is untouched by the dimensional fields
    assert bunch.speaker.tolist() == ["Ses01F", "Ses01M", "Ses01M", "Ses05F", "Ses05M"]
    assert bunch.session.tolist() == [1, 1, 1, 5, 5]
    assert bunch.frame["label_code"].tolist() == ["neu", "exc", "ang", "sad", "hap"]
    # through the name-based loader too
    assert _load_by_name(tree).arousal.tolist() == bunch.arousal.tolist()


def _load_by_name(root: Path):
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "IEMOCAP under .* differs from the full corpus")
        return load_corpus("iemocap", root)


def test_iemocap_dimensions_follow_merge_excited_and_return_x_y(tree: Path) -> None:
    bunch = _load(tree, merge_excited=False)
    assert bunch.frame["label_code"].tolist() == ["neu", "ang", "sad", "hap"]
    assert bunch.arousal.tolist() == [2.5, 4.5, 1.6667, 3.3333]
    X, y = _load(tree, return_X_y=True)
    assert [Path(f).name for f in X][:2] == ["Ses01F_impro01_F000.wav", "Ses01F_impro01_M001.wav"]
    assert y.tolist() == ["neutral", "happy", "angry", "sad", "happy"]


def test_iemocap_turns_without_a_rating_are_reported_not_guessed(tmp_path: Path) -> None:
    write_emoevaluation(
        tmp_path,
        "Ses02F_impro03",
        {
            "Ses02F_impro03_F000": ("neu", "[2.5000, 2.5000, 2.5000]"),
            "Ses02F_impro03_M001": ("ang", None),  # no [V, A, D] on the line
            "Ses02F_impro03_F002": ("sad", "[nan, nan, nan]"),
            "Ses02F_impro03_M003": ("hap", "[0.0000, 3.0000, 3.0000]"),  # off the 1-5 scale
            "Ses02F_impro03_F004": ("fru", None),  # not a kept class: not reported
        },
    )
    with pytest.warns(CorpusWarning) as caught:
        bunch = load_iemocap(tmp_path)
    messages = [str(w.message) for w in caught]
    unrated = [m for m in messages if "no [valence, activation, dominance] rating" in m]
    assert unrated == [
        f"3 IEMOCAP utterance(s) under {tmp_path} have no [valence, activation, dominance] "
        "rating on the 1-5 scale and are left out (not guessed): "
        "Ses02F_impro03_M001 (Session2/dialog/EmoEvaluation/Ses02F_impro03.txt line 9), "
        "Ses02F_impro03_F002 (Session2/dialog/EmoEvaluation/Ses02F_impro03.txt line 15), "
        "Ses02F_impro03_M003 (Session2/dialog/EmoEvaluation/Ses02F_impro03.txt line 21)"
    ]
    assert bunch.target.tolist() == ["neutral"]
    assert bunch.arousal.tolist() == [2.5]
    assert not np.isnan(bunch.valence).any()


def test_iemocap_only_unrated_turns_raise(tmp_path: Path) -> None:
    write_emoevaluation(tmp_path, "Ses02F_impro03", {"Ses02F_impro03_M001": ("ang", None)})
    with pytest.warns(CorpusWarning, match="no .valence, activation, dominance. rating"):
        with pytest.raises(ParameterError, match="no IEMOCAP files"):
            load_iemocap(tmp_path)
