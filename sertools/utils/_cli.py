"""What the ``sertools`` commands share: one line of output, ``NAME=PATH`` options.

Used by :mod:`sertools.cli` (``study``, ``demo``, ``compare``) and by
:mod:`sertools.persist._cli` (``train``, ``predict``).
"""

from __future__ import annotations

from collections.abc import Sequence

from .._exceptions import ParameterError


def say(msg: str) -> None:
    """Print one line of a command's output at once, so that it reaches a log in time.

    Parameters
    ----------
    msg : str
        The line.

    Examples
    --------
    >>> from sertools.utils._cli import say
    >>> say("done in 1.0 s")
    done in 1.0 s
    """
    print(msg, flush=True)


def name_path_pairs(values: Sequence[str] | None, what: str) -> dict[str, str]:
    """Read a repeated ``--what NAME=PATH`` option.

    Parameters
    ----------
    values : sequence of str or None
        The values given (None: the option was not given).
    what : str
        The option's name without ``--``, for the messages.

    Returns
    -------
    dict of str -> str
        NAME -> PATH, both stripped, in the order given.

    Raises
    ------
    ParameterError
        For a value without ``=`` or with an empty side, or a NAME given
        twice; the message names the option and the value.

    Examples
    --------
    >>> from sertools.utils._cli import name_path_pairs
    >>> name_path_pairs(["titanet=tl.nemo", " hubert = hb.pt"], "model")
    {'titanet': 'tl.nemo', 'hubert': 'hb.pt'}
    >>> name_path_pairs(["titanet=a.nemo", "titanet=b.nemo"], "model")
    Traceback (most recent call last):
    ...
    sertools._exceptions.ParameterError: --model 'titanet' given more than once
    """
    out: dict[str, str] = {}
    for value in values or ():
        name, sep, path = value.partition("=")
        if not sep or not name.strip() or not path.strip():
            raise ParameterError(f"--{what} {value!r}: expected NAME=PATH")
        if name.strip() in out:
            raise ParameterError(f"--{what} {name.strip()!r} given more than once")
        out[name.strip()] = path.strip()
    return out
