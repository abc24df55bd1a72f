"""Corpus loaders, manifests, EmoBox partitions, the leak audit and the synthetic corpus.

Each loader turns a local copy of a corpus into a scikit-learn
:class:`~sklearn.utils.Bunch` (file paths, harmonised labels, speakers, metadata);
every fact about a named corpus is declared once in its spec
(:data:`CORPUS_SPECS`). :func:`load_manifest` and :func:`load_folder` load any
other corpus, :func:`load_emobox` a corpus with EmoBox's published folds, and
:func:`audit_folds` checks any set of folds for leaks. :func:`make_synthetic_corpus`
builds a small, deterministic, learnable corpus for demos and tests.
"""

from __future__ import annotations

from ._base import LABELS, CorpusWarning
from ._corpora import (
    CORPORA,
    CORPUS_SPECS,
    CORPUS_TITLES,
    PAPER_N_CLASSES,
    corpus_table,
    load_corpus,
)
from .audit import FoldAudit, audit_folds
from .cafe import load_cafe
from .cremad import load_cremad
from .emobox import EMOBOX_RESULTS, emobox_folds, emobox_reference, load_emobox
from .emodb import load_emodb
from .emovo import load_emovo
from .esd import load_esd
from .folds import PredefinedFolds
from .iemocap import load_iemocap
from .labels import LABEL_MAPS, SHARED_LABELS, common_labels, harmonise_labels
from .manifest import load_folder, load_manifest
from .msp_podcast import load_msp_podcast
from .protocols import PROTOCOLS, RECOMMENDED_PROTOCOL, get_cv
from .ravdess import load_ravdess
from .savee import load_savee
from .shemo import load_shemo
from .subesco import load_subesco
from .synthetic import make_synthetic_corpus
from .tess import load_tess

__all__: list[str] = [
    "CORPORA",
    "CORPUS_SPECS",
    "CORPUS_TITLES",
    "EMOBOX_RESULTS",
    "LABELS",
    "LABEL_MAPS",
    "PAPER_N_CLASSES",
    "PROTOCOLS",
    "RECOMMENDED_PROTOCOL",
    "SHARED_LABELS",
    "CorpusWarning",
    "FoldAudit",
    "PredefinedFolds",
    "audit_folds",
    "common_labels",
    "corpus_table",
    "emobox_folds",
    "emobox_reference",
    "get_cv",
    "harmonise_labels",
    "load_cafe",
    "load_corpus",
    "load_cremad",
    "load_emobox",
    "load_emodb",
    "load_emovo",
    "load_esd",
    "load_folder",
    "load_iemocap",
    "load_manifest",
    "load_msp_podcast",
    "load_ravdess",
    "load_savee",
    "load_shemo",
    "load_subesco",
    "load_tess",
    "make_synthetic_corpus",
]
