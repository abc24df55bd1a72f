"""Hugging Face ``transformers`` backend: WavLM, HuBERT, wav2vec 2.0, data2vec-audio, Whisper.

:class:`HFEmbedder` loads a speech encoder with ``transformers`` on current
torch (no S3PRL, no torch 2.8 pin) and pools one hidden layer, the average of
all, or every layer (``layer=`` as in :class:`~sertools.features.S3PRLEmbedder`)
over each clip's valid frames.

Two families:

* **wav2vec 2.0-style** (``wav2vec2``, ``hubert``, ``wavlm``, ``data2vec-audio``;
  loaded with ``AutoModel``): a convolutional front end (320 samples per
  frame) and a transformer. Waveforms are normalised per clip (zero mean,
  unit variance over the clip's own samples) when the checkpoint's feature
  extractor says ``do_normalize``, and the attention mask is passed when it
  says ``return_attention_mask`` (without a feature-extractor file: when
  ``config.feat_extract_norm == "layer"``). Group-normed front ends (base
  models, trained without masks) get sertools' padding-exact hooks
  (:mod:`sertools.features._exact`) and the mask: a padded clip then gives
  its unpadded, maskless result. Hidden states: the transformer input, then
  each layer's output (13 for a base model, 25 for a large one).
* **Whisper's encoder** (``whisper``): ``WhisperFeatureExtractor`` log-Mel
  input, always padded to the model's 30-s window; only the encoder frames
  that cover the clip (20 ms each, ``ceil(n / 320)``) are pooled, never the
  frames of the padding. Clips longer than the window are cut into chunks.

Models load in :meth:`fit`: ``model`` is a local folder in ``save_pretrained``
layout (``config.json`` + weights), a name found under ``model_dir`` /
``$SERTOOLS_MODEL_DIR``, or a hub name (downloaded by ``transformers`` into its
cache). ``transformers`` is imported only there.
"""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import Iterator
from numbers import Integral
from pathlib import Path
from typing import Any

import numpy as np

from .._exceptions import BackendNotAvailableError, ParameterError
from ..utils._sklearn_compat import StrOptions
from ..utils._torch import torch_threads
from ._cache import EmbeddingCache
from ._engine import extract
from ._layers import LayerPooling as _LayerPooling
from ._neural import NeuralEmbedder, download_timeout

__all__ = [
    "Data2VecAudioEmbedder",
    "HFEmbedder",
    "HFHubertEmbedder",
    "HFWav2Vec2Embedder",
    "WavLMBaseEmbedder",
    "WavLMBasePlusEmbedder",
    "WavLMLargeEmbedder",
    "WhisperBaseEmbedder",
    "WhisperSmallEmbedder",
]

MODEL_DIR_ENV = "SERTOOLS_MODEL_DIR"
#: model types this backend knows how to run
SUPPORTED_MODEL_TYPES = ("wav2vec2", "hubert", "wavlm", "data2vec-audio", "whisper")
_SAMPLING_RATE = 16000
_INSTALL_HINT = "pip install 'sertools[hf]'"
#: ``batch_seconds="auto"`` for padding-exact models (all but data2vec-audio), per
#: device type; data2vec-audio runs one clip at a time
_AUTO_BATCH_SECONDS = {"cpu": 8.0, "cuda": 120.0}
_ONE_CLIP_SECONDS = 1e-3


@contextlib.contextmanager
def _quiet(verbose: bool) -> Iterator[None]:
    """Silence transformers' log messages (unless ``verbose``) and keep the global RNG."""
    import torch
    from transformers.utils import logging as hf_logging

    level = hf_logging.get_verbosity()
    bars = hf_logging.is_progress_bar_enabled()
    if not verbose:
        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()
    try:
        with torch.random.fork_rng(devices=[]):
            yield
    finally:
        hf_logging.set_verbosity(level)
        if bars:
            hf_logging.enable_progress_bar()


def _import_transformers(owner: str) -> Any:
    try:
        import transformers
    except Exception as exc:  # ImportError, or a broken install
        raise BackendNotAvailableError(
            f"{owner} needs transformers, which is not installed or cannot be imported "
            f"({type(exc).__name__}: {exc}): {_INSTALL_HINT}"
        ) from exc
    return transformers


