"""ShEMO, the Sharif Emotional Speech Database (Persian)."""

from __future__ import annotations

import re

from ._base import (
    CorpusSpec,
    LoaderResult,
    Record,
    StrPath,
    fill_doc,
    load_named_files,
    name_parser,
)

__all__ = ["load_shemo"]

_EMOTIONS = {
    "A": "angry",
    "F": "fear",
    "H": "happy",
    "N": "neutral",
    "S": "sad",
    "W": "surprise",  # "wonder"
}
_GENDER = {"F": "female", "M": "male"}
_NAME = re.compile(r"(?P<sex>[FM])(?P<number>\d\d)(?P<code>[A-Z])(?P<utterance>\d+)\.wav")

SPEC = CorpusSpec(
    name="shemo",
    title="ShEMO",
    layouts=("*/*.wav", "*.wav"),
    example="female/F01A01.wav",
    expected={
        "angry": 1059,
        "fear": 38,
        "happy": 201,
        "neutral": 1028,
        "sad": 449,
        "surprise": 225,
    },
    descr="""ShEMO: Sharif Emotional Speech Database
---------------------------------------
Language: Persian. 87 native speakers (31 female, 56 male) in radio plays:
3000 semi-natural utterances in 6 classes (anger 1059, fear 38, happiness
201, neutral 1028, sadness 449, surprise 225), 44.1 kHz. Names such as
female/F01A01.wav encode sex, speaker number, emotion letter (A anger, F fear,
H happiness, N neutral, S sadness, W surprise) and utterance number; the
speaker id is sex and number (F01). Very unbalanced: report UAR.

Citation: O. Mohamad Nezami, P. Jamshid Lou and M. Karami, "ShEMO: a
large-scale validated database for Persian speech emotion detection",
Language Resources and Evaluation 53, pp. 1-16, 2019.
""",
    language="Persian",
    codes=_EMOTIONS,
    speakers=87,
    recommended_protocol="speaker-kfold",
    url="https://github.com/mansourehk/ShEMO",
)


@name_parser(_NAME, _EMOTIONS)
def _parse(match: re.Match[str]) -> Record:
    return {
        "speaker": f"{match['sex']}{match['number']}",
        "gender": _GENDER[match["sex"]],
        "utterance": int(match["utterance"]),
    }


@fill_doc(SPEC)
def load_shemo(
    root: StrPath,
    *,
    strict: bool = False,
    load_audio: bool = False,
    return_X_y: bool = False,
) -> LoaderResult:
    """Load ShEMO (Sharif Emotional Speech Database, Persian).

    Parameters
    ----------
    root : str or path-like
        Folder holding ``female/`` and ``male/`` (or a flat folder) with files
        named like ``F01A01.wav`` (sex, speaker number, emotion letter
        A F H N S W, utterance number).
    %(strict)s
    %(load_audio)s
    %(return_X_y)s

    Returns
    -------
    %(bunch)s
        For ShEMO, ``target`` maps A angry, F fear, H happy, N neutral, S sad, W
        surprise; ``speaker`` is like ``"F01"``; ``frame`` has the 6 columns ``filename,
        speaker, gender, target, label_code, utterance``.
    %(X_y)s

    Raises
    ------
    %(raises)s

    Warns
    -----
    %(warns)s

    Examples
    --------
    >>> import tempfile, warnings
    >>> from pathlib import Path
    >>> import numpy as np
    >>> import soundfile as sf
    >>> from sertools.datasets import CorpusWarning, load_shemo
    >>> tmp = tempfile.TemporaryDirectory()
    >>> for name in ["female/F01A01.wav", "male/M12W03.wav"]:
    ...     (Path(tmp.name) / name).parent.mkdir()
    ...     sf.write(Path(tmp.name) / name, np.zeros(4410), 44100)
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore", CorpusWarning)  # 2 of the 3000 files
    ...     shemo = load_shemo(tmp.name)
    >>> shemo.frame.drop(columns="filename")
      speaker  gender    target label_code  utterance
    0     F01  female     angry          A          1
    1     M12    male  surprise          W          3
    >>> tmp.cleanup()
    """
    return load_named_files(
        root, SPEC, _parse, strict=strict, load_audio=load_audio, return_X_y=return_X_y
    )
