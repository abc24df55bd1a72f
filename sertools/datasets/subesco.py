"""SUBESCO, the SUST Bangla Emotional Speech Corpus."""

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

__all__ = ["load_subesco"]

_EMOTIONS = {
    "ANGRY": "angry",
    "DISGUST": "disgust",
    "FEAR": "fear",
    "HAPPY": "happy",
    "NEUTRAL": "neutral",
    "SAD": "sad",
    "SURPRISE": "surprise",
}
_GENDER = {"F": "female", "M": "male"}
_NAME = re.compile(
    r"(?P<sex>[FM])_(?P<number>\d\d)_(?P<name>[A-Z]+)_S_(?P<sentence>\d+)_(?P<code>[A-Z]+)"
    r"_(?P<take>\d)\.wav",
    re.IGNORECASE,
)

SPEC = CorpusSpec(
    name="subesco",
    title="SUBESCO",
    layouts=("**/*.wav",),
    example="F_01_OISHI_S_1_ANGRY_1.wav",
    expected=dict.fromkeys(_EMOTIONS.values(), 1000),
    descr="""SUBESCO: SUST Bangla Emotional Speech Corpus
--------------------------------------------
Language: Bangla. 20 actors (10 female, 10 male) say 10 sentences in 7
emotions (anger, disgust, fear, happiness, neutral, sadness, surprise), 5
takes each: 7000 clips, 1000 per emotion. Names such as
F_01_OISHI_S_1_ANGRY_1.wav encode sex, speaker number, speaker name, sentence,
emotion and take; the speaker id is sex and number (F_01).

Citation: S. Sultana, M. S. Rahman, M. R. Selim and M. Z. Iqbal, "SUST Bangla
Emotional Speech Corpus (SUBESCO): An audio-only emotional speech corpus for
Bangla", PLoS ONE 16(4): e0250173, 2021.
""",
    language="Bangla",
    codes=_EMOTIONS,
    speakers=20,
    recommended_protocol="speaker-kfold",
    text_field="sentence",
    url="https://zenodo.org/records/4526477",
)


@name_parser(_NAME, _EMOTIONS, fold=str.upper)
def _parse(match: re.Match[str]) -> Record:
    sex = match["sex"].upper()
    return {
        "speaker": f"{sex}_{match['number']}",
        "gender": _GENDER[sex],
        "speaker_name": match["name"].upper(),
        "sentence": int(match["sentence"]),
        "take": int(match["take"]),
    }


@fill_doc(SPEC)
def load_subesco(
    root: StrPath,
    *,
    strict: bool = False,
    load_audio: bool = False,
    return_X_y: bool = False,
) -> LoaderResult:
    """Load SUBESCO (SUST Bangla Emotional Speech Corpus).

    Parameters
    ----------
    root : str or path-like
        Folder holding files named like ``F_01_OISHI_S_1_ANGRY_1.wav`` (sex,
        speaker number, speaker name, ``S``, sentence, emotion, take) at any
        depth.
    %(strict)s
    %(load_audio)s
    %(return_X_y)s

    Returns
    -------
    %(bunch)s
        For SUBESCO, ``target`` maps ANGRY angry, DISGUST disgust, FEAR fear, HAPPY
        happy, NEUTRAL neutral, SAD sad, SURPRISE surprise; ``speaker`` is like
        ``"F_01"``; ``frame`` has the 8 columns ``filename, speaker, gender, target,
        label_code, speaker_name, sentence, take``.
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
    >>> from sertools.datasets import CorpusWarning, load_subesco
    >>> tmp = tempfile.TemporaryDirectory()
    >>> for name in ["F_01_OISHI_S_1_ANGRY_1.wav", "M_10_TITU_S_10_SURPRISE_5.wav"]:
    ...     sf.write(Path(tmp.name) / name, np.zeros(4410), 44100)
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore", CorpusWarning)  # 2 of the 7000 files
    ...     subesco = load_subesco(tmp.name)
    >>> subesco.frame.drop(columns="filename")
      speaker  gender    target label_code speaker_name  sentence  take
    0    F_01  female     angry      ANGRY        OISHI         1     1
    1    M_10    male  surprise   SURPRISE         TITU        10     5
    >>> tmp.cleanup()
    """
    return load_named_files(
        root, SPEC, _parse, strict=strict, load_audio=load_audio, return_X_y=return_X_y
    )
