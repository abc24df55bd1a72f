"""Base class of the embedders backed by a pretrained neural network."""

from __future__ import annotations

import contextlib
import socket
from collections import OrderedDict
from collections.abc import Iterator
from numbers import Integral, Real
from typing import Any, ClassVar

import numpy as np

from .._exceptions import BackendError, ParameterError
from ..utils._sklearn_compat import Interval, StrOptions
from ..utils._torch import cpu_precision_problem, precision_hint, resolve_device, torch_threads
from ._base import BaseEmbedder, inherit_parameters
from ._bundles import ModelBundle, get_bundle
from ._checkpoints import files_token, fingerprint_files
from ._engine import Backend, extract

__all__ = ["NeuralEmbedder", "clear_backend_cache"]

#: padded-audio budget per batch chosen by ``batch_seconds="auto"``, per device
#: type. On a CPU, batching barely pays (see docs/benchmarks-nemo.md): small batches
#: help short clips and leave long clips one at a time. On a GPU larger batches
#: fill the device.
AUTO_BATCH_SECONDS = {"cpu": 8.0, "cuda": 120.0}

#: ``batch_seconds="auto"`` for a backend that is not padding-exact: a budget
#: below any clip, i.e. one clip per batch
ONE_CLIP_SECONDS = 1e-3

#: socket timeout (s) while a backend downloads a pretrained model, so that a
#: machine whose firewall drops packets fails in seconds instead of hanging
DOWNLOAD_TIMEOUT_S = 30.0

# Loaded backends, keyed by (module of the embedder class, _backend_key(), device),
# with the token of their checkpoint files when loaded (checkpoint._files.files_token):
# cross-validation clones and refits an embedder once per fold; the model is loaded
# once. The module, not the class, so that e.g. NeMoEmbedder(model="titanet_large")
# and TitaNetEmbedder() share one loaded model. A checkpoint replaced since (another
# inode or ctime, even with its size and mtime restored) is loaded again.
_BACKEND_CACHE: OrderedDict[tuple, tuple[Backend, str]] = OrderedDict()
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


def _checkpoint_token(backend: Any) -> str:
    """The token of a loaded backend's checkpoint files (``""``: none, e.g. a hub model)."""
    files = tuple(getattr(backend, "checkpoint_files", None) or ())
    try:
        return files_token(files)
    except OSError:
        return "unreadable"


def clear_backend_cache() -> None:
    """Forget the models kept in memory between fits."""
    _BACKEND_CACHE.clear()


