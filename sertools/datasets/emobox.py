"""EmoBox partitions: the field's shared folds, read from the files EmoBox publishes.

EmoBox (Ma et al., Interspeech 2024; github.com/emo-box/EmoBox, MIT) publishes,
per corpus, ``data/<corpus>/<corpus>.jsonl`` (one JSON object per clip),
``fold_N/<corpus>_{train,test}_fold_N.jsonl`` and ``label_map.json`` (or
``label_dict.json``). :func:`load_emobox` reads them as published, maps their
``downloads/<corpus>/...`` paths onto the user's copy of the audio and returns a
loader Bunch whose ``cv`` reproduces the folds exactly.
"""

from __future__ import annotations

import difflib
import importlib
import json
import os
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.utils import Bunch

from .._exceptions import ParameterError
from ._base import LABELS, CorpusSpec, Record, build_dataset, warn
from .folds import TEST, TRAIN, PredefinedFolds

__all__ = ["EMOBOX_RESULTS", "emobox_folds", "emobox_reference", "load_emobox"]

#: Where :data:`EMOBOX_RESULTS` come from.
EMOBOX_SOURCE = (
    "EmoBox intra-corpus benchmark (Ma et al., 'EmoBox: Multilingual Multi-corpus Speech "
    "Emotion Recognition Toolkit and Benchmark', Interspeech 2024), UA % of the best of its "
    "10 pretrained models on EmoBox's folds, as quoted in sertools issue #22"
)

#: Published EmoBox figures per corpus: UA (%) of EmoBox's best model on its folds.
EMOBOX_RESULTS: dict[str, dict[str, Any]] = {
    name: {"uar": uar, "model": "best of EmoBox's 10", "source": EMOBOX_SOURCE}
    for name, uar in {"emovo": 57.82, "ravdess": 75.32, "cremad": 76.75, "iemocap": 73.54}.items()
}

_PATH_KEYS = ("wav", "audio", "path", "file")
_LABEL_KEYS = ("emo", "label", "emotion")
_LABEL_FILES = ("label_map.json", "label_dict.json")
_DUPLICATE_FILES = "same clips in several files: "
#: emotion words used as codes; a code close to a shared label but not one of these is
#: reported as a misspelling (EmoBox's EMODB "boredem")
_WORDS = frozenset(
    "anger angry happiness happy joy sadness sad fear fearful disgust disgusted surprise "
    "surprised neutral calm boredom bored excited frustrated contempt".split()
)


def emobox_reference(corpus: str) -> dict[str, Any] | None:
    """Return EmoBox's published figure for a corpus, or None.

    Parameters
    ----------
    corpus : str
        Canonical corpus name (``"emovo"``).

    Returns
    -------
    dict or None
        ``{"uar": ..., "model": ..., "source": ...}``.

    Examples
    --------
    >>> from sertools.datasets import emobox_reference
    >>> emobox_reference("emovo")["uar"]
    57.82
    """
    found = EMOBOX_RESULTS.get(str(corpus))
    return None if found is None else dict(found)


def _folder(name: str, metadata_root: Path) -> Path:
    for candidate in (metadata_root / name, metadata_root, metadata_root / "data" / name):
        if (candidate / f"{name}.jsonl").is_file() or (candidate / f"{name}.json").is_file():
            return candidate
    raise ParameterError(
        f"no EmoBox metadata for {name!r} under {metadata_root}: expected {name}/{name}.jsonl "
        "(EmoBox's data/ folder, or the corpus folder itself)"
    )


def _read_records(path: Path) -> list[dict[str, Any]]:
    """One dict per clip from a .jsonl (objects per line) or .json (key -> object) file."""
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".json":
        data = json.loads(text)
        if not isinstance(data, dict):
            raise ParameterError(f"{path}: expected a JSON object of clips")
        return [{"key": k, **v} for k, v in data.items()]
    out = []
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise ParameterError(f"{path} line {number} is not JSON: {exc.msg}") from None
    return out


def _field(record: dict[str, Any], keys: tuple[str, ...], path: Path, what: str) -> tuple[str, str]:
    for key in keys:
        if key in record:
            return key, str(record[key])
    raise ParameterError(
        f"{path}: clip {record.get('key', '?')!r} has no {what} (expected one of {', '.join(keys)})"
    )