class _HFModel:
    """A loaded encoder in eval mode and how to get its hidden states.

    Attributes
    ----------
    n_layers : int
        Hidden states returned (embedding output, then each layer's).
    hidden_sizes : list of int
        Width of each.
    padding_exact : bool
        Whether a clip's embedding does not depend on the other clips of its
        batch (to float rounding): Whisper (every clip is padded to the same
        window anyway), masked layer-norm front ends, and group-norm front ends
        through the padding-exact hooks; not data2vec-audio (docs/hf.md).
    max_samples : int or None
        Longest input (Whisper's window); None: any length.
    """

    # the engine's input rate and shortest input (read through LayerPooling)
    sampling_rate = _SAMPLING_RATE
    min_samples = 800

    def __init__(
        self,
        model: Any,
        config: Any,
        extractor: Any,
        device: Any,
        checkpoint_files: tuple[str, ...] = (),
    ) -> None:
        self.model = model.to(device).eval()
        self.checkpoint_files = tuple(checkpoint_files)
        self.config = config
        self.device = device
        self.is_whisper = config.model_type == "whisper"
        if self.is_whisper:
            self.extractor = extractor
            self.n_layers = int(config.encoder_layers) + 1
            width = int(config.d_model)
            strides = model.conv1.stride[0] * model.conv2.stride[0]
            self.frame_samples = int(extractor.hop_length) * strides
            self.max_frames = int(config.max_source_positions)
            self.max_samples = int(extractor.n_samples)
            self.use_mask = False
            self.normalize = False
            self.padding_exact = True
        else:
            self.n_layers = int(config.num_hidden_layers) + 1
            width = int(config.hidden_size)
            self.max_samples = None
            layer_norm = getattr(config, "feat_extract_norm", "group") == "layer"
            self.use_mask = bool(getattr(extractor, "return_attention_mask", layer_norm))
            self.normalize = bool(getattr(extractor, "do_normalize", True))
            self.exact_hooks = None
            if not self.use_mask and config.model_type != "data2vec-audio":
                # group-normed front end trained without masks: the padding-exact hooks
                # (sertools.features._exact) recompute the group norm per clip, and the
                # mask then gives each padded clip its unpadded, maskless result
                from ._exact import make_padding_exact

                self.exact_hooks = make_padding_exact(self.model)
                self.use_mask = self.exact_hooks is not None
            # data2vec-audio's positional embedding stacks convolutions: the padded
            # frames, zeroed before the first, are not before the next ones and leak
            # into a clip's last frames (measured: docs/hf.md)
            self.padding_exact = self.use_mask and config.model_type != "data2vec-audio"
        self.hidden_sizes = [width] * self.n_layers

    def hidden_states(self, batch: Any, lengths: Any) -> tuple[list[Any], list[Any]]:
        """Every hidden state of a zero-padded 16 kHz batch and its valid frame counts."""
        if self.is_whisper:
            return self._whisper(batch, lengths)
        import torch

        n = batch.shape[1]
        mask = torch.arange(n, device=batch.device)[None, :] < lengths[:, None]
        x = batch
        if self.normalize:
            count = lengths[:, None].to(batch.dtype)
            mean = (batch * mask).sum(1, keepdim=True) / count
            var = (((batch - mean) * mask) ** 2).sum(1, keepdim=True) / count
            x = (batch - mean) / torch.sqrt(var + 1e-7) * mask
        out = self.model(
            x,
            attention_mask=mask.long() if self.use_mask else None,
            output_hidden_states=True,
        )
        hidden = list(out.hidden_states)
        frames = self.model._get_feat_extract_output_lengths(lengths)
        valid = frames.clamp(min=1, max=hidden[0].shape[1])
        return hidden, [valid] * len(hidden)

    def _whisper(self, batch: Any, lengths: Any) -> tuple[list[Any], list[Any]]:
        import torch

        waves = batch.detach().cpu().numpy()
        sizes = [int(n) for n in lengths.cpu()]
        features = self.extractor(
            [w[:n] for w, n in zip(waves, sizes, strict=True)],
            sampling_rate=_SAMPLING_RATE,
            padding="max_length",
            return_tensors="np",
        ).input_features
        dtype = next(self.model.parameters()).dtype
        inputs = torch.from_numpy(features).to(self.device, dtype=dtype)
        out = self.model(inputs, output_hidden_states=True)
        valid = torch.tensor(
            [min(max(1, math.ceil(n / self.frame_samples)), self.max_frames) for n in sizes],
            device=out.last_hidden_state.device,
        )
        hidden = list(out.hidden_states)
        return hidden, [valid] * len(hidden)


