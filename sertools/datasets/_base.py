"""Machinery shared by the corpus loaders.

A corpus module describes its corpus with a :class:`CorpusSpec` (where the files
live, an example name, the per-class counts of the full release, a description)
and a parser that turns one file (or label line) into a metadata record. This
module does the rest once for every corpus: root checks, file discovery (dotfiles
ignored), strict/warn handling of names that do not parse, Git LFS pointer checks,
header checks of every file (no decoding: empty, truncated and non-audio files
are reported), the partial-tree warning, the :class:`~sklearn.utils.Bunch`
and the optional audio reading. A loader's body is one call
(:func:`load_named_files` for corpora labelled by their file names,
:func:`collect_rated_labels` then :func:`build_dataset` for corpora with label
files); :func:`name_parser` does the pattern match and code look-up of a file-name
parser; :func:`fill_doc` fills the docstring paragraphs every loader shares
(:data:`LOADER_DOCS`), so a corpus module states only what is its own.
"""

from __future__ import annotations

import os
import re
import sys
import textwrap
import warnings
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeAlias, TypeVar

import numpy as np
import pandas as pd
from sklearn.utils import Bunch

from .._exceptions import ParameterError
from ..audio import AudioInfo, audio_info, is_lfs_pointer, read_audio

__all__ = [
    "LABELS",
    "CorpusSpec",
    "CorpusWarning",
    "LoaderResult",
    "Record",
    "StrPath",
    "build_dataset",
    "check_not_lfs",
    "collect_rated_labels",
    "fill_doc",
    "find_files",
    "load_named_files",
    "name_parser",
    "resolve_root",
    "warn",
]

#: Harmonised emotion labels used by every loader.
LABELS = (
    "angry",
    "disgust",
    "fear",
    "happy",
    "neutral",
    "sad",
    "surprise",
    "calm",
    "boredom",
    "contempt",
)

#: Files at most this large are opened to check for Git LFS pointers and empty audio.
_SMALL_FILE_BYTES = 1024
#: How many offending items a message lists before summarising the rest.
_LIST_LIMIT = 10
#: Frame columns every loader provides, in this order, before the corpus-specific ones.
_BASE_COLUMNS = ("filename", "speaker", "gender", "target", "label_code")

Record = dict[str, Any]
#: A corpus root as users give it.
StrPath: TypeAlias = str | os.PathLike[str]
#: What a loader returns: the Bunch, or ``(X, target)`` with ``return_X_y=True``.
LoaderResult: TypeAlias = Bunch | tuple[Any, np.ndarray]
_F = TypeVar("_F", bound=Callable[..., Any])

#: Docstring paragraphs the corpus loaders share, put by :func:`fill_doc` where a
#: loader's docstring says ``%(key)s``; ``{title}``, ``{name}`` and ``{n_files}``
#: become the loader's corpus (``SPEC.title``, ``SPEC.name``, ``SPEC.n_files``).
LOADER_DOCS: dict[str, str] = {
    "strict": """strict : bool, default=False
    Raise :class:`~sertools.ParameterError` on files whose names do not
    follow the convention, repeated clips (the same clip under two paths),
    and truncated or non-audio files (found from their headers); by default
    they are skipped with one :class:`CorpusWarning` per kind listing them.""",
    "load_audio": """load_audio : bool, default=False
    Also read the waveforms into ``data`` (float32 mono, stereo files
    downmixed by averaging, native rate).""",
    "return_X_y": """return_X_y : bool, default=False
    Return ``(filenames, target)`` (``(data, target)`` with
    ``load_audio=True``) instead of the Bunch.""",
    "bunch": """data : :class:`~sklearn.utils.Bunch`
    With ``filenames`` (n_files,) sorted absolute paths (object array of
    str), ``target`` (n_files,) harmonised labels, ``target_names`` the
    sorted labels present, ``speaker`` (n_files,), ``gender`` (n_files,),
    ``frame`` a DataFrame with one row per file, ``sampling_rate`` (read
    from the first file), ``DESCR``, ``corpus`` (``"{name}"``) and, with
    ``load_audio=True``, ``data`` (list of n_files float32 arrays of shape
    (n_samples_i,)).""",
    "X_y": """(X, target) : tuple
    With ``return_X_y=True``.""",
    "raises": """ParameterError
    If ``root`` is missing or holds no {title} files or no usable audio,
    holds Git LFS pointers, or (``strict=True``) holds names that do not
    parse, repeated clips, or truncated or non-audio files.""",
    "warns": """CorpusWarning
    For the files skipped (see ``strict``), files without audio and a tree
    that differs from the full {n_files}-file release.""",
}
_PLACEHOLDER = re.compile(r"^(?P<indent>[ \t]*)%\((?P<key>\w+)\)s[ \t]*$", re.MULTILINE)


