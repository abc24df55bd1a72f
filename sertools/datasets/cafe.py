"""CaFE, the Canadian French Emotional speech dataset."""

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

__all__ = ["load_cafe"]

_EMOTIONS = {
    "C": "angry",  # colère
    "D": "disgust",  # dégoût
    "J": "happy",  # joie
    "N": "neutral",  # neutre
    "P": "fear",  # peur
    "S": "surprise",
    "T": "sad",  # tristesse
}
_INTENSITY = {"1": "low", "2": "high"}  # faible, fort
_NAME = re.compile(
    r"(?P<actor>\d\d)-(?P<code>[A-Z])-(?P<intensity>[12])-(?P<sentence>[1-6])\.(?:wav|aiff?)",
    re.IGNORECASE,
)

SPEC = CorpusSpec(
    name="cafe",
    title="CaFE",
    layouts=("**/*.wav", "**/*.aif*"),
    example="Colère/Faible/01-C-1-1.wav",
    expected={
        "neutral": 72,
        **dict.fromkeys(("angry", "disgust", "happy", "fear", "surprise", "sad"), 144),
    },
    descr="""CaFE: Canadian French Emotional speech dataset
---------------------------------------------
Language: Canadian French. 12 actors (odd ids male, even ids female) say 6
sentences in neutral and 6 emotions (anger C, disgust D, joy J, fear P,
surprise S, sadness T) at two intensities (1 low "faible", 2 high "fort";
neutral at one): 936 clips, 48 kHz (192 kHz originals). Names such as
Colère/Faible/01-C-1-1.wav encode actor, emotion letter, intensity and
sentence.

Citation: P. Gournay, O. Lahaie and R. Lefebvre, "A Canadian French emotional
speech dataset", in Proc. ACM Multimedia Systems Conference (MMSys) 2018,
pp. 399-402.
""",
    language="French",
    codes=_EMOTIONS,
    speakers=12,
    recommended_protocol="loso",
    text_field="sentence",
    url="https://zenodo.org/record/1478765",
)


@name_parser(_NAME, _EMOTIONS, fold=str.upper)
def _parse(match: re.Match[str]) -> Record | None:
    if match["actor"] == "00":
        return None
    return {
        "speaker": match["actor"],
        "gender": "male" if int(match["actor"]) % 2 else "female",
        "intensity": _INTENSITY[match["intensity"]],
        "sentence": int(match["sentence"]),
    }


@fill_doc(SPEC)
def load_cafe(
    root: StrPath,
    *,
    strict: bool = False,
    load_audio: bool = False,
    return_X_y: bool = False,
) -> LoaderResult:
    """Load CaFE (Canadian French Emotional speech dataset).

    Parameters
    ----------
    root : str or path-like
        Folder holding files named ``AA-E-I-S.wav`` (actor, emotion letter
        C D J N P S T, intensity 1 or 2, sentence 1-6) at any depth, e.g. the
        release's ``Colère/Faible/01-C-1-1.wav`` (``.aiff`` where no ``.wav``).
    %(strict)s
    %(load_audio)s
    %(return_X_y)s

    Returns
    -------
    %(bunch)s
        For CaFE, ``target`` maps C angry, D disgust, J happy, N neutral, P fear, S
        surprise, T sad; ``speaker`` is the two-digit actor id; ``frame`` has the 7
        columns ``filename, speaker, gender, target, label_code, intensity, sentence``.
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
    >>> from sertools.datasets import CorpusWarning, load_cafe
    >>> tmp = tempfile.TemporaryDirectory()
    >>> for name in ["Colère/Faible/01-C-1-1.wav", "Neutre/02-N-1-6.wav"]:
    ...     (Path(tmp.name) / name).parent.mkdir(parents=True)
    ...     sf.write(Path(tmp.name) / name, np.zeros(4800), 48000)
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore", CorpusWarning)  # 2 of the 936 files
    ...     cafe = load_cafe(tmp.name)
    >>> cafe.frame.drop(columns="filename")
      speaker  gender   target label_code intensity  sentence
    0      01    male    angry          C       low         1
    1      02  female  neutral          N       low         6
    >>> tmp.cleanup()
    """
    return load_named_files(
        root, SPEC, _parse, strict=strict, load_audio=load_audio, return_X_y=return_X_y
    )
