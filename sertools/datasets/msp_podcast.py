"""MSP-Podcast, naturalistic emotional speech from podcasts (English)."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._exceptions import ParameterError
from ._base import (
    CorpusSpec,
    LoaderResult,
    Record,
    StrPath,
    _listing,
    build_dataset,
    check_not_lfs,
    collect_rated_labels,
    fill_doc,
    warn,
)

__all__ = ["load_msp_podcast", "msp_podcast_split"]

#: EmoClass codes of labels_consensus.csv (the primary emotion agreed by the raters)
_EMOTIONS = {
    "A": "angry",
    "S": "sad",
    "H": "happy",
    "U": "surprise",
    "F": "fear",
    "D": "disgust",
    "C": "contempt",
    "N": "neutral",
}
#: codes without an emotion category: kept only with ``include_other=True``
_OTHER = {"O": "other", "X": "no_agreement"}
_GENDER = {"female": "female", "male": "male"}
_COLUMNS = ("FileName", "EmoClass", "EmoAct", "EmoVal", "EmoDom", "SpkrID", "Gender", "Split_Set")
#: MSP-Podcast's attribute scales (self-assessment manikins, 1-7)
_SCALE = (1.0, 7.0)
_FILE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*\.wav")
_LABELS_FILE = "Labels/labels_consensus.csv"

SPEC = CorpusSpec(
    name="msp_podcast",
    title="MSP-Podcast",
    layouts=(_LABELS_FILE,),
    example=_LABELS_FILE,
    expected={},  # release-dependent: the label file itself is the reference
    descr="""MSP-Podcast: naturalistic emotional speech from podcast recordings
-------------------------------------------------------------------
Language: English. Speaking turns (2.75-11 s) from Creative Commons podcasts,
each rated by at least five crowd-sourced raters: a primary emotion (EmoClass:
A angry, S sad, H happy, U surprise, F fear, D disgust, C contempt, N neutral,
O other, X no agreement) and the attributes arousal (EmoAct), valence (EmoVal)
and dominance (EmoDom) on 1-7 scales. Speakers (SpkrID, "Unknown" for turns
not yet identified), gender and a speaker-independent partition (Split_Set:
Train, Development, Test1, Test2) come with the labels. Labels are read from
Labels/labels_consensus.csv, audio from Audios/<FileName>, 16 kHz. Release 1.11
has 151,654 turns; the Test3 labels are not public. The corpus is distributed
by The University of Texas at Dallas under an academic licence.

