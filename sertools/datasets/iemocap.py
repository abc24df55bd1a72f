"""IEMOCAP, the Interactive Emotional Dyadic Motion Capture database (English)."""

from __future__ import annotations

import re
from functools import partial
from pathlib import Path

from ._base import (
    CorpusSpec,
    LoaderResult,
    Record,
    StrPath,
    build_dataset,
    check_not_lfs,
    collect_rated_labels,
    fill_doc,
)

__all__ = ["load_iemocap"]

#: the standard 4-class set; "exc" joins "happy" unless merge_excited=False
_EMOTIONS = {"ang": "angry", "hap": "happy", "neu": "neutral", "sad": "sad"}
_GENDER = {"F": "female", "M": "male"}
_NUMBER = r"\d+(?:\.\d+)?"
_LINE = re.compile(
    rf"\[(?P<start>{_NUMBER}) - (?P<end>{_NUMBER})\]\s+(?P<utterance>\S+)\s+(?P<code>\w+)"
    # the [V, A, D] evaluators' means; a line without them is a clip without a rating
    rf"(?:\s+\[(?P<valence>{_NUMBER}),\s*(?P<activation>{_NUMBER}),\s*(?P<dominance>{_NUMBER})\])?"
)
#: range of IEMOCAP's dimensional scales (self-assessment manikins, 1-5)
_SCALE = (1.0, 5.0)
_DIMENSIONS = ("valence", "activation", "dominance")
_UTTERANCE = re.compile(
    r"(?P<dialog>Ses0(?P<session>[1-5])[FM]_(?P<kind>impro|script)\S*)_(?P<sex>[FM])\d{3}"
)

SPEC = CorpusSpec(
    name="iemocap",
    title="IEMOCAP",
    layouts=("Session[1-5]/dialog/EmoEvaluation/*.txt",),
    example="Session1/dialog/EmoEvaluation/Ses01F_impro01.txt",
    expected={"angry": 1103, "happy": 1636, "neutral": 1708, "sad": 1084},
    descr="""IEMOCAP: Interactive Emotional Dyadic Motion Capture database
-------------------------------------------------------------
Language: English. 10 actors in 5 dyadic sessions (one male, one female per
session), improvised and scripted dialogs segmented into utterances, 16 kHz.
Standard 4-class subset: angry (ang), happy (hap + exc merged), neutral (neu),
sad (sad) = 5531 utterances (1103 / 1636 / 1708 / 1084); 4490 without
excited. Labels come from Session*/dialog/EmoEvaluation/*.txt, audio from
Session*/sentences/wav/<dialog>/<utterance>.wav. The speaker of
Ses05M_script01_3_F000 is Ses05F (the last token's letter, not the dialog's).

Citation: C. Busso, M. Bulut, C.-C. Lee, A. Kazemzadeh, E. Mower, S. Kim,
J. N. Chang, S. Lee and S. S. Narayanan, "IEMOCAP: Interactive emotional dyadic
motion capture database", Language Resources and Evaluation 42(4),
pp. 335-359, 2008.
""",
    language="English",
    codes={**_EMOTIONS, "exc": "happy"},
    speakers=10,
    recommended_protocol="session",
    paper_n_classes=4,
    text_field=None,
    url="https://sail.usc.edu/iemocap/",
)


def _rating(match: re.Match[str]) -> dict[str, float] | None:
    """Valence, activation and dominance of a label line; None if absent or off the 1-5 scale."""
    if match["valence"] is None:
        return None
    rating = {dim: float(match[dim]) for dim in _DIMENSIONS}
    low, high = _SCALE
    return rating if all(low <= v <= high for v in rating.values()) else None


