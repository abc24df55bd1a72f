"""Any corpus: a manifest file (CSV, TSV, JSON Lines) or a folder per label."""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.utils import Bunch

from .._exceptions import ParameterError
from ._base import CorpusSpec, Record, build_dataset, check_not_lfs, resolve_root
from .folds import PredefinedFolds

__all__ = ["load_folder", "load_manifest"]

#: Column names recognised for each role, in order of preference (case-insensitive).
COLUMNS: dict[str, tuple[str, ...]] = {
    "file": ("file", "filename", "path", "filepath", "wav", "audio", "audio_path"),
    "label": ("label", "emotion", "emo", "target", "class"),
    "speaker": ("speaker", "speaker_id", "spk", "actor"),
    "gender": ("gender", "sex"),
    "fold": ("fold", "split", "partition", "set"),
}
#: Values of a fold column that mark a single train/test split.
_SPLIT_VALUES = {"train": 1, "training": 1, "test": 2, "testing": 2, "dev": 0, "valid": 0}
_SPLIT_VALUES |= {"validation": 0, "val": 0, "eval": 0, "evaluation": 0}
#: Audio files :func:`load_folder` picks up.
AUDIO_SUFFIXES = (".wav", ".flac", ".ogg")
_GENDERS = {"f": "female", "female": "female", "w": "female", "m": "male", "male": "male"}


def _read_table(path: Path) -> tuple[pd.DataFrame, list[int]]:
    """The manifest's rows as strings, with each row's line number in the file."""
    suffix = path.suffix.lower()
    if suffix in (".csv", ".tsv"):
        table = pd.read_csv(
            path,
            sep="\t" if suffix == ".tsv" else ",",
            dtype=str,
            keep_default_na=False,
            skip_blank_lines=True,
        )
        return table, [i + 2 for i in range(len(table))]  # line 1 is the header
    if suffix == ".jsonl":
        rows, lines = [], []
        text = path.read_text(encoding="utf-8")
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ParameterError(f"{path} line {number} is not JSON: {exc.msg}") from None
            if not isinstance(row, dict):
                raise ParameterError(
                    f"{path} line {number}: expected a JSON object, got {type(row).__name__}"
                )
            rows.append({k: "" if v is None else str(v) for k, v in row.items()})
            lines.append(number)
        return pd.DataFrame(rows, dtype=str).fillna(""), lines
    raise ParameterError(f"manifest {path}: expected a .csv, .tsv or .jsonl file")


def _column(
    table: pd.DataFrame, role: str, given: str | None, path: Path, need: bool
) -> str | None:
    if given is not None:
        if given not in table.columns:
            raise ParameterError(
                f"manifest {path} has no column {given!r} ({role}); its columns: "
                f"{', '.join(map(str, table.columns))}"
            )
        return given
    lower = {str(c).lower(): c for c in table.columns}
    for candidate in COLUMNS[role]:
        if candidate in lower:
            return lower[candidate]
    if need:
        raise ParameterError(
            f"manifest {path} has no {role} column; expected one of "
            f"{', '.join(COLUMNS[role])} (or pass {role}_column=), got columns "
            f"{', '.join(map(str, table.columns)) or 'none'}"
        )
    return None


def _fold_splitter(values: Sequence[str]) -> PredefinedFolds:
    """Folds from a fold column: train/test/dev words as one split, else one fold per value."""
    lowered = [v.strip().lower() for v in values]
    if set(lowered) <= set(_SPLIT_VALUES):
        return PredefinedFolds(membership=np.array([[_SPLIT_VALUES[v]] for v in lowered]))
    keys = sorted(set(values), key=lambda v: (not v.isdigit(), int(v) if v.isdigit() else 0, v))
    return PredefinedFolds.from_test_folds(values, folds=keys)


