"""EMODB, the Berlin Database of Emotional Speech (German)."""

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

__all__ = ["load_emodb"]

_EMOTIONS = {
    "W": "angry",  # Wut / Ärger
    "L": "boredom",  # Langeweile
    "E": "disgust",  # Ekel
    "A": "fear",  # Angst
    "F": "happy",  # Freude
    "T": "sad",  # Trauer
    "N": "neutral",
}
_GENDER = {
    **dict.fromkeys(("03", "10", "11", "12", "15"), "male"),
    **dict.fromkeys(("08", "09", "13", "14", "16"), "female"),
}
_NAME = re.compile(r"(?P<speaker>\d\d)(?P<text>[ab]\d\d)(?P<code>[WLEAFTN])(?P<version>[a-z])\.wav")

SPEC = CorpusSpec(
    name="emodb",
    title="EMODB",
    layouts=("wav/*.wav", "*.wav"),
    example="wav/03a01Fa.wav",
    expected={
        "angry": 127,
        "boredom": 81,
        "disgust": 46,
        "fear": 69,
        "happy": 71,
        "sad": 62,
        "neutral": 79,
    },
    descr="""EMODB: Berlin Database of Emotional Speech
------------------------------------------
Language: German. 10 actors (5 male: 03 10 11 12 15; 5 female: 08 09 13 14 16)
read 10 everyday sentences in 7 emotions: 535 utterances, 16 kHz mono
(anger 127, boredom 81, disgust 46, fear 69, happiness 71, sadness 62,
neutral 79). File names such as 03a01Fa.wav encode speaker (03), text (a01),
emotion letter (F) and take (a). The paper calls this corpus "EMOVB" (a typo).

Citation: F. Burkhardt, A. Paeschke, M. Rolfes, W. F. Sendlmeier and B. Weiss,
"A database of German emotional speech", in Proc. Interspeech 2005,
pp. 1517-1520.
""",
    language="German",
    codes=_EMOTIONS,
    speakers=10,
    aliases=("emo-db",),
    recommended_protocol="loso",
    paper_n_classes=7,
    text_field="text",
    url="http://emodb.bilderbar.info",
)


@name_parser(_NAME, _EMOTIONS)
def _parse(match: re.Match[str]) -> Record | None:
    if match["speaker"] not in _GENDER:
        return None
    return {
        "speaker": match["speaker"],
        "gender": _GENDER[match["speaker"]],
        "text": match["text"],
        "version": match["version"],
    }


@fill_doc(SPEC)
def load_emodb(
    root: StrPath,
    *,
    strict: bool = False,
    load_audio: bool = False,
    return_X_y: bool = False,
) -> LoaderResult:
    """Load EMODB (Berlin Database of Emotional Speech, German).

    Parameters
    ----------
    root : str or path-like
        Folder that contains ``wav/`` or the ``wav/`` folder itself, holding
        files named like ``03a01Fa.wav`` (speaker, text id, emotion letter, take).
    %(strict)s
    %(load_audio)s
    %(return_X_y)s

    Returns
    -------
    %(bunch)s
        For EMODB, ``target`` maps W angry, L boredom, E disgust, A fear, F happy, T
        sad, N neutral; ``speaker`` is the two-digit id; ``frame`` has the 7 columns
        ``filename, speaker, gender, target, label_code, text, version``;
        ``sampling_rate`` is 16000 for the original files.
    %(X_y)s

    Raises
    ------
    %(raises)s

    Warns
    -----
    %(warns)s

    Examples
    --------
    A real copy is loaded with ``load_emodb("path/to/emodb")``. Here, a tiny
    tree of three correctly named (silent) files in a temporary folder:

    >>> import tempfile, warnings
    >>> from pathlib import Path
    >>> import numpy as np
    >>> import soundfile as sf
    >>> from sertools.datasets import CorpusWarning, load_emodb
    >>> tmp = tempfile.TemporaryDirectory()
    >>> (Path(tmp.name) / "wav").mkdir()
    >>> for name in ["03a01Fa.wav", "08a02Wb.wav", "16b10Tc.wav"]:
    ...     sf.write(Path(tmp.name) / "wav" / name, np.zeros(1600), 16000)
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore", CorpusWarning)  # 3 of the 535 files
    ...     emodb = load_emodb(tmp.name)
    >>> [Path(f).name for f in emodb.filenames]
    ['03a01Fa.wav', '08a02Wb.wav', '16b10Tc.wav']
    >>> emodb.target.tolist(), emodb.target_names.tolist()
    (['happy', 'angry', 'sad'], ['angry', 'happy', 'sad'])
    >>> emodb.speaker.tolist(), emodb.gender.tolist()
    (['03', '08', '16'], ['male', 'female', 'female'])
    >>> emodb.frame.drop(columns="filename")
      speaker  gender target label_code text version
    0      03    male  happy          F  a01       a
    1      08  female  angry          W  a02       b
    2      16  female    sad          T  b10       c
    >>> emodb.sampling_rate, emodb.corpus
    (16000, 'emodb')

    With ``load_audio=True`` and ``return_X_y=True``, the waveforms and labels:

    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore", CorpusWarning)
    ...     X, y = load_emodb(tmp.name, load_audio=True, return_X_y=True)
    >>> [x.shape for x in X], y.tolist()
    ([(1600,), (1600,), (1600,)], ['happy', 'angry', 'sad'])
    >>> tmp.cleanup()
    """
    return load_named_files(
        root, SPEC, _parse, strict=strict, load_audio=load_audio, return_X_y=return_X_y
    )
