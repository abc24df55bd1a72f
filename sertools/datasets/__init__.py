"""Corpus loaders and the synthetic emotional-speech corpus.

Each loader turns a local copy of a corpus into a scikit-learn
:class:`~sklearn.utils.Bunch` (file paths, harmonised labels, speakers, metadata);
:func:`make_synthetic_corpus` builds a small, deterministic, learnable corpus
for demos and tests.
"""

from __future__ import annotations

__all__: list[str] = []
