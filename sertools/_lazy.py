"""Lazy exports (PEP 562): a package's public names, imported on first use.

``import sertools`` and ``import sertools.features`` stay cheap (no librosa, torch
or backend) while ``sertools.MFCCEmbedder`` still works: each package lists
``name -> defining module`` and installs the ``__getattr__`` / ``__dir__`` pair
that :func:`lazy_exports` makes. One mechanism for every package that needs it.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Iterable, Mapping
from typing import Any

__all__ = ["lazy_exports"]


def lazy_exports(
    package: str, names: Mapping[str, str], submodules: Iterable[str] = ()
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """A package's module-level ``__getattr__`` and ``__dir__``.

    Parameters
    ----------
    package : str
        The package's ``__name__``.
    names : mapping of str to str
        Public name -> module that defines it (imported at first access; the
        value is then stored in the package, so later accesses are plain).
    submodules : iterable of str
        Submodules reachable as attributes before anyone imported them.

    Returns
    -------
    (__getattr__, __dir__)
        To assign at the package's top level.

    Examples
    --------
    >>> getattr_, dir_ = lazy_exports("sertools", {"SCORING": "sertools.metrics"})
    >>> sorted(getattr_("SCORING"))
    ['uar', 'war']
    """
    subs = frozenset(submodules)

    def __getattr__(name: str) -> Any:
        if name in names:
            value = getattr(importlib.import_module(names[name]), name)
        elif name in subs:
            value = importlib.import_module(f"{package}.{name}")
        else:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        setattr(sys.modules[package], name, value)
        return value

    def __dir__() -> list[str]:
        return sorted(set(getattr(sys.modules[package], "__all__", ())) | set(names) | subs)

    return __getattr__, __dir__
