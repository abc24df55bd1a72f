"""EMOVO, the Italian emotional speech corpus."""

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

__all__ = ["load_emovo"]

_EMOTIONS = {
    "dis": "disgust",  # disgusto
    "gio": "happy",  # gioia
    "neu": "neutral",
    "pau": "fear",  # paura
    "rab": "angry",  # rabbia
    "sor": "surprise",  # sorpresa
    "tri": "sad",  # tristezza
}
_GENDER = {"f": "female", "m": "male"}
_NAME = re.compile(r"(?P<code>[a-z]{3})-(?P<speaker>(?P<sex>[fm])[1-3])-(?P<sentence>[a-z]\d)\.wav")

SPEC = CorpusSpec(
    name="emovo",
    title="EMOVO",
    layouts=("*/*.wav", "Dataset/*/*.wav"),
    example="f1/dis-f1-b1.wav",
    expected=dict.fromkeys(_EMOTIONS.values(), 84),
    descr="""EMOVO: an Italian emotional speech corpus
------------------------------------------
Language: Italian. 6 actors (3 female f1-f3, 3 male m1-m3) read 14 sentences
(b1-b3, d1-d2, l1-l4, n1-n5) in 7 emotions (disgust, joy, neutral, fear, anger,
surprise, sadness): 588 utterances, 84 per emotion. The originals are mostly
48 kHz stereo; the loader reports the rate of the first file it finds. File
names such as f1/dis-f1-b1.wav encode emotion, speaker and sentence.

Citation: G. Costantini, I. Iaderola, A. Paoloni and M. Todisco, "EMOVO corpus:
an Italian emotional speech database", in Proc. LREC 2014, pp. 3501-3504.
""",
    language="Italian",
    codes=_EMOTIONS,
    speakers=6,
    recommended_protocol="loso",
    paper_n_classes=7,
    text_field="sentence",
    url="http://voice.fub.it/activities/corpora/emovo/index.html",
)


@name_parser(_NAME, _EMOTIONS)
def _parse(match: re.Match[str]) -> Record:
    return {
        "speaker": match["speaker"],
        "gender": _GENDER[match["sex"]],
        "sentence": match["sentence"],
    }


@fill_doc(SPEC)
def load_emovo(
    root: StrPath,
    *,
    strict: bool = False,
    load_audio: bool = False,
    return_X_y: bool = False,
) -> LoaderResult:
    """Load EMOVO (Italian emotional speech).

    Parameters
    ----------
    root : str or path-like
        Folder holding the speaker folders ``f1 f2 f3 m1 m2 m3`` (directly or
        under ``Dataset/``), with files named like ``dis-f1-b1.wav`` (emotion,
        speaker, sentence).
    %(strict)s
    %(load_audio)s
    %(return_X_y)s

    Returns
    -------
    %(bunch)s
        For EMOVO, ``target`` maps dis disgust, gio happy, neu neutral, pau fear, rab
        angry, sor surprise, tri sad; ``speaker`` is f1-f3 or m1-m3; ``frame`` has the 6
        columns ``filename, speaker, gender, target, label_code, sentence``.
    %(X_y)s

    Raises
    ------
    %(raises)s

    Warns
    -----
    %(warns)s

    Examples
    --------
    A real copy is loaded with ``load_emovo("path/to/EMOVO")``. Here, a tiny
    tree of three correctly named (silent) files in a temporary folder:

    >>> import tempfile, warnings
    >>> from pathlib import Path
    >>> import numpy as np
    >>> import soundfile as sf
    >>> from sertools.datasets import CorpusWarning, load_emovo
    >>> tmp = tempfile.TemporaryDirectory()
    >>> for name in ["f1/dis-f1-b1.wav", "m2/gio-m2-l3.wav", "m3/neu-m3-n5.wav"]:
    ...     (Path(tmp.name) / name).parent.mkdir()
    ...     sf.write(Path(tmp.name) / name, np.zeros(4800), 48000)
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore", CorpusWarning)  # 3 of the 588 files
    ...     emovo = load_emovo(tmp.name)
    >>> emovo.frame.drop(columns="filename")
      speaker  gender   target label_code sentence
    0      f1  female  disgust        dis       b1
    1      m2    male    happy        gio       l3
    2      m3    male  neutral        neu       n5
    >>> emovo.filenames.shape, emovo.sampling_rate, emovo.corpus
    ((3,), 48000, 'emovo')
    >>> tmp.cleanup()
    """
    return load_named_files(
        root, SPEC, _parse, strict=strict, load_audio=load_audio, return_X_y=return_X_y
    )
