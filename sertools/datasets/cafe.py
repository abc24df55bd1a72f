"""CaFE, the Canadian French Emotional speech dataset."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.utils import Bunch

from ._base import CorpusSpec, Record, load_named_files

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


def _parse(path: Path) -> Record | None:
    match = _NAME.fullmatch(path.name)
    code = match["code"].upper() if match else ""
    if match is None or code not in _EMOTIONS or match["actor"] == "00":
        return None
    return {
        "speaker": match["actor"],
        "gender": "male" if int(match["actor"]) % 2 else "female",
        "target": _EMOTIONS[code],
        "label_code": code,
        "intensity": _INTENSITY[match["intensity"]],
        "sentence": int(match["sentence"]),
    }


def load_cafe(
    root: str | os.PathLike[str],
    *,
    strict: bool = False,
    load_audio: bool = False,
    return_X_y: bool = False,
) -> Bunch | tuple[Any, np.ndarray]:
    """Load CaFE (Canadian French Emotional speech dataset).

    Parameters
    ----------
    root : str or path-like
        Folder holding files named ``AA-E-I-S.wav`` (actor, emotion letter
        C D J N P S T, intensity 1 or 2, sentence 1-6) at any depth, e.g. the
        release's ``Colère/Faible/01-C-1-1.wav`` (``.aiff`` where no ``.wav``).
    strict : bool, default=False
        Raise :class:`~sertools.ParameterError` on files whose names do not
        follow the convention, repeated clips, and truncated or non-audio
        files; by default they are skipped with one :class:`CorpusWarning` per
        kind listing them.
    load_audio : bool, default=False
        Also read the waveforms into ``data`` (float32 mono, native rate).
    return_X_y : bool, default=False
        Return ``(filenames, target)`` (``(data, target)`` with
        ``load_audio=True``) instead of the Bunch.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        With ``filenames`` (n_files,) sorted absolute paths, ``target``
        (n_files,) harmonised labels (C angry, D disgust, J happy, N neutral,
        P fear, S surprise, T sad), ``target_names``, ``speaker`` (n_files,)
        the two-digit actor id, ``gender`` (n_files,), ``frame`` a DataFrame of
        shape (n_files, 7) with columns ``filename, speaker, gender, target,
        label_code, intensity, sentence``, ``sampling_rate``, ``DESCR``,
        ``corpus`` (``"cafe"``) and, with ``load_audio=True``, ``data``.
    (X, target) : tuple
        With ``return_X_y=True``.

    Raises
    ------
    ParameterError
        If ``root`` is missing or holds no CaFE files, holds Git LFS pointers,
        or (``strict=True``) holds names that do not parse.

    Warns
    -----
    CorpusWarning
        For skipped names, repeated clips and a tree that differs from the
        full 936-file release.

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
