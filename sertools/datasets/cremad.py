"""CREMA-D, the Crowd-sourced Emotional Multimodal Actors Dataset (English)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pandas as pd

from .._exceptions import ParameterError
from ._base import (
    CorpusSpec,
    LoaderResult,
    Record,
    StrPath,
    check_not_lfs,
    fill_doc,
    load_named_files,
    name_parser,
    warn,
)

__all__ = ["load_cremad"]

_EMOTIONS = {
    "ANG": "angry",
    "DIS": "disgust",
    "FEA": "fear",
    "HAP": "happy",
    "NEU": "neutral",
    "SAD": "sad",
}
_SENTENCES = ("IEO", "TIE", "IOM", "IWW", "TAI", "MTI", "IWL", "ITH", "DFA", "ITS", "TSI", "WSI")
_INTENSITY = {"LO": "low", "MD": "medium", "HI": "high", "XX": "unspecified"}
_NAME = re.compile(
    rf"(?P<actor>\d{{4}})_(?P<sentence>{'|'.join(_SENTENCES)})_(?P<code>[A-Z]{{3}})"
    rf"_(?P<level>{'|'.join(_INTENSITY)})\.wav"
)
_DEMOGRAPHICS = "VideoDemographics.csv"
#: demographic columns copied into the frame when the CSV has them
_EXTRA_COLUMNS = {"Age": "age", "Race": "race", "Ethnicity": "ethnicity"}

SPEC = CorpusSpec(
    name="cremad",
    title="CREMA-D",
    layouts=("AudioWAV/*.wav", "*.wav"),
    example="AudioWAV/1001_DFA_ANG_XX.wav",
    expected={"neutral": 1087, **dict.fromkeys(("angry", "disgust", "fear", "happy", "sad"), 1271)},
    descr="""CREMA-D: Crowd-sourced Emotional Multimodal Actors Dataset
