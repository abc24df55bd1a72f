"""Utilities shared by sertools and by packages that extend it.

- :func:`resolve_device`, :func:`torch_threads`: the one device policy and
  thread control of every torch-based estimator (embedders, DNN).
- :mod:`sertools.utils.estimator_checks`: the contract every waveform embedder
  meets, for third-party embedders to test themselves with.

torch is imported on first use of a torch helper, not with this package.
"""

from __future__ import annotations

from ._torch import resolve_device, torch_threads

__all__ = ["resolve_device", "torch_threads"]
