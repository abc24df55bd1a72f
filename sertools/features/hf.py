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
from pathlib import Path
from typing import Any

from .._exceptions import BackendNotAvailableError, ParameterError, install_hint
from ..utils._rng import keep_global_rng
from ._base import inherit_parameters
from ._bundles import (
    DATA2VEC_AUDIO_BASE,
    HF_HUBERT_BASE,
    HF_WAV2VEC2_BASE,
    WAVLM_BASE,
    WAVLM_BASE_PLUS,
    WAVLM_LARGE,
    WHISPER_BASE,
    WHISPER_SMALL,
    ModelBundle,
)
from ._checkpoints import MODEL_DIR_ENV, model_folder
from ._layers import _LayeredEmbedder
from ._named import named_embedder
from ._neural import download_timeout
from ._sources import describe_error, fetch_failed, source_key

__all__ = [
    "MODEL_DIR_ENV",
    "SUPPORTED_MODEL_TYPES",
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

_SAMPLING_RATE = 16000
_INSTALL_HINT = install_hint("hf")


@contextlib.contextmanager
def _quiet(verbose: bool) -> Iterator[None]:
    """Silence transformers' log messages and progress bars unless ``verbose``."""
    from transformers.utils import logging as hf_logging

    level = hf_logging.get_verbosity()
    bars = hf_logging.is_progress_bar_enabled()
    if not verbose:
        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()
    try:
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
    """What both adapters share: a loaded encoder in eval mode, its identity and widths.

    A subclass is one family of checkpoints: how to load its weights
    (:meth:`load`), its feature extractor when the checkpoint has none
    (:meth:`default_extractor`), its depth and width (:meth:`shape`), what it
    prepares once loaded (:meth:`_prepare`), and how to get every hidden state
    of a zero-padded batch (``hidden_states(batch, lengths)``).

    Attributes
    ----------
    n_layers : int
        Hidden states returned (embedding output, then each layer's).
    hidden_sizes : list of int
        Width of each.
    padding_exact : bool
        Whether a clip's embedding does not depend on the other clips of its
        batch (to float rounding).
    max_samples : int or None
        Longest input (Whisper's window); None: any length.
    """

    # the engine's input rate and shortest input (read through LayerPooling)
    sampling_rate = _SAMPLING_RATE
    min_samples = 800
    max_samples: int | None = None
    padding_exact = True

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
        n_layers, width = self.shape(config)
        self.n_layers = n_layers
        self.hidden_sizes = [width] * n_layers
        self.name = str(config.model_type)
        #: feature prefix of a model no bundle names (``wavlm_``, ``data2vec_audio_``)
        self.feature_prefix = f"{config.model_type.replace('-', '_')}_"
        self._prepare(extractor)

    @staticmethod
    def load(transformers: Any, where: str, local: bool) -> Any:
        """The family's encoder module, from a folder or the hub."""
        raise NotImplementedError

    @staticmethod
    def shape(config: Any) -> tuple[int, int]:
        """``(hidden states returned, width of each)`` of a checkpoint."""
        raise NotImplementedError

    def _prepare(self, extractor: Any) -> None:
        """Set up what the forward pass needs (after the model is on its device)."""

    @staticmethod
    def default_extractor(transformers: Any, config: Any) -> Any:
        """The feature extractor of a checkpoint without ``preprocessor_config.json``."""
        return None

    def fitted_attributes(self) -> dict[str, str]:
        """``model_type_``: the checkpoint's ``config.model_type``."""
        return {"model_type_": str(self.config.model_type)}


class _EncoderModel(_HFModel):
    """A wav2vec 2.0-style encoder (wav2vec2, HuBERT, WavLM, data2vec-audio).

    Padding-exact through the attention mask: masked layer-norm front ends as
    trained; group-norm front ends and data2vec-audio's stacked positional
    convolutions through sertools' hooks (docs/hf.md).
    """

    @staticmethod
    def shape(config: Any) -> tuple[int, int]:
        return int(config.num_hidden_layers) + 1, int(config.hidden_size)

    def _prepare(self, extractor: Any) -> None:
        config = self.config
        layer_norm = getattr(config, "feat_extract_norm", "group") == "layer"
        self.use_mask = bool(getattr(extractor, "return_attention_mask", layer_norm))
        self.normalize = bool(getattr(extractor, "do_normalize", True))
        self.exact_hooks = None
        stacked = config.model_type == "data2vec-audio"
        if not self.use_mask or stacked:
            # the padding-exact hooks (sertools.features._exact): a group-normed front
            # end trained without masks gets its group norm recomputed per clip (the
            # mask then gives each padded clip its unpadded, maskless result);
            # data2vec-audio's stacked positional convolutions, whose padded frames
            # the encoder zeroes before the first only, get them zeroed after each
            from ._exact import make_padding_exact

            self.exact_hooks = make_padding_exact(self.model)
            self.use_mask = self.use_mask or self.exact_hooks is not None
        self.padding_exact = self.use_mask and (
            not stacked
            or (self.exact_hooks is not None and self.exact_hooks.n_positional_convs > 1)
        )

    @staticmethod
    def load(transformers: Any, where: str, local: bool) -> Any:
        return transformers.AutoModel.from_pretrained(where, local_files_only=local)

    def hidden_states(self, batch: Any, lengths: Any) -> tuple[list[Any], list[Any]]:
        """Every hidden state of a zero-padded 16 kHz batch and its valid frame counts."""
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


class _WhisperEncoder(_HFModel):
    """Whisper's encoder: log-Mel input padded to the 30-s window, clip frames pooled.

    Padding-exact: every clip is padded to the same window anyway, and only the
    encoder frames that cover the clip (20 ms each, ``ceil(n / 320)``) are pooled.
    """

    @staticmethod
    def shape(config: Any) -> tuple[int, int]:
        return int(config.encoder_layers) + 1, int(config.d_model)

    def _prepare(self, extractor: Any) -> None:
        self.extractor = extractor
        strides = self.model.conv1.stride[0] * self.model.conv2.stride[0]
        self.frame_samples = int(extractor.hop_length) * strides
        self.max_frames = int(self.config.max_source_positions)
        self.max_samples = int(extractor.n_samples)

    @staticmethod
    def load(transformers: Any, where: str, local: bool) -> Any:
        return transformers.WhisperModel.from_pretrained(
            where, local_files_only=local
        ).get_encoder()

    @staticmethod
    def default_extractor(transformers: Any, config: Any) -> Any:
        # its window: 2 Mel frames (10 ms each) per position
        seconds = config.max_source_positions * 2 * 160 // _SAMPLING_RATE
        return transformers.WhisperFeatureExtractor(
            feature_size=config.num_mel_bins, chunk_length=seconds
        )

    def hidden_states(self, batch: Any, lengths: Any) -> tuple[list[Any], list[Any]]:
        """Every hidden state of a zero-padded 16 kHz batch and its valid frame counts."""
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


#: the adapter of each supported ``config.model_type``
_ADAPTERS: dict[str, type[_HFModel]] = {
    "wav2vec2": _EncoderModel,
    "hubert": _EncoderModel,
    "wavlm": _EncoderModel,
    "data2vec-audio": _EncoderModel,
    "whisper": _WhisperEncoder,
}
#: model types this backend knows how to run
SUPPORTED_MODEL_TYPES = tuple(_ADAPTERS)


@inherit_parameters
class HFEmbedder(_LayeredEmbedder):
    """Time-pooled hidden states of a ``transformers`` speech encoder.

    Parameters
    ----------
    model : str, path-like or ModelBundle, default="microsoft/wavlm-base-plus"
        A :class:`~sertools.features.ModelBundle` of the ``hf`` family (e.g.
        ``WAVLM_BASE_PLUS``), a folder in ``save_pretrained`` layout
        (``config.json``, weights, and ideally ``preprocessor_config.json``), a
        name looked up under ``model_dir`` (as ``<model_dir>/<name>``,
        ``<model_dir>/<last part of name>`` or ``<model_dir>/<name with / as
        -->``), or a Hugging Face hub name (needs the network or transformers'
        cache). None: ``"microsoft/wavlm-base-plus"``.
    model_dir : str or path-like, default=None
        Folder of local models for offline use; None: ``$SERTOOLS_MODEL_DIR``.
    batch_seconds : "auto" or float, default="auto"
        Padded-audio budget per batch in seconds. ``"auto"``: 8 s on a CPU,
        120 s on a GPU (every supported model type is padding-exact, some
        through sertools' hooks; a model that is not runs one clip at a time).
        See docs/hf.md for the measured cosines.
    max_chunk_seconds : float or None, default=30.0
        Clips longer than this are cut into chunks whose embeddings are
        averaged, weighted by duration; None keeps clips whole. Whisper never
        takes more than its window (30 s): longer chunks are cut to it.

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
        **_LayeredEmbedder._parameter_constraints,
        "model": [str, os.PathLike, ModelBundle, None],
        "model_dir": [str, os.PathLike, None],
    }
    _family = "hf"
    _bundle_doc = "``model`` may name any other checkpoint the family runs."

    def __init__(
        self,
        *,
        model: str | os.PathLike[str] | ModelBundle | None = WAVLM_BASE_PLUS.name,
        model_dir: str | os.PathLike[str] | None = None,
        **params: Any,
    ) -> None:
        super().__init__(**params)
        self.model = model
        self.model_dir = model_dir

    # --- model resolution -----------------------------------------------------
    def _source(self) -> tuple[str, str]:
        """``("folder", path)`` for a local model, else ``("hub", name)``.

        Raises
        ------
        ParameterError
            If ``model`` looks like a path (path-like, absolute, starting with
            ``.`` or ``~``) but is no folder, or is a folder without ``config.json``.
        """
        model = WAVLM_BASE_PLUS if self.model is None else self.model
        spec = model.hub_name if isinstance(model, ModelBundle) else os.fspath(model)
        path = Path(spec).expanduser()
        if path.is_file():
            raise ParameterError(
                f"model={spec!r} is a file; expected a folder in save_pretrained layout "
                "(config.json + weights) or a Hugging Face hub name"
            )
        if path.is_dir():
            return "folder", str(_checked_folder(path))
        looks_like_path = (
            isinstance(self.model, os.PathLike) or path.is_absolute() or spec.startswith((".", "~"))
        )
        if looks_like_path:
            raise ParameterError(f"model folder not found: {path}")
        folder = model_folder(self.model_dir)
        if folder is not None:
            for name in (spec, spec.rsplit("/", 1)[-1], spec.replace("/", "--")):
                candidate = folder[0] / name
                if candidate.is_dir():
                    return "folder", str(_checked_folder(candidate))
        return "hub", spec

    def _backend_key(self) -> tuple:
        return source_key(*self._source())

    def _make_backend(self, device: Any) -> _HFModel:
        owner = type(self).__name__
        transformers = _import_transformers(owner)
        kind, where = self._source()
        local = kind == "folder"
        online = contextlib.nullcontext if local else download_timeout
        # transformers initialises weights it then overwrites: keep the caller's RNG
        with _quiet(bool(self.verbose)), keep_global_rng():
            try:
                with online():
                    config = transformers.AutoConfig.from_pretrained(where, local_files_only=local)
            except Exception as exc:  # OSError, ValueError, HTTP errors ...
                raise ParameterError(self._not_found(where, local, exc)) from exc
            adapter = _ADAPTERS.get(config.model_type)
            if adapter is None:
                raise ParameterError(
                    f"model={where!r} is a {config.model_type!r} model; {owner} runs "
                    f"{list(SUPPORTED_MODEL_TYPES)}"
                )
            try:
                with online():
                    model = adapter.load(transformers, where, local)
            except Exception as exc:
                raise ParameterError(
                    f"transformers could not load the {config.model_type} weights of "
                    f"{where!r} ({describe_error(exc, 300)})"
                ) from exc
            try:
                with online():
                    extractor = transformers.AutoFeatureExtractor.from_pretrained(
                        where, local_files_only=local
                    )
            except Exception:  # no preprocessor_config.json: the family's default
                extractor = adapter.default_extractor(transformers, config)
        return adapter(model, config, extractor, device, _model_files(where, local))

    def _not_found(self, where: str, local: bool, exc: Exception) -> str:
        if local:
            return f"cannot read the model folder {where} with transformers ({describe_error(exc)})"
        folder = model_folder(self.model_dir)
        short = where.rsplit("/", 1)[-1]
        place = (
            f"save it with save_pretrained into {folder[0]}/{short} ({folder[1]})"
            if folder
            else "save it with save_pretrained into a folder and pass model='/path/to/folder' "
            f"(or put it under model_dir= / ${MODEL_DIR_ENV})"
        )
        return fetch_failed(
            "Hugging Face model",
            where,
            local="folder",
            fetcher="transformers",
            exc=exc,
            offline=place,
        )


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


# --- the named estimators: one per "hf" bundle (see _named.named_embedder) ----------------
@named_embedder
class WavLMBaseEmbedder(HFEmbedder):
    """WavLM Base hidden states (``microsoft/wavlm-base``, 768-d, 13 layers)."""

    bundle = WAVLM_BASE


@named_embedder
class WavLMBasePlusEmbedder(HFEmbedder):
    """WavLM Base+ hidden states (``microsoft/wavlm-base-plus``, 768-d, 13 layers)."""

    bundle = WAVLM_BASE_PLUS


@named_embedder
class WavLMLargeEmbedder(HFEmbedder):
    """WavLM Large hidden states (``microsoft/wavlm-large``, 1024-d, 25 layers)."""

    bundle = WAVLM_LARGE


@named_embedder
class HFHubertEmbedder(HFEmbedder):
    """HuBERT Base hidden states (transformers) (``facebook/hubert-base-ls960``, 768-d)."""

    bundle = HF_HUBERT_BASE


@named_embedder
class HFWav2Vec2Embedder(HFEmbedder):
    """Hidden states of wav2vec 2.0 Base (transformers) (``facebook/wav2vec2-base``, 768-d)."""

    bundle = HF_WAV2VEC2_BASE


@named_embedder
class Data2VecAudioEmbedder(HFEmbedder):
    """Hidden states of data2vec-audio Base (``facebook/data2vec-audio-base``, 768-d)."""

    bundle = DATA2VEC_AUDIO_BASE


@named_embedder
class WhisperBaseEmbedder(HFEmbedder):
    """Whisper base encoder states (``openai/whisper-base``, 512-d, 7 layers)."""

    bundle = WHISPER_BASE


@named_embedder
class WhisperSmallEmbedder(HFEmbedder):
    """Whisper small encoder states (``openai/whisper-small``, 768-d, 13 layers)."""

    bundle = WHISPER_SMALL