class CorpusWarning(UserWarning):
    """A corpus loaded, but not entirely as expected.

    Issued for file names that do not parse, labelled files that are missing,
    truncated files and files that are not audio (these four raise with
    ``strict=True``), files without audio, out-of-scope files, missing
    speaker metadata, and trees that differ from the full corpus release.

    Examples
    --------
    A tree with one of the 535 EMODB files loads, with a warning that says
    what is missing:

    >>> import tempfile, warnings
    >>> from pathlib import Path
    >>> import numpy as np
    >>> import soundfile as sf
    >>> from sertools.datasets import CorpusWarning, load_emodb
    >>> tmp = tempfile.TemporaryDirectory()
    >>> sf.write(Path(tmp.name) / "03a01Fa.wav", np.zeros(1600), 16000)
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     emodb = load_emodb(tmp.name)
    >>> [w.category.__name__ for w in caught]
    ['CorpusWarning']
    >>> print(caught[0].message)
    EMODB under ... differs from the full corpus: 1 of 535 files; found/expected per class:
    angry 0/127, boredom 0/81, disgust 0/46, fear 0/69, happy 1/71, neutral 0/79, sad 0/62;
    missing classes: angry, boredom, disgust, fear, neutral, sad
    >>> emodb.target.tolist()
    ['happy']

    Turn the warnings into errors to insist on complete corpora:

    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("error", CorpusWarning)
    ...     try:
    ...         load_emodb(tmp.name)
    ...     except CorpusWarning as err:
    ...         print(type(err).__name__)
    CorpusWarning
    >>> tmp.cleanup()
    """


@dataclass(frozen=True)
class CorpusSpec:
    """Static description of one corpus.

    Parameters
    ----------
    name : str
        Registry key, e.g. ``"emodb"``; stored as ``bunch.corpus``.
    title : str
        Display name used in messages, e.g. ``"EMODB"``.
    layouts : tuple of str
        Glob patterns relative to the root, tried in order; the first that
        matches any (non-hidden) file gives the corpus files.
    example : str
        One correctly named file, shown in error messages.
    expected : mapping of str to int
        Per-class file counts of the full release (harmonised labels).
    descr : str
        Description with language, speakers, native rate and citation.
    language : str, default=""
        Language(s) spoken, e.g. ``"German"``.
    codes : mapping of str to str, default={}
        The corpus's own emotion codes mapped to the shared labels of
        :data:`LABELS` (e.g. ``{"W": "angry", ...}``): the harmonisation as data
        (see :mod:`sertools.datasets.labels`).
    speakers : int, default=0
        Number of speakers of the full release.
    aliases : tuple of str, default=()
        Other spellings accepted by :func:`~sertools.datasets.load_corpus` and
        the CLI (``"crema-d"``).
    recommended_protocol : str, default="loso"
        Speaker-independent protocol of :func:`~sertools.datasets.get_cv`
        recommended for the corpus.
    paper_n_classes : int or None, default=None
        Number of classes in the paper's Table I (None: not in the paper).
    text_field : str or None, default=None
        Frame column holding the sentence/text id (for the leak audit).
    url : str, default=""
        Where the corpus is obtained.
    """

    name: str
    title: str
    layouts: tuple[str, ...]
    example: str
    expected: Mapping[str, int]
    descr: str
    language: str = ""
    codes: Mapping[str, str] = field(default_factory=dict)
    speakers: int = 0
    aliases: tuple[str, ...] = ()
    recommended_protocol: str = "loso"
    paper_n_classes: int | None = None
    text_field: str | None = None
    url: str = ""

    @property
    def n_files(self) -> int:
        """Number of clips of the full release (sum of ``expected``)."""
        return sum(self.expected.values())

    def no_files_error(self, root: Path, detail: str = "") -> ParameterError:
        """Build the error for a root without any corpus file.

        Parameters
        ----------
        root : Path
            The root that was searched.
        detail : str, default=""
            Extra sentence appended to the message.

        Returns
        -------
        ParameterError
        """
        patterns = " or ".join(repr(p) for p in self.layouts)
        message = f"no {self.title} files matching {patterns} (e.g. {self.example}) under {root}"
        return ParameterError(f"{message}; {detail}" if detail else message)


