"""Name-based access to the corpus loaders."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from .._exceptions import ParameterError
from .cremad import load_cremad
from .emodb import load_emodb
from .emovo import load_emovo
from .iemocap import load_iemocap
from .ravdess import load_ravdess
from .savee import load_savee

__all__ = ["CORPORA", "load_corpus"]

#: Loader of each corpus name accepted by :func:`load_corpus`.
CORPORA: dict[str, Callable[..., Any]] = {
    "cremad": load_cremad,
    "crema-d": load_cremad,
    "emodb": load_emodb,
    "emovo": load_emovo,
    "iemocap": load_iemocap,
    "ravdess": load_ravdess,
    "savee": load_savee,
}


def load_corpus(name: str, root: str | os.PathLike[str], **kwargs: Any) -> Any:
    """Load a corpus by name.

    Parameters
    ----------
    name : str
        One of ``"cremad"`` (or ``"crema-d"``), ``"emodb"``, ``"emovo"``,
        ``"iemocap"``, ``"ravdess"``, ``"savee"``; case-insensitive.
    root : str or path-like
        Corpus root, as for the corpus's loader.
    **kwargs
        Keyword options of that loader (``strict``, ``load_audio``,
        ``return_X_y``, ``calm_as_neutral``, ``merge_excited``, ...).

    Returns
    -------
    :class:`~sklearn.utils.Bunch` or tuple
        What the loader returns.

    Raises
    ------
    ParameterError
        If ``name`` is not a known corpus.

    Examples
    --------
    >>> from sertools.datasets import load_corpus
    >>> bunch = load_corpus("emovo", "/data/emovo")  # doctest: +SKIP
    """
    loader = CORPORA.get(str(name).lower())
    if loader is None:
        raise ParameterError(
            f"unknown corpus {name!r}; expected one of {', '.join(sorted(CORPORA))}"
        )
    return loader(root, **kwargs)
