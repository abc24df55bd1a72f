"""Corpus loaders and the synthetic emotional-speech corpus.

Each loader turns a local copy of a corpus into a scikit-learn
:class:`~sklearn.utils.Bunch` (file paths, harmonised labels, speakers, metadata);
:func:`make_synthetic_corpus` builds a small, deterministic, learnable corpus
for demos and tests.
"""

from __future__ import annotations

from ._base import LABELS, CorpusWarning
from ._corpora import CORPORA, load_corpus
from .cremad import load_cremad
from .emodb import load_emodb
from .emovo import load_emovo
from .iemocap import load_iemocap
from .msp_podcast import load_msp_podcast
from .protocols import PROTOCOLS, RECOMMENDED_PROTOCOL, get_cv
from .ravdess import load_ravdess
from .savee import load_savee
from .synthetic import make_synthetic_corpus

__all__: list[str] = [
    "CORPORA",
    "LABELS",
    "PROTOCOLS",
    "RECOMMENDED_PROTOCOL",
    "CorpusWarning",
    "get_cv",
    "load_corpus",
    "load_cremad",
    "load_emodb",
    "load_emovo",
    "load_iemocap",
    "load_msp_podcast",
    "load_ravdess",
    "load_savee",
    "make_synthetic_corpus",
]