def fill_doc(spec: CorpusSpec) -> Callable[[_F], _F]:
    """Fill the shared paragraphs of :data:`LOADER_DOCS` into a loader's docstring.

    In the spirit of scipy's ``doccer`` and MNE's ``fill_doc``: a line of the
    docstring that holds only ``%(key)s`` is replaced by ``LOADER_DOCS[key]``,
    indented like the placeholder, with the corpus of ``spec`` filled in. The
    lines that follow a placeholder continue its paragraph (a corpus adds its
    own sentences to a shared entry). The function itself is returned
    unchanged but for its ``__doc__``.

    Parameters
    ----------
    spec : CorpusSpec
        The loader's corpus.

    Returns
    -------
    callable
        Decorator setting the filled ``__doc__``.

    Raises
    ------
    ValueError
        If the docstring names a key that :data:`LOADER_DOCS` does not have.
    """
    values = {"title": spec.title, "name": spec.name, "n_files": spec.n_files}

    def fill(match: re.Match[str]) -> str:
        if match["key"] not in LOADER_DOCS:
            raise ValueError(
                f"unknown docstring placeholder %({match['key']})s; "
                f"known: {', '.join(sorted(LOADER_DOCS))}"
            )
        text = LOADER_DOCS[match["key"]].format(**values)
        return textwrap.indent(text, match["indent"])

    def decorate(func: _F) -> _F:
        if func.__doc__:  # None under python -OO
            func.__doc__ = _PLACEHOLDER.sub(fill, func.__doc__)
        return func

    return decorate


def warn(message: str) -> None:
    """Issue a :class:`CorpusWarning` attributed to the first caller outside this package.

    Parameters
    ----------
    message : str
        Warning text.
    """
    frame = sys._getframe(1)
    level = 2
    while frame.f_back is not None and frame.f_globals.get("__name__", "").startswith(__package__):
        frame = frame.f_back
        level += 1
    warnings.warn(message, CorpusWarning, stacklevel=level)


def _listing(items: Sequence[str]) -> str:
    shown = ", ".join(items[:_LIST_LIMIT])
    rest = len(items) - _LIST_LIMIT
    return f"{shown}, ... ({rest} more)" if rest > 0 else shown


def _is_hidden(path: Path, root: Path) -> bool:
    return any(part.startswith(".") for part in path.relative_to(root).parts)


def resolve_root(root: StrPath, spec: CorpusSpec) -> Path:
    """Return ``root`` as an absolute path, checking that it is a folder.

    Parameters
    ----------
    root : str or path-like
        Corpus root given by the user.
    spec : CorpusSpec
        Corpus, for the message.

    Returns
    -------
    Path
        Absolute, resolved root.

    Raises
    ------
    ParameterError
        If ``root`` does not exist or is not a folder.
    """
    path = Path(root).expanduser().resolve()
    if not path.exists():
        raise ParameterError(
            f"{spec.title} root {path} does not exist; expected a folder with files like "
            f"{spec.example}"
        )
    if not path.is_dir():
        raise ParameterError(
            f"{spec.title} root {path} is not a folder; expected a folder with files like "
            f"{spec.example}"
        )
    return path


def find_files(root: Path, spec: CorpusSpec) -> list[Path]:
    """List the corpus files of the first layout of ``spec`` that matches under ``root``.

    Parameters
    ----------
    root : Path
        Resolved corpus root.
    spec : CorpusSpec
        Corpus whose ``layouts`` are tried in order.

    Returns
    -------
    list of Path, sorted
        Matching regular files; dotfiles and files in dot-folders (``._x.wav``,
        ``.DS_Store``) are ignored.

    Raises
    ------
    ParameterError
        If no layout matches any file.
    """
    for pattern in spec.layouts:
        files = sorted(p for p in root.glob(pattern) if p.is_file() and not _is_hidden(p, root))
        if files:
            return files
    raise spec.no_files_error(root)


