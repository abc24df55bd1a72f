"""Write small fake corpus trees with the real corpora's naming conventions.

Every audio file is a short burst of seeded noise (0.05 s by default) written with
soundfile; large trees reuse the bytes of one file so that they stay fast to build.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np
import soundfile as sf

LFS_POINTER = (
    "version https://git-lfs.github.com/spec/v1\n"
    "oid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\n"
    "size 12345\n"
)

EMODB_SPEAKERS = ("03", "08", "09", "10", "11", "12", "13", "14", "15", "16")
EMODB_TEXTS = ("a01", "a02", "a04", "a05", "a07", "b01", "b02", "b03", "b09", "b10")
EMODB_COUNTS = {"W": 127, "L": 81, "E": 46, "A": 69, "F": 71, "T": 62, "N": 79}
RAVDESS_EMOTIONS = ("01", "02", "03", "04", "05", "06", "07", "08")
SAVEE_COUNTS = {"a": 15, "d": 15, "f": 15, "h": 15, "n": 30, "sa": 15, "su": 15}


def noise(sr: int, *, seconds: float = 0.05, channels: int = 1, seed: int = 0) -> np.ndarray:
    """Seeded noise of shape (n_frames,) or (n_frames, channels), float32 in [-0.5, 0.5]."""
    rng = np.random.default_rng(seed)
    shape = (round(sr * seconds),) if channels == 1 else (round(sr * seconds), channels)
    return (rng.random(shape, dtype=np.float32) - 0.5).astype(np.float32)


def write_wav(path: Path, data: np.ndarray, sr: int, *, subtype: str = "PCM_16") -> Path:
    """Write ``data`` to ``path`` (parents created) and return the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), data, sr, subtype=subtype)
    return path


def write_tree(
    root: Path, relpaths: Iterable[str], sr: int, *, stereo: Iterable[str] = ()
) -> list[Path]:
    """Write a noise WAV at each relative path; those in ``stereo`` get two channels."""
    stereo = set(stereo)
    templates: dict[int, bytes] = {}
    written = []
    for rel in relpaths:
        channels = 2 if rel in stereo else 1
        path = root / rel
        if channels not in templates:
            write_wav(path, noise(sr, channels=channels, seed=channels), sr)
            templates[channels] = path.read_bytes()
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(templates[channels])
        written.append(path)
    return written


