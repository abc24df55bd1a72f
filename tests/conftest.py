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
#: set to 1 to run the tests marked ``slow`` too (``.ci/run`` does)
SLOW_ENV = "SERTOOLS_SLOW_TESTS"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--slow",
        action="store_true",
        help=f"also run the tests marked slow (or set {SLOW_ENV}=1; .ci/run does)",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip the ``slow`` tests (minutes each on 2 cores) unless asked for."""
    if config.getoption("--slow") or os.environ.get(SLOW_ENV) == "1":
        return
    skip = pytest.mark.skip(
        reason=f"slow (real-corpus run of minutes): use --slow or {SLOW_ENV}=1, as .ci/run does"
    )
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


def _real_corpus(name: str) -> Path:
    root = os.environ.get(DATA_ENV)
    if not root:
        pytest.skip(f"real corpora not available: set {DATA_ENV} to the shared data folder")
    path = Path(root) / name
    if not path.is_dir():
        pytest.skip(f"real corpus folder {path} not found ({DATA_ENV}={root})")
    return path


@pytest.fixture(scope="session")
def emovo_root() -> Path:
    """Root of the real EMOVO copy (``$SERTOOLS_TEST_DATA/emovo``)."""
    return _real_corpus("emovo")


@pytest.fixture(scope="session")
def emodb_root() -> Path:
    """Root of the real EMODB subset (``$SERTOOLS_TEST_DATA/emodb``)."""
    return _real_corpus("emodb")
