"""Self-supervised speech representations through S3PRL's upstream collection.

The paper (Section III-B.3) embeds each clip with three S3PRL upstreams —
wav2vec 2.0, DeCoAR and HuBERT — used as released (no fine-tuning) and averaged
over time; it does not say which hidden layer it used. :class:`S3PRLEmbedder`
runs any S3PRL upstream through ``s3prl.nn.S3PRLUpstream`` and pools one hidden
layer, the average of all layers, or every layer at once (``layer="all"``,
for layer-wise probing with :func:`sertools.study.layers.layerwise_scores`).

Pooling uses the valid frames of each clip only: a clip zero-padded in a batch
is pooled over the frames the model computed from its own samples, never over
the padding. Models load in :meth:`fit`, from a local checkpoint
(``checkpoint=``, through the upstream's ``<name>_local`` loader) or through
S3PRL's download cache. S3PRL is imported only there.

Environment: s3prl 0.4.18 imports every upstream at import time and calls
``torchaudio.set_audio_backend``, which torchaudio 2.9 removed; torchaudio pins
torch exactly, so the ``s3prl`` extra needs torch 2.8 + torchaudio 2.8.
"""

from __future__ import annotations

import contextlib
import difflib
import importlib.util
import logging
import os
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from .._exceptions import BackendNotAvailableError, ParameterError, install_hint
from ..utils._rng import keep_global_rng
from ._base import inherit_parameters
from ._bundles import BUNDLES, DECOAR, HUBERT_BASE, WAV2VEC2_BASE, ModelBundle, get_bundle
from ._checkpoints import load_state_dict, placement_hint, resolve_checkpoint
from ._exact import make_padding_exact
from ._layers import _LayeredEmbedder
from ._named import named_embedder
from ._neural import download_timeout
from ._sources import describe_error, fetch_failed, source_key

__all__ = [
    "CHECKPOINT_URLS",
    "DecoarEmbedder",
    "HubertEmbedder",
    "S3PRLEmbedder",
    "Wav2Vec2Embedder",
]

#: Where S3PRL downloads the default checkpoints from (S3PRL's converted,
#: fairseq-free format). Offline, fetch the file elsewhere and pass ``checkpoint=``.
CHECKPOINT_URLS = {b.hub_name: b.url for b in BUNDLES.values() if b.family == "s3prl"}

_INSTALL_HINT = (
    install_hint("s3prl") + "; s3prl 0.4.18 needs torch 2.8 and torchaudio 2.8: "
    "pip install torch==2.8.0 torchaudio==2.8.0 first"
)

#: S3PRL's input rate
_SAMPLING_RATE = 16000
#: shortest input in samples: S3PRLUpstream's own minimum (0.05 s). A
#: convolutional front end needs 400 samples for one frame, DeCoAR's fbank +
#: CMVN 560 for two (one frame has no standard deviation).
_MIN_SAMPLES = 800
#: DeCoAR's kaldi fbank framing at 16 kHz: 25 ms windows every 10 ms, snip_edges
_FBANK_WINDOW, _FBANK_SHIFT = 400, 160

#: ``batch_seconds="auto"`` (see NeuralEmbedder._batch_seconds): one clip per batch
#: for padding-sensitive upstreams; for padding-exact ones these budgets per device
#: type: DeCoAR's LSTMs run ~1.5-2x faster than one clip at a time on a CPU in
#: batches of 30 s; wav2vec 2.0 / HuBERT (exact through _exact.py) gain nothing
#: from batches on a CPU and lose beyond ~8 s (padding, attention), so 4 s there.
#: See docs/s3prl.md and docs/benchmarks-gpu.md for the numbers.
_AUTO_EXACT_BATCH_SECONDS = {"cpu": 30.0, "cuda": 120.0}
_AUTO_TRANSFORMER_BATCH_SECONDS = {"cpu": 4.0, "cuda": 120.0}