def _fold_files(folder: Path, name: str, fold: int, side: str) -> list[Path]:
    pattern = re.compile(rf"{re.escape(name)}_{side}_fold_?{fold}\.jsonl?")
    files = sorted(p for p in folder.iterdir() if pattern.fullmatch(p.name))
    jsonl = [p for p in files if p.suffix == ".jsonl"]
    # EmoBox's own names (..._fold_N) first, then the other spellings
    return sorted(jsonl or files, key=lambda p: (f"_fold_{fold}." not in p.name, p.name))


def _read_side(
    folder: Path, name: str, fold: int, side: str, notes: list[str], keys_used: Counter
) -> list[str] | None:
    files = _fold_files(folder, name, fold, side)
    if not files:
        return None
    contents = []
    for path in files:
        records = _read_records(path)
        for r in records:
            keys_used[
                (
                    path.relative_to(folder).as_posix(),
                    _field(r, _PATH_KEYS, path, "path")[0],
                    _field(r, _LABEL_KEYS, path, "label")[0],
                )
            ] += 1
        contents.append([str(r.get("key", "")) for r in records])
    for path, keys in zip(files[1:], contents[1:], strict=True):
        if set(keys) != set(contents[0]):
            raise ParameterError(
                f"EmoBox {name} fold_{fold}: {files[0].name} and {path.name} list different "
                f"{side} clips ({len(set(contents[0]) ^ set(keys))} differ); which is meant is "
                "ambiguous"
            )
    if len(files) > 1:
        notes.append(
            f"{_DUPLICATE_FILES}fold_{fold} {side}: {' = '.join(p.name for p in files)} "
            f"({len(contents[0])} clips)"
        )
    return contents[0]


def _map_paths(paths: list[str], audio_root: Path) -> tuple[int, list[Path]]:
    """Drop the leading folders of EmoBox's paths that gives the most hits under audio_root."""
    depth = max(len(Path(p).parts) for p in paths)
    best_k, best_hits, best = 0, -1, []
    for k in range(depth):
        mapped = [audio_root.joinpath(*Path(p).parts[k:]) for p in paths if len(Path(p).parts) > k]
        if len(mapped) < len(paths):
            break
        hits = sum(m.is_file() for m in mapped)
        if hits > best_hits:
            best_k, best_hits, best = k, hits, mapped
    return best_k, best


def _labels(
    codes: list[str], folder: Path, label_map: Mapping[str, str] | None, notes: list[str]
) -> tuple[dict[str, str], bool]:
    """Map each code to a target; True when something irregular was done (worth a warning)."""
    irregular = False
    published: dict[str, str] = {}
    source = ""
    for file in _LABEL_FILES:
        if (folder / file).is_file():
            published = json.loads((folder / file).read_text(encoding="utf-8"))
            source = file
            break
    lower = {str(k).lower(): (str(k), str(v)) for k, v in published.items()}
    mapping: dict[str, str] = {}
    described = []
    for code, n in sorted(Counter(codes).items()):
        if label_map is not None and code in label_map:
            mapping[code] = str(label_map[code])
            described.append(f"{code} -> {mapping[code]} ({n}, label_map=)")
            continue
        if code in published:
            emobox_class, how = str(published[code]), ""
        elif code.lower() in lower:
            key, emobox_class = lower[code.lower()]
            how = f"; {source} spells the key {key!r}: matched ignoring case"
            irregular = True
        else:
            emobox_class, how = code, f"; not in {source or 'a label map'}: kept as written"
            irregular = True
        target = emobox_class.lower()
        if label_map is not None and emobox_class in label_map:
            target = str(label_map[emobox_class])
        close = difflib.get_close_matches(code.lower(), LABELS, n=1, cutoff=0.8)
        if code.lower() not in _WORDS and close and close[0] == target:
            how += f"; {code!r} is EmoBox's spelling of {close[0]!r}"
            irregular = True
        mapping[code] = target
        described.append(f"{code} -> {target} ({n}{how})")
    notes.append("labels: " + ", ".join(described))
    return mapping, irregular


@dataclass
class _Metadata:
    folder: Path
    main: Path
    keys: list[str]
    clips: dict[str, dict[str, str]]
    membership: np.ndarray
    notes: list[str]
    irregular: bool
    mapping: dict[str, str]


