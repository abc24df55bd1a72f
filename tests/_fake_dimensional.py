"""Fake trees of the corpora with dimensional labels, in their real file formats.

* IEMOCAP ``Session{n}/dialog/EmoEvaluation/<dialog>.txt``: a header, then per turn a
  label line ``[start - end]<TAB>turn<TAB>code<TAB>[V, A, D]`` (the evaluators' mean
  valence, activation, dominance on 1-5) followed by per-evaluator lines
  (``C-E2:``, ``A-E3: val 3; act 2; dom  2;``) and a blank line.
* MSP-Podcast ``Labels/labels_consensus.csv`` (``FileName, EmoClass, EmoAct, EmoVal,
  EmoDom, SpkrID, Gender, Split_Set``) and ``Audios/<FileName>``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from _fake_corpora import write_text, write_tree

#: turn -> (code, "[V, A, D]" text exactly as written, or None for no rating)
IemocapTurns = Mapping[str, tuple[str, str | None]]


def write_emoevaluation(root: Path, dialog: str, turns: IemocapTurns) -> list[Path]:
    """Write ``dialog``'s EmoEvaluation file and one WAV per turn; return the WAVs."""
    session = int(dialog[4])
    lines = ["% [START_TIME - END_TIME] TURN_NAME EMOTION [V, A, D]", ""]
    for i, (turn, (code, vad)) in enumerate(turns.items()):
        label = f"[{2.0 * i + 0.2901:.4f} - {2.0 * i + 1.8:.4f}]\t{turn}\t{code}"
        lines += [
            label + (f"\t{vad}" if vad is not None else ""),
            "C-E2:\tNeutral;\t()",
            "C-E3:\tFrustration; Anger;\t()",
            "A-E3:\tval 3; act 2; dom  2;\t()",
            "A-F1:\tval 2; act 3; dom  3;\t(mildly aggravated but staying polite, attitude)",
            "",
        ]
    write_text(root / f"Session{session}/dialog/EmoEvaluation/{dialog}.txt", "\n".join(lines))
    return write_tree(
        root, [f"Session{session}/sentences/wav/{dialog}/{turn}.wav" for turn in turns], 16000
    )


MSP_HEADER = "FileName,EmoClass,EmoAct,EmoVal,EmoDom,SpkrID,Gender,Split_Set"


def write_msp_podcast(
    root: Path, rows: Sequence[Sequence[str]], *, audio: Sequence[str] | None = None
) -> Path:
    """Write ``Labels/labels_consensus.csv`` from ``rows`` (cells as text) and the WAVs.

    ``audio`` lists the file names to write under ``Audios/`` (default: every
    ``FileName`` that is a plain name).
    """
    text = "\n".join([MSP_HEADER, *(",".join(row) for row in rows)]) + "\n"
    write_text(root / "Labels" / "labels_consensus.csv", text)
    if audio is None:
        audio = [row[0] for row in rows if "/" not in row[0] and row[0].endswith(".wav")]
    write_tree(root, [f"Audios/{name}" for name in audio], 16000)
    return root