def _parse_labels(
    label_file: Path, root: Path, emotions: dict[str, str]
) -> tuple[list[Record], list[str], list[str]]:
    """Parse one EmoEvaluation file: records of the kept classes, bad lines, unrated lines."""
    check_not_lfs(label_file, SPEC)
    records: list[Record] = []
    unparsed: list[str] = []
    unrated: list[str] = []
    lines = label_file.read_text(encoding="utf-8", errors="replace").splitlines()
    for number, line in enumerate(lines, start=1):
        if not line.startswith("["):
            continue
        match = _LINE.match(line)
        utterance = _UTTERANCE.fullmatch(match["utterance"]) if match else None
        if match is None or utterance is None:
            unparsed.append(f"{label_file.relative_to(root).as_posix()} line {number}")
            continue
        if match["code"] not in emotions:
            continue
        rating = _rating(match)
        if rating is None:
            unrated.append(
                f"{match['utterance']} ({label_file.relative_to(root).as_posix()} line {number})"
            )
            continue
        session = int(utterance["session"])
        dialog = utterance["dialog"]
        records.append(
            {
                "filename": root
                / f"Session{session}"
                / "sentences"
                / "wav"
                / dialog
                / f"{match['utterance']}.wav",
                "speaker": f"Ses0{session}{utterance['sex']}",
                "gender": _GENDER[utterance["sex"]],
                "target": emotions[match["code"]],
                "label_code": match["code"],
                "session": session,
                "dialog": dialog,
                "utterance": match["utterance"],
                "improvised": utterance["kind"] == "impro",
                "start": float(match["start"]),
                "end": float(match["end"]),
                **rating,
            }
        )
    return records, unparsed, unrated