def _read_metadata(
    name: str, metadata_root: str | os.PathLike[str], label_map: Mapping[str, str] | None
) -> _Metadata:
    """Read EmoBox's metadata, folds and label map for one corpus (no audio needed)."""
    meta_root = Path(metadata_root).expanduser().resolve()
    folder = _folder(name, meta_root)
    main = folder / f"{name}.jsonl"
    main = main if main.is_file() else folder / f"{name}.json"
    raw = _read_records(main)
    notes: list[str] = [f"metadata: {main}"]
    keys_used: Counter = Counter()
    clips: dict[str, dict[str, str]] = {}
    for r in raw:
        path_key, wav = _field(r, _PATH_KEYS, main, "path")
        label_key, code = _field(r, _LABEL_KEYS, main, "label")
        keys_used[(main.name, path_key, label_key)] += 1
        key = str(r.get("key") or Path(wav).stem)
        if key in clips:
            raise ParameterError(f"{main}: clip {key!r} is listed twice")
        clips[key] = {"wav": wav, "code": code}
    folds = sorted(
        (int(m[1]), p) for p in folder.iterdir() if (m := re.fullmatch(r"fold_(\d+)", p.name))
    )
    if not folds:
        raise ParameterError(f"{folder}: no fold_N folders (EmoBox's partitions)")
    keys = list(clips)
    index = {k: i for i, k in enumerate(keys)}
    membership = np.zeros((len(keys), len(folds)), dtype=np.int8)
    for j, (number, fold_dir) in enumerate(folds):
        test = _read_side(fold_dir, name, number, "test", notes, keys_used)
        if test is None:
            raise ParameterError(f"{fold_dir}: no {name}_test_fold_{number}.jsonl")
        train = _read_side(fold_dir, name, number, "train", notes, keys_used)
        if train is None:
            train = [k for k in keys if k not in set(test)]
            notes.append(f"fold_{number}: no train file; trains on every clip it does not test")
        for side, members in ((TRAIN, train), (TEST, test)):
            unknown = [k for k in members if k not in index]
            if unknown:
                raise ParameterError(
                    f"EmoBox {name} fold_{number} lists {len(unknown)} clip(s) that {main.name} "
                    f"does not: {', '.join(unknown[:5])}"
                )
            membership[[index[k] for k in members], j] = side
        both = set(train) & set(test)
        if both:
            raise ParameterError(
                f"EmoBox {name} fold_{number}: {len(both)} clip(s) in both train and test"
            )
    spellings = sorted({(p, lk) for (_, p, lk) in keys_used})
    duplicates = [n.removeprefix(_DUPLICATE_FILES) for n in notes if n.startswith(_DUPLICATE_FILES)]
    notes = [n for n in notes if not n.startswith(_DUPLICATE_FILES)]
    if duplicates:
        notes.append(
            f"{len(duplicates)} fold sides have several files listing the same clips; the "
            f"first named is read ({'; '.join(duplicates[:2])}"
            + (f"; ... {len(duplicates) - 2} more)" if len(duplicates) > 2 else ")")
        )
    irregular = len(spellings) > 1 or bool(duplicates)
    if len(spellings) > 1:
        files_by_keys: dict[str, list[str]] = {}
        for f, pk, lk in sorted(keys_used):
            files_by_keys.setdefault(f"{pk}/{lk}", []).append(f)
        notes.append(
            "records name their path/label keys "
            + " or ".join(
                f"{keys} ({len(fs)} files, e.g. {fs[0]})" for keys, fs in files_by_keys.items()
            )
        )

    codes = [c["code"] for c in clips.values()]
    mapping, odd_labels = _labels(codes, folder, label_map, notes)
    irregular |= odd_labels
    return _Metadata(folder, main, keys, clips, membership, notes, irregular, mapping)


