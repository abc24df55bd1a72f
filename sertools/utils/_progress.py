"""The one progress-bar policy of sertools (embedders, the extraction engine, studies).

- A bar is drawn only on a terminal: redraws with carriage returns garble logs, CI
  output and notebooks' stored outputs, which get the one-line summaries instead
  (e.g. ``MFCCEmbedder: 160 clips, 160 embedded, 0 from the cache``).
- One bar at a time: a bar opened while another is open (the engine's batches
  inside an embedder's clips) stays hidden, so nested loops never interleave.
"""

from __future__ import annotations

import contextlib
import sys
import threading
from collections.abc import Iterator
from typing import Any

__all__ = ["progress_bar"]

_local = threading.local()


def _is_terminal(stream: Any) -> bool:
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty()) if isatty is not None else False
    except (OSError, ValueError):  # a closed or detached stream
        return False


@contextlib.contextmanager
def progress_bar(*, total: int, desc: str, unit: str, enabled: bool) -> Iterator[Any]:
    """A ``tqdm`` bar on standard error, shown if ``enabled``, on a terminal, and outermost.

    Parameters
    ----------
    total : int
        Number of steps.
    desc : str
        Label (e.g. the embedder's class name).
    unit : str
        What a step is (``"clip"``, ``"cell"``).
    enabled : bool
        The caller's wish (its ``verbose``).

    Yields
    ------
    tqdm.tqdm
        Call ``update(n)``; a hidden bar accepts the calls and draws nothing.

    Examples
    --------
    >>> with progress_bar(total=3, desc="clips", unit="clip", enabled=True) as bar:
    ...     for _ in range(3):
    ...         bar.update(1)
    >>> bar.disable  # the doctest's standard error is not a terminal
    True
    """
    from tqdm import tqdm

    depth = getattr(_local, "depth", 0)
    show = bool(enabled) and depth == 0 and _is_terminal(sys.stderr)
    bar = tqdm(total=total, desc=desc, unit=unit, disable=not show, leave=False, file=sys.stderr)
    _local.depth = depth + 1
    try:
        yield bar
    finally:
        _local.depth = depth
        bar.close()