def parse_files(
    paths: Iterable[Path], root: Path, parse: Callable[[Path], Record | None]
) -> tuple[list[Record], list[str]]:
    """Apply a corpus parser to each file.

    Parameters
    ----------
    paths : iterable of Path
        Corpus files.
    root : Path
        Corpus root, to report unparsed files relative to it.
    parse : callable
        Returns the file's record (``speaker``, ``gender``, ``target``,
        ``label_code`` and corpus-specific fields) or None if the name does not
        follow the corpus convention.

    Returns
    -------
    records : list of dict
        One record per parsed file, with ``filename`` set to the path.
    unparsed : list of str
        Paths (relative to ``root``) of the files that did not parse.
    """
    records: list[Record] = []
    unparsed: list[str] = []
    for path in paths:
        record = parse(path)
        if record is None:
            unparsed.append(path.relative_to(root).as_posix())
        else:
            records.append({"filename": path, **record})
    return records, unparsed


def name_parser(
    pattern: re.Pattern[str],
    codes: Mapping[str, str],
    *,
    fold: Callable[[str], str] | None = None,
) -> Callable[[Callable[[re.Match[str]], Record | None]], Callable[[Path], Record | None]]:
    """Build a corpus parser from a file-name pattern and the corpus's own fields.

    For corpora whose file names carry the emotion code: the parser matches
    ``pattern`` against the file name, reads its ``code`` group (through
    ``fold``, e.g. ``str.upper`` for names in any case) and keeps the names
    whose code is one of ``codes``; the decorated function turns such a match
    into the record's ``speaker``, ``gender`` and corpus-specific fields (or
    None when the name is not the corpus's after all). The parser adds
    ``target`` (``codes[code]``) and ``label_code``.

    Parameters
    ----------
    pattern : re.Pattern
        Full-name pattern with a ``code`` group.
    codes : mapping of str to str
        The corpus's emotion codes mapped to the shared labels.
    fold : callable, optional
        Applied to the ``code`` group before the look-up (``label_code`` is
        the folded code).

    Returns
    -------
    callable
        Decorator turning ``fields(match) -> dict or None`` into
        ``parse(path) -> record or None`` (see :func:`parse_files`).
    """

    def decorate(
        fields: Callable[[re.Match[str]], Record | None],
    ) -> Callable[[Path], Record | None]:
        def parse(path: Path) -> Record | None:
            match = pattern.fullmatch(path.name)
            if match is None:
                return None
            code = fold(match["code"]) if fold else match["code"]
            record = fields(match) if code in codes else None
            return None if record is None else {**record, "target": codes[code], "label_code": code}

        parse.__doc__ = fields.__doc__
        return parse

    return decorate


def collect_rated_labels(
    root: StrPath,
    spec: CorpusSpec,
    read: Callable[[Path, Path], tuple[list[Record], list[str], list[str]]],
    *,
    item: str,
    rating: str,
    scale: tuple[float, float],
) -> tuple[Path, list[Record], list[str]]:
    """Resolve the root and read every label file of a corpus with dimensional ratings.

    For corpora whose labels come from label files (IEMOCAP, MSP-Podcast)
    rather than file names. Items of the kept classes without a rating on the
    corpus's scale are left out, never guessed: one :class:`CorpusWarning`
    lists them.

    Parameters
    ----------
    root : str or path-like
        Corpus root given by the user.
    spec : CorpusSpec
        Corpus whose ``layouts`` find the label files.
    read : callable
        ``read(label_file, root) -> (records, unparsed, unrated)``: the
        records (with ``filename``), the items that do not parse and the items
        left out for want of a rating, for messages.
    item : str
        What one label is, for the message (``"utterance"``, ``"turn"``).
    rating : str
        What the missing rating is, for the message.
    scale : tuple of float
        The rating scale (low, high), for the message.

    Returns
    -------
    root : Path
        Resolved root.
    records : list of dict
        Records of every label file, in order.
    unparsed : list of str
        Items that did not parse.
    """
    path = resolve_root(root, spec)
    records: list[Record] = []
    unparsed: list[str] = []
    unrated: list[str] = []
    for label_file in find_files(path, spec):
        file_records, file_unparsed, file_unrated = read(label_file, path)
        records += file_records
        unparsed += file_unparsed
        unrated += file_unrated
    if unrated:
        low, high = scale
        warn(
            f"{len(unrated)} {spec.title} {item}(s) under {path} have no {rating} rating on the "
            f"{low:g}-{high:g} scale and are left out (not guessed): {_listing(unrated)}"
        )
    return path, records, unparsed