def load_emobox(
    name: str,
    metadata_root: str | os.PathLike[str],
    audio_root: str | os.PathLike[str],
    *,
    label_map: Mapping[str, str] | None = None,
    strict: bool = False,
    load_audio: bool = False,
    return_X_y: bool = False,
) -> Bunch | tuple[Any, np.ndarray]:
    """Load a corpus with EmoBox's published folds.

    Parameters
    ----------
    name : str
        EmoBox's corpus name (``"emovo"``, ``"emodb"``, ``"cremad"``...).
    metadata_root : str or path-like
        EmoBox's ``data/`` folder (holding ``<name>/``) or the corpus's folder
        itself, as published: ``<name>.jsonl``, ``fold_N/`` with
        ``<name>_{train,test}_fold_N.jsonl``, ``label_map.json`` or
        ``label_dict.json``. Records may use ``wav``/``emo`` or
        ``audio``/``label``; several files for one fold side (EMODB's
        ``emodb_train_fold1.jsonl`` beside ``emodb_train_fold_1.jsonl``) must
        list the same clips.
    audio_root : str or path-like
        The user's copy of the corpus. EmoBox's paths
        (``downloads/emovo/f2/gio-f2-b2.wav``) are mapped by dropping the
        leading folders that make the most of them exist under it
        (``audio_root/f2/gio-f2-b2.wav``).
    label_map : mapping of str to str, optional
        Overrides: a corpus code or EmoBox class (``"Happy"``) -> the target
        label. By default EmoBox's label map is applied and its classes
        lowercased (``"Angry"`` -> ``"angry"``), matching the shared labels.
    strict : bool, default=False
        Raise instead of warning when clips listed by EmoBox are not under
        ``audio_root`` (and on truncated or non-audio files).
    load_audio : bool, default=False
        Also read the waveforms into ``data``.
    return_X_y : bool, default=False
        Return ``(filenames, target)`` instead of the Bunch.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Like the corpus loaders' (``filenames``, ``target``, ``speaker``,
        ``gender``, ``frame`` with ``key`` EmoBox's clip id and ``label_code``
        EmoBox's code, ``corpus`` = ``name``), plus ``cv`` a
        :class:`~sertools.datasets.PredefinedFolds` holding EmoBox's folds
        (clips missing from ``audio_root`` removed), ``emobox_notes`` (list of
        str: every mapping done), ``n_listed`` (clips EmoBox lists) and
        ``reference`` (:func:`emobox_reference`). Speakers and sentences come
        from the file names when sertools knows the corpus, else from
        EmoBox's ``data.seg.wrd.stm``.
    (X, target) : tuple
        With ``return_X_y=True``.

    Raises
    ------
    ParameterError
        If the metadata is missing or unreadable, fold files disagree, a fold
        lists a clip the metadata does not, or no listed clip is found under
        ``audio_root``.

    Warns
    -----
    CorpusWarning
        Listing what was mapped when the files needed more than the plain
        reading (mixed keys, several files per fold side, a label key matched
        ignoring case, a misspelt label), and the clips missing from
        ``audio_root`` (per class).

    Examples
    --------
    >>> from sertools.datasets import get_cv, load_emobox
    >>> emovo = load_emobox("emovo", "EmoBox/data", "path/to/EMOVO")  # doctest: +SKIP
    >>> cv, groups = get_cv(emovo, "emobox")  # doctest: +SKIP
    """
    root = Path(audio_root).expanduser().resolve()
    if not root.is_dir():
        raise ParameterError(f"audio_root {root} is not a folder")
    meta = _read_metadata(name, metadata_root, label_map)
    folder, keys, clips = meta.folder, meta.keys, meta.clips
    membership, notes, irregular, mapping = (
        meta.membership,
        meta.notes,
        meta.irregular,
        meta.mapping,
    )
    index = {k: i for i, k in enumerate(keys)}
    k, mapped = _map_paths([c["wav"] for c in clips.values()], root)
    dropped = Path(next(iter(clips.values()))["wav"]).parts[:k]
    found = [m.is_file() for m in mapped]
    if not any(found):
        raise ParameterError(
            f"none of the {len(keys)} clips EmoBox lists for {name} (e.g. "
            f"{next(iter(clips.values()))['wav']}) is under {root}; expected the corpus's own "
            "layout there (e.g. EMOVO's f1/ ... m3/)"
        )
    notes.append(
        f"paths: {'/'.join(dropped) + '/' if dropped else ''}<rest> -> {root}/<rest>; "
        f"{sum(found)} of {len(keys)} found"
    )

    parse = None
    from ._corpora import CORPUS_SPECS

    spec_known = CORPUS_SPECS.get(name)
    if spec_known is not None:
        parse = getattr(importlib.import_module(f".{name}", __package__), "_parse", None)
    stm = _stm_speakers(folder)
    records: list[Record] = []
    missing: Counter = Counter()
    missing_names: list[str] = []
    for key, clip, path, ok in zip(keys, clips.values(), mapped, found, strict=True):
        target = mapping[clip["code"]]
        if not ok:
            missing[target] += 1
            missing_names.append(clip["wav"])
            continue
        native = parse(path) if parse is not None else None
        record: Record = {
            "filename": path,
            "speaker": stm.get(key, "unknown"),
            "gender": "unknown",
            **(
                {k: v for k, v in native.items() if k not in ("target", "label_code")}
                if native
                else {}
            ),
            "target": target,
            "label_code": clip["code"],
            "key": key,
        }
        records.append(record)
    if missing:
        per_class = ", ".join(f"{label} {n}" for label, n in sorted(missing.items()))
        message = (
            f"{sum(missing.values())} of the {len(keys)} clips EmoBox lists for {name} are not "
            f"under {root} and are left out of every fold ({per_class}; e.g. "
            f"{', '.join(missing_names[:3])})"
        )
        if strict:
            raise ParameterError(message)
        notes.append(message)
        irregular = True
    if irregular:
        warn(f"EmoBox {name} read from {folder}: " + "; ".join(notes[1:]))
    title = spec_known.title if spec_known else name
    spec = CorpusSpec(
        name=name,
        title=f"EmoBox {title}",
        layouts=(),
        example=clips[keys[0]]["wav"],
        expected=dict(Counter(r["target"] for r in records)),
        descr=(spec_known.descr if spec_known else f"{name}\n") + f"\nFolds: EmoBox ({folder}).\n",
    )
    out = build_dataset(
        spec, root, records, strict=strict, load_audio=load_audio, return_X_y=return_X_y
    )
    if not isinstance(out, Bunch):
        return out
    rows = [index[k] for k in out.frame["key"]]
    out.cv = PredefinedFolds(membership=membership[rows])
    out.emobox_notes = notes
    out.n_listed = len(keys)
    out.reference = emobox_reference(name)
    return out


