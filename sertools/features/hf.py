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

from .._exceptions import BackendNotAvailableError, ParameterError
from ._bundles import WAVLM_BASE_PLUS, ModelBundle
from ._layers import _LayeredEmbedder
from ._neural import download_timeout, named_embedders

# and the named estimators (WavLMBaseEmbedder, ...), one per "hf" bundle: see the end
__all__ = ["MODEL_DIR_ENV", "SUPPORTED_MODEL_TYPES", "HFEmbedder"]

MODEL_DIR_ENV = "SERTOOLS_MODEL_DIR"
#: model types this backend knows how to run
SUPPORTED_MODEL_TYPES = ("wav2vec2", "hubert", "wavlm", "data2vec-audio", "whisper")
_SAMPLING_RATE = 16000
_INSTALL_HINT = "pip install 'sertools[hf]'"


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
        window anyway), masked layer-norm front ends, and, through the
        padding-exact hooks, group-norm front ends and data2vec-audio's stacked
        positional convolutions (docs/hf.md).
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
        self.hidden_sizes = [width] * self.n_layers
        self.name = str(config.model_type)
        #: feature prefix of a model no bundle names (``wavlm_``, ``data2vec_audio_``)
        self.feature_prefix = f"{config.model_type.replace('-', '_')}_"

    def fitted_attributes(self) -> dict[str, str]:
        """``model_type_``: the checkpoint's ``config.model_type``."""
        return {"model_type_": str(self.config.model_type)}

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
    _backend_packages = ("torch", "transformers")  # versions in the cache key
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


#: the named estimators, one per "hf" bundle (WavLMBaseEmbedder, WhisperBaseEmbedder, ...)
_NAMED = named_embedders(HFEmbedder)
globals().update(_NAMED)
__all__ += list(_NAMED)