@contextlib.contextmanager
def _quiet(verbose: bool) -> Iterator[None]:
    """Silence S3PRL's import-time warnings and log messages unless ``verbose``."""
    if verbose:
        yield
        return
    logger = logging.getLogger("s3prl")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        logger.setLevel(level)


def _import_s3prl(owner: str, verbose: bool) -> Any:
    """Import S3PRL's hub and upstream wrapper, or explain what to install.

    Returns
    -------
    module
        ``s3prl.nn`` (whose ``S3PRLUpstream`` loads every upstream).

    Raises
    ------
    BackendNotAvailableError
        If s3prl is missing or cannot be imported (e.g. next to torchaudio >= 2.9).
    """
    if importlib.util.find_spec("s3prl") is None:
        raise BackendNotAvailableError(
            f"{owner} needs s3prl, which is not installed: {_INSTALL_HINT}"
        )
    try:
        with _quiet(verbose):
            import s3prl.nn
    except Exception as exc:  # ImportError, or AttributeError from torchaudio >= 2.9
        raise BackendNotAvailableError(
            f"{owner} needs s3prl, which is installed but cannot be imported "
            f"({type(exc).__name__}: {exc}); {_INSTALL_HINT}"
        ) from exc
    return s3prl.nn


def _conv_frame_counter(expert: Any) -> Callable[[Any], Any] | None:
    """Frames a convolutional front end (wav2vec 2.0, HuBERT, WavLM ...) gives per clip.

    Each ``Conv1d`` with kernel *k* and stride *s* (no padding) maps *n* samples
    to ``(n - k) // s + 1`` frames. ``S3PRLUpstream`` reports ``ceil(n / 320)``
    frames instead, one more than the model computes for most lengths: alone, a
    clip's extra frame repeats its last one; in a padded batch it is computed
    from the padding.
    """
    import torch

    extractor = getattr(getattr(expert, "model", None), "feature_extractor", None)
    blocks = getattr(extractor, "conv_layers", None)
    if blocks is None:
        return None
    convs = [m for block in blocks for m in block.modules() if isinstance(m, torch.nn.Conv1d)]
    if not convs or any(c.padding != (0,) or c.dilation != (1,) for c in convs):
        return None
    shape = [(c.kernel_size[0], c.stride[0]) for c in convs]

    def count(n_samples: Any) -> Any:
        for kernel, stride in shape:
            n_samples = torch.div(n_samples - kernel, stride, rounding_mode="floor") + 1
        return n_samples

    return count


def _fbank_frame_count(n_samples: Any) -> Any:
    """Frames of DeCoAR's kaldi fbank (25 ms windows, 10 ms shift, snip_edges).

    ``S3PRLUpstream`` reports ``ceil(n / 160)``, two or three frames more; in a
    padded batch DeCoAR's output there is zero, alone it repeats the last frame.
    """
    import torch

    return torch.div(n_samples - _FBANK_WINDOW, _FBANK_SHIFT, rounding_mode="floor") + 1