----------------------------------------------------------
Language: English (the paper's Table I wrongly lists Chinese). 91 actors
(48 male, 43 female; ids 1001-1091) speak 12 sentences in 6 emotions (anger,
disgust, fear, happiness, neutral, sadness) at up to 4 levels (LO, MD, HI,
unspecified XX): 7442 clips, 16 kHz. 1076_MTI_SAD_XX.wav contains no audio
and is skipped. Names such as AudioWAV/1001_DFA_ANG_XX.wav encode actor,
sentence, emotion and level; actor sex comes from VideoDemographics.csv.

Citation: H. Cao, D. G. Cooper, M. K. Keutmann, R. C. Gur, A. Nenkova and
R. Verma, "CREMA-D: Crowd-sourced emotional multimodal actors dataset", IEEE
Transactions on Affective Computing 5(4), pp. 377-390, 2014.
""",
    language="English",
    codes=_EMOTIONS,
    speakers=91,
    aliases=("crema-d", "crema_d"),
    recommended_protocol="speaker-kfold",
    paper_n_classes=6,
    text_field="sentence",
    url="https://github.com/CheyneyComputerScience/CREMA-D",
)


@name_parser(_NAME, _EMOTIONS)
def _parse(match: re.Match[str]) -> Record:
    return {
        "speaker": match["actor"],
        "gender": "unknown",  # until the demographics are read
        "sentence": match["sentence"],
        "intensity": _INTENSITY[match["level"]],
    }


def _read_demographics(csv: Path) -> dict[str, dict[str, Any]]:
    """Map actor id to its ``gender`` (and age, race, ethnicity when present)."""
    check_not_lfs(csv, SPEC)
    table = pd.read_csv(csv)
    if not {"ActorID", "Sex"} <= set(table.columns):
        raise ParameterError(
            f"{csv} has columns {list(table.columns)}; expected at least ActorID and Sex "
            "(ActorID, Age, Sex, Race, Ethnicity)"
        )
    extra = {src: dst for src, dst in _EXTRA_COLUMNS.items() if src in table.columns}
    return {
        str(row["ActorID"]): {
            "gender": str(row["Sex"]).strip().lower(),
            **{dst: row[src] for src, dst in extra.items()},
        }
        for _, row in table.iterrows()
    }


def _add_demographics(root: Path, records: list[Record]) -> list[Record]:
    """Set each record's gender (age, race, ethnicity) from the demographics file, if any."""
    audio_dir = root / "AudioWAV" if (root / "AudioWAV").is_dir() else root
    candidates = [root / _DEMOGRAPHICS, audio_dir.parent / _DEMOGRAPHICS]
    csv = next((c for c in candidates if c.is_file()), None)
    if csv is None:
        warn(
            f"no CREMA-D {_DEMOGRAPHICS} in {root} or {audio_dir.parent}; "
            "gender is 'unknown' for every speaker"
        )
        return records
    demographics = _read_demographics(csv)
    unknown = sorted({r["speaker"] for r in records} - set(demographics))
    if unknown:
        warn(f"{csv} has no row for actor(s) {', '.join(unknown)}; their gender is 'unknown'")
    for record in records:
        record.update(demographics.get(record["speaker"], {}))
    return records


@fill_doc(SPEC)
def load_cremad(
    root: StrPath,
    *,
    strict: bool = False,
    load_audio: bool = False,
    return_X_y: bool = False,
) -> LoaderResult:
    """Load CREMA-D (Crowd-sourced Emotional Multimodal Actors Dataset, English).

    Speaker gender comes from ``VideoDemographics.csv`` (columns ``ActorID,
    Age, Sex, Race, Ethnicity``), looked up in ``root`` and next to
    ``AudioWAV/``; without it gender is ``"unknown"`` and a
    :class:`CorpusWarning` says so. Files without audio (the release's
    ``1076_MTI_SAD_XX.wav``) are skipped with a warning.

    Parameters
    ----------
    root : str or path-like
        Folder holding ``AudioWAV/`` (or the ``AudioWAV`` folder itself), with
        files named like ``1001_DFA_ANG_XX.wav`` (actor, sentence, emotion,
        level).
    %(strict)s
    %(load_audio)s
    %(return_X_y)s

    Returns
    -------
    %(bunch)s
        For CREMA-D, ``target`` maps ANG angry, DIS disgust, FEA fear, HAP happy, NEU
        neutral, SAD sad; ``speaker`` is the four-digit actor id; ``gender`` is
        ``"male"`` or ``"female"`` (``"unknown"`` without demographics); ``frame`` has
        the columns ``filename, speaker, gender, target, label_code, sentence`` (e.g.
        ``"DFA"``), ``intensity`` (``"low"``, ``"medium"``, ``"high"``,
        ``"unspecified"``) plus ``age, race, ethnicity`` when the demographics provide
        them; ``sampling_rate`` is 16000 for the original files.
    %(X_y)s

    Raises
    ------
    %(raises)s
        Also if the demographics file lacks the ``ActorID`` or ``Sex`` column.

    Warns
    -----
    %(warns)s
        Also when the demographics file is missing or lacks an actor.

    Examples
    --------
    A real copy is loaded with ``load_cremad("path/to/CREMA-D")``. Here, a
    tiny tree of two correctly named (silent) files and the demographics file
    in a temporary folder:

    >>> import tempfile, warnings
    >>> from pathlib import Path
    >>> import numpy as np
    >>> import soundfile as sf
    >>> from sertools.datasets import CorpusWarning, load_cremad
    >>> tmp = tempfile.TemporaryDirectory()
    >>> (Path(tmp.name) / "AudioWAV").mkdir()
    >>> for name in ["1001_DFA_ANG_XX.wav", "1091_WSI_FEA_LO.wav"]:
    ...     sf.write(Path(tmp.name) / "AudioWAV" / name, np.zeros(1600), 16000)
    >>> _ = (Path(tmp.name) / "VideoDemographics.csv").write_text(
    ...     "ActorID,Age,Sex,Race,Ethnicity\\n"
    ...     "1001,51,Male,Caucasian,Not Hispanic\\n"
    ...     "1091,29,Female,Asian,Not Hispanic\\n"
    ... )
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore", CorpusWarning)  # 2 of the 7442 files
    ...     cremad = load_cremad(tmp.name)
    >>> cremad.frame[["speaker", "gender", "target", "sentence", "intensity", "age"]]
      speaker  gender target sentence    intensity  age
    0    1001    male  angry      DFA  unspecified   51
    1    1091  female   fear      WSI          low   29
    >>> cremad.filenames.shape, cremad.sampling_rate
    ((2,), 16000)
    >>> tmp.cleanup()
    """
    return load_named_files(
        root,
        SPEC,
        _parse,
        strict=strict,
        load_audio=load_audio,
        return_X_y=return_X_y,
        prepare=_add_demographics,
    )