class HFEmbedder(NeuralEmbedder):
    """Time-pooled hidden states of a ``transformers`` speech encoder.

    Parameters
    ----------
    model : str or path-like, default=None
        A folder in ``save_pretrained`` layout (``config.json``, weights, and
        ideally ``preprocessor_config.json``), a name looked up under
        ``model_dir`` (as ``<model_dir>/<name>``, ``<model_dir>/<last part of
        name>`` or ``<model_dir>/<name with / as -->``), or a Hugging Face hub
        name (``"microsoft/wavlm-base-plus"``; needs the network or
        transformers' cache). None: the class's default (the subclasses fix
        one; :class:`HFEmbedder` itself: ``"microsoft/wavlm-base-plus"``).
    model_dir : str or path-like, default=None
        Folder of local models for offline use; None: ``$SERTOOLS_MODEL_DIR``.
    layer : int or {"mean", "all"}, default=-1
        Hidden state to pool: an index into the model's hidden states
        (negative from the end; 0 is the transformer's input, *i* the output
        of layer *i*), ``"mean"`` the average of every layer's pooled vector,
        ``"all"`` all of them concatenated (layer-wise probing).
    pooling : {"mean", "mean+std"}, default="mean"
        Masked mean over the clip's valid frames, optionally with the masked
        standard deviation appended.
    device : str, default="auto"
        ``"auto"`` (CUDA if available, else CPU), ``"cpu"``, ``"cuda"`` or ``"cuda:N"``.
    batch_seconds : "auto" or float, default="auto"
        Padded-audio budget per batch in seconds. ``"auto"``: 8 s on a CPU,
        120 s on a GPU for the padding-exact models (all but data2vec-audio,
        whose stacked positional convolutions let padding into a clip's last
        frames: one clip at a time). See docs/hf.md for the measured cosines.
    max_chunk_seconds : float or None, default=30.0
        Clips longer than this are cut into chunks whose embeddings are
        averaged, weighted by duration; None keeps clips whole. Whisper never
        takes more than its window (30 s): longer chunks are cut to it.
    n_threads : int or None, default=None
        Torch intra-op threads during ``transform``.
    precision : {"fp32", "bf16", "fp16"}, default="fp32"
        ``"bf16"`` / ``"fp16"`` run the model under ``torch.autocast`` with
        that dtype: faster on a GPU, embeddings drift slightly from float32
        (docs/benchmarks-gpu.md). Opt-in; float32 otherwise.
    sampling_rate : int or None, default=None
        Rate of array input in Hz (file paths carry their own).
    verbose : bool, default=False
        Progress bar and transformers' log messages.
    cache : str, path-like, EmbeddingCache or bool, default=None
        Per-clip embedding cache (a folder or a store; None: ``$SERTOOLS_CACHE``
        if set; False: off): see :class:`~sertools.features.EmbeddingCache`.

    Attributes
    ----------
    n_features_out_ : int
        ``hidden_size`` (``x 2`` for ``"mean+std"``, ``x n_layers_`` for ``layer="all"``).
    n_layers_ : int
        Number of hidden states.
    hidden_size_ : int
        Width of one hidden state.
    model_type_ : str
        ``config.model_type`` (``"wavlm"``, ``"whisper"``, ...).
    device_ : torch.device
        Where the model runs.

    Examples
    --------
    >>> emb = HFEmbedder(model="~/models/wavlm-base-plus", layer="mean")  # doctest: +SKIP
    """

    _parameter_constraints: dict[str, list[Any]] = {
        **NeuralEmbedder._parameter_constraints,
        "model": [str, os.PathLike, None],
        "model_dir": [str, os.PathLike, None],
        "layer": [Integral, StrOptions({"mean", "all"})],
        "pooling": [StrOptions({"mean", "mean+std"})],
    }
    #: hub name used when ``model=None``
    _default_model = "microsoft/wavlm-base-plus"

    def __init__(
        self,
        *,
        model: str | os.PathLike[str] | None = None,
        model_dir: str | os.PathLike[str] | None = None,
        layer: int | str = -1,
        pooling: str = "mean",
        device: str = "auto",
        batch_seconds: str | float = "auto",
        max_chunk_seconds: float | None = 30.0,
        n_threads: int | None = None,
        precision: str = "fp32",
        sampling_rate: int | None = None,
        verbose: bool = False,
        cache: str | os.PathLike[str] | EmbeddingCache | bool | None = None,
    ) -> None:
        self.model = model
        self.model_dir = model_dir
        self.layer = layer
        self.pooling = pooling
        self.device = device
        self.batch_seconds = batch_seconds
        self.max_chunk_seconds = max_chunk_seconds
        self.n_threads = n_threads
        self.precision = precision
        self.sampling_rate = sampling_rate
        self.verbose = verbose
        self.cache = cache

    # --- model resolution -----------------------------------------------------
    def _model_folder(self) -> tuple[Path, str] | None:
        if self.model_dir is not None:
            return Path(self.model_dir).expanduser(), "model_dir"
        env = os.environ.get(MODEL_DIR_ENV)
        return (Path(env).expanduser(), MODEL_DIR_ENV) if env else None

    def _source(self) -> tuple[str, str]:
        """``("folder", path)`` for a local model, else ``("hub", name)``.

        Raises
        ------
        ParameterError
            If ``model`` looks like a path (path-like, absolute, starting with
            ``.`` or ``~``) but is no folder, or is a folder without ``config.json``.
        """
        spec = os.fspath(self._default_model if self.model is None else self.model)
        path = Path(spec).expanduser()
        if path.is_file():
            raise ParameterError(
                f"model={spec!r} is a file; expected a folder in save_pretrained layout "
                "(config.json + weights) or a Hugging Face hub name"
            )
        if path.is_dir():
            return "folder", str(_checked_folder(path))
        looks_like_path = (
            (self.model is not None and not isinstance(self.model, str))
            or path.is_absolute()
            or spec.startswith((".", "~"))
        )
        if looks_like_path:
            raise ParameterError(f"model folder not found: {path}")
        folder = self._model_folder()
        if folder is not None:
            for name in (spec, spec.rsplit("/", 1)[-1], spec.replace("/", "--")):
                candidate = folder[0] / name
                if candidate.is_dir():
                    return "folder", str(_checked_folder(candidate))
        return "hub", spec

    def _backend_key(self) -> tuple:
        kind, where = self._source()
        if kind == "folder":
            stamp = tuple(
                (p.name, p.stat().st_size, p.stat().st_mtime_ns)
                for p in sorted(Path(where).iterdir())
                if p.is_file()
            )
            return kind, where, stamp
        return kind, where

    def _make_backend(self, device: Any) -> _HFModel:
        owner = type(self).__name__
        transformers = _import_transformers(owner)
        kind, where = self._source()
        local = kind == "folder"
        with _quiet(bool(self.verbose)):
            try:
                with download_timeout() if not local else contextlib.nullcontext():
                    config = transformers.AutoConfig.from_pretrained(where, local_files_only=local)
            except Exception as exc:  # OSError, ValueError, HTTP errors ...
                raise ParameterError(self._not_found(where, local, exc)) from exc
            if config.model_type not in SUPPORTED_MODEL_TYPES:
                raise ParameterError(
                    f"model={where!r} is a {config.model_type!r} model; {owner} runs "
                    f"{list(SUPPORTED_MODEL_TYPES)}"
                )
            try:
                with download_timeout() if not local else contextlib.nullcontext():
                    if config.model_type == "whisper":
                        model = transformers.WhisperModel.from_pretrained(
                            where, local_files_only=local
                        ).get_encoder()
                    else:
                        model = transformers.AutoModel.from_pretrained(
                            where, local_files_only=local
                        )
            except Exception as exc:
                raise ParameterError(
                    f"transformers could not load the {config.model_type} weights of "
                    f"{where!r} ({type(exc).__name__}: {' '.join(str(exc).split())[:300]})"
                ) from exc
            extractor = self._extractor(transformers, where, local, config)
        return _HFModel(model, config, extractor, device, _model_files(where, local))

    @staticmethod
    def _extractor(transformers: Any, where: str, local: bool, config: Any) -> Any:
        """The checkpoint's feature extractor, or the family's default when it has none."""
        try:
            with download_timeout() if not local else contextlib.nullcontext():
                return transformers.AutoFeatureExtractor.from_pretrained(
                    where, local_files_only=local
                )
        except Exception:  # no preprocessor_config.json: fall back on the family default
            if config.model_type == "whisper":  # its window: 2 Mel frames (10 ms) per position
                seconds = config.max_source_positions * 2 * 160 // _SAMPLING_RATE
                return transformers.WhisperFeatureExtractor(
                    feature_size=config.num_mel_bins, chunk_length=seconds
                )
            return None

    def _not_found(self, where: str, local: bool, exc: Exception) -> str:
        reason = f"{type(exc).__name__}: {' '.join(str(exc).split())[:200]}"
        if local:
            return f"cannot read the model folder {where} with transformers ({reason})"
        folder = self._model_folder()
        short = where.rsplit("/", 1)[-1]
        place = (
            f"save it with save_pretrained into {folder[0]}/{short} ({folder[1]})"
            if folder
            else "save it with save_pretrained into a folder and pass model='/path/to/folder' "
            f"(or put it under model_dir= / ${MODEL_DIR_ENV})"
        )
        return (
            f"cannot load the Hugging Face model {where!r}: no local folder and transformers "
            f"could not fetch it ({reason}). Offline, {place}"
        )

    # --- layers ---------------------------------------------------------------
    def _resolve_layer(self, model: _HFModel) -> int | str:
        n = model.n_layers
        if isinstance(self.layer, bool):
            raise ParameterError(
                f"layer={self.layer!r}: pass an integer layer index, 'mean' or 'all'"
            )
        if isinstance(self.layer, str):
            return self.layer
        if not -n <= self.layer < n:
            raise ParameterError(
                f"layer={self.layer} is out of range: the model returns {n} hidden states, "
                f"so layer must be an integer in [{-n}, {n - 1}], 'mean' or 'all'"
            )
        return int(self.layer) % n

    def _get_backend(self) -> _LayerPooling:
        view = self.__dict__.get("_backend")
        if isinstance(view, _LayerPooling):
            return view
        model = super()._get_backend()  # the shared, cached encoder
        view = _LayerPooling(model, layer=self._resolve_layer(model), pooling=self.pooling)
        self._backend = view
        return view

    def _load(self) -> None:
        super()._load()
        model = self._get_backend().model
        self.n_layers_ = model.n_layers
        self.hidden_size_ = model.hidden_sizes[0]
        self.model_type_ = str(model.config.model_type)

    def _batch_seconds(self) -> float:
        if self.batch_seconds != "auto":
            return float(self.batch_seconds)
        if self._get_backend().model.padding_exact:
            return _AUTO_BATCH_SECONDS.get(self.device_.type, _AUTO_BATCH_SECONDS["cuda"])
        return _ONE_CLIP_SECONDS

    def _embed(self, waves: list[np.ndarray]) -> np.ndarray:
        backend = self._get_backend()
        rate = backend.sampling_rate
        chunk = None if self.max_chunk_seconds is None else int(self.max_chunk_seconds * rate)
        limit = backend.model.max_samples
        if limit is not None:  # Whisper: never more than its window
            chunk = limit if chunk is None else min(chunk, limit)
        with torch_threads(self.n_threads):
            return extract(
                waves,
                backend,
                device=self.device_,
                max_batch_samples=max(1, int(self._batch_seconds() * rate)),
                max_chunk_samples=chunk,
                verbose=bool(self.verbose),
                desc=type(self).__name__,
                precision=self.precision,
            )

    def _feature_names(self) -> list[str]:
        stats = ["", "std_"] if self.pooling == "mean+std" else [""]
        width = self.hidden_size_
        if self.layer == "all":
            layers = range(self.n_layers_)
            return [f"layer{i}_{s}{j}" for i in layers for s in stats for j in range(width)]
        prefix = self.model_type_.replace("-", "_")
        return [f"{prefix}_{s}{j}" for s in stats for j in range(width)]