def load_manifest(
    path: str | os.PathLike[str],
    audio_root: str | os.PathLike[str] | None = None,
    *,
    name: str | None = None,
    file_column: str | None = None,
    label_column: str | None = None,
    speaker_column: str | None = None,
    gender_column: str | None = None,
    fold_column: str | None = None,
    label_map: Mapping[str, str] | None = None,
    strict: bool = False,
    load_audio: bool = False,
    return_X_y: bool = False,
) -> Bunch | tuple[Any, np.ndarray]:
    """Load any corpus from a manifest: one row per clip (CSV, TSV or JSON Lines).

    Parameters
    ----------
    path : str or path-like
        The manifest: ``.csv``, ``.tsv`` (header row) or ``.jsonl`` (one JSON
        object per line). Columns are found by name, case-insensitive: file
        (``file``, ``filename``, ``path``, ``wav``, ``audio``), label
        (``label``, ``emotion``, ``emo``, ``target``, ``class``), and the
        optional speaker (``speaker``, ``speaker_id``, ``spk``, ``actor``),
        gender (``gender``, ``sex``) and fold (``fold``, ``split``,
        ``partition``, ``set``); every other column is kept in ``frame``.
    audio_root : str or path-like, optional
        Folder the relative file paths are relative to (default: the
        manifest's folder). Absolute paths are used as they are.
    name : str, optional
        Corpus name stored as ``bunch.corpus`` (default: the manifest's stem).
    file_column, label_column, speaker_column, gender_column, fold_column : str, optional
        Column names, when they are not among the recognised ones.
    label_map : mapping of str to str, optional
        Maps the manifest's labels to the labels used as ``target`` (e.g.
        ``{"ang": "angry"}``); every label must be in it. By default the
        labels are used as they are.
    strict : bool, default=False
        Raise on truncated or non-audio files instead of skipping them with a
        :class:`CorpusWarning`.
    load_audio : bool, default=False
        Also read the waveforms into ``data`` (float32 mono, native rate).
    return_X_y : bool, default=False
        Return ``(filenames, target)`` instead of the Bunch.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Like the corpus loaders': ``filenames`` (n_clips,) sorted absolute
        paths, ``target`` (n_clips,), ``target_names``, ``speaker`` (n_clips,)
        (``"unknown"`` without a speaker column), ``gender`` (n_clips,)
        (``"female"``/``"male"`` from f/m/female/male, else as written,
        ``"unknown"`` without the column), ``frame`` (``filename, speaker,
        gender, target, label_code`` then the other columns, ``row`` the
        manifest line), ``sampling_rate``, ``DESCR``, ``corpus``; with a fold
        column also ``fold`` (n_clips,) and ``cv`` a
        :class:`~sertools.datasets.PredefinedFolds` (values train/test/dev: one
        split; other values: each value is a test fold, the rest train it).
    (X, target) : tuple
        With ``return_X_y=True``.

    Raises
    ------
    ParameterError
        Naming the manifest line: a missing or empty file path, a file that
        does not exist, an empty label, a label missing from ``label_map``, a
        path given twice; also a missing file or label column.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> import numpy as np
    >>> import soundfile as sf
    >>> from sertools.datasets import load_manifest
    >>> tmp = Path(tempfile.mkdtemp())
    >>> for name in ["a.wav", "b.wav", "c.wav"]:
    ...     sf.write(tmp / name, np.zeros(1600), 16000)
    >>> _ = (tmp / "mine.csv").write_text(
    ...     "path,emotion,speaker,fold,mic\\n"
    ...     "a.wav,angry,s1,1,near\\nb.wav,sad,s2,2,far\\nc.wav,sad,s1,2,near\\n"
    ... )
    >>> mine = load_manifest(tmp / "mine.csv")
    >>> mine.frame.drop(columns="filename")
      speaker   gender target label_code fold   mic  row
    0      s1  unknown  angry      angry    1  near    2
    1      s2  unknown    sad        sad    2   far    3
    2      s1  unknown    sad        sad    2  near    4
    >>> [(tr.tolist(), te.tolist()) for tr, te in mine.cv.split(mine.filenames)]
    [([1, 2], [0]), ([0], [1, 2])]
    """
    manifest = Path(path).expanduser().resolve()
    if not manifest.is_file():
        raise ParameterError(f"manifest {manifest} does not exist or is not a file")
    check_not_lfs(manifest, CorpusSpec("manifest", "manifest", (), str(manifest), {}, ""))
    table, lines = _read_table(manifest)
    if table.empty:
        raise ParameterError(f"manifest {manifest} has no rows")
    base = manifest.parent if audio_root is None else Path(audio_root).expanduser().resolve()
    if not base.is_dir():
        raise ParameterError(f"audio_root {base} is not a folder")
    cols = {
        "file": _column(table, "file", file_column, manifest, True),
        "label": _column(table, "label", label_column, manifest, True),
        "speaker": _column(table, "speaker", speaker_column, manifest, False),
        "gender": _column(table, "gender", gender_column, manifest, False),
        "fold": _column(table, "fold", fold_column, manifest, False),
    }
    used = {c for c in cols.values() if c is not None}
    reserved = {"filename", "speaker", "gender", "target", "label_code", "row"}
    extra = {c: (f"meta_{c}" if c in reserved else c) for c in table.columns if c not in used}
    records: list[Record] = []
    seen: dict[Path, int] = {}
    where = f"manifest {manifest}"
    for line, (_, row) in zip(lines, table.iterrows(), strict=True):
        file = str(row[cols["file"]]).strip()
        if not file:
            raise ParameterError(f"{where} line {line}: empty file path ({cols['file']})")
        clip = Path(file).expanduser()
        clip = (clip if clip.is_absolute() else base / clip).resolve()
        if clip in seen:
            raise ParameterError(
                f"{where} line {line}: {file} is the same file as line {seen[clip]}; each "
                "clip must appear once"
            )
        seen[clip] = line
        if not clip.is_file():
            raise ParameterError(
                f"{where} line {line}: audio file {clip} does not exist"
                + (
                    ""
                    if audio_root is not None
                    else " (relative paths are read from the "
                    "manifest's folder; pass audio_root= for another)"
                )
            )
        label = str(row[cols["label"]]).strip()
        if not label:
            raise ParameterError(f"{where} line {line}: empty label ({cols['label']}) for {file}")
        if label_map is not None and label not in label_map:
            raise ParameterError(
                f"{where} line {line}: label {label!r} is not in label_map (keys: "
                f"{', '.join(map(repr, sorted(label_map)))})"
            )
        speaker = str(row[cols["speaker"]]).strip() if cols["speaker"] else ""
        gender = str(row[cols["gender"]]).strip() if cols["gender"] else ""
        record: Record = {
            "filename": clip,
            "speaker": speaker or "unknown",
            "gender": _GENDERS.get(gender.lower(), gender) or "unknown",
            "target": label_map[label] if label_map is not None else label,
            "label_code": label,
        }
        if cols["fold"]:
            record["fold"] = str(row[cols["fold"]]).strip()
        record.update({new: row[old] for old, new in extra.items()})
        record["row"] = line
        records.append(record)
    corpus = name or manifest.stem
    counts = Counter(r["target"] for r in records)
    spec = CorpusSpec(
        name=corpus,
        title=corpus,
        layouts=(),
        example=str(records[0]["filename"]),
        expected=dict(counts),
        descr=f"{corpus}: {len(records)} clips from the manifest {manifest}",
    )
    out = build_dataset(
        spec,
        base,
        records,
        strict=strict,
        load_audio=load_audio,
        return_X_y=return_X_y,
        arrays=("fold",) if cols["fold"] else (),
        check_duplicates=False,
    )
    if cols["fold"] and isinstance(out, Bunch):
        out.fold = out.fold.astype(str)
        out.cv = _fold_splitter(list(out.fold))
    return out