def check_not_lfs(path: Path, spec: CorpusSpec) -> None:
    """Raise if ``path`` is a Git LFS pointer rather than corpus content.

    Parameters
    ----------
    path : Path
        File to inspect (only its first bytes are read).
    spec : CorpusSpec
        Corpus, for the message.

    Raises
    ------
    ParameterError
        If the file is a Git LFS pointer.
    """
    if is_lfs_pointer(path):
        raise ParameterError(
            f"{path} is a Git LFS pointer file, not {spec.title} data: the corpus is an "
            "un-fetched Git LFS checkout; run `git lfs pull` in its repository first"
        )


@dataclass
class _Screened:
    """Records sorted by what a header check found (see :func:`_screen`)."""

    usable: list[Record]
    missing: list[Record]
    silent: list[Record]
    truncated: list[tuple[Record, AudioInfo]]
    broken: list[tuple[Record, str]]
    rates: dict[Path, int]


def _screen(records: list[Record], spec: CorpusSpec) -> _Screened:
    """Check every file from its header alone (no decoding); LFS pointers raise.

    Sorts the records into usable ones, missing files, files without audio,
    truncated files (the header declares more frames than the file holds) and
    files that are not readable audio.
    """
    out = _Screened([], [], [], [], [], {})
    for record in records:
        path = record["filename"]
        try:
            size = path.stat().st_size
        except FileNotFoundError:
            out.missing.append(record)
            continue
        if size <= _SMALL_FILE_BYTES:
            check_not_lfs(path, spec)
        try:
            info = audio_info(path)
        except ParameterError as exc:
            cause = exc.__cause__  # soundfile's own words, without the path again
            reason = getattr(cause, "error_string", None) or str(cause or exc).splitlines()[0]
            out.broken.append((record, reason))
            continue
        if info.truncated:  # before "no audio": a header cut off after 0 frames is truncated
            out.truncated.append((record, info))
        elif info.frames == 0:
            out.silent.append(record)
        else:
            out.usable.append(record)
            out.rates[path] = info.sampling_rate
    return out


def _split_duplicates(records: list[Record]) -> tuple[list[Record], list[tuple[Record, Record]]]:
    """Keep the first record of each clip; return the rest as (kept, duplicate) pairs.

    Two records are the same clip when every parsed field but the path agrees
    (speaker, label code, sentence, take, ...): the same file copied under two
    folders. Records are compared in sorted path order, so the kept one does not
    depend on the file system's listing order.
    """
    kept: dict[tuple[tuple[str, str], ...], Record] = {}
    duplicates: list[tuple[Record, Record]] = []
    for record in sorted(records, key=lambda r: str(r["filename"])):
        key = tuple(sorted((k, repr(v)) for k, v in record.items() if k != "filename"))
        if key in kept:
            duplicates.append((kept[key], record))
        else:
            kept[key] = record
    if not duplicates:
        return records, []
    dropped = {id(dup) for _, dup in duplicates}
    return [r for r in records if id(r) not in dropped], duplicates


def _check_counts(
    records: list[Record], root: Path, spec: CorpusSpec, expected: Mapping[str, int]
) -> None:
    found = Counter(record["target"] for record in records)
    if found == Counter(expected):
        return
    labels = sorted(set(expected) | set(found))
    differing = [
        f"{label} {found[label]}/{expected.get(label, 0)}"
        for label in labels
        if found[label] != expected.get(label, 0)
    ]
    missing = [label for label in labels if found[label] == 0]
    message = (
        f"{spec.title} under {root} differs from the full corpus: {sum(found.values())} of "
        f"{sum(expected.values())} files; found/expected per class: {', '.join(differing)}"
    )
    if missing:
        message += f"; missing classes: {', '.join(missing)}"
    warn(message)


