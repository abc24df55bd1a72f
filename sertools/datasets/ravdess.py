"""RAVDESS, the Ryerson Audio-Visual Database of Emotional Speech and Song (English)."""

from __future__ import annotations

import re
from functools import partial
from pathlib import Path

from ._base import CorpusSpec, LoaderResult, Record, StrPath, fill_doc, load_named_files, warn

__all__ = ["load_ravdess"]

_EMOTIONS = {
    "01": "neutral",
    "02": "calm",
    "03": "happy",
    "04": "sad",
    "05": "angry",
    "06": "fear",
    "07": "disgust",
    "08": "surprise",
}
_INTENSITY = {"01": "normal", "02": "strong"}
_NAME = re.compile(
    r"(?P<modality>0[1-3])-(?P<channel>0[12])-(?P<code>0[1-8])-(?P<intensity>0[12])"
    r"-(?P<statement>0[12])-(?P<repetition>0[12])-(?P<actor>\d\d)\.wav"
)
#: modality 03 (audio-only) and vocal channel 01 (speech)
_SPEECH_AUDIO = ("03", "01")

SPEC = CorpusSpec(
    name="ravdess",
    title="RAVDESS",
    layouts=("Actor_*/*.wav", "Audio_Speech_Actors_01-24/Actor_*/*.wav"),
    example="Actor_01/03-01-01-01-01-01-01.wav",
    expected={
        "neutral": 96,
        **dict.fromkeys(("calm", "happy", "sad", "angry", "fear", "disgust", "surprise"), 192),
    },
    descr="""RAVDESS: Ryerson Audio-Visual Database of Emotional Speech and Song
-------------------------------------------------------------------
Language: North American English. 24 actors (odd ids male, even ids female)
speak 2 statements ("Kids are talking by the door", "Dogs are sitting by the
door") in 8 emotions (neutral, calm, happy, sad, angry, fearful, disgust,
surprised) at 2 intensities (neutral: normal only), twice: 1440 audio-only
speech files (modality 03, vocal channel 01), 48 kHz. Names such as
Actor_01/03-01-05-02-01-02-01.wav encode modality, vocal channel, emotion,
intensity, statement, repetition and actor.

Citation: S. R. Livingstone and F. A. Russo, "The Ryerson Audio-Visual Database
of Emotional Speech and Song (RAVDESS): A dynamic, multimodal set of facial and
vocal expressions in North American English", PLoS ONE 13(5): e0196391, 2018.
""",
    language="English",
    codes=_EMOTIONS,
    speakers=24,
    recommended_protocol="speaker-kfold",
    paper_n_classes=7,
    text_field="statement",
    url="https://zenodo.org/record/1188976",
)


def _parse(path: Path, *, calm_as_neutral: bool = False) -> Record | None:
    match = _NAME.fullmatch(path.name)
    if match is None or match["actor"] == "00":
        return None
    target = _EMOTIONS[match["code"]]
    return {
        "speaker": match["actor"],
        "gender": "male" if int(match["actor"]) % 2 else "female",
        "target": "neutral" if calm_as_neutral and target == "calm" else target,
        "label_code": match["code"],
        "intensity": _INTENSITY[match["intensity"]],
        "statement": int(match["statement"]),
        "repetition": int(match["repetition"]),
        "modality": match["modality"],
        "vocal_channel": match["channel"],
    }


def _speech_only(root: Path, records: list[Record]) -> list[Record]:
    """The audio-only speech records; one warning counts the song and video files left out."""
    speech = [r for r in records if (r["modality"], r["vocal_channel"]) == _SPEECH_AUDIO]
    if len(speech) < len(records):
        warn(
            f"skipped {len(records) - len(speech)} RAVDESS song or video file(s) under {root}; "
            "only audio-only speech (03-01-*) is loaded"
        )
    return speech


@fill_doc(SPEC)
def load_ravdess(
    root: StrPath,
    *,
    calm_as_neutral: bool = False,
    strict: bool = False,
    load_audio: bool = False,
    return_X_y: bool = False,
) -> LoaderResult:
    """Load the audio-only speech part of RAVDESS (North American English).

    Only audio-only speech files (``03-01-*``) are loaded. Song (vocal channel
    02) and video files (modality 01/02) found in the tree are skipped and
    counted in one :class:`CorpusWarning`.

    Parameters
    ----------
    root : str or path-like
        Folder holding the ``Actor_NN`` folders (directly or under
        ``Audio_Speech_Actors_01-24/``), with files named
        ``MM-VV-EE-II-SS-RR-AA.wav`` (modality, vocal channel, emotion,
        intensity, statement, repetition, actor).
    calm_as_neutral : bool, default=False
        Map calm (02) to ``"neutral"``; ``label_code`` keeps ``"02"``.
    %(strict)s
    %(load_audio)s
    %(return_X_y)s

    Returns
    -------
    %(bunch)s
        For RAVDESS, ``target`` maps 01 neutral, 02 calm, 03 happy, 04 sad, 05 angry, 06
        fear, 07 disgust, 08 surprise; ``speaker`` is the two-digit actor id; ``frame``
        has the 10 columns ``filename, speaker, gender, target, label_code, intensity``
        (``"normal"`` / ``"strong"``), ``statement`` (1 or 2), ``repetition`` (1 or 2),
        ``modality, vocal_channel``; ``sampling_rate`` is 48000 for the original files.
    %(X_y)s

    Raises
    ------
    %(raises)s

    Warns
    -----
    %(warns)s
        Also for the song and video files, which are skipped.

    Examples
    --------
    A real copy is loaded with ``load_ravdess("path/to/RAVDESS")``. Here, a
    tiny tree of two correctly named (silent) speech files in a temporary
    folder:

    >>> import tempfile, warnings
    >>> from pathlib import Path
    >>> import numpy as np
    >>> import soundfile as sf
    >>> from sertools.datasets import CorpusWarning, load_ravdess
    >>> tmp = tempfile.TemporaryDirectory()
    >>> for name in ["Actor_01/03-01-02-01-01-01-01.wav", "Actor_02/03-01-05-02-02-01-02.wav"]:
    ...     (Path(tmp.name) / name).parent.mkdir()
    ...     sf.write(Path(tmp.name) / name, np.zeros(4800), 48000)
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore", CorpusWarning)  # 2 of the 1440 files
    ...     ravdess = load_ravdess(tmp.name)
    >>> ravdess.target.tolist(), ravdess.speaker.tolist(), ravdess.gender.tolist()
    (['calm', 'angry'], ['01', '02'], ['male', 'female'])
    >>> ravdess.frame[["label_code", "intensity", "statement", "repetition"]]
      label_code intensity  statement  repetition
    0         02    normal          1           1
    1         05    strong          2           1
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore", CorpusWarning)
    ...     load_ravdess(tmp.name, calm_as_neutral=True).target.tolist()
    ['neutral', 'angry']
    >>> tmp.cleanup()
    """
    expected = dict(SPEC.expected)
    if calm_as_neutral:
        expected["neutral"] += expected.pop("calm")
    return load_named_files(
        root,
        SPEC,
        partial(_parse, calm_as_neutral=calm_as_neutral),
        strict=strict,
        load_audio=load_audio,
        return_X_y=return_X_y,
        prepare=_speech_only,
        expected=expected,
    )
