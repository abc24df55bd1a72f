"""Speaker and language embeddings from NeMo's pretrained speaker/label models.

The paper (Section III-B.2) embeds each clip with four networks of NVIDIA NeMo's
``EncDecSpeakerLabelModel`` family: SpeakerNet, TitaNet, ECAPA-TDNN (speaker
verification) and AmberNet (spoken language identification). Each is a mel
spectrogram front end, a convolutional encoder and a ``SpeakerDecoder`` that pools
the encoder output over time (statistics or attentive pooling) and maps it through
one or more affine *embedding layers* to the classification layer. The embedding is
the output of the last embedding layer (before its ReLU in the x-vector decoder),
i.e. what NeMo's own ``get_embedding`` returns, and not the class logits.

Models load in :meth:`fit`, offline-friendly: a ``.nemo`` file path, else
``<model_dir>/<name>.nemo`` (``model_dir`` or ``$SERTOOLS_MODEL_DIR``), else NeMo's
``from_pretrained`` (its own cache, then NGC). NeMo itself is imported only there.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import tarfile
import threading
from pathlib import Path
from typing import Any

from .._exceptions import BackendNotAvailableError, ParameterError, install_hint
from ._base import inherit_parameters
from ._bundles import (
    AMBERNET,
    ECAPA_TDNN,
    SPEAKERNET,
    TITANET_LARGE,
    TITANET_SMALL,
    ModelBundle,
    get_bundle,
)
from ._checkpoints import MODEL_DIR_ENV, placement_hint, resolve_checkpoint
from ._named import named_embedder
from ._neural import NeuralEmbedder, download_timeout
from ._sources import describe_error, fetch_failed, source_key

__all__ = [
    "MODEL_DIR_ENV",
    "AmberNetEmbedder",
    "EcapaTdnnEmbedder",
    "NeMoEmbedder",
    "SpeakerNetEmbedder",
    "TitaNetEmbedder",
    "TitaNetSmallEmbedder",
]

_SPEAKER_MODEL = "EncDecSpeakerLabelModel"
_INSTALL_HINT = install_hint("nemo")


class _NeMoBackend:
    """Engine adapter around a NeMo ``EncDecSpeakerLabelModel``.

    Parameters
    ----------
    model : EncDecSpeakerLabelModel
        Loaded model; it is put in eval mode, in float32, on ``device``.
    device : torch.device
        Where the model runs.
    checkpoint_files : tuple of str
        The ``.nemo`` file (or NeMo's cache entry) the model was restored from.

    Attributes
    ----------
    sampling_rate : int
        The preprocessor's input rate (16000 for the published models).
    n_features : int
        Width of the decoder's last embedding layer (``decoder.emb_sizes[-1]``):
        192 for TitaNet-L and ECAPA-TDNN, 256 for SpeakerNet.
    min_samples : int
        Shortest input: two hops of the spectrogram (320 samples = 20 ms at 16 kHz),
        i.e. 2 frames. The x-vector standard deviation (SpeakerNet, AmberNet) and
        the per-feature normalisation divide by ``n_frames - 1``: on fewer frames
        NeMo's own inference returns NaN. The engine zero-pads shorter clips to
        this length; longer ones are embedded as NeMo would embed them alone.

    Notes
    -----
    The Jasper encoders (SpeakerNet, TitaNet, AmberNet) mask every convolution's
    input beyond each clip's length, so batching is exact. NeMo's ``ECAPAEncoder``
    does not: a clip's last frames see the padded frames, as processed by the
    earlier layers. Alone, a clip is padded only to a multiple of the
    preprocessor's ``pad_to`` (16) frames; in a batch, up to the longest clip. For
    ECAPA the adapter therefore zeroes, before each convolution wider than one
    frame, the frames beyond the clip's *own* padded length — exactly the zeros
    those convolutions would see were the clip alone — so each clip's embedding
    is the one NeMo computes for it alone, whatever its batch.
    """

    def __init__(self, model: Any, device: Any, checkpoint_files: tuple[str, ...] = ()) -> None:
        import torch
        from nemo.collections.asr.modules import ECAPAEncoder

        self.checkpoint_files = tuple(checkpoint_files)
        self.model = model.float().to(device).eval()
        self._featurizer = self.model.preprocessor.featurizer
        # Dither adds random noise to the waveform; NeMo applies it in training mode
        # only, but switching it off makes determinism independent of that detail.
        self._featurizer.dither = 0.0
        self.sampling_rate = int(self.model.preprocessor._sample_rate)
        emb_sizes = self.model.cfg.decoder.get("emb_sizes", 256)
        if not isinstance(emb_sizes, int):
            emb_sizes = list(emb_sizes)[-1]
        self.n_features = int(emb_sizes)
        self.min_samples = 2 * int(self._featurizer.hop_length)

        # per-clip padded frame counts of the batch being embedded, per thread
        self._running = threading.local()
        self._emulate_alone = isinstance(self.model.encoder, ECAPAEncoder)
        if self._emulate_alone:
            for conv in self.model.encoder.modules():
                if isinstance(conv, torch.nn.Conv1d) and conv.kernel_size[0] > 1:
                    conv.register_forward_pre_hook(self._zero_beyond_own_frames)

    def _frames_alone(self, lengths: Any) -> Any:
        """Spectrogram frames of each clip were it alone (before the encoder)."""
        f = self._featurizer
        if f.pad_to == "max":
            return lengths.new_full(lengths.shape, int(f.max_length))
        if f.exact_pad:  # stft(center=False) of the clip padded by stft_pad_amount per side
            frames = (lengths + 2 * f.stft_pad_amount - f.n_fft) // f.hop_length + 1
        else:  # stft(center=True)
            frames = lengths // f.hop_length + 1
        if f.pad_to > 0:
            frames = -(-frames // f.pad_to) * f.pad_to
        return frames

    def _zero_beyond_own_frames(self, _module: Any, args: tuple) -> tuple | None:
        """Forward pre-hook of ECAPA's convolutions (see the class notes)."""
        own_frames = getattr(self._running, "frames", None)
        if own_frames is None:
            return None
        import torch

        x = args[0]
        keep = torch.arange(x.shape[-1], device=x.device)[None, :] < own_frames[:, None]
        return (x.masked_fill(~keep[:, None, :], 0.0), *args[1:])

    def __call__(self, batch: Any, lengths: Any) -> Any:
        """Embed a zero-padded batch.

        Parameters
        ----------
        batch : torch.Tensor of shape (batch, n_samples), float32
            Waveforms at :attr:`sampling_rate`, zero-padded at the end.
        lengths : torch.Tensor of shape (batch,), int64
            True length of each waveform.

        Returns
        -------
        torch.Tensor of shape (batch, n_features)
            The decoder's ``embs`` output (the last embedding layer, before the
            classification layer). The preprocessor, encoder and pooling all use
            ``lengths``, so padding does not leak into shorter clips.
        """
        if self._emulate_alone:
            self._running.frames = self._frames_alone(lengths)
        try:
            _, embs = self.model.forward(input_signal=batch, input_signal_length=lengths)
        finally:
            self._running.frames = None
        return embs


def _nemo_target(path: Path) -> str | None:
    """Read the model class path (``target``) from a ``.nemo`` archive's config.

    Parameters
    ----------
    path : Path
        A ``.nemo`` file (a tar archive holding ``model_config.yaml``).

    Returns
    -------
    str or None
        E.g. ``"nemo.collections.asr.models.label_models.EncDecSpeakerLabelModel"``;
        None when the config names no target.

    Raises
    ------
    ParameterError
        If the file is not a tar archive or holds no ``model_config.yaml``.
    """
    import yaml

    try:
        with tarfile.open(path, "r:*") as tar:
            for member in tar:
                if member.isfile() and Path(member.name).name == "model_config.yaml":
                    handle = tar.extractfile(member)
                    config = yaml.safe_load(handle) if handle is not None else None
                    target = config.get("target") if isinstance(config, dict) else None
                    return str(target) if target else None
    except yaml.YAMLError as exc:
        raise ParameterError(
            f"{path} is not a usable NeMo checkpoint: its model_config.yaml is not valid YAML "
            f"({type(exc).__name__})"
        ) from exc
    except (tarfile.TarError, OSError) as exc:
        raise ParameterError(
            f"{path} is not a NeMo checkpoint (not a .nemo tar archive: {type(exc).__name__}); "
            f"expected a speaker/label model ({_SPEAKER_MODEL}) saved with model.save_to()"
        ) from exc
    raise ParameterError(
        f"{path} is not a NeMo checkpoint: it holds no model_config.yaml; expected a "
        f"speaker/label model ({_SPEAKER_MODEL}) saved with model.save_to()"
    )


def _check_target(path: Path, target: str | None, base: type) -> None:
    """Reject a checkpoint whose config names a NeMo class other than a speaker/label model."""
    if target is None or target.rsplit(".", 1)[-1] == base.__name__:
        return
    module_name, _, class_name = target.rpartition(".")
    if not module_name.startswith("nemo."):
        return  # a user's own class: checked with isinstance once loaded
    try:
        cls = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError):
        cls = None
    if not (isinstance(cls, type) and issubclass(cls, base)):
        raise ParameterError(
            f"{path} is not a NeMo speaker/label model ({_SPEAKER_MODEL}): its config names "
            f"{target}. Pass a SpeakerNet, TitaNet, ECAPA-TDNN or AmberNet checkpoint"
        )


