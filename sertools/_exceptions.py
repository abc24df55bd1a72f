"""Exceptions raised by sertools."""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["AudioWarning", "BackendError", "BackendNotAvailableError", "ParameterError"]

#: the name sertools is published under on the package index (``sertools`` there is
#: an unrelated project); the import name stays ``sertools``
DISTRIBUTION = "sertools-emotion"


def install_hint(extra: str) -> str:
    """How to install an optional extra, from the package index or from a clone.

    Every "install this backend" message of sertools ends with this hint, so
    that none sends a user to another project's package.

    Parameters
    ----------
    extra : str
        The extra of ``pyproject.toml`` (``"nemo"``, ``"s3prl"``, ...).

    Returns
    -------
    str
        ``pip install "sertools-emotion[<extra>]"``, and the editable install of
        a clone of the repository.

    Examples
    --------
    >>> print(install_hint("nemo"))
    pip install "sertools-emotion[nemo]" (in a clone of the repository: pip install -e ".[nemo]")
    """
    return (
        f'pip install "{DISTRIBUTION}[{extra}]" '
        f'(in a clone of the repository: pip install -e ".[{extra}]")'
    )


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

    The message names the extra to install, e.g. ``pip install "sertools-emotion[nemo]"``
    (the distribution's name; the package imports as ``sertools``), or ``pip install -e
    ".[nemo]"`` in a clone of the repository.
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

    Examples
    --------
    >>> import warnings
    >>> import numpy as np
    >>> import sertools
    >>> from sertools.audio import as_waveforms
    >>> pcm_as_float = np.full(1600, 16384.0)  # int16 values stored as floats
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     waves = as_waveforms([pcm_as_float], sampling_rate=16000, target_rate=16000)
    >>> caught[0].category is sertools.AudioWarning
    True
    >>> print(caught[0].message)
    1 clip(s) peak above 1.5 although float audio is expected in [-1, 1]:
    clip X[0] (peak 16384). If they hold integer PCM values stored as floats, ...
    >>> issubclass(sertools.AudioWarning, UserWarning)
    True
    """


class BackendError(RuntimeError):
    """A neural backend failed while embedding a batch of clips.

    The message names the clips of the failing batch (``X[i]``, and the file
    for clips read from files) and the backend's own error, which is also
    chained as ``__cause__``.

    Parameters
    ----------
    message : str
        The error message.
    clips : sequence of int, default=()
        Input indices (positions in ``X``) of the clips in the failing batch.
    out_of_memory : bool, default=False
        Whether the backend ran out of memory.

    Attributes
    ----------
    clips : tuple of int
        Input indices of the clips in the failing batch.
    out_of_memory : bool
        True when the backend ran out of memory; a smaller ``batch_seconds``
        (or ``max_chunk_seconds`` for a single long clip) may help.

    Examples
    --------
    >>> import sertools
    >>> err = sertools.BackendError("CUDA out of memory", clips=[3, 4], out_of_memory=True)
    >>> err.clips, err.out_of_memory
    ((3, 4), True)
    >>> isinstance(err, RuntimeError)
    True
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
            A new error whose message ends with ``Files: X[i]: path; ...`` (same
            ``clips``, ``out_of_memory`` and ``__cause__``), or ``self`` when
            none of the clips is a file path.

        Examples
        --------
        >>> import numpy as np
        >>> from sertools import BackendError
        >>> err = BackendError("backend failed on X[1], X[2].", clips=[1, 2])
        >>> print(err.naming_files([np.zeros(16000), "a.wav", "b.wav"]))
        backend failed on X[1], X[2]. Files: X[1]: a.wav; X[2]: b.wav
        >>> err.naming_files([np.zeros(16000)] * 3) is err
        True
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
