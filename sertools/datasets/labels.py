"""Label harmonisation as data: each corpus's emotion codes -> one shared set of labels.

The maps are the corpus specs' ``codes`` (declared once, in each corpus module);
:func:`harmonise_labels` applies them, with the user's overrides on top, for
anything that compares corpora (cross-corpus matrices, pooled training).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Any

import numpy as np

from .._exceptions import ParameterError
from ._base import LABELS
from ._corpora import CORPUS_SPECS, canonical_corpus_name

__all__ = ["LABEL_MAPS", "SHARED_LABELS", "common_labels", "harmonise_labels"]

#: The shared label set every loader maps to.
SHARED_LABELS: tuple[str, ...] = LABELS

#: Per corpus, its own emotion codes -> shared labels (read-only; from the specs).
LABEL_MAPS: MappingProxyType[str, MappingProxyType[str, str]] = MappingProxyType(
    {name: MappingProxyType(dict(spec.codes)) for name, spec in CORPUS_SPECS.items()}
)


def harmonise_labels(
    labels: Iterable[Any],
    corpus: str | None = None,
    *,
    mapping: Mapping[str, str | None] | None = None,
) -> np.ndarray:
    """Map labels (or a corpus's own codes) onto the shared set, with overrides.

    Parameters
    ----------
    labels : iterable of str, shape (n_clips,)
        Shared labels (a loader's ``target``), or the corpus's own codes
        (``label_code``) when ``corpus`` is given.
    corpus : str, optional
        Corpus whose codes ``labels`` are (``"emodb"``: ``W`` -> ``angry``).
    mapping : mapping of str to str or None, optional
        The user's overrides, applied last, keyed by code (with ``corpus``) or
        by label: ``{"calm": "neutral"}`` merges, ``{"boredom": None}``
        drops (the entry becomes None).

    Returns
    -------
    ndarray of object, shape (n_clips,)
        The harmonised labels (None where ``mapping`` drops).

    Raises
    ------
    ParameterError
        For an unknown corpus, or a code not in the corpus's map (naming it).

    Examples
    --------
    >>> from sertools.datasets import harmonise_labels
    >>> harmonise_labels(["W", "L", "N"], "emodb").tolist()
    ['angry', 'boredom', 'neutral']
    >>> harmonise_labels(["calm", "sad"], mapping={"calm": "neutral"}).tolist()
    ['neutral', 'sad']
    >>> harmonise_labels(["W", "L"], "emodb", mapping={"L": None}).tolist()
    ['angry', None]
    """
    values = [str(v) for v in labels]
    overrides = dict(mapping or {})
    if corpus is not None:
        codes = LABEL_MAPS[canonical_corpus_name(corpus)]
        unknown = sorted({v for v in values if v not in codes and v not in overrides})
        if unknown:
            raise ParameterError(
                f"{corpus}: code(s) {', '.join(map(repr, unknown))} not in its label map "
                f"({', '.join(f'{k}={v}' for k, v in codes.items())}); add them to mapping="
            )
        return np.array(
            [overrides[v] if v in overrides else codes[v] for v in values], dtype=object
        )
    return np.array([overrides.get(v, v) for v in values], dtype=object)


def common_labels(*targets: Iterable[Any]) -> list[str]:
    """The labels every one of several corpora has (for cross-corpus comparisons).

    Parameters
    ----------
    *targets : iterable of str
        Each corpus's (harmonised) labels.

    Returns
    -------
    list of str
        Sorted labels present in all of them (None entries ignored).

    Examples
    --------
    >>> from sertools.datasets import common_labels
    >>> common_labels(["angry", "sad", "boredom"], ["sad", "angry", "calm"])
    ['angry', 'sad']
    """
    sets = [{str(v) for v in t if v is not None} for t in targets]
    return sorted(set.intersection(*sets)) if sets else []
