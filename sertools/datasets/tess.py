"""TESS, the Toronto Emotional Speech Set (Canadian English)."""

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

__all__ = ["load_tess"]

_EMOTIONS = {
    "angry": "angry",
    "disgust": "disgust",
    "fear": "fear",
    "happy": "happy",
    "neutral": "neutral",
    "ps": "surprise",  # pleasant surprise
    "sad": "sad",
}
_AGE = {"OAF": 64, "YAF": 26}
_NAME = re.compile(r"(?P<speaker>OAF|YAF)_(?P<word>[a-z]+)_(?P<code>[a-z]+)\.wav", re.IGNORECASE)

SPEC = CorpusSpec(
    name="tess",
    title="TESS",
    layouts=("**/*.wav",),
    example="OAF_angry/OAF_back_angry.wav",
    expected=dict.fromkeys(_EMOTIONS.values(), 400),
    descr="""TESS: Toronto Emotional Speech Set
----------------------------------
Language: Canadian English. 2 female actresses, OAF (aged 64) and YAF (aged 26),
say "Say the word ..." with 200 target words in 7 emotions (anger, disgust,
fear, happiness, pleasant surprise, sadness, neutral): 2800 clips, 400 per
emotion, 24414 Hz. Names such as OAF_back_angry.wav encode speaker, word and
emotion (ps = pleasant surprise, harmonised as surprise); the original release
puts them in folders like OAF_angry/, flat copies work too.

Citation: K. Dupuis and M. K. Pichora-Fuller, "Toronto emotional speech set
(TESS)", University of Toronto, Psychology Department, 2010.
""",
    language="English",
    codes=_EMOTIONS,
    speakers=2,
    recommended_protocol="loso",
    text_field="word",
    url="https://tspace.library.utoronto.ca/handle/1807/24487",
)


@name_parser(_NAME, _EMOTIONS, fold=str.lower)
def _parse(match: re.Match[str]) -> Record:
    speaker = match["speaker"].upper()
    return {
        "speaker": speaker,
        "gender": "female",
        "word": match["word"].lower(),
        "age": _AGE[speaker],
    }


@fill_doc(SPEC)
def load_tess(
    root: StrPath,
    *,
    strict: bool = False,
    load_audio: bool = False,
    return_X_y: bool = False,
) -> LoaderResult:
    """Load TESS (Toronto Emotional Speech Set, Canadian English).

    Parameters
    ----------
    root : str or path-like
        Folder holding the files ``OAF_back_angry.wav``, ``YAF_youth_ps.wav``
        (speaker, word, emotion) at any depth: the original folders
        (``OAF_angry/``, ``YAF_pleasant_surprised/`` ...) or a flat copy. A
        clip found twice (copies that nest the release twice) is loaded once,
        with a :class:`CorpusWarning` naming both paths.
    %(strict)s
    %(load_audio)s
    %(return_X_y)s

    Returns
    -------
    %(bunch)s
        For TESS, ``target`` maps angry, disgust, fear, happy, neutral, ps surprise,
        sad; ``speaker`` is ``"OAF"`` or ``"YAF"``; ``gender`` is ``"female"``
        throughout; ``frame`` has the 7 columns ``filename, speaker, gender, target,
        label_code, word, age``.
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
    >>> from sertools.datasets import CorpusWarning, load_tess
    >>> tmp = tempfile.TemporaryDirectory()
    >>> for name in ["OAF_angry/OAF_back_angry.wav", "YAF_pleasant_surprised/YAF_youth_ps.wav"]:
    ...     (Path(tmp.name) / name).parent.mkdir()
    ...     sf.write(Path(tmp.name) / name, np.zeros(2441), 24414)
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore", CorpusWarning)  # 2 of the 2800 files
    ...     tess = load_tess(tmp.name)
    >>> tess.frame.drop(columns="filename")
      speaker  gender    target label_code   word  age
    0     OAF  female     angry      angry   back   64
    1     YAF  female  surprise         ps  youth   26
    >>> tmp.cleanup()
    """
    return load_named_files(
        root, SPEC, _parse, strict=strict, load_audio=load_audio, return_X_y=return_X_y
    )
