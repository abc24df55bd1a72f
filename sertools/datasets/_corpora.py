"""Name-based access to the corpus loaders."""

from __future__ import annotations

import inspect
import os
from collections.abc import Callable
from typing import Any

from .._exceptions import ParameterError
from .cremad import load_cremad
from .emodb import load_emodb
from .emovo import load_emovo
from .iemocap import load_iemocap
from .msp_podcast import load_msp_podcast
from .ravdess import load_ravdess
from .savee import load_savee

__all__ = ["CORPORA", "canonical_corpus_name", "load_corpus"]

#: Loader of each corpus name accepted by :func:`load_corpus`.
CORPORA: dict[str, Callable[..., Any]] = {
    "cremad": load_cremad,
    "crema-d": load_cremad,
    "emodb": load_emodb,
    "emovo": load_emovo,
    "iemocap": load_iemocap,
    "msp_podcast": load_msp_podcast,
    "ravdess": load_ravdess,
    "savee": load_savee,
}

#: Other spellings of corpus names, mapped to the name used in results.
ALIASES: dict[str, str] = {
    "crema-d": "cremad",
    "crema_d": "cremad",
    "emo-db": "emodb",
    "msp-podcast": "msp_podcast",
}
CORPORA.update({alias: CORPORA[name] for alias, name in ALIASES.items()})


def canonical_corpus_name(name: str) -> str:
    """The canonical name of a corpus (``"CREMA-D"`` -> ``"cremad"``).

    Raises
    ------
    ParameterError
        If ``name`` is not a known corpus or alias.
    """
    key = str(name).lower()
    if key not in CORPORA:
        raise ParameterError(
            f"unknown corpus {name!r}; expected one of {', '.join(sorted(CORPORA))}"
        )
    return ALIASES.get(key, key)


def load_corpus(name: str, root: str | os.PathLike[str], **kwargs: Any) -> Any:
    """Load a corpus by name.

    Parameters
    ----------
    name : str
        One of ``"cremad"`` (or ``"crema-d"``), ``"emodb"`` (or ``"emo-db"``), ``"emovo"``,
        ``"iemocap"``, ``"msp_podcast"`` (or ``"msp-podcast"``), ``"ravdess"``,
        ``"savee"``; case-insensitive.
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
        If ``name`` is not a known corpus, or an option is not one of the
        loader's (the message lists the valid ones).

    Examples
    --------
    >>> from sertools.datasets import load_corpus
    >>> bunch = load_corpus("emovo", "/data/emovo")  # doctest: +SKIP
    """
    loader = CORPORA[canonical_corpus_name(name)]
    params = inspect.signature(loader).parameters
    valid = [p for p in params.values() if p.kind is inspect.Parameter.KEYWORD_ONLY]
    if not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        unknown = [k for k in kwargs if k not in {p.name for p in valid}]
        if unknown:
            raise ParameterError(
                f"load_corpus({name!r}): the {canonical_corpus_name(name)} loader does not "
                f"take {', '.join(map(repr, unknown))}; valid options: "
                f"{', '.join(p.name for p in valid)}"
            )
    return loader(root, **kwargs)