@inherit_parameters
class NeuralEmbedder(BaseEmbedder):
    """Shared parameters and plumbing of the neural embedders.

    Subclasses implement :meth:`_backend_key` (a hashable description of the
    model to load) and :meth:`_make_backend` (load it and return a
    :class:`~sertools.features._engine.Backend` on the given device, in eval
    mode). Everything else — device choice, batching, chunking, threads,
    progress, order — is the engine's.

    The loaded model is not pickled with the embedder: a fitted embedder that
    is pickled (e.g. sent to a joblib worker) reloads it on first use.

    Parameters
    ----------
    device : str, default="auto"
        ``"auto"`` (CUDA if available, else CPU), ``"cpu"``, ``"cuda"`` or ``"cuda:N"``.
    batch_seconds : "auto" or float, default="auto"
        Padded-audio budget per batch in seconds (``batch_size * longest``).
        ``"auto"``: the backend's policy — one clip at a time for a model whose
        embeddings would depend on the padding, else 8 s on a CPU and 120 s on
        a GPU unless the family says otherwise.
    max_chunk_seconds : float or None, default=30.0
        Clips longer than this are cut into nearly equal chunks whose embeddings
        are averaged, weighted by duration (memory stays bounded); None embeds
        every clip whole.
    n_threads : int or None, default=None
        Torch intra-op threads during ``transform`` (None: torch's setting).
    precision : {"fp32", "bf16", "fp16"}, default="fp32"
        ``"bf16"`` / ``"fp16"`` run the model under ``torch.autocast`` with
        that dtype: faster on a GPU, embeddings drift slightly from float32
        (measured in docs/benchmarks-gpu.md). Opt-in; float32 otherwise.
    verbose : bool, default=False
        Progress bar, and the backend's own log messages while loading.

    Attributes
    ----------
    n_features_out_ : int
        Embedding width.
    device_ : torch.device
        Where the model runs.
    model_fingerprint_ : str
        SHA-256 of the checkpoint file(s) loaded (``""`` when unknown).
    model_files_ : tuple of str
        Those files.

    Examples
    --------
    A family of models is a :class:`Backend` and a small subclass; see
    ``docs/extending.md`` for a complete, tested example. The named
    embedders are specialisations of their family:

    >>> from sertools.features import NeMoEmbedder, TitaNetEmbedder
    >>> issubclass(TitaNetEmbedder, NeMoEmbedder)
    True
    >>> TitaNetEmbedder(device="cpu").get_params()["model"]
    'titanet_large'
    """

    #: the pretrained model of a named embedder (None for a family estimator)
    bundle: ClassVar[ModelBundle | None] = None
    #: the constructor parameter naming the model; a named embedder defaults it
    #: to its bundle's name, or, with ``_model_param_fixed``, drops it from its
    #: parameters and fixes it as a class attribute (the bundle's hub name)
    _model_param: ClassVar[str] = "model"
    _model_param_fixed: ClassVar[bool] = False
    #: family-specific sentence of a named embedder's generated docstring
    #: (``str.format`` fields: the bundle's)
    _bundle_doc: ClassVar[str] = ""
    #: the backend family of the bundles the model parameter may name
    _family: ClassVar[str] = ""
    #: roles of the parameters introduced here (:meth:`BaseEmbedder.parameter_roles`);
    #: the parameter named by ``_model_param`` has role "model" too. ``checkpoint``
    #: is GE2E's file; ``model_dir`` the families' folder of local checkpoints.
    _param_roles: ClassVar[dict[str, str]] = {
        "device": "placement",
        "n_threads": "execution",
        "batch_seconds": "live",
        "max_chunk_seconds": "live",
        "model_dir": "model",
        "checkpoint": "model",
    }

    _parameter_constraints: dict[str, list[Any]] = {
        **BaseEmbedder._parameter_constraints,
        "device": [str],
        "batch_seconds": [StrOptions({"auto"}), Interval(Real, 0, None, closed="neither")],
        "max_chunk_seconds": [Interval(Real, 0.5, None, closed="left"), None],
        "n_threads": [Interval(Integral, 1, None, closed="left"), None],
        # opt-in reduced precision (torch.autocast)
        "precision": [StrOptions({"fp32", "bf16", "fp16"})],
    }

    def __init__(
        self,
        *,
        device: str = "auto",
        batch_seconds: str | float = "auto",
        max_chunk_seconds: float | None = 30.0,
        n_threads: int | None = None,
        precision: str = "fp32",
        **params: Any,
    ) -> None:
        super().__init__(**params)
        self.device = device
        self.batch_seconds = batch_seconds
        self.max_chunk_seconds = max_chunk_seconds
        self.n_threads = n_threads
        self.precision = precision

    @classmethod
    def parameter_roles(cls) -> dict[str, str]:
        """The role of each constructor parameter (see :meth:`BaseEmbedder.parameter_roles`).

        The parameter naming the model (``model``, or ``upstream`` for a named
        S3PRL upstream) has role ``"model"``.

        Returns
        -------
        dict of str -> str
            Parameter name -> role.

        Examples
        --------
        >>> from sertools.features import NeMoEmbedder
        >>> roles = NeMoEmbedder.parameter_roles()
        >>> roles["model"], roles["device"], roles["batch_seconds"], roles["precision"]
        ('model', 'placement', 'live', 'output')
        """
        roles = super().parameter_roles()
        if cls._model_param in roles:
            roles[cls._model_param] = "model"
        return roles

    def output_identity(self) -> dict[str, Any]:
        """What determines this fitted embedder's vectors: the input of its cache key.

        As :meth:`BaseEmbedder.output_identity`, except that ``batch_seconds`` is
        left out for a padding-exact backend, whose batched
        vectors equal the one-clip ones up to float rounding (as for ``device``);
        it stays in the key of a padding-sensitive one.

        Returns
        -------
        dict
            ``"params"``, ``"model"`` and ``"packages"``.

        Examples
        --------
        >>> from sertools.features import GE2EEmbedder
        >>> ident = GE2EEmbedder(device="cpu", cache=False).fit().output_identity()
        >>> ident["model"].startswith("sha256:"), "device" in ident["params"]
        (True, False)
        """
        identity = super().output_identity()
        if getattr(self._get_backend(), "padding_exact", True):
            identity["params"].pop("batch_seconds", None)
        return identity

    def _model_identity(self) -> Any:
        """The content hash of the checkpoint, else where the backend loads it from."""
        identity = super()._model_identity()
        if identity:
            return identity
        return ["backend-key", *self._backend_key()]

    # --- subclass hooks -------------------------------------------------------
    def _backend_key(self) -> tuple:
        raise NotImplementedError

    def _make_backend(self, device: Any) -> Backend:
        raise NotImplementedError

    def _view(self, model: Any) -> Backend:
        """The engine backend of this embedder's parameters over the loaded model.

        The loaded model is shared (cached) between embedders; a view adds what
        differs between them, e.g. the layer and pooling of a layered model
        (:class:`~sertools.features._layers.LayerPooling`). Default: the model itself.
        """
        return model

    # --- plumbing -------------------------------------------------------------
    def _load(self) -> None:
        # a refit (e.g. after set_params(model=..., device=...)) must not keep the
        # model of the previous fit: look it up again from the current params
        self.__dict__.pop("_backend", None)
        self.__dict__.pop("model_fingerprint_", None)  # a refit may load another model
        self.device_ = resolve_device(self.device)
        backend = self._get_backend()
        fitted = getattr(backend, "fitted_attributes", None)
        for name, value in (fitted() if fitted is not None else {}).items():
            setattr(self, name, value)

    def _get_backend(self) -> Backend:
        backend = self.__dict__.get("_backend")
        if backend is not None:
            return backend
        key = (type(self).__module__, *self._backend_key(), str(self.device_))
        entry = _BACKEND_CACHE.get(key)
        if entry is not None and entry[1] != _checkpoint_token(entry[0]):
            entry = None  # its files were replaced since it was loaded
        if entry is None:
            backend = self._make_backend(self.device_)
            _BACKEND_CACHE[key] = (backend, _checkpoint_token(backend))
            while len(_BACKEND_CACHE) > _BACKEND_CACHE_SIZE:
                _BACKEND_CACHE.popitem(last=False)
        else:
            backend = entry[0]
            _BACKEND_CACHE.move_to_end(key)
        self._check_same_model(backend)
        self._backend = self._view(backend)
        return self._backend

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
        """The padded-audio budget: ``batch_seconds``, or the backend's ``"auto"`` policy.

        A backend whose ``padding_exact`` is False runs one clip at a time (its
        batched embeddings would depend on the padding); an exact one gets its
        ``auto_batch_seconds`` per device type, else :data:`AUTO_BATCH_SECONDS`.
        """
        if self.batch_seconds != "auto":
            return float(self.batch_seconds)
        backend = self._get_backend()
        if not getattr(backend, "padding_exact", True):
            return ONE_CLIP_SECONDS
        table = getattr(backend, "auto_batch_seconds", None) or AUTO_BATCH_SECONDS
        return table.get(self.device_.type, table["cuda"])

    def _named_bundle(self) -> ModelBundle | None:
        """The bundle the model parameter names (a bundle, or a bundle's name), if any."""
        value = getattr(self, self._model_param, None)
        if isinstance(value, ModelBundle):
            return value
        return get_bundle(value, self._family) if isinstance(value, str) else None

    def _prefix(self) -> str:
        """The feature prefix: the named bundle's, else the backend's or the class's."""
        bundle = self._named_bundle()
        if bundle is not None:
            return bundle.feature_prefix
        return getattr(self._get_backend(), "feature_prefix", None) or self._feature_prefix

    def _feature_names(self) -> list[str]:
        """The backend's ``feature_names(prefix)`` where it has one, else ``<prefix>i``."""
        prefix = self._prefix()
        names = getattr(self._get_backend(), "feature_names", None)
        if names is None:
            return [f"{prefix}{i}" for i in range(self.n_features_out_)]
        return list(names(prefix))

    def _embed(self, waves: list[np.ndarray]) -> np.ndarray:
        backend = self._get_backend()
        rate = backend.sampling_rate
        chunk = None if self.max_chunk_seconds is None else int(self.max_chunk_seconds * rate)
        limit = getattr(backend, "max_samples", None)
        if limit is not None:  # a model with a fixed window (Whisper): never longer chunks
            chunk = limit if chunk is None else min(chunk, limit)
        # an embedder whose own __init__ leaves precision out runs in float32
        precision = getattr(self, "precision", "fp32")
        try:
            with torch_threads(self.n_threads):
                return extract(
                    waves,
                    backend,
                    device=self.device_,
                    max_batch_samples=max(1, int(self._batch_seconds() * rate)),
                    max_chunk_samples=chunk,
                    verbose=bool(self.verbose),
                    desc=type(self).__name__,
                    precision=precision,
                )
        except BackendError as exc:
            # not the clips' fault when this CPU cannot run the reduced precision at all
            problem = None
            if precision != "fp32" and self.device_.type == "cpu" and not exc.out_of_memory:
                problem = cpu_precision_problem(precision)
            if problem is None:
                raise
            raise ParameterError(
                f"{type(self).__name__}: {precision_hint(precision, problem)}"
            ) from exc
