"""Shared fixtures.

Real corpora are found through the ``SERTOOLS_TEST_DATA`` environment variable
(``.ci/run`` points it at ``../shared/data``); tests that need them skip with the
reason when it is unset or the folder is missing.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

DATA_ENV = "SERTOOLS_TEST_DATA"
#: what the data folder holds (the project's copy is ``shared/data``, see its README)
DATA_LAYOUT = (
    "a folder holding emovo/ (EMOVO: f1 f2 f3 m1 m2 m3/*.wav), emodb/ (EMODB: wav/*.wav) "
    "and emobox/ (EmoBox fold files), e.g. the repository's sibling shared/data"
)


def _real_corpus(name: str) -> Path:
    root = os.environ.get(DATA_ENV)
    if not root:
        pytest.skip(f"real corpora not available: set {DATA_ENV} to {DATA_LAYOUT}")
    path = Path(root) / name
    if not path.is_dir():
        pytest.skip(
            f"real corpus folder {path} not found ({DATA_ENV}={root}; expected {DATA_LAYOUT})"
        )
    return path


@pytest.fixture(scope="session")
def emovo_root() -> Path:
    """Root of the real EMOVO copy (``$SERTOOLS_TEST_DATA/emovo``)."""
    return _real_corpus("emovo")


@pytest.fixture(scope="session")
def emodb_root() -> Path:
    """Root of the real EMODB subset (``$SERTOOLS_TEST_DATA/emodb``)."""
    return _real_corpus("emodb")