@inherit_parameters
class NeMoEmbedder(NeuralEmbedder):
    """Utterance embeddings from a NeMo speaker/label model (``EncDecSpeakerLabelModel``).

    Each clip (resampled to the model's 16 kHz) goes through the model's mel
    spectrogram front end, encoder and pooling decoder; the embedding is the
    decoder's ``embs`` output — the last embedding layer, before the speaker or
    language classification layer (NeMo's ``get_embedding``). Clips are embedded
    in length-sorted, zero-padded batches; the model masks the padding, so a
    clip's embedding does not depend on its batch (cosine ≥ 0.9999 with the
    one-clip-at-a-time embedding; see ``docs/nemo.md``).

    Parameters
    ----------
    model : str, path-like or ModelBundle, default="titanet_large"
        A :class:`~sertools.features.ModelBundle` of the ``nemo`` family (e.g.
        ``TITANET_LARGE``), a path to a local ``.nemo`` checkpoint, or the name of a NeMo pretrained
        speaker/label model (``"speakerverification_speakernet"``,
        ``"titanet_large"``, ``"ecapa_tdnn"``,
        ``"langid_ambernet"``, or a Hugging Face id such as
        ``"nvidia/speakerverification_en_titanet_large"``). A name is looked up as
        ``<model_dir>/<name>.nemo`` first, then through NeMo's
        ``from_pretrained`` (NeMo's cache, then a download).
    model_dir : str or path-like, default=None
        Folder of ``<name>.nemo`` files for offline use; defaults to the
        ``SERTOOLS_MODEL_DIR`` environment variable.

    Attributes
    ----------
    n_features_out_ : int
        Embedding width (``decoder.emb_sizes[-1]``).
    device_ : torch.device
        Where the model runs.

    Notes
    -----
    Clips shorter than two spectrogram hops (320 samples, 20 ms at 16 kHz; NeMo's
    own inference gives NaN on them) are zero-padded to that length. Longer clips
    are never padded or repeated.

    Examples
    --------
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.svm import SVC
    >>> pipe = make_pipeline(TitaNetEmbedder(model_dir="~/models"), SVC(C=10, gamma=1e-3))
    ... # doctest: +SKIP
    """

    _parameter_constraints: dict[str, list[Any]] = {
        **NeuralEmbedder._parameter_constraints,
        "model": [str, os.PathLike, ModelBundle],
        "model_dir": [str, os.PathLike, None],
    }
    _feature_prefix = "nemo"
    _family = "nemo"

    def __init__(
        self,
        *,
        model: str | os.PathLike[str] | ModelBundle = "titanet_large",
        model_dir: str | os.PathLike[str] | None = None,
        **params: Any,
    ) -> None:
        super().__init__(**params)
        self.model = model
        self.model_dir = model_dir

    # --- model resolution -----------------------------------------------------
    def _names(self) -> tuple[str, str]:
        """The model's hub name and the file name it has in a model folder."""
        if isinstance(self.model, ModelBundle):
            return self.model.hub_name, self.model.local_file
        spec = os.fspath(self.model)
        bundle = get_bundle(spec, "nemo")
        return spec, bundle.local_file if bundle is not None else f"{spec}.nemo"

    def _source(self) -> tuple[str, str]:
        """Resolve ``model`` to ``("file", path)`` or ``("pretrained", name)``.

        Raises
        ------
        ParameterError
            If ``model`` is a path (a path-like object, or a string ending with
            ``.nemo``, absolute or starting with ``.``/``~``) but no such file
            exists, or is a folder.
        """
        name, local_file = self._names()
        kind, where = resolve_checkpoint(
            name if isinstance(self.model, ModelBundle) else self.model,
            param="model",
            local_file=local_file,
            model_dir=self.model_dir,
            suffixes=(".nemo",),
            expected="a .nemo file or a name",
            missing="NeMo model file not found",
        )
        return ("file", where) if kind == "file" else ("pretrained", where)

    def _backend_key(self) -> tuple:
        return source_key(*self._source())

    def _make_backend(self, device: Any) -> _NeMoBackend:
        try:
            from nemo.collections.asr.models import EncDecSpeakerLabelModel
            from nemo.utils import logging as nemo_logging
        except ImportError as exc:
            raise BackendNotAvailableError(
                f"{type(self).__name__} needs NeMo, which is not installed or cannot be "
                f"imported ({exc}): {_INSTALL_HINT}"
            ) from exc

        kind, where = self._source()
        files: tuple[str, ...] = (where,) if kind == "file" else ()
        quiet = (
            contextlib.nullcontext()
            if self.verbose
            else nemo_logging.temp_verbosity(nemo_logging.ERROR)
        )
        with quiet:
            if kind == "file":
                path = Path(where)
                _check_target(path, _nemo_target(path), EncDecSpeakerLabelModel)
                try:
                    model = EncDecSpeakerLabelModel.restore_from(str(path), map_location=device)
                except Exception as exc:  # NeMo/Hydra/torch raise many types
                    raise ParameterError(
                        f"NeMo could not restore {path} as a speaker/label model "
                        f"({_SPEAKER_MODEL}): {describe_error(exc, 300)}"
                    ) from exc
            else:
                model = self._from_pretrained(EncDecSpeakerLabelModel, where, device)
                files = self._pretrained_files(EncDecSpeakerLabelModel, where)
        if not isinstance(model, EncDecSpeakerLabelModel):
            raise ParameterError(
                f"model={self._names()[0]!r} loaded a {type(model).__name__}, not a NeMo "
                f"speaker/label model ({_SPEAKER_MODEL})"
            )
        return _NeMoBackend(model, device, files)

    def _from_pretrained(self, cls: Any, name: str, device: Any) -> Any:
        """``cls.from_pretrained(name)``, turning any failure into a placement hint."""
        try:
            with download_timeout():
                return cls.from_pretrained(name, map_location=device)
        except Exception as exc:  # NeMo/urllib/HF raise many types when offline
            raise ParameterError(self._not_found_message(cls, name, exc)) from exc

    @staticmethod
    def _pretrained_files(cls: Any, name: str) -> tuple[str, ...]:
        """The file (or folder) in NeMo's cache that ``from_pretrained(name)`` restored."""
        try:
            with download_timeout():
                path = cls.from_pretrained(name, return_model_file=True)
        except Exception:  # already loaded once: a failure here only loses the identity
            return ()
        return (str(path),) if path else ()

    def _not_found_message(self, cls: Any, name: str, exc: Exception) -> str:
        local_file = self._names()[1]
        where = placement_hint(local_file, self.model_dir)
        known = sorted(info.pretrained_model_name for info in cls.list_available_models() or [])
        hint = "" if name in known or "/" in name else f" NeMo's speaker/label models: {known}."
        return fetch_failed(
            "NeMo model",
            name,
            local=local_file,
            fetcher="NeMo",
            exc=exc,
            offline=f"{where}, or pass model='/path/to/{local_file}'.{hint}",
        )


# --- the named estimators: one per NeMo bundle (see _named.named_embedder) ---------------
@named_embedder
class SpeakerNetEmbedder(NeMoEmbedder):
    """SpeakerNet speaker embeddings (``speakerverification_speakernet``, 256-d)."""

    bundle = SPEAKERNET


@named_embedder
class TitaNetEmbedder(NeMoEmbedder):
    """TitaNet-L speaker embeddings (``titanet_large``, 192-d)."""

    bundle = TITANET_LARGE


@named_embedder
class EcapaTdnnEmbedder(NeMoEmbedder):
    """ECAPA-TDNN speaker embeddings (``ecapa_tdnn``, 192-d)."""

    bundle = ECAPA_TDNN


@named_embedder
class AmberNetEmbedder(NeMoEmbedder):
    """AmberNet spoken-language embeddings (``langid_ambernet``)."""

    bundle = AMBERNET


@named_embedder
class TitaNetSmallEmbedder(NeMoEmbedder):
    """TitaNet-S speaker embeddings (``titanet_small``, 192-d)."""

    bundle = TITANET_SMALL
