"""Exceptions raised by sertools."""

from __future__ import annotations

__all__ = ["AudioWarning", "BackendNotAvailableError", "ParameterError"]


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


class AudioWarning(UserWarning):
    """Audio that was accepted but is probably not what the caller meant.

    Issued, naming the clips, for floating-point audio far outside [-1, 1]
    (integer PCM values stored as floats, e.g. peaks of 32767).
    """