def _model_files(where: str, local: bool) -> tuple[str, ...]:
    """The files of a loaded model (its identity): the folder's, or the hub cache snapshot's."""
    folder: Path | None = Path(where) if local else None
    if folder is None:
        try:
            from transformers.utils import cached_file

            folder = Path(cached_file(where, "config.json", local_files_only=True)).parent
        except Exception:  # not in the cache layout we expect: no identity
            return ()
    return tuple(str(p) for p in sorted(folder.iterdir()) if p.is_file())


def _checked_folder(path: Path) -> Path:
    if not (path / "config.json").is_file():
        raise ParameterError(
            f"model folder {path} has no config.json; expected a folder in save_pretrained "
            "layout (config.json + model.safetensors or pytorch_model.bin)"
        )
    return path.resolve()


class WavLMBaseEmbedder(HFEmbedder):
    """WavLM Base (``microsoft/wavlm-base``, 13 x 768), through transformers.

    WavLM [Chen et al. 2022]: HuBERT-style masked prediction with denoising,
    gated relative position bias; group-normed front end (made padding-exact,
    so batched). Parameters as :class:`HFEmbedder`;
    ``model=None`` means this checkpoint.
    """

    _default_model = "microsoft/wavlm-base"


class WavLMBasePlusEmbedder(HFEmbedder):
    """WavLM Base+ (``microsoft/wavlm-base-plus``, 13 x 768; 94k h of pretraining audio)."""

    _default_model = "microsoft/wavlm-base-plus"