class _S3PRLModel:
    """A loaded ``S3PRLUpstream`` in eval mode, shared by the embedders that use it.

    Parameters
    ----------
    upstream : s3prl.nn.S3PRLUpstream
        The wrapped upstream; it is put in eval mode (``S3PRLUpstream`` leaves
        it in training mode, i.e. with dropout on) on ``device``.
    device : torch.device
        Where the model runs.
    checkpoint_files : tuple of str
        The checkpoint file(s) the upstream was loaded from.
    name : str
        The S3PRL upstream name.

    Attributes
    ----------
    n_layers : int
        Number of hidden states the upstream returns (for wav2vec 2.0 and
        HuBERT: the transformer input, then each transformer layer's output).
    hidden_sizes : list of int
        Width of each hidden state.
    padding_exact : bool
        Whether a clip's embedding is independent of the padding in its batch:
        True for DeCoAR (fbank per clip, packed LSTMs) and for wav2vec 2.0 /
        HuBERT, whose group norm over the padded time axis and approximate
        padding mask (HuBERT) are corrected by the hooks of
        :func:`sertools.features._exact.make_padding_exact`. False otherwise.
    auto_batch_seconds : dict
        ``batch_seconds="auto"`` per device type, for padding-exact upstreams.
    name : str
        The upstream's name.
    feature_prefix : str
        The features' prefix when no bundle names the upstream: its name, with
        ``_`` after a final digit.
    """

    sampling_rate = _SAMPLING_RATE
    min_samples = _MIN_SAMPLES

    def __init__(
        self, upstream: Any, device: Any, checkpoint_files: tuple[str, ...] = (), *, name: str
    ) -> None:
        self.checkpoint_files = tuple(checkpoint_files)
        self.name = name  # for layer errors (see _LayeredEmbedder._view)
        #: feature prefix of an upstream no bundle names (``wavlm``, ``tera``, ``apc_``)
        self.feature_prefix = name + ("_" if name[-1].isdigit() else "")
        self.upstream = upstream.to(device).eval()
        self.n_layers = int(upstream.num_layers)
        self.hidden_sizes = [int(h) for h in upstream.hidden_sizes]
        expert = upstream.upstream
        family = type(expert).__module__
        self.padding_exact = family.startswith("s3prl.upstream.decoar.")
        self.auto_batch_seconds = _AUTO_EXACT_BATCH_SECONDS
        if family.startswith(("s3prl.upstream.wav2vec2.", "s3prl.upstream.hubert.")):
            # group norm over valid frames, exact frame masks (see _exact.py)
            self.padding_exact = make_padding_exact(expert.model) is not None
            self.auto_batch_seconds = _AUTO_TRANSFORMER_BATCH_SECONDS
        if family.startswith("s3prl.upstream.decoar."):
            self._count_frames: Callable[[Any], Any] | None = _fbank_frame_count
        else:
            self._count_frames = _conv_frame_counter(expert)

    def hidden_states(self, batch: Any, lengths: Any) -> tuple[list[Any], list[Any]]:
        """Every hidden state of a zero-padded batch and its valid frame counts.

        Parameters
        ----------
        batch : torch.Tensor of shape (batch, n_samples), float32
            16 kHz waveforms, zero-padded at the end.
        lengths : torch.Tensor of shape (batch,), int64
            True length of each waveform (at least 800 samples).

        Returns
        -------
        hidden : list of torch.Tensor of shape (batch, n_frames, hidden_size)
            One per layer.
        valid : list of torch.Tensor of shape (batch,), int64
            Frames computed from each clip's own samples: ``S3PRLUpstream``'s
            ``hs_len``, capped by the front end's exact frame count where the
            upstream's front end is known (see :func:`_conv_frame_counter`).
        """
        import torch

        hidden, hs_len = self.upstream(batch, lengths)
        if self._count_frames is None:
            return list(hidden), list(hs_len)
        exact = self._count_frames(lengths).to(hs_len[0].device)
        return list(hidden), [torch.minimum(n, exact).clamp(min=1) for n in hs_len]


def _downloaded_files(name: str) -> tuple[str, ...]:
    """The file(s) in S3PRL's download cache that ``S3PRLUpstream(name)`` loaded."""
    url = CHECKPOINT_URLS.get(name)
    if url is None:
        return ()
    try:
        from s3prl.util.download import urls_to_filepaths

        path = Path(urls_to_filepaths(url, download=False))
    except Exception:  # S3PRL's helper moved: the identity is lost, not the model
        return ()
    return (str(path),) if path.is_file() else ()


