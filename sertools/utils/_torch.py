"""The torch policies shared by every torch-based estimator: device and threads.

torch is imported inside the functions, so importing this module is cheap.
"""

from __future__ import annotations

import contextlib
import re
import threading
from collections.abc import Iterator
from typing import Any

from .._exceptions import ParameterError

__all__ = ["resolve_device", "torch_threads"]

_DEVICE_PATTERN = re.compile(r"(auto|cpu|cuda)(:(\d+))?")
_DEVICE_HELP = "'auto', 'cpu', 'cuda' or 'cuda:N' (N a CUDA device index)"


def resolve_device(device: Any) -> Any:
    """Turn ``"auto" | "cpu" | "cuda" | "cuda:N"`` into a :class:`torch.device`.

    Parameters
    ----------
    device : str or torch.device
        ``"auto"`` picks CUDA (the current CUDA device) when available, else the
        CPU; ``"cuda"`` the current CUDA device; ``"cuda:N"`` device *N*.

    Returns
    -------
    torch.device
        The device asked for: ``cpu``, or ``cuda`` / ``cuda:N`` after checking
        that CUDA and device *N* exist.

    Raises
    ------
    ParameterError
        If ``device`` is not one of the forms above (e.g. ``"gpu0"``), if CUDA
        is asked for but not available, or if *N* is not a CUDA device index
        of this machine.

    Examples
    --------
    >>> import torch
    >>> from sertools import ParameterError
    >>> from sertools.utils import resolve_device
    >>> resolve_device("cpu")
    device(type='cpu')
    >>> resolve_device("auto") == torch.device("cuda" if torch.cuda.is_available() else "cpu")
    True
    >>> try:
    ...     resolve_device("gpu0")
    ... except ParameterError as err:
    ...     print(err)
    device='gpu0' is not a device: expected 'auto', 'cpu', 'cuda' or 'cuda:N' ...
    """
    import torch

    if isinstance(device, torch.device):
        device = str(device)
    match = _DEVICE_PATTERN.fullmatch(device) if isinstance(device, str) else None
    if match is None or (match.group(1) != "cuda" and match.group(2)):
        raise ParameterError(f"device={device!r} is not a device: expected {_DEVICE_HELP}")
    kind, index = match.group(1), match.group(3)
    if kind == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if kind == "cpu":
        return torch.device("cpu")
    if not torch.cuda.is_available():
        raise ParameterError(f"device={device!r} was asked for, but CUDA is not available here")
    if index is not None:
        count = torch.cuda.device_count()
        if int(index) >= count:
            raise ParameterError(
                f"device={device!r}: no such CUDA device; this machine has {count} "
                f"(cuda:0 to cuda:{count - 1})"
            )
    return torch.device(device)


@contextlib.contextmanager
def torch_threads(n_threads: int | None) -> Iterator[None]:
    """Set torch's intra-op thread count for the block, then restore it.

    Parameters
    ----------
    n_threads : int or None
        Threads to use; None leaves torch's setting alone.

    Yields
    ------
    None
        Inside the block torch uses ``n_threads`` intra-op threads; the previous
        count is restored on exit, also when the block raises.

    Examples
    --------
    >>> import torch
    >>> from sertools.utils import torch_threads
    >>> before = torch.get_num_threads()
    >>> with torch_threads(1):
    ...     torch.get_num_threads()
    1
    >>> torch.get_num_threads() == before
    True
    """
    import torch

    if n_threads is None:
        yield
        return
    previous = torch.get_num_threads()
    torch.set_num_threads(int(n_threads))
    try:
        yield
    finally:
        torch.set_num_threads(previous)


# --- reduced precision on the CPU ------------------------------------------------------
_PRECISION_DTYPES = {"bf16": "bfloat16", "fp16": "float16"}
_cpu_support: dict[str, str | None] = {}
_cpu_support_lock = threading.Lock()


def cpu_precision_problem(precision: str) -> str | None:
    """Why this CPU cannot run models under ``torch.autocast`` at ``precision``, or None.

    Probed once per process and precision: a tiny LSTM, a 1-D convolution and a
    linear layer run under ``torch.autocast("cpu", dtype)``. oneDNN refuses some
    of them in bfloat16 / float16 on CPUs without the matching instructions (e.g.
    an LSTM in bf16 on an AVX2-only CPU, or with ``ONEDNN_MAX_CPU_ISA=AVX2``:
    "could not create a primitive descriptor"). The probe raises no error: it
    returns the reason, for the caller's message.

    Parameters
    ----------
    precision : {"fp32", "bf16", "fp16"}

    Returns
    -------
    str or None
        None when every probed operation runs (always for ``"fp32"``), else the
        error of the first that does not.
    """
    dtype = _PRECISION_DTYPES.get(precision)
    if dtype is None:
        return None
    with _cpu_support_lock:
        if precision in _cpu_support:
            return _cpu_support[precision]
        import torch

        try:
            with (
                torch.random.fork_rng(devices=[]),  # the global RNG stays untouched
                torch.no_grad(),
                torch.autocast("cpu", dtype=getattr(torch, dtype)),
            ):
                generator = torch.Generator().manual_seed(0)
                lstm = torch.nn.LSTM(8, 8, batch_first=True)
                lstm(torch.randn(1, 4, 8, generator=generator))
                torch.nn.functional.conv1d(
                    torch.randn(1, 2, 16, generator=generator),
                    torch.randn(2, 2, 3, generator=generator),
                )
                torch.nn.functional.linear(
                    torch.randn(2, 8, generator=generator), torch.randn(8, 8, generator=generator)
                )
            problem = None
        except Exception as exc:  # oneDNN's RuntimeError, or anything else: unsupported
            problem = " ".join(f"{type(exc).__name__}: {exc}".split())[:300]
        _cpu_support[precision] = problem
        return problem


def precision_hint(precision: str, problem: str) -> str:
    """The message for a model that failed at ``precision`` on a CPU lacking its kernels."""
    return (
        f'precision="{precision}" is not supported by this CPU: its oneDNN kernels cannot '
        f"run {_PRECISION_DTYPES.get(precision, precision)} here (the CPU lacks bf16/fp16 "
        "instructions such as AVX-512 BF16 or AMX, or oneDNN is limited, e.g. by "
        f'ONEDNN_MAX_CPU_ISA; probe: {problem}). Use precision="fp32" (the default) on '
        "this machine, or run the reduced precision on a GPU"
    )