Citation: R. Lotfian and C. Busso, "Building naturalistic emotionally balanced
speech corpus by retrieving emotional speech from existing podcast
recordings", IEEE Transactions on Affective Computing 10(4), pp. 471-483, 2019.
""",
    language="English",
    codes=_EMOTIONS,
    aliases=("msp-podcast",),
    recommended_protocol="speaker-kfold",
    url="https://ecs.utdallas.edu/research/researchlabs/msp-lab/MSP-Podcast.html",
)


def _rating(row: dict[str, str]) -> dict[str, float] | None:
    """Arousal, valence and dominance of a row; None if one is absent or off the 1-7 scale."""
    rating = {}
    for dim, column in (("arousal", "EmoAct"), ("valence", "EmoVal"), ("dominance", "EmoDom")):
        try:
            value = float(row[column])
        except ValueError:
            return None
        low, high = _SCALE
        if not (math.isfinite(value) and low <= value <= high):
            return None
        rating[dim] = value
    return rating


def _read_labels(
    label_file: Path, root: Path, classes: dict[str, str]
) -> tuple[list[Record], list[str], list[str]]:
    """Parse labels_consensus.csv into records, unparsable rows and rows without a rating."""
    check_not_lfs(label_file, SPEC)
    try:
        # every cell as text: speaker "NA" or a label "None" stay what they are
        table = pd.read_csv(label_file, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise ParameterError(f"{label_file} is not a readable CSV file: {exc}") from None
    missing = [c for c in _COLUMNS if c not in table.columns]
    if missing:
        raise ParameterError(
            f"{label_file} lacks the column(s) {', '.join(missing)}; expected the columns "
            f"{', '.join(_COLUMNS)} of MSP-Podcast's labels_consensus.csv"
        )
    records: list[Record] = []
    unparsed: list[str] = []
    unrated: list[str] = []
    where = label_file.relative_to(root).as_posix()
    for number, row in enumerate(table.to_dict("records"), start=2):  # line 1: header
        name = row["FileName"].strip()
        code = row["EmoClass"].strip()
        # a file name, never a path: nothing outside Audios/ is read because of a cell
        if not _FILE.fullmatch(name) or code not in {**_EMOTIONS, **_OTHER}:
            unparsed.append(f"{where} line {number}")
            continue
        if code not in classes:
            continue
        rating = _rating(row)
        if rating is None:
            unrated.append(f"{name} ({where} line {number})")
            continue
        speaker = row["SpkrID"].strip() or "Unknown"
        records.append(
            {
                "filename": root / "Audios" / name,
                "speaker": speaker,
                "gender": _GENDER.get(row["Gender"].strip().lower(), "unknown"),
                "target": classes[code],
                "label_code": code,
                "split": row["Split_Set"].strip(),
                **rating,
            }
        )
    return records, unparsed, unrated


@fill_doc(SPEC)
def load_msp_podcast(
    root: StrPath,
    *,
    include_other: bool = False,
    strict: bool = False,
    load_audio: bool = False,
    return_X_y: bool = False,
) -> LoaderResult:
    """Load MSP-Podcast (English): primary emotions, arousal/valence/dominance, partition.

    Labels come from ``Labels/labels_consensus.csv`` (columns ``FileName``,
    ``EmoClass``, ``EmoAct``, ``EmoVal``, ``EmoDom``, ``SpkrID``, ``Gender``,
    ``Split_Set``), audio from ``Audios/<FileName>``. By default the turns of the
    eight emotion categories of the Odyssey 2024 challenge are kept (EmoClass
    A, S, H, U, F, D, C, N); turns rated O (other) or X (no agreement) have
    attributes but no category and are kept with ``include_other=True``.

    Parameters
    ----------
    root : str or path-like
        Folder holding ``Labels/`` and ``Audios/`` (e.g. ``MSP-PODCAST-Publish-1.11``).
    include_other : bool, default=False
        Also keep the turns rated O (target ``"other"``) and X (target
        ``"no_agreement"``), e.g. for dimensional studies.
    strict : bool, default=False
        Raise :class:`~sertools.ParameterError` on label rows that do not parse
        (a ``FileName`` that is not a plain ``.wav`` file name, an unknown
        EmoClass), on labelled turns without an audio file, and on truncated or
        non-audio files; by default they are skipped with one
        :class:`CorpusWarning` per kind.
    %(load_audio)s
    %(return_X_y)s

    Returns
    -------
    %(bunch)s
        For MSP-Podcast, ``target`` is ``angry``, ``sad``, ``happy``, ``surprise``,
        ``fear``, ``disgust``, ``contempt`` or ``neutral`` (``other``, ``no_agreement``
        with ``include_other=True``); ``speaker`` is ``SpkrID`` as text (``"Unknown"``
        for unidentified speakers: one group in speaker-level protocols); ``gender`` is
        ``female``, ``male`` or ``unknown``; ``split`` (n_files,) the ``Split_Set``
        (``Train``, ``Development``, ``Test1``, ``Test2``; see
        :func:`msp_podcast_split`); ``arousal``, ``valence``, ``dominance`` (n_files,)
        float64 mean ratings on 1-7 (from EmoAct, EmoVal, EmoDom; turns without all
        three are left out with a :class:`CorpusWarning`, never guessed, so the arrays
        hold no NaN); ``frame`` has the 9 columns ``filename, speaker, gender, target,
        label_code`` (the EmoClass letter), ``split, arousal, valence, dominance``.
    %(X_y)s

    Raises
    ------
    ParameterError
        If ``root`` is missing, holds no ``Labels/labels_consensus.csv``, the
        file lacks a column or is a Git LFS pointer, no audio is usable, or
        (``strict=True``) rows do not parse or audio is missing.

    Warns
    -----
    CorpusWarning
        For rows that do not parse, turns without a complete rating, turns
        whose speaker is unknown, and missing, truncated or non-audio files.

    Examples
    --------
    A real copy is loaded with ``load_msp_podcast("path/to/MSP-PODCAST-Publish-1.11")``.
    Here, a tiny tree in a temporary folder: three rated turns (the one rated X
    is left out by default) and their (silent) audio:

    >>> import tempfile
    >>> from pathlib import Path
    >>> import numpy as np
    >>> import soundfile as sf
    >>> from sertools.datasets import load_msp_podcast
    >>> tmp = tempfile.TemporaryDirectory()
    >>> root = Path(tmp.name)
    >>> (root / "Labels").mkdir()
    >>> _ = (root / "Labels" / "labels_consensus.csv").write_text(
    ...     "FileName,EmoClass,EmoAct,EmoVal,EmoDom,SpkrID,Gender,Split_Set\\n"
    ...     "MSP-PODCAST_0001_0008.wav,H,4.8,5.4,4.6,127,Female,Train\\n"
    ...     "MSP-PODCAST_0001_0012.wav,A,5.4,2.8,5.2,127,Female,Train\\n"
    ...     "MSP-PODCAST_0002_0003.wav,X,3.0,4.0,4.0,928,Male,Test1\\n")
    >>> (root / "Audios").mkdir()
    >>> for name in ("0001_0008", "0001_0012", "0002_0003"):
    ...     sf.write(root / "Audios" / f"MSP-PODCAST_{name}.wav", np.zeros(1600), 16000)
    >>> msp = load_msp_podcast(root)
    >>> msp.target.tolist(), msp.speaker.tolist(), msp.split.tolist()
    (['happy', 'angry'], ['127', '127'], ['Train', 'Train'])
    >>> msp.arousal.tolist(), msp.valence.tolist(), msp.dominance.tolist()
    ([4.8, 5.4], [5.4, 2.8], [4.6, 5.2])
    >>> load_msp_podcast(root, include_other=True).target.tolist()
    ['happy', 'angry', 'no_agreement']
    >>> tmp.cleanup()
    """
    classes = {**_EMOTIONS, **(_OTHER if include_other else {})}
    path, records, unparsed = collect_rated_labels(
        root,
        SPEC,
        partial(_read_labels, classes=classes),
        item="turn",
        rating="complete EmoAct, EmoVal, EmoDom",
        scale=_SCALE,
    )
    unknown = [r["filename"].name for r in records if r["speaker"].lower() == "unknown"]
    if unknown:
        warn(
            f"{len(unknown)} MSP-Podcast turn(s) under {path} have no speaker ID (SpkrID "
            f"'Unknown'); they form one group 'Unknown' in speaker-level protocols and "
            f"bootstraps: {_listing(unknown)}"
        )
    return build_dataset(
        SPEC,
        path,
        records,
        unparsed=unparsed,
        strict=strict,
        load_audio=load_audio,
        return_X_y=return_X_y,
        # release-dependent: the label file is the reference, missing audio is reported
        expected=Counter(r["target"] for r in records),
        arrays=("split", "arousal", "valence", "dominance"),
    )


def msp_podcast_split(
    split: Any, *, train: Sequence[str] = ("Train",), test: Sequence[str] = ("Test1",)
) -> list[tuple[np.ndarray, np.ndarray]]:
    """The corpus's predefined partition as a one-split ``cv`` for scikit-learn.

    Parameters
    ----------
    split : array-like of str, shape (n_files,)
        ``Split_Set`` of each turn, e.g. ``bunch.split`` from :func:`load_msp_podcast`.
    train : sequence of str, default=("Train",)
        Partitions to train on (add ``"Development"`` to train on both).
    test : sequence of str, default=("Test1",)
        Partitions to test on (``("Test2",)`` for the other test set).

    Returns
    -------
    list of one (train_indices, test_indices) tuple
        Usable as ``cv=`` in :func:`~sklearn.model_selection.cross_validate`.

    Raises
    ------
    ParameterError
        If a partition is both in ``train`` and ``test``, or holds no turn.

    Examples
    --------
    >>> from sertools.datasets.msp_podcast import msp_podcast_split
    >>> [(train, test)] = msp_podcast_split(["Train", "Test1", "Development", "Train", "Test2"])
    >>> train.tolist(), test.tolist()
    ([0, 3], [1])
    """
    split = np.asarray(split, dtype=str)
    train, test = [str(s) for s in train], [str(s) for s in test]
    both = sorted(set(train) & set(test))
    if both:
        raise ParameterError(f"partition(s) {', '.join(both)} are in both train and test")
    present = set(split.tolist())
    empty = [s for s in (*train, *test) if s not in present]
    if empty:
        raise ParameterError(
            f"partition(s) {', '.join(empty)} hold no turn; found {', '.join(sorted(present))}"
        )
    return [(np.flatnonzero(np.isin(split, train)), np.flatnonzero(np.isin(split, test)))]
