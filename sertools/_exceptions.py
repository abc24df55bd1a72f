"""Exceptions raised by sertools."""

from __future__ import annotations

__all__ = ["BackendNotAvailableError", "ParameterError"]


class ParameterError(ValueError):
    """Invalid input or parameter.

    Every error that sertools raises for bad user input is a ``ParameterError``,
    a :class:`ValueError` subclass, whose message names the offending item
    (clip index, file path, label, folder, checkpoint) and what was expected.
    """


class BackendNotAvailableError(ImportError):
    """An optional backend (NeMo, S3PRL) is not installed.

    The message names the extra to install, e.g. ``pip install 'sertools[nemo]'``.
    """
