"""SAVEE, the Surrey Audio-Visual Expressed Emotion database (British English)."""

from __future__ import annotations

import re
from pathlib import Path

from ._base import CorpusSpec, LoaderResult, Record, StrPath, fill_doc, load_named_files

__all__ = ["load_savee"]

_EMOTIONS = {
    "a": "angry",
    "d": "disgust",
    "f": "fear",
    "h": "happy",
    "n": "neutral",
    "sa": "sad",
    "su": "surprise",
}
_SPEAKERS = ("DC", "JE", "JK", "KL")
# letters before the digits: two-letter codes (sa, su) must not be read as "s" + "a01"
_FLAT = re.compile(r"(?P<speaker>[A-Z]{2})_(?P<code>[a-z]+)(?P<sentence>\d\d)\.wav")
_NESTED = re.compile(r"(?P<code>[a-z]+)(?P<sentence>\d\d)\.wav")

SPEC = CorpusSpec(
    name="savee",
    title="SAVEE",
    layouts=("AudioData/*/*.wav", "*/*.wav", "*.wav"),
    example="AudioData/DC/a01.wav or DC_a01.wav",
    expected={
        "neutral": 120,
        **dict.fromkeys(("angry", "disgust", "fear", "happy", "sad", "surprise"), 60),
    },
    descr="""SAVEE: Surrey Audio-Visual Expressed Emotion database
-----------------------------------------------------
Language: British English. 4 male speakers (DC, JE, JK, KL), 7 emotions:
per speaker 30 neutral and 15 each of anger (a), disgust (d), fear (f),
happiness (h), sadness (sa) and surprise (su), 480 utterances in all,
44.1 kHz. Layouts: AudioData/DC/sa01.wav or flat DC_sa01.wav.

Citation: S. Haq and P. J. B. Jackson, "Multimodal emotion recognition", in
W. Wang (ed.), Machine Audition: Principles, Algorithms and Systems, IGI
Global, 2010, pp. 398-423.
""",
    language="English",
    codes=_EMOTIONS,
    speakers=4,
    recommended_protocol="loso",
    paper_n_classes=7,
    text_field="sentence",
    url="http://kahlan.eps.surrey.ac.uk/savee/",
)


def _parse(path: Path) -> Record | None:
    match = _FLAT.fullmatch(path.name)
    speaker = match["speaker"] if match else path.parent.name
    match = match or _NESTED.fullmatch(path.name)
    if match is None or speaker not in _SPEAKERS or match["code"] not in _EMOTIONS:
        return None
    return {
        "speaker": speaker,
        "gender": "male",
        "target": _EMOTIONS[match["code"]],
        "label_code": match["code"],
        "sentence": int(match["sentence"]),
    }


@fill_doc(SPEC)
def load_savee(
    root: StrPath,
    *,
    strict: bool = False,
    load_audio: bool = False,
    return_X_y: bool = False,
) -> LoaderResult:
    """Load SAVEE (Surrey Audio-Visual Expressed Emotion, British English).

    Parameters
    ----------
    root : str or path-like
        Folder holding ``AudioData/{DC,JE,JK,KL}/a01.wav`` (or the
        ``AudioData`` folder itself), or a flat folder of ``DC_a01.wav`` files.
        Emotion codes are the letters before the digits: a, d, f, h, n, sa, su.
    %(strict)s
    %(load_audio)s
    %(return_X_y)s

    Returns
    -------
    %(bunch)s
        For SAVEE, ``target`` maps a angry, d disgust, f fear, h happy, n neutral, sa
        sad, su surprise; ``gender`` is ``"male"`` throughout; ``frame`` has the 6
        columns ``filename, speaker, gender, target, label_code, sentence`` (the number
        after the code); ``sampling_rate`` is 44100 for the original files.
    %(X_y)s

    Raises
    ------
    %(raises)s

    Warns
    -----
    %(warns)s

    Examples
    --------
    A real copy is loaded with ``load_savee("path/to/SAVEE")``. Here, a tiny
    tree of three correctly named (silent) files in a temporary folder:

    >>> import tempfile, warnings
    >>> from pathlib import Path
    >>> import numpy as np
    >>> import soundfile as sf
    >>> from sertools.datasets import CorpusWarning, load_savee
    >>> tmp = tempfile.TemporaryDirectory()
    >>> for name in ["AudioData/DC/a01.wav", "AudioData/JE/su15.wav", "AudioData/KL/n30.wav"]:
    ...     (Path(tmp.name) / name).parent.mkdir(parents=True)
    ...     sf.write(Path(tmp.name) / name, np.zeros(4410), 44100)
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore", CorpusWarning)  # 3 of the 480 files
    ...     savee = load_savee(tmp.name)
    >>> savee.frame.drop(columns="filename")
      speaker gender    target label_code  sentence
    0      DC   male     angry          a         1
    1      JE   male  surprise         su        15
    2      KL   male   neutral          n        30
    >>> savee.sampling_rate, savee.corpus
    (44100, 'savee')
    >>> tmp.cleanup()
    """
    return load_named_files(
        root, SPEC, _parse, strict=strict, load_audio=load_audio, return_X_y=return_X_y
    )