def _check_decoar_checkpoint(path: Path) -> None:
    """Check that a DeCoAR checkpoint holds every weight of S3PRL's ``Decoar``.

    S3PRL loads DeCoAR with ``load_state_dict(strict=False)``, so a file with
    other weights would silently leave the network random. Extra entries are
    allowed (training-only heads); missing or misshapen ones are not.

    Raises
    ------
    ParameterError
        If the file holds no ``"model"`` state dict, or it lacks or misshapes
        any of the network's tensors.
    """
    import torch
    from s3prl.upstream.decoar.decoar import Decoar

    weights = load_state_dict(
        path, key="model", model="DeCoAR", fmt="S3PRL's checkpoint_decoar.pt format"
    )
    with torch.device("meta"):
        expected = {k: tuple(v.shape) for k, v in Decoar().state_dict().items()}
    missing = sorted(set(expected) - set(weights))
    wrong = sorted(
        k
        for k in set(expected) & set(weights)
        if tuple(getattr(weights[k], "shape", ())) != expected[k]
    )
    if missing or wrong:
        problems = []
        if missing:
            problems.append(f"{len(missing)} missing (e.g. {missing[:3]})")
        if wrong:
            problems.append(f"{len(wrong)} with the wrong shape (e.g. {wrong[:3]})")
        raise ParameterError(
            f"{path} does not fit S3PRL's DeCoAR network ({len(expected)} tensors): "
            f"{' and '.join(problems)}. S3PRL would load it with strict=False and leave "
            "those weights random; pass the DeCoAR checkpoint (checkpoint_decoar.pt)"
        )


