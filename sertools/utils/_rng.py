"""One guard for the caller's global random streams.

Loading a pretrained model may draw from or reseed the process-wide generators
(S3PRL's ``S3PRLUpstream`` calls ``random.seed(0)`` and ``torch.manual_seed(0)``;
``transformers`` initialises weights it then overwrites; skorch's data loader
draws a seed). A library call must leave the caller's random streams as it
found them: :func:`keep_global_rng` restores Python's, NumPy's legacy and
torch's generators (CPU and CUDA) after its block.
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import Iterator, Sequence

import numpy as np

__all__ = ["keep_global_rng"]


@contextlib.contextmanager
def keep_global_rng(cuda_devices: Sequence[int] | None = None) -> Iterator[None]:
    """Restore the global random generators after the block.

    Parameters
    ----------
    cuda_devices : sequence of int or None, default=None
        CUDA devices whose generators are restored too. None: every CUDA device
        when CUDA is available (``torch.manual_seed`` reseeds them all), none
        otherwise (no CUDA state is touched).

    Yields
    ------
    None
        Inside the block the generators may be drawn from or reseeded; on exit
        (normal or by an exception) Python's ``random``, NumPy's global
        ``np.random`` and torch's CPU (and those CUDA) generators are back to
        their states on entry.

    Examples
    --------
    >>> import random
    >>> import torch
    >>> from sertools.utils._rng import keep_global_rng
    >>> _ = torch.manual_seed(1); random.seed(1)
    >>> with keep_global_rng():
    ...     _ = torch.manual_seed(0); random.seed(0)  # what a model loader may do
    >>> _ = torch.manual_seed(1); random.seed(1)
    >>> expected = (torch.rand(1).item(), random.random())
    >>> _ = torch.manual_seed(1); random.seed(1)
    >>> with keep_global_rng():
    ...     _ = torch.manual_seed(0); random.seed(0)
    >>> (torch.rand(1).item(), random.random()) == expected
    True
    """
    import torch

    if cuda_devices is None:
        cuda_devices = list(range(torch.cuda.device_count())) if torch.cuda.is_available() else []
    python_state = random.getstate()
    numpy_state = np.random.get_state()  # noqa: NPY002 (the caller's legacy global stream)
    try:
        with torch.random.fork_rng(devices=list(cuda_devices)):
            yield
    finally:
        random.setstate(python_state)
        np.random.set_state(numpy_state)  # noqa: NPY002