@fill_doc(SPEC)
def load_iemocap(
    root: StrPath,
    *,
    merge_excited: bool = True,
    strict: bool = False,
    load_audio: bool = False,
    return_X_y: bool = False,
) -> LoaderResult:
    """Load the standard 4-class subset of IEMOCAP (English).

    Labels are read from the top-level ``Session{1-5}/dialog/EmoEvaluation/*.txt``
    files (sub-folders such as ``Categorical/`` are not used); utterances
    labelled ang, hap, exc (see ``merge_excited``), neu and sad are kept, the
    others (fru, sur, fea, dis, oth, xxx) are left out without a warning.

    Parameters
    ----------
    root : str or path-like
        Folder holding ``Session1`` ... ``Session5`` (e.g.
        ``IEMOCAP_full_release``); audio is expected at
        ``Session{n}/sentences/wav/<dialog>/<utterance>.wav``.
    merge_excited : bool, default=True
        Count excited (exc) as ``"happy"`` (5531 utterances); False drops it
        (4490 utterances). ``label_code`` keeps ``"exc"``.
    strict : bool, default=False
        Raise :class:`~sertools.ParameterError` on label lines that do not parse,
        on labelled utterances without an audio file, and on truncated or
        non-audio files (found from their headers); by default they are skipped
        with one :class:`CorpusWarning` per kind.
    %(load_audio)s
    %(return_X_y)s

    Returns
    -------
    %(bunch)s
        For IEMOCAP, ``target`` is ``angry``, ``happy``, ``neutral`` or ``sad``;
        ``speaker`` is the session plus the gender letter of the utterance's last token
        (``Ses05M_script01_3_F000`` → ``Ses05F``); ``session`` (n_files,) int 1-5 for
        leave-one-session-out; ``arousal``, ``valence``, ``dominance`` (n_files,)
        float64 arrays, the evaluators' mean ratings on 1-5 (``arousal`` is IEMOCAP's
        activation; utterances without a rating are left out with a
        :class:`CorpusWarning`, never guessed, so the arrays hold no NaN); ``frame`` has
        the 14 columns ``filename, speaker, gender, target, label_code, session, dialog,
        utterance, improvised`` (bool), ``start, end`` (seconds in the dialog),
        ``valence, activation, dominance`` (evaluators' mean, 1-5); ``sampling_rate`` is
        16000 for the original files.
    %(X_y)s

    Raises
    ------
    ParameterError
        If ``root`` is missing or holds no label files or no audio, holds Git
        LFS pointers, or (``strict=True``) has unparsable label lines or
        missing audio.

    Warns
    -----
    CorpusWarning
        For skipped label lines, utterances of the kept classes without a
        dimensional rating, missing audio and a tree that differs from the full
        release (e.g. fewer sessions).

    Examples
    --------
    A real copy is loaded with ``load_iemocap("path/to/IEMOCAP_full_release")``.
    Here, a tiny tree in a temporary folder: one dialog's label file with three
    utterances (the frustrated one is left out) and their (silent) audio:

    >>> import tempfile, warnings
    >>> from pathlib import Path
    >>> import numpy as np
    >>> import soundfile as sf
    >>> from sertools.datasets import CorpusWarning, load_iemocap
    >>> tmp = tempfile.TemporaryDirectory()
    >>> session = Path(tmp.name) / "Session1"
    >>> labels = {"Ses01F_impro01_F000": "neu", "Ses01F_impro01_M001": "exc",
    ...           "Ses01F_impro01_F002": "fru"}
    >>> (session / "dialog" / "EmoEvaluation").mkdir(parents=True)
    >>> lines = [f"[{2 * i:.4f} - {2 * i + 1.5:.4f}]\\t{utt}\\t{code}\\t[2.5000, 3.0000, 3.5000]"
    ...          for i, (utt, code) in enumerate(labels.items())]
    >>> lines[0].split("\\t")
    ['[0.0000 - 1.5000]', 'Ses01F_impro01_F000', 'neu', '[2.5000, 3.0000, 3.5000]']
    >>> label_file = session / "dialog" / "EmoEvaluation" / "Ses01F_impro01.txt"
    >>> _ = label_file.write_text("\\n".join(lines))
    >>> (session / "sentences" / "wav" / "Ses01F_impro01").mkdir(parents=True)
    >>> for utt in labels:
    ...     sf.write(session / "sentences" / "wav" / "Ses01F_impro01" / f"{utt}.wav",
    ...              np.zeros(1600), 16000)
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore", CorpusWarning)  # 2 of the 5531 utterances
    ...     iemocap = load_iemocap(tmp.name)
    >>> iemocap.target.tolist(), iemocap.speaker.tolist(), iemocap.session.tolist()
    (['neutral', 'happy'], ['Ses01F', 'Ses01M'], [1, 1])
    >>> iemocap.arousal.tolist(), iemocap.valence.tolist(), iemocap.dominance.tolist()
    ([3.0, 3.0], [2.5, 2.5], [3.5, 3.5])
    >>> iemocap.frame[["utterance", "label_code", "improvised", "start", "end", "valence"]]
                 utterance label_code  improvised  start  end  valence
    0  Ses01F_impro01_F000        neu        True    0.0  1.5      2.5
    1  Ses01F_impro01_M001        exc        True    2.0  3.5      2.5
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore", CorpusWarning)
    ...     load_iemocap(tmp.name, merge_excited=False).target.tolist()
    ['neutral']
    >>> tmp.cleanup()
    """
    emotions = {**_EMOTIONS, **({"exc": "happy"} if merge_excited else {})}
    path, records, unparsed = collect_rated_labels(
        root,
        SPEC,
        partial(_parse_labels, emotions=emotions),
        item="utterance",
        rating="[valence, activation, dominance]",
        scale=_SCALE,
    )
    expected = dict(SPEC.expected)
    if not merge_excited:
        expected["happy"] = 595  # hap only; the 1041 exc utterances are dropped
    return build_dataset(
        SPEC,
        path,
        records,
        unparsed=unparsed,
        strict=strict,
        load_audio=load_audio,
        return_X_y=return_X_y,
        expected=expected,
        # dimensional targets: activation is the literature's arousal
        arrays={
            "session": "session",
            "arousal": "activation",
            "valence": "valence",
            "dominance": "dominance",
        },
    )