def _stm_speakers(folder: Path) -> dict[str, str]:
    """Speaker of each clip from EmoBox's ``data.seg.wrd.stm`` (``<... spk=ID ...>``)."""
    stm = folder / "data.seg.wrd.stm"
    if not stm.is_file():
        return {}
    out = {}
    for line in stm.read_text(encoding="utf-8").splitlines():
        parts = line.split()
        match = re.search(r"[<,]spk=([^,>]+)", line)
        if parts and match:
            out[parts[0]] = match[1]
    return out


def emobox_folds(
    name: str,
    metadata_root: str | os.PathLike[str],
    *,
    label_map: Mapping[str, str] | None = None,
) -> Bunch:
    """Read EmoBox's folds for a corpus as published, over every clip it lists (no audio).

    For auditing a partition before (or without) fetching the audio; for
    experiments use :func:`load_emobox`, whose folds keep only the clips you
    have.

    Parameters
    ----------
    name : str
        EmoBox's corpus name.
    metadata_root : str or path-like
        EmoBox's ``data/`` folder or the corpus's folder, as for
        :func:`load_emobox`.
    label_map : mapping of str to str, optional
        Overrides, as for :func:`load_emobox`.

    Returns
    -------
    :class:`~sklearn.utils.Bunch`
        ``key`` (n_listed,), ``wav`` (n_listed,) EmoBox's paths, ``label_code``
        and ``target`` (n_listed,), ``speaker`` (n_listed,) from EmoBox's
        ``data.seg.wrd.stm`` (``"unknown"`` without it), ``cv`` a
        :class:`~sertools.datasets.PredefinedFolds`, ``notes`` (list of str).

    Examples
    --------
    >>> from sertools.datasets import audit_folds, emobox_folds
    >>> folds = emobox_folds("emodb", "EmoBox/data")  # doctest: +SKIP
    >>> audit_folds(folds.cv, folds.key, folds.target, folds.speaker)  # doctest: +SKIP
    """
    meta = _read_metadata(name, metadata_root, label_map)
    stm = _stm_speakers(meta.folder)
    codes = np.array([meta.clips[k]["code"] for k in meta.keys])
    return Bunch(
        key=np.array(meta.keys),
        wav=np.array([meta.clips[k]["wav"] for k in meta.keys]),
        label_code=codes,
        target=np.array([meta.mapping[c] for c in codes]),
        speaker=np.array([stm.get(k, "unknown") for k in meta.keys]),
        cv=PredefinedFolds(membership=meta.membership),
        notes=meta.notes,
    )
