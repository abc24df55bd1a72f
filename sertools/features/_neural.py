"""Base class of the embedders backed by a pretrained neural network."""

from __future__ import annotations

import contextlib
import socket
from collections import OrderedDict
from collections.abc import Iterator
from numbers import Integral, Real
from typing import Any

import numpy as np

from .._exceptions import ParameterError
from ..utils._sklearn_compat import Interval, StrOptions
from ..utils._torch import resolve_device, torch_threads
from ._base import BaseEmbedder
from ._checkpoints import fingerprint_files
from ._engine import Backend, extract

__all__ = ["NeuralEmbedder", "clear_backend_cache"]

#: padded-audio budget per batch chosen by ``batch_seconds="auto"``, per device
#: type. On a CPU, batching barely pays (see docs/benchmarks-nemo.md): small batches
#: help short clips and leave long clips one at a time. On a GPU larger batches
#: fill the device.
AUTO_BATCH_SECONDS = {"cpu": 8.0, "cuda": 120.0}

#: socket timeout (s) while a backend downloads a pretrained model, so that a
#: machine whose firewall drops packets fails in seconds instead of hanging
DOWNLOAD_TIMEOUT_S = 30.0

# Loaded backends, keyed by (module of the embedder class, _backend_key(), device):
# cross-validation clones and refits an embedder once per fold; the model is loaded
# once. The module, not the class, so that e.g. NeMoEmbedder(model="titanet_large")
# and TitaNetEmbedder() share one loaded model.
_BACKEND_CACHE: OrderedDict[tuple, Backend] = OrderedDict()
_BACKEND_CACHE_SIZE = 2


@contextlib.contextmanager
def download_timeout(seconds: float = DOWNLOAD_TIMEOUT_S) -> Iterator[None]:
    """Give new sockets a timeout for the block (unless a default is already set).

    ``socket.setdefaulttimeout`` is process-wide: other threads opening sockets
    during the block get the timeout too.
    """
    previous = socket.getdefaulttimeout()
    if previous is None:
        socket.setdefaulttimeout(seconds)
    try:
        yield
    finally:
        socket.setdefaulttimeout(previous)


def clear_backend_cache() -> None:
    """Forget the models kept in memory between fits."""
    _BACKEND_CACHE.clear()


class NeuralEmbedder(BaseEmbedder):
    """Shared parameters and plumbing of the neural embedders.

    Subclasses implement :meth:`_backend_key` (a hashable description of the
    model to load) and :meth:`_make_backend` (load it and return a
    :class:`~sertools.features._engine.Backend` on the given device, in eval
    mode). Everything else — device choice, batching, chunking, threads,
    progress, order — is the engine's.

    The loaded model is not pickled with the embedder: a fitted embedder that
    is pickled (e.g. sent to a joblib worker) reloads it on first use.
    """

    _parameter_constraints: dict[str, list[Any]] = {
        **BaseEmbedder._parameter_constraints,
        "device": [str],
        "batch_seconds": [StrOptions({"auto"}), Interval(Real, 0, None, closed="neither")],
        "max_chunk_seconds": [Interval(Real, 0.5, None, closed="left"), None],
        "n_threads": [Interval(Integral, 1, None, closed="left"), None],
        # opt-in reduced precision (torch.autocast); subclasses without the
        # parameter run in float32
        "precision": [StrOptions({"fp32", "bf16", "fp16"})],
    }

    # --- subclass hooks -------------------------------------------------------
    def _backend_key(self) -> tuple:
        raise NotImplementedError

    def _make_backend(self, device: Any) -> Backend:
        raise NotImplementedError

    # --- plumbing -------------------------------------------------------------
    def _load(self) -> None:
        # a refit (e.g. after set_params(model=..., device=...)) must not keep the
        # model of the previous fit: look it up again from the current params
        self.__dict__.pop("_backend", None)
        self.__dict__.pop("model_fingerprint_", None)  # a refit may load another model
        self.device_ = resolve_device(self.device)
        self._get_backend()

    def _get_backend(self) -> Backend:
        backend = self.__dict__.get("_backend")
        if backend is not None:
            return backend
        key = (type(self).__module__, *self._backend_key(), str(self.device_))
        backend = _BACKEND_CACHE.get(key)
        if backend is None:
            backend = self._make_backend(self.device_)
            _BACKEND_CACHE[key] = backend
            while len(_BACKEND_CACHE) > _BACKEND_CACHE_SIZE:
                _BACKEND_CACHE.popitem(last=False)
        else:
            _BACKEND_CACHE.move_to_end(key)
        self._check_same_model(backend)
        self._backend = backend
        return backend

    def _check_same_model(self, backend: Backend) -> None:
        """Refuse a model other than the one this embedder was fitted with.

        A fitted embedder does not pickle its model: after unpickling (or in a
        joblib worker) it loads it again from its parameters, which may now
        resolve to another checkpoint (another ``SERTOOLS_MODEL_DIR``, a
        replaced file). Its features would silently differ from the fitted ones.

        Raises
        ------
        ParameterError
            Naming the fitted and the current checkpoint file(s) and hashes.
        """
        fitted = self.__dict__.get("model_fingerprint_")
        if not fitted:  # not fitted yet (or a model without an identity)
            return
        files = tuple(getattr(backend, "checkpoint_files", None) or ())
        current = fingerprint_files(files)
        if current == fitted:
            return
        was = self.__dict__.get("model_files_") or ("?",)
        raise ParameterError(
            f"{type(self).__name__} was fitted with the model {', '.join(was)} ({fitted}), "
            f"but its parameters now resolve to {', '.join(files) or 'a model of unknown file'} "
            f"({current or 'no content hash'}): its features would differ from the fitted "
            "ones. Point it at the original checkpoint (model_dir, SERTOOLS_MODEL_DIR or the "
            "file path), or refit the pipeline"
        )

    def __getstate__(self) -> dict[str, Any]:
        # BaseEstimator.__getstate__ may return the live __dict__: copy, never pop
        return {k: v for k, v in super().__getstate__().items() if k != "_backend"}

    def _model_fingerprint(self) -> str:
        """SHA-256 of the checkpoint file(s) the backend loaded (its ``checkpoint_files``).

        Also records those files as ``model_files_``.
        """
        files = tuple(getattr(self._get_backend(), "checkpoint_files", None) or ())
        self.model_files_ = files
        return fingerprint_files(files)

    def _target_rate(self) -> int:
        return int(self._get_backend().sampling_rate)

    def _n_features_out(self) -> int:
        return int(self._get_backend().n_features)

    def _batch_seconds(self) -> float:
        if self.batch_seconds == "auto":
            return AUTO_BATCH_SECONDS.get(self.device_.type, AUTO_BATCH_SECONDS["cuda"])
        return float(self.batch_seconds)

    def _embed(self, waves: list[np.ndarray]) -> np.ndarray:
        backend = self._get_backend()
        rate = backend.sampling_rate
        chunk = None if self.max_chunk_seconds is None else int(self.max_chunk_seconds * rate)
        with torch_threads(self.n_threads):
            return extract(
                waves,
                backend,
                device=self.device_,
                max_batch_samples=max(1, int(self._batch_seconds() * rate)),
                max_chunk_samples=chunk,
                verbose=bool(self.verbose),
                desc=type(self).__name__,
                precision=getattr(self, "precision", "fp32"),
            )