def load_folder(
    root: str | os.PathLike[str],
    *,
    name: str | None = None,
    strict: bool = False,
    load_audio: bool = False,
    return_X_y: bool = False,
) -> Bunch | tuple[Any, np.ndarray]:
    """Load a folder-per-label corpus: ``root/<label>/*.wav`` or ``root/<speaker>/<label>/*.wav``.

    Parameters
    ----------
    root : str or path-like
        Folder whose sub-folders are the labels (each holding the clips), or
        the speakers (each holding label folders). Audio files are ``.wav``,
        ``.flac`` and ``.ogg``; dotfiles are ignored. Every file must sit at
        the same depth.
    name : str, optional
        Corpus name stored as ``bunch.corpus`` (default: the folder's name).
    strict : bool, default=False
        Raise on truncated or non-audio files instead of skipping them with a
        :class:`CorpusWarning`.
    load_audio : bool, default=False
        Also read the waveforms into ``data`` (float32 mono, native rate).
    return_X_y : bool, default=False
        Return ``(filenames, target)`` instead of the Bunch.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Like the corpus loaders': ``filenames``, ``target`` (the label
        folders' names), ``speaker`` (the speaker folders' names, or
        ``"unknown"``), ``gender`` (``"unknown"``), ``frame``,
        ``sampling_rate``, ``DESCR``, ``corpus``.
    (X, target) : tuple
        With ``return_X_y=True``.

    Raises
    ------
    ParameterError
        If ``root`` is not a folder, holds no audio files, or holds them at
        different depths (the message names an example of each).

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> import numpy as np
    >>> import soundfile as sf
    >>> from sertools.datasets import load_folder
    >>> tmp = Path(tempfile.mkdtemp())
    >>> for rel in ["s1/angry/x.wav", "s1/sad/y.wav", "s2/sad/z.wav"]:
    ...     (tmp / rel).parent.mkdir(parents=True, exist_ok=True)
    ...     sf.write(tmp / rel, np.zeros(1600), 16000)
    >>> mine = load_folder(tmp, name="mine")
    >>> mine.target.tolist(), mine.speaker.tolist(), mine.corpus
    (['angry', 'sad', 'sad'], ['s1', 's1', 's2'], 'mine')
    """
    corpus = name or Path(root).expanduser().resolve().name
    spec = CorpusSpec(
        corpus, corpus, ("<label>/*.wav", "<speaker>/<label>/*.wav"), "angry/clip1.wav", {}, ""
    )
    path = resolve_root(root, spec)
    files = sorted(
        p
        for p in path.rglob("*")
        if p.suffix.lower() in AUDIO_SUFFIXES
        and p.is_file()
        and not any(part.startswith(".") for part in p.relative_to(path).parts)
    )
    if not files:
        raise spec.no_files_error(path)
    depths: dict[int, str] = {}
    for p in files:
        depths.setdefault(len(p.relative_to(path).parts), p.relative_to(path).as_posix())
    if len(depths) > 1 or not set(depths) <= {2, 3}:
        examples = "; ".join(f"depth {d}: {ex}" for d, ex in sorted(depths.items()))
        raise ParameterError(
            f"{path}: expected every audio file at <label>/<file> or <speaker>/<label>/<file>, "
            f"found {examples}"
        )
    records: list[Record] = []
    for p in files:
        parts = p.relative_to(path).parts
        records.append(
            {
                "filename": p,
                "speaker": parts[0] if len(parts) == 3 else "unknown",
                "gender": "unknown",
                "target": parts[-2],
                "label_code": parts[-2],
            }
        )
    spec = CorpusSpec(
        corpus,
        corpus,
        spec.layouts,
        spec.example,
        dict(Counter(r["target"] for r in records)),
        f"{corpus}: {len(records)} clips in label folders under {path}",
    )
    return build_dataset(
        spec,
        path,
        records,
        strict=strict,
        load_audio=load_audio,
        return_X_y=return_X_y,
        check_duplicates=False,
    )