class WavLMLargeEmbedder(HFEmbedder):
    """WavLM Large (``microsoft/wavlm-large``, 25 x 1024; layer-normed, masked, batched)."""

    _default_model = "microsoft/wavlm-large"


class HFHubertEmbedder(HFEmbedder):
    """HuBERT Base (``facebook/hubert-base-ls960``, 13 x 768) through transformers, not S3PRL."""

    _default_model = "facebook/hubert-base-ls960"


class HFWav2Vec2Embedder(HFEmbedder):
    """The wav2vec 2.0 Base (``facebook/wav2vec2-base``, 13 x 768) through transformers."""

    _default_model = "facebook/wav2vec2-base"


class Data2VecAudioEmbedder(HFEmbedder):
    """The data2vec-audio Base (``facebook/data2vec-audio-base``, 13 x 768), layer-normed."""

    _default_model = "facebook/data2vec-audio-base"


class WhisperBaseEmbedder(HFEmbedder):
    """Whisper base's encoder (``openai/whisper-base``, 7 x 512), clip frames only."""

    _default_model = "openai/whisper-base"


class WhisperSmallEmbedder(HFEmbedder):
    """Whisper small's encoder (``openai/whisper-small``, 13 x 768), clip frames only."""

    _default_model = "openai/whisper-small"


def _share_docs() -> None:
    """Give the fixed-checkpoint classes :class:`HFEmbedder`'s parameter documentation."""
    doc = HFEmbedder.__doc__ or ""
    sections = doc[doc.index("    Parameters\n") :]
    for cls in (
        WavLMBaseEmbedder,
        WavLMBasePlusEmbedder,
        WavLMLargeEmbedder,
        HFHubertEmbedder,
        HFWav2Vec2Embedder,
        Data2VecAudioEmbedder,
        WhisperBaseEmbedder,
        WhisperSmallEmbedder,
    ):
        own = (cls.__doc__ or "").rstrip()
        cls.__doc__ = (
            f"{own}\n\n    ``model=None`` loads ``{cls._default_model}``; the other parameters "
            f"are :class:`HFEmbedder`'s.\n\n{sections}"
        )


_share_docs()