@inherit_parameters
class S3PRLEmbedder(_LayeredEmbedder):
    """Time-pooled hidden states of an S3PRL upstream (HuBERT by default).

    Each clip (resampled to 16 kHz) goes through ``s3prl.nn.S3PRLUpstream`` in
    eval mode; the chosen hidden state is averaged over the clip's valid frames
    (masked by the frame counts, so batch padding never enters the average).
    Clips are embedded in length-sorted, zero-padded batches, which give the
    one-at-a-time embeddings (see ``batch_seconds``).

    Parameters
    ----------
    upstream : str or ModelBundle, default="hubert"
        An ``s3prl`` :class:`~sertools.features.ModelBundle` (e.g.
        ``HUBERT_BASE``), or an S3PRL upstream name: ``"hubert"`` (HuBERT Base), ``"wav2vec2"``
        (wav2vec 2.0 Base), ``"decoar"``, or any other name of
        ``s3prl.nn.S3PRLUpstream.available_names()``. The subclasses fix it.
    checkpoint : str or path-like, default=None
        Local checkpoint file, loaded with the upstream's ``<upstream>_local``
        loader (e.g. ``hubert_local``) — for offline use; see
        :data:`CHECKPOINT_URLS`. None: S3PRL's registered checkpoint, from its
        cache (``~/.cache/s3prl/download``) or downloaded.
    model_dir : str or path-like, default=None
        Folder of local checkpoints, searched (when ``checkpoint`` is None) for
        the upstream's file under its published name (``hubert_base_ls960.pt``,
        ``wav2vec_small.pt``, ``checkpoint_decoar.pt``); defaults to the
        ``SERTOOLS_MODEL_DIR`` environment variable.
    layer : int or {"mean", "all"}, default=-1
        Which hidden state to pool. An integer indexes S3PRL's list of hidden
        states (negative from the end; -1 is the last). For wav2vec 2.0 and
        HuBERT Base there are 13: index 0 is the transformer's input (the
        projected CNN features), index *i* the output of transformer layer *i*.
        DeCoAR has one (its forward and backward LSTM outputs, 2048-d).
        ``"mean"``: the average of every layer's pooled vector; ``"all"``:
        every layer's pooled vector, concatenated (for layer-wise probing).
        The paper does not say which layer it used; -1 is a guess.
    pooling : {"mean", "mean+std"}, default="mean"
        ``"mean"`` is the paper's time average; ``"mean+std"`` appends the
        standard deviation over the valid frames (doubling the width). For a
        clip cut into chunks (see ``max_chunk_seconds``) both halves are the
        duration-weighted averages of the chunks' values, so the std part
        leaves out the spread between chunk means.
    batch_seconds : "auto" or float, default="auto"
        Padded-audio budget per batch in seconds (``batch_size * longest``).
        wav2vec 2.0, HuBERT and DeCoAR give a clip the same embedding in any
        batch as alone (cosine >= 0.99999 on every layer): for wav2vec 2.0 /
        HuBERT, sertools hooks their first convolution's group norm to use each
        clip's valid frames and gives the transformer exact padding masks.
        ``"auto"``: wav2vec 2.0 / HuBERT 4 s on a CPU (larger batches are
        slower there) and 120 s on a GPU; DeCoAR 30 s on a CPU (1.5-2x faster
        than one at a time) and 120 s on a GPU; any other upstream one clip at
        a time. See docs/s3prl.md.

    Attributes
    ----------
    n_features_out_ : int
        Output width: ``hidden_size`` (``x 2`` for ``"mean+std"``, ``x n_layers_``
        for ``layer="all"``).
    n_layers_ : int
        Number of hidden states the upstream returns.
    hidden_size_ : int
        Width of one pooled hidden state (768 for the base models, 2048 for DeCoAR).
    device_ : torch.device
        Where the model runs.

    Notes
    -----
    Clips shorter than 0.05 s (800 samples) are zero-padded to it, S3PRL's
    own minimum. The valid frames of a clip of *n* samples are the frames its
    model computes from those samples: for a convolutional front end (wav2vec
    2.0, HuBERT) ``(n - 400) // 320 + 1``, for DeCoAR's fbank
    ``(n - 400) // 160 + 1`` — ``S3PRLUpstream``'s own ``hs_len``
    (``ceil(n / stride)``) counts one to three frames more, which hold padding
    in a batch.

    Examples
    --------
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.svm import SVC
    >>> pipe = make_pipeline(
    ...     HubertEmbedder(checkpoint="~/models/hubert_base_ls960.pt", layer=-1),
    ...     SVC(C=10, gamma=1e-3),
    ... )  # doctest: +SKIP
    """

    _parameter_constraints: dict[str, list[Any]] = {
        **_LayeredEmbedder._parameter_constraints,
        "upstream": [str, ModelBundle],
        "checkpoint": [str, os.PathLike, None],
        "model_dir": [str, os.PathLike, None],
    }
    _family = "s3prl"
    #: the parameter naming the model; a named embedder fixes it to its bundle
    _model_param = "upstream"
    _model_param_fixed = True
    _bundle_doc = (
        "``checkpoint`` is read by ``{hub_name}_local``; without it, ``{local_file}`` "
        "in ``model_dir`` / ``$SERTOOLS_MODEL_DIR``, else S3PRL's download (see "
        ':data:`CHECKPOINT_URLS`). ``layer="all"`` names the features ``layer{{i}}_{{j}}``.'
    )

    def __init__(
        self,
        *,
        upstream: str | ModelBundle = "hubert",
        checkpoint: str | os.PathLike[str] | None = None,
        model_dir: str | os.PathLike[str] | None = None,
        **params: Any,
    ) -> None:
        super().__init__(**params)
        self.upstream = upstream
        self.checkpoint = checkpoint
        self.model_dir = model_dir

    # --- model resolution -----------------------------------------------------
    def _upstream_name(self) -> str:
        """The S3PRL upstream name (``upstream``, or its bundle's hub name)."""
        if isinstance(self.upstream, ModelBundle):
            return self.upstream.hub_name
        return str(self.upstream)

    def _local_file(self) -> str | None:
        """File name of the upstream's checkpoint in a model folder (known bundles only)."""
        if isinstance(self.upstream, ModelBundle):
            return self.upstream.local_file
        bundle = get_bundle(self._upstream_name(), "s3prl")
        return None if bundle is None else bundle.local_file

    def _checkpoint_path(self) -> Path | None:
        """The checkpoint as an absolute path, or None (S3PRL's cache or a download).

        ``checkpoint`` if given, else the upstream's file in ``model_dir`` /
        ``$SERTOOLS_MODEL_DIR`` (e.g. ``hubert_base_ls960.pt``) if there is one.

        Raises
        ------
        ParameterError
            If ``checkpoint`` does not exist or is a folder.
        """
        found = resolve_checkpoint(
            self.checkpoint,
            param="checkpoint",
            local_file=self._local_file(),
            model_dir=self.model_dir,
            suffixes=("",),  # every string ends with "": checkpoint is always a path
            expected=f"a {self._upstream_name()} checkpoint file",
            missing="S3PRL checkpoint not found",
        )
        return None if found is None else Path(found[1])

    def _backend_key(self) -> tuple:
        path = self._checkpoint_path()
        if path is None:
            return (self._upstream_name(),)
        return self._upstream_name(), *source_key("file", path)

    def _loader(self, hub_names: list[str], path: Path | None) -> str:
        """The S3PRL hub entry to call: ``<upstream>_local`` with a checkpoint."""
        upstream = self._upstream_name()
        name = upstream if path is None else f"{upstream}_local"
        if name in hub_names:
            return name
        if path is not None:
            local = sorted(n[: -len("_local")] for n in hub_names if n.endswith("_local"))
            raise ParameterError(
                f"upstream={upstream!r} has no local-checkpoint loader ({name}) in S3PRL; "
                f"with checkpoint=, use one of {local}"
            )
        close = difflib.get_close_matches(upstream, hub_names, n=5, cutoff=0.5)
        raise ParameterError(
            f"upstream={upstream!r} is not an S3PRL upstream"
            + (f"; close names: {close}" if close else "")
            + " (all: s3prl.nn.S3PRLUpstream.available_names())"
        )

    def _make_backend(self, device: Any) -> _S3PRLModel:
        owner = type(self).__name__
        s3prl_nn = _import_s3prl(owner, bool(self.verbose))
        path = self._checkpoint_path()
        loader = self._loader(s3prl_nn.S3PRLUpstream.available_names(), path)
        if path is None:
            upstream = self._download(s3prl_nn, loader)
            files = _downloaded_files(loader)
        else:
            files = (str(path),)
            if loader == "decoar_local":
                _check_decoar_checkpoint(path)
            try:
                with _quiet(bool(self.verbose)), keep_global_rng():
                    upstream = s3prl_nn.S3PRLUpstream(loader, path_or_url=str(path))
            except Exception as exc:  # S3PRL raises ValueError/RuntimeError/KeyError...
                raise ParameterError(
                    f"{path} is not a checkpoint S3PRL's {loader} loader can read into its "
                    f"{self._upstream_name()} model ({describe_error(exc, 300)})"
                ) from exc
        return _S3PRLModel(upstream, device, files, name=self._upstream_name())

    def _download(self, s3prl_nn: Any, name: str) -> Any:
        """``S3PRLUpstream(name)``: S3PRL's cache, else a download; failures explain offline use."""
        try:
            with (
                _quiet(bool(self.verbose)),
                keep_global_rng(),
                download_timeout(),
            ):
                return s3prl_nn.S3PRLUpstream(name)
        except Exception as exc:  # urllib/requests/S3PRL raise many types when offline
            url = CHECKPOINT_URLS.get(name)
            where = f"download {url}" if url else f"get the {name} checkpoint"
            local = self._local_file()
            place = f" (or {placement_hint(local, self.model_dir)})" if local else ""
            raise ParameterError(
                fetch_failed(
                    "S3PRL upstream",
                    name,
                    local=local or "checkpoint",
                    fetcher="S3PRL",
                    exc=exc,
                    offline=f"{where} on a connected machine and pass "
                    f"checkpoint='/path/to/file'{place}",
                )
            ) from exc


# --- the named estimators: one per S3PRL bundle, the upstream fixed (see _named.py) -----
@named_embedder
class Wav2Vec2Embedder(S3PRLEmbedder):
    """Hidden states of wav2vec 2.0 Base (``wav2vec2``, 768-d, 13 layers)."""

    bundle = WAV2VEC2_BASE


@named_embedder
class DecoarEmbedder(S3PRLEmbedder):
    """DeCoAR hidden states (``decoar``, 2048-d)."""

    bundle = DECOAR


@named_embedder
class HubertEmbedder(S3PRLEmbedder):
    """HuBERT Base hidden states (``hubert``, 768-d, 13 layers)."""

    bundle = HUBERT_BASE