def build_dataset(
    spec: CorpusSpec,
    root: Path,
    records: list[Record],
    *,
    unparsed: Sequence[str] = (),
    strict: bool,
    load_audio: bool,
    return_X_y: bool,
    expected: Mapping[str, int] | None = None,
    arrays: Sequence[str] | Mapping[str, str] = (),
    check_duplicates: bool = True,
) -> LoaderResult:
    """Check parsed records and assemble the loader's return value.

    Parameters
    ----------
    spec : CorpusSpec
        Corpus description.
    root : Path
        Resolved corpus root (for messages).
    records : list of dict
        Parsed files; each has ``filename`` (Path), ``speaker``, ``gender``,
        ``target``, ``label_code`` and corpus-specific fields (frame columns).
    unparsed : sequence of str, default=()
        Items (relative paths or label lines) that did not follow the corpus
        convention.
    strict : bool
        Raise instead of warning on unparsed items, labelled files that are
        missing, truncated files and files that are not readable audio.
    load_audio : bool
        Read every waveform into ``data``.
    return_X_y : bool
        Return ``(X, target)`` instead of the Bunch.
    expected : mapping of str to int, optional
        Per-class counts of the full corpus under the loader's options;
        ``spec.expected`` when None.
    arrays : sequence of str or mapping of str to str, default=()
        Extra record fields also exposed as Bunch arrays (e.g. ``"session"``),
        or a mapping of Bunch name to frame column (``{"arousal":
        "activation"}``).
    check_duplicates : bool, default=True
        Treat records whose parsed fields all agree (everything but the path)
        as one clip found twice: keep the first path, report the others (they
        are problems like unparsed names). Off for loaders whose records do
        not identify a clip (manifests, label folders).

    Returns
    -------
    Bunch or tuple
        See the public loaders.

    Raises
    ------
    ParameterError
        On Git LFS pointers, with ``strict=True`` on unparsed items, missing,
        truncated or non-audio files, and when no usable file remains.
    """

    def rel(record: Record) -> str:
        path = record["filename"]
        return path.relative_to(root).as_posix() if path.is_relative_to(root) else str(path)

    records, duplicates = _split_duplicates(records) if check_duplicates else (records, [])
    screened = _screen(records, spec)
    usable, missing, silent = screened.usable, screened.missing, screened.silent

    missing_names = [rel(r) for r in missing]
    unparsed_msg = (
        f"{len(unparsed)} {spec.title} item(s) under {root} do not follow the corpus naming "
        f"convention (e.g. {spec.example}): {_listing(list(unparsed))}"
    )
    missing_msg = (
        f"{len(missing)} {spec.title} file(s) listed in the labels under {root} are missing: "
        f"{_listing(missing_names)}"
    )
    truncated_msg = (
        f"{len(screened.truncated)} {spec.title} file(s) under {root} are truncated (fewer "
        "frames than their header declares; re-download them): "
        + _listing(
            [
                f"{rel(r)} ({info.frames} of {info.declared_frames} frames)"
                for r, info in screened.truncated
            ]
        )
    )
    broken_msg = (
        f"{len(screened.broken)} {spec.title} file(s) under {root} are not readable audio: "
        + _listing([f"{rel(r)} ({reason})" for r, reason in screened.broken])
    )
    duplicate_msg = (
        f"{len(duplicates)} {spec.title} file(s) under {root} repeat a clip already loaded from "
        "another path (same speaker, label and metadata; e.g. one file copied under two "
        "speakers' folders), only the first path is kept: "
        + _listing([f"{rel(dup)} (same as {rel(first)})" for first, dup in duplicates])
    )
    problems = [
        message
        for message, bad in (
            (duplicate_msg, duplicates),
            (unparsed_msg, unparsed),
            (missing_msg, missing),
            (truncated_msg, screened.truncated),
            (broken_msg, screened.broken),
        )
        if bad
    ]
    if strict and problems:
        raise ParameterError("; ".join(problems))
    for message in problems:
        warn(message + "; they are skipped (strict=True raises instead)")
    if silent:
        warn(
            f"{len(silent)} {spec.title} file(s) contain no audio and are skipped: "
            f"{_listing([rel(r) for r in silent])}"
        )
    if not records:
        raise spec.no_files_error(root, "none follows the naming convention" if unparsed else "")
    if not usable:
        reasons = [f"{len(missing)} missing (e.g. {missing_names[0]})"] if missing else []
        reasons += [f"{len(silent)} without audio"] if silent else []
        reasons += [f"{len(screened.truncated)} truncated"] if screened.truncated else []
        reasons += [f"{len(screened.broken)} not audio"] if screened.broken else []
        raise ParameterError(
            f"no usable {spec.title} audio under {root}: of {len(records)} expected files, "
            f"{' and '.join(reasons)}"
        )
    # damaged files are part of the tree: count them against the full release
    damaged = silent + [r for r, _ in screened.truncated] + [r for r, _ in screened.broken]
    _check_counts(usable + damaged, root, spec, expected or spec.expected)

    usable.sort(key=lambda r: str(r["filename"]))
    frame = pd.DataFrame.from_records(usable)
    frame["filename"] = frame["filename"].map(str)
    frame = frame[[*_BASE_COLUMNS, *(c for c in frame.columns if c not in _BASE_COLUMNS)]]
    # object array of str: the form sertools.audio.as_waveforms takes as a list of paths
    filenames = frame["filename"].to_numpy(dtype=object)
    target = frame["target"].to_numpy(dtype=str)
    columns = dict(arrays) if isinstance(arrays, Mapping) else {name: name for name in arrays}
    bunch = Bunch(
        filenames=filenames,
        target=target,
        target_names=np.unique(target),
        speaker=frame["speaker"].to_numpy(dtype=str),
        gender=frame["gender"].to_numpy(dtype=str),
        frame=frame,
        sampling_rate=screened.rates[Path(filenames[0])],
        DESCR=spec.descr,
        corpus=spec.name,
        **{name: frame[column].to_numpy() for name, column in columns.items()},
    )
    if load_audio:
        bunch.data = _read_all(filenames, bunch.sampling_rate, spec)
    if return_X_y:
        return (bunch.data if load_audio else filenames), target
    return bunch