def write_text(path: Path, text: str) -> Path:
    """Write ``text`` to ``path`` (parents created) and return the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def full_emodb_names(counts: Mapping[str, int] = EMODB_COUNTS) -> list[str]:
    """Names like ``03a01Fa.wav`` with ``counts[letter]`` files per emotion letter."""
    names = []
    for code, count in counts.items():
        combos = itertools.product("abcdef", EMODB_SPEAKERS, EMODB_TEXTS)
        names += [
            f"{spk}{text}{code}{ver}.wav" for ver, spk, text in itertools.islice(combos, count)
        ]
    return names


def full_ravdess_names() -> list[str]:
    """The 1440 ``Actor_NN/03-01-EE-II-SS-RR-NN.wav`` speech files."""
    names = []
    for actor in range(1, 25):
        for emo, inten, stmt, rep in itertools.product(RAVDESS_EMOTIONS, "12", "12", "12"):
            if emo == "01" and inten == "2":
                continue  # neutral has no strong intensity
            names.append(f"Actor_{actor:02d}/03-01-{emo}-0{inten}-0{stmt}-0{rep}-{actor:02d}.wav")
    return names


def full_savee_names() -> list[str]:
    """The 480 flat ``DC_sa01.wav`` files."""
    return [
        f"{spk}_{code}{i:02d}.wav"
        for spk in ("DC", "JE", "JK", "KL")
        for code, count in SAVEE_COUNTS.items()
        for i in range(1, count + 1)
    ]


def iemocap_line(utterance: str, code: str, start: float = 1.5, end: float = 3.25) -> str:
    """One EmoEvaluation label line."""
    return f"[{start:.4f} - {end:.4f}]\t{utterance}\t{code}\t[2.5000, 3.0000, 3.5000]"


def write_iemocap_dialog(root: Path, dialog: str, labels: Mapping[str, str]) -> list[Path]:
    """Write the EmoEvaluation file of ``dialog`` and one WAV per labelled utterance.

    The label file mimics the real one: a header line, label lines followed by
    evaluator lines (``C-E1: ...``) that the loader ignores.
    """
    session = int(dialog[4])
    lines = ["% [START_TIME - END_TIME] TURN_NAME EMOTION [V, A, D]", ""]
    for i, (utterance, code) in enumerate(labels.items()):
        lines += [
            iemocap_line(utterance, code, start=2.0 * i, end=2.0 * i + 1.5),
            "C-E1:\tNeutral;\t()",
            "",
        ]
    write_text(root / f"Session{session}/dialog/EmoEvaluation/{dialog}.txt", "\n".join(lines))
    return write_tree(
        root,
        [f"Session{session}/sentences/wav/{dialog}/{utt}.wav" for utt in labels],
        16000,
    )


# ------------------------------------------------- trees holding every emotion code

EMOVO_SPEAKERS = ("f1", "f2", "f3", "m1", "m2", "m3")
EMOVO_CODES = ("dis", "gio", "neu", "pau", "rab", "sor", "tri")
CREMAD_CODES = ("ANG", "DIS", "FEA", "HAP", "NEU", "SAD")
CREMAD_LEVELS = ("LO", "MD", "HI", "XX")
#: IEMOCAP's categorical codes, including those the loader leaves out
IEMOCAP_CODES = ("ang", "hap", "exc", "neu", "sad", "fru", "sur", "fea", "dis", "oth", "xxx")


def every_code_emodb() -> list[str]:
    """One ``wav/SSa01Ea.wav`` per speaker and emotion letter (70 files)."""
    return [f"wav/{spk}a01{code}a.wav" for spk in EMODB_SPEAKERS for code in EMODB_COUNTS]


def every_code_ravdess() -> list[str]:
    """Every emotion at every intensity it has, for a male (01) and a female (02) actor."""
    return [
        f"Actor_{actor:02d}/03-01-{emo}-0{inten}-01-01-{actor:02d}.wav"
        for actor in (1, 2)
        for emo in RAVDESS_EMOTIONS
        for inten in (("1",) if emo == "01" else ("1", "2"))
    ]


def every_code_savee(*, flat: bool) -> list[str]:
    """One file per speaker and code, flat (``DC_f01.wav``) or nested (``AudioData/DC/f01.wav``)."""
    return [
        f"{spk}_{code}01.wav" if flat else f"AudioData/{spk}/{code}01.wav"
        for spk in ("DC", "JE", "JK", "KL")
        for code in SAVEE_COUNTS
    ]


def every_code_cremad() -> list[str]:
    """Every emotion code at every level, for two actors."""
    return [
        f"AudioWAV/{actor}_IEO_{code}_{level}.wav"
        for actor in ("1001", "1002")
        for code in CREMAD_CODES
        for level in CREMAD_LEVELS
    ]


def every_code_emovo() -> list[str]:
    """One ``SS/eee-SS-b1.wav`` per speaker and emotion code (42 files)."""
    return [f"{spk}/{code}-{spk}-b1.wav" for spk in EMOVO_SPEAKERS for code in EMOVO_CODES]


def every_code_iemocap(root: Path) -> dict[str, str]:
    """Write two dialogs (sessions 1 and 5) whose utterances carry every IEMOCAP code.

    Returns
    -------
    dict
        Utterance name -> its code.
    """
    labels: dict[str, str] = {}
    for dialog in ("Ses01F_impro01", "Ses05M_script02_1"):
        turns = {f"{dialog}_{'FM'[i % 2]}{i:03d}": code for i, code in enumerate(IEMOCAP_CODES)}
        write_iemocap_dialog(root, dialog, turns)
        labels.update(turns)
    return labels


# ------------------------------------------- the corpora added with issue #22

TESS_CODES = ("angry", "disgust", "fear", "happy", "neutral", "ps", "sad")
CAFE_CODES = ("C", "D", "J", "N", "P", "S", "T")
SUBESCO_CODES = ("ANGRY", "DISGUST", "FEAR", "HAPPY", "NEUTRAL", "SAD", "SURPRISE")
SHEMO_CODES = ("A", "F", "H", "N", "S", "W")
ESD_CODES = ("Neutral", "Angry", "Happy", "Sad", "Surprise")


def every_code_tess(*, flat: bool) -> list[str]:
    """Two words per speaker and emotion, in the release's folders or flat (28 files)."""
    folder = {"ps": "pleasant_surprised"}
    return [
        f"{spk}_{word}_{code}.wav"
        if flat
        else f"{spk}_{folder.get(code, code)}/{spk}_{word}_{code}.wav"
        for spk in ("OAF", "YAF")
        for code in TESS_CODES
        for word in ("back", "youth")
    ]


def every_code_cafe() -> list[str]:
    """Every emotion at each intensity it has, for a male (01) and a female (02) actor."""
    folder = {
        "C": "Colère",
        "D": "Dégoût",
        "J": "Joie",
        "P": "Peur",
        "S": "Surprise",
        "T": "Tristesse",
    }
    out = []
    for actor in ("01", "02"):
        out.append(f"Neutre/{actor}-N-1-1.wav")
        for code, name in folder.items():
            out += [
                f"{name}/{level}/{actor}-{code}-{i}-2.wav"
                for i, level in ((1, "Faible"), (2, "Fort"))
            ]
    return out


def every_code_subesco() -> list[str]:
    """Every emotion for a female and a male speaker (14 files)."""
    return [
        f"{sex}_{num}_{name}_S_{sentence}_{code}_{take}.wav"
        for sex, num, name, sentence, take in (
            ("F", "01", "OISHI", 1, 1),
            ("M", "10", "TITU", 10, 5),
        )
        for code in SUBESCO_CODES
    ]


def every_code_shemo() -> list[str]:
    """Every emotion letter for a female and a male speaker (12 files)."""
    return [
        f"{folder}/{sex}{num}{code}{utt:02d}.wav"
        for folder, sex, num in (("female", "F", "01"), ("male", "M", "12"))
        for utt, code in enumerate(SHEMO_CODES, start=1)
    ]


def every_code_esd(*, split: bool) -> list[str]:
    """First and last utterance of every emotion block for a Mandarin and an English speaker."""
    out = []
    for spk in ("0001", "0011"):
        for block, emotion in enumerate(ESD_CODES):
            for number in (block * 350 + 1, block * 350 + 350):
                sub = "test/" if split else ""
                out.append(f"{spk}/{emotion}/{sub}{spk}_{number:06d}.wav")
    return out
