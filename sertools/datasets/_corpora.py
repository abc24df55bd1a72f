"""The corpus registry: every fact about a named corpus comes from its spec.

Each corpus module declares one :class:`~sertools.datasets._base.CorpusSpec`
(title, language, codes -> shared labels, speakers, aliases, recommended
protocol, the paper's number of classes) and its loader; :data:`_MODULES` lists
them once. The loader-by-name table, the aliases, the recommended protocols, the
display titles, the paper's class counts, the label maps and the docs' corpus
table are all derived from it. Adding a corpus: write its module, add it here.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Callable
from pathlib import Path
from types import MappingProxyType
from typing import Any

from .._exceptions import ParameterError
from . import (
    cafe,
    cremad,
    emodb,
    emovo,
    esd,
    iemocap,
    msp_podcast,
    ravdess,
    savee,
    shemo,
    subesco,
    tess,
)
from ._base import LABELS, CorpusSpec

__all__ = [
    "CORPORA",
    "CORPUS_SPECS",
    "CORPUS_TITLES",
    "PAPER_N_CLASSES",
    "canonical_corpus_name",
    "corpus_table",
    "load_corpus",
]

#: (spec, loader) of every named corpus, in display order.
_MODULES: tuple[tuple[CorpusSpec, Callable[..., Any]], ...] = (
    (emodb.SPEC, emodb.load_emodb),
    (emovo.SPEC, emovo.load_emovo),
    (ravdess.SPEC, ravdess.load_ravdess),
    (savee.SPEC, savee.load_savee),
    (cremad.SPEC, cremad.load_cremad),
    (iemocap.SPEC, iemocap.load_iemocap),
    (msp_podcast.SPEC, msp_podcast.load_msp_podcast),
    (tess.SPEC, tess.load_tess),
    (cafe.SPEC, cafe.load_cafe),
    (subesco.SPEC, subesco.load_subesco),
    (shemo.SPEC, shemo.load_shemo),
    (esd.SPEC, esd.load_esd),
)

#: Spec of each corpus by canonical name (read-only).
CORPUS_SPECS: MappingProxyType[str, CorpusSpec] = MappingProxyType(
    {spec.name: spec for spec, _ in _MODULES}
)
_LOADERS: dict[str, Callable[..., Any]] = {spec.name: loader for spec, loader in _MODULES}

#: Other spellings of corpus names, mapped to the name used in results.
ALIASES: dict[str, str] = {alias: spec.name for spec, _ in _MODULES for alias in spec.aliases}

#: Loader of each corpus name (and alias) accepted by :func:`load_corpus`.
CORPORA: dict[str, Callable[..., Any]] = {
    **_LOADERS,
    **{alias: _LOADERS[name] for alias, name in ALIASES.items()},
}

#: Display name of each corpus in tables (``"cremad"`` -> ``"CREMA-D"``).
CORPUS_TITLES: dict[str, str] = {name: spec.title for name, spec in CORPUS_SPECS.items()}

#: Number of emotion classes per corpus in the paper's Table I (its six corpora).
PAPER_N_CLASSES: dict[str, int] = {
    name: spec.paper_n_classes
    for name, spec in CORPUS_SPECS.items()
    if spec.paper_n_classes is not None
}

#: File suffixes read as manifests by :func:`load_corpus`.
MANIFEST_SUFFIXES = (".csv", ".tsv", ".jsonl")


def canonical_corpus_name(name: str) -> str:
    """The canonical name of a corpus (``"CREMA-D"`` -> ``"cremad"``).

    Parameters
    ----------
    name : str
        A corpus name or alias, case-insensitive.

    Returns
    -------
    str
        The name used in results.

    Raises
    ------
    ParameterError
        If ``name`` is not a known corpus or alias.
    """
    key = str(name).lower()
    if key not in CORPORA:
        raise ParameterError(
            f"unknown corpus {name!r}; expected one of {', '.join(sorted(CORPORA))} "
            f"(or a manifest file: {', '.join(MANIFEST_SUFFIXES)})"
        )
    return ALIASES.get(key, key)


def is_manifest(path: Any) -> bool:
    """Whether ``path`` names a manifest file (by its suffix; it need not exist)."""
    return isinstance(path, (str, os.PathLike)) and Path(path).suffix.lower() in MANIFEST_SUFFIXES


def load_corpus(name: str, root: str | os.PathLike[str] | None = None, **kwargs: Any) -> Any:
    """Load a corpus by name, or a manifest.

    Parameters
    ----------
    name : str
        A corpus name of :data:`CORPORA` (``"emodb"``, ``"crema-d"``, ``"tess"``
        ...; case-insensitive), any name for the manifest given as ``root``,
        or the path of a manifest when ``root`` is None.
    root : str or path-like, optional
        Corpus root, as for the corpus's loader, or a manifest file
        (``.csv``, ``.tsv``, ``.jsonl``; see
        :func:`~sertools.datasets.load_manifest`), which is loaded under
        ``name`` (a known corpus's canonical name, or the name as given).
    **kwargs
        Keyword options of that loader (``strict``, ``load_audio``,
        ``return_X_y``, ``calm_as_neutral``, ``audio_root``, ...).

    Returns
    -------
    :class:`~sklearn.utils.Bunch` or tuple
        What the loader returns.

    Raises
    ------
    ParameterError
        If ``name`` is not a known corpus (and no manifest is given), or an
        option is not one of the loader's (the message lists the valid ones).

    Examples
    --------
    >>> from sertools.datasets import load_corpus
    >>> bunch = load_corpus("emovo", "/data/emovo")  # doctest: +SKIP
    >>> mine = load_corpus("mydata", "/data/mydata/manifest.csv")  # doctest: +SKIP
    """
    from .manifest import load_manifest

    if root is None and is_manifest(name):
        name, root, loader = Path(name).stem, name, load_manifest
        kwargs.setdefault("name", name)
    elif is_manifest(root):  # under the corpus's canonical name when it is a known one
        loader = load_manifest
        known = str(name).lower() in CORPORA
        kwargs.setdefault("name", canonical_corpus_name(name) if known else str(name))
    elif root is None:
        raise ParameterError(f"load_corpus({name!r}) needs the corpus root")
    else:
        loader = CORPORA[canonical_corpus_name(name)]
    params = inspect.signature(loader).parameters
    valid = [p for p in params.values() if p.kind is inspect.Parameter.KEYWORD_ONLY]
    if not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        unknown = [k for k in kwargs if k not in {p.name for p in valid}]
        if unknown:
            raise ParameterError(
                f"load_corpus({name!r}): the {getattr(loader, '__name__', 'corpus')} loader "
                f"does not take {', '.join(map(repr, unknown))}; valid options: "
                f"{', '.join(p.name for p in valid)}"
            )
    return loader(root, **kwargs)


def corpus_table() -> str:
    """The docs' corpus table (Markdown), built from the specs.

    Returns
    -------
    str
        One row per named corpus: name (and aliases), title, language,
        speakers, clips (blank where the release varies), shared labels (with
        the corpus's codes), recommended protocol, the paper's number of
        classes.

    Examples
    --------
    >>> from sertools.datasets import corpus_table
    >>> print(corpus_table().splitlines()[2][:56])
    | `emodb` (`emo-db`) | EMODB | German | 10 | 535 | angry
    """
    head = (
        "| name | title | language | speakers | clips | labels (corpus codes) | "
        "recommended protocol | paper's classes |"
    )
    rows = [head, "|" + "---|" * 8]
    for name, spec in CORPUS_SPECS.items():
        aliases = f" ({', '.join(f'`{a}`' for a in spec.aliases)})" if spec.aliases else ""
        by_label: dict[str, list[str]] = {}
        for code, label in spec.codes.items():
            by_label.setdefault(label, []).append(code)
        order = sorted(
            by_label,
            key=lambda label: (
                label not in LABELS,
                LABELS.index(label) if label in LABELS else 0,
                label,
            ),
        )
        labels = ", ".join(f"{label} ({' '.join(by_label[label])})" for label in order)
        paper = "" if spec.paper_n_classes is None else str(spec.paper_n_classes)
        rows.append(
            f"| `{name}`{aliases} | {spec.title} | {spec.language} | {spec.speakers or ''} | "
            f"{spec.n_files or ''} | {labels} | `{spec.recommended_protocol}` | {paper} |"
        )
    return "\n".join(rows)