def load_named_files(
    root: StrPath,
    spec: CorpusSpec,
    parse: Callable[[Path], Record | None],
    *,
    strict: bool,
    load_audio: bool,
    return_X_y: bool,
    prepare: Callable[[Path, list[Record]], list[Record]] | None = None,
    expected: Mapping[str, int] | None = None,
) -> LoaderResult:
    """Load a corpus whose labels are in its file names: the body of its loader.

    :func:`resolve_root`, :func:`find_files`, :func:`parse_files`, then
    ``prepare`` if given, then :func:`build_dataset`.

    Parameters
    ----------
    root : str or path-like
        Corpus root given by the user.
    spec : CorpusSpec
        Corpus description.
    parse : callable
        Corpus parser, see :func:`parse_files`.
    strict, load_audio, return_X_y : bool
        The loader's options, see :func:`build_dataset`.
    prepare : callable, optional
        ``prepare(root, records) -> records``, the corpus's own step between
        parsing and checking: keep some of the files (RAVDESS: speech only) or
        add metadata from a side file (CREMA-D: demographics). ``root`` is the
        resolved root.
    expected : mapping of str to int, optional
        Per-class counts of the full corpus under the loader's options;
        ``spec.expected`` when None.

    Returns
    -------
    Bunch or tuple
        See :func:`build_dataset`.
    """
    path = resolve_root(root, spec)
    records, unparsed = parse_files(find_files(path, spec), path, parse)
    if prepare is not None:
        records = prepare(path, records)
    return build_dataset(
        spec,
        path,
        records,
        unparsed=unparsed,
        strict=strict,
        load_audio=load_audio,
        return_X_y=return_X_y,
        expected=expected,
    )


def _read_all(filenames: np.ndarray, sampling_rate: int, spec: CorpusSpec) -> list[np.ndarray]:
    data, other_rate = [], []
    for name in filenames:
        wave, sr = read_audio(name)
        data.append(wave)
        if sr != sampling_rate:
            other_rate.append(f"{Path(name).name} ({sr} Hz)")
    if other_rate:
        warn(
            f"{len(other_rate)} {spec.title} file(s) are not at the corpus rate "
            f"{sampling_rate} Hz of the first file: {_listing(other_rate)}"
        )
    return data
