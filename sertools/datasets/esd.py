"""ESD, the Emotional Speech Dataset (Mandarin and English)."""

from __future__ import annotations

import re
from pathlib import Path

from ._base import CorpusSpec, LoaderResult, Record, StrPath, fill_doc, load_named_files

__all__ = ["load_esd"]

#: emotion folder -> shared label; the utterance numbers of each emotion, in order
_EMOTIONS = {
    "Neutral": "neutral",  # 000001-000350
    "Angry": "angry",  # 000351-000700
    "Happy": "happy",  # 000701-001050
    "Sad": "sad",  # 001051-001400
    "Surprise": "surprise",  # 001401-001750
}
_PER_EMOTION = 350
_NAME = re.compile(r"(?P<speaker>\d{4})_(?P<number>\d{6})\.wav")
_SPLITS = ("train", "evaluation", "test")

SPEC = CorpusSpec(
    name="esd",
    title="ESD",
    layouts=("*/*/*.wav", "*/*/*/*.wav"),
    example="0011/Angry/0011_000351.wav",
    expected=dict.fromkeys(_EMOTIONS.values(), 7000),
    descr="""ESD: Emotional Speech Dataset
-----------------------------
Languages: Mandarin (speakers 0001-0010) and English (0011-0020). 20 speakers
each read 350 parallel sentences in 5 emotions (neutral, angry, happy, sad,
surprise): 35000 clips, 7000 per emotion, 16 kHz. Files such as
0011/Angry/0011_000351.wav (older copies: 0011/Angry/train/...) give the
speaker, the emotion folder and the utterance number; each emotion has its
own block of 350 numbers (Neutral 1-350, Angry 351-700, Happy 701-1050, Sad
1051-1400, Surprise 1401-1750), and the same sentence sits at the same place
in every block. Speaker sex is not in the file names (gender "unknown").

Citation: K. Zhou, B. Sisman, R. Liu and H. Li, "Emotional voice conversion:
Theory, databases and ESD", Speech Communication 137, pp. 1-18, 2022.
""",
    language="Mandarin, English",
    codes=_EMOTIONS,
    speakers=20,
    recommended_protocol="speaker-kfold",
    text_field="sentence",
    url="https://hltsingapore.github.io/ESD/",
)


def _parse(path: Path) -> Record | None:
    match = _NAME.fullmatch(path.name)
    folders = [p.name for p in path.parents][:3]
    split = folders[0] if folders and folders[0] in _SPLITS else ""
    emotion, speaker = (folders[1], folders[2]) if split else (folders[0], folders[1])
    if match is None or emotion not in _EMOTIONS or speaker != match["speaker"]:
        return None
    number = int(match["number"])
    block, position = divmod(number - 1, _PER_EMOTION)
    # the number must fall in the block of its emotion folder
    if not 1 <= number <= _PER_EMOTION * len(_EMOTIONS) or list(_EMOTIONS)[block] != emotion:
        return None
    language = "zh" if int(speaker) <= 10 else "en"
    return {
        "speaker": speaker,
        "gender": "unknown",
        "target": _EMOTIONS[emotion],
        "label_code": emotion,
        "sentence": f"{language}{position + 1:03d}",
        "language": language,
        "split": split,
    }


@fill_doc(SPEC)
def load_esd(
    root: StrPath,
    *,
    strict: bool = False,
    load_audio: bool = False,
    return_X_y: bool = False,
) -> LoaderResult:
    """Load ESD (Emotional Speech Dataset, Mandarin and English).

    Parameters
    ----------
    root : str or path-like
        Folder holding the speaker folders ``0001 ... 0020``, each with
        ``Neutral Angry Happy Sad Surprise`` folders of files named
        ``<speaker>_<number>.wav`` (directly or in ``train/ evaluation/ test/``
        sub-folders). A file whose number is not in its emotion's block, or
        whose speaker differs from its folder's, does not parse.
    %(strict)s
    %(load_audio)s
    %(return_X_y)s

    Returns
    -------
    %(bunch)s
        For ESD, ``target`` maps Neutral neutral, Angry angry, Happy happy, Sad sad,
        Surprise surprise; ``speaker`` is the four-digit id; ``gender`` is
        ``"unknown"``; ``frame`` has the 8 columns ``filename, speaker, gender, target,
        label_code, sentence`` (language and place in the emotion's block, e.g.
        ``"en001"``), ``language`` (``"zh"`` or ``"en"``), ``split`` (the sub-folder, or
        ``""``).
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
    >>> from sertools.datasets import CorpusWarning, load_esd
    >>> tmp = tempfile.TemporaryDirectory()
    >>> for name in ["0001/Neutral/0001_000001.wav", "0011/Angry/0011_000351.wav"]:
    ...     (Path(tmp.name) / name).parent.mkdir(parents=True)
    ...     sf.write(Path(tmp.name) / name, np.zeros(1600), 16000)
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore", CorpusWarning)  # 2 of the 35000 files
    ...     esd = load_esd(tmp.name)
    >>> esd.frame[["speaker", "target", "label_code", "sentence", "language"]]
      speaker   target label_code sentence language
    0    0001  neutral    Neutral    zh001       zh
    1    0011    angry      Angry    en001       en
    >>> tmp.cleanup()
    """
    return load_named_files(
        root, SPEC, _parse, strict=strict, load_audio=load_audio, return_X_y=return_X_y
    )
