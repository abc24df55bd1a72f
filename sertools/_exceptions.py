"""Exceptions raised by sertools."""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["AudioWarning", "BackendError", "BackendNotAvailableError", "ParameterError"]


class ParameterError(ValueError):
    """Invalid input or parameter.

    Every error that sertools raises for bad user input is a ``ParameterError``,
    a :class:`ValueError` subclass, whose message names the offending item
    (clip index, file path, label, folder, checkpoint) and what was expected.

    Examples
    --------
    >>> import numpy as np
    >>> import sertools
    >>> try:
    ...     sertools.MFCCEmbedder().fit_transform([np.zeros(16000)])
    ... except sertools.ParameterError as err:
    ...     print(err)
    clip X[0] is an array but sampling_rate is None; pass the rate of the waveforms, ...
    >>> issubclass(sertools.ParameterError, ValueError)
    True
    """


class BackendNotAvailableError(ImportError):
    """An optional backend (NeMo, S3PRL) is not installed.

    The message names the extra to install, e.g. ``pip install 'sertools[nemo]'``.
    It is raised by ``fit``, never by ``import sertools`` or by the constructor, so
    an embedder can be built, cloned and pickled where its backend is missing.

    Examples
    --------
    >>> import sertools
    >>> issubclass(sertools.BackendNotAvailableError, ImportError)
    True
    >>> emb = sertools.TitaNetEmbedder()  # no NeMo needed until fit
    """


class AudioWarning(UserWarning):
    """Audio that was accepted but is probably not what the caller meant.

    Issued, naming the clips, for floating-point audio far outside [-1, 1]
    (integer PCM values stored as floats, e.g. peaks of 32767).
    """


class BackendError(RuntimeError):
    """A neural backend failed while embedding a batch of clips.

    The message names the clips of the failing batch (``X[i]``, and the file
    for clips read from files) and the backend's own error, which is also
    chained as ``__cause__``.

    Attributes
    ----------
    clips : tuple of int
        Input indices of the clips in the failing batch.
    out_of_memory : bool
        True when the backend ran out of memory; a smaller ``batch_seconds``
        (or ``max_chunk_seconds`` for a single long clip) may help.
    """

    def __init__(self, message: str, clips: Sequence[int] = (), out_of_memory: bool = False):
        super().__init__(message)
        self.clips = tuple(int(i) for i in clips)
        self.out_of_memory = bool(out_of_memory)

    def naming_files(self, X: object) -> BackendError:
        """The same error with the files among ``X[i]`` of :attr:`clips` named.

        Parameters
        ----------
        X : sequence
            The input the clip indices refer to (file paths and/or arrays).

        Returns
        -------
        BackendError
            ``self`` when none of the clips is a file path.
        """
        import os

        import numpy as np

        if isinstance(X, (list, tuple)) or (isinstance(X, np.ndarray) and X.ndim == 1):
            files = [
                f"X[{i}]: {X[i]!s}"
                for i in self.clips
                if i < len(X) and isinstance(X[i], (str, os.PathLike, np.str_))
            ]
        else:
            files = []
        if not files:
            return self
        error = type(self)(f"{self} Files: {'; '.join(files)}", self.clips, self.out_of_memory)
        error.__cause__ = self.__cause__
        return error
