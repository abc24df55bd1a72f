"""GE2E speaker embeddings with the pretrained weights Resemblyzer ships.

Resemblyzer's wheel carries the weights of a GE2E speaker encoder [Wan et al.
2018] (``resemblyzer/pretrained.pt``, 17 MB): a real pretrained neural model
that needs no download, so it runs offline and in CI. The network is small —
a 3-layer LSTM (40 -> 256) over 40-band Mel power spectra, a linear layer,
ReLU and L2 normalisation, 256-d — and is rebuilt here from ``torch.nn``
modules and loaded with Resemblyzer's state dict; the ``resemblyzer`` package
itself is never imported (its ``audio`` module imports ``webrtcvad``, whose
2.0.10 release needs ``pkg_resources``). Only the file is read, located with
:func:`importlib.util.find_spec`.

The front end follows Resemblyzer's ``embed_utterance``: 16 kHz audio, Mel
power spectrogram (25 ms window, 10 ms hop, 40 bands, librosa), cut into
partial windows of 160 frames (1.6 s), 1.3 per second; a last window that
covers less than 75 % of its span with audio is dropped unless it is the only
one, and the waveform is zero-padded to the end of the last window. Each window
is embedded (the LSTM's last hidden state), and the clip's embedding is the
L2-normalised mean of its windows'. Resemblyzer's optional preprocessing
(volume normalisation and webrtcvad silence trimming, ``preprocess_wav``) is
not applied: the clip is embedded as given.
"""

from __future__ import annotations

import importlib.util
import math
import os
from numbers import Real
from pathlib import Path
from typing import Any

import numpy as np

from .._exceptions import BackendNotAvailableError, ParameterError, install_hint
from ..utils._sklearn_compat import Interval
from ._base import inherit_parameters
from ._checkpoints import load_state_dict
from ._neural import NeuralEmbedder
from ._sources import source_key

__all__ = ["GE2EEmbedder", "packaged_checkpoint"]

_SAMPLING_RATE = 16000
_N_MELS = 40
_N_FFT = 400  # 25 ms
_HOP = 160  # 10 ms
_PARTIAL_FRAMES = 160  # 1.6 s
_HIDDEN = 256
_N_LAYERS = 3
_INSTALL_HINT = (
    install_hint("ge2e") + "; or pip install --no-deps resemblyzer (only its weights file is used)"
)


def packaged_checkpoint(owner: str = "GE2EEmbedder") -> Path:
    """Path of ``pretrained.pt`` inside the installed resemblyzer package.

    The package is located without being imported, and the weights are not
    loaded: :class:`~sertools.features.GE2EEmbedder` does that in ``fit``
    (its ``checkpoint=None`` default).

    Parameters
    ----------
    owner : str, default="GE2EEmbedder"
        Who needs the weights, named in the error message.

    Returns
    -------
    pathlib.Path
        The GE2E weights file shipped in resemblyzer's wheel (Resemblyzer's
        state-dict format).

    Raises
    ------
    BackendNotAvailableError
        If resemblyzer is not installed or its wheel lacks the weights file.

    Examples
    --------
    >>> path = packaged_checkpoint()
    >>> path.parent.name, path.name
    ('resemblyzer', 'pretrained.pt')
    """
    spec = importlib.util.find_spec("resemblyzer")
    if spec is None or not spec.submodule_search_locations:
        raise BackendNotAvailableError(
            f"{owner} needs the resemblyzer package for its pretrained GE2E weights, which "
            f"is not installed: {_INSTALL_HINT}; or pass checkpoint='/path/to/pretrained.pt'"
        )
    for folder in spec.submodule_search_locations:
        path = Path(folder) / "pretrained.pt"
        if path.is_file():
            return path
    raise BackendNotAvailableError(
        f"{owner}: the installed resemblyzer package has no pretrained.pt in "
        f"{list(spec.submodule_search_locations)}; reinstall it ({_INSTALL_HINT})"
    )


def _build_network() -> Any:
    """The GE2E encoder as Resemblyzer defines it (names match its state dict)."""
    import torch

    class _GE2E(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.lstm = torch.nn.LSTM(_N_MELS, _HIDDEN, _N_LAYERS, batch_first=True)
            self.linear = torch.nn.Linear(_HIDDEN, _HIDDEN)

        def forward(self, mels: Any, lengths: Any = None) -> Any:
            """(batch, frames, 40) Mel power -> (batch, 256) L2-normalised embeddings."""
            if lengths is not None:
                mels = torch.nn.utils.rnn.pack_padded_sequence(
                    mels, lengths.cpu(), batch_first=True, enforce_sorted=False
                )
            _, (hidden, _) = self.lstm(mels)
            out = torch.relu(self.linear(hidden[-1]))
            return torch.nn.functional.normalize(out, dim=1)

    return _GE2E()


def _load_network(path: Path) -> Any:
    """Rebuild the network and load a Resemblyzer-format checkpoint into it.

    Raises
    ------
    ParameterError
        If the file cannot be read, or lacks or misshapes any weight.
    """
    weights = load_state_dict(
        path, key="model_state", model="GE2E", fmt="Resemblyzer's pretrained.pt format"
    )
    net = _build_network()
    expected = {k: tuple(v.shape) for k, v in net.state_dict().items()}
    missing = sorted(set(expected) - set(weights))
    wrong = sorted(
        k
        for k in set(expected) & set(weights)
        if tuple(getattr(weights[k], "shape", ())) != expected[k]
    )
    if missing or wrong:
        raise ParameterError(
            f"{path} does not fit the GE2E network (3-layer LSTM 40->256, linear 256): "
            f"missing {missing[:3]}, wrong shape {wrong[:3]}"
        )
    # the checkpoint also holds the training loss's similarity_weight/bias: not ours
    net.load_state_dict({k: weights[k] for k in expected})
    net.checkpoint_files = (str(path),)  # the model's identity (model_fingerprint_)
    return net.eval()


def partial_starts(n_samples: int, *, rate: float, min_coverage: float) -> list[int]:
    """First Mel frame of each 1.6-s window covering a clip (Resemblyzer's slicing).

    Parameters
    ----------
    n_samples : int
        Clip length at 16 kHz.
    rate : float
        Windows per second (their hop is ``round(16000 / rate / 160)`` frames).
    min_coverage : float
        The last window is dropped when the clip covers less than this share
        of it, unless it is the only window.

    Returns
    -------
    list of int
        Start frames; window ``i`` spans frames ``[s_i, s_i + 160)`` and samples
        ``[160 s_i, 160 (s_i + 160))``.

    Examples
    --------
    >>> partial_starts(16000, rate=1.3, min_coverage=0.75)
    [0]
    >>> partial_starts(48000, rate=1.3, min_coverage=0.75)
    [0, 77, 154]
    """
    n_frames = math.ceil((n_samples + 1) / _HOP)
    step = round(_SAMPLING_RATE / rate / _HOP)
    starts = list(range(0, max(1, n_frames - _PARTIAL_FRAMES + step + 1), step))
    coverage = (n_samples - starts[-1] * _HOP) / (_PARTIAL_FRAMES * _HOP)
    if coverage < min_coverage and len(starts) > 1:
        starts.pop()
    return starts


def mel_power(wave: np.ndarray) -> np.ndarray:
    """Resemblyzer's front end: 40-band Mel power spectrogram, ``(n_frames, 40)`` float32."""
    import librosa

    mel = librosa.feature.melspectrogram(
        y=wave, sr=_SAMPLING_RATE, n_fft=_N_FFT, hop_length=_HOP, n_mels=_N_MELS
    )
    return mel.astype(np.float32).T


class _GE2EBackend:
    """Engine backend: GE2E embeddings of a zero-padded batch of 16 kHz clips.

    Each clip's Mel spectrogram is computed from its own samples (its true
    length), so the batch padding never reaches it; with ``partials`` every
    window of every clip goes through the LSTM in one batch (all are 160
    frames), otherwise whole clips go through it packed to their true frame
    counts (``pack_padded_sequence``).
    """

    sampling_rate = _SAMPLING_RATE
    n_features = _HIDDEN
    #: the STFT needs one window; shorter clips are zero-padded by the engine
    min_samples = _N_FFT

    def __init__(self, net: Any, device: Any, *, partials: bool, rate: float, coverage: float):
        self.net = net
        self.checkpoint_files = net.checkpoint_files
        self.device = device
        self.partials = partials
        self.rate = rate
        self.coverage = coverage

    def fitted_attributes(self) -> dict[str, Path]:
        """``checkpoint_path_``: the weights file loaded."""
        return {"checkpoint_path_": Path(self.checkpoint_files[0])}

    def __call__(self, batch: Any, lengths: Any) -> Any:
        import torch

        waves = batch.detach().cpu().numpy()
        sizes = [int(n) for n in lengths.cpu()]
        if not self.partials:
            mels = [torch.from_numpy(mel_power(w[:n])) for w, n in zip(waves, sizes, strict=True)]
            frames = torch.tensor([len(m) for m in mels])
            padded = torch.nn.utils.rnn.pad_sequence(mels, batch_first=True).to(self.device)
            return self.net(padded, frames)
        windows, owner = [], []
        for i, (w, n) in enumerate(zip(waves, sizes, strict=True)):
            starts = partial_starts(n, rate=self.rate, min_coverage=self.coverage)
            stop = (starts[-1] + _PARTIAL_FRAMES) * _HOP
            wave = np.pad(w[:n], (0, stop - n)) if stop >= n else w[:n]
            mel = mel_power(wave)
            windows += [mel[s : s + _PARTIAL_FRAMES] for s in starts]
            owner += [i] * len(starts)
        emb = self.net(torch.from_numpy(np.stack(windows)).to(self.device))
        index = torch.tensor(owner, device=emb.device)
        summed = torch.zeros(len(sizes), emb.shape[1], device=emb.device, dtype=emb.dtype)
        summed.index_add_(0, index, emb)  # the mean's 1/n vanishes in the L2 norm
        return torch.nn.functional.normalize(summed, dim=1)


@inherit_parameters
class GE2EEmbedder(NeuralEmbedder):
    """GE2E speaker embeddings (256-d) from the weights in Resemblyzer's wheel.

    A speaker-verification encoder trained with the generalized end-to-end
    loss [1]_ (by Resemblyzer's author, on LibriSpeech, VoxCeleb 1 and 2) —
    no emotion data. Clips (resampled to 16 kHz) become 40-band Mel power
    spectra (25 ms / 10 ms), are cut into 1.6-s windows, and the L2-normalised
    mean of the windows' embeddings is the clip's (Resemblyzer's
    ``embed_utterance``, without its optional volume normalisation and VAD
    trimming).

    Parameters
    ----------
    checkpoint : str or path-like, default=None
        A Resemblyzer-format weights file (a dict with ``"model_state"``).
        None: ``pretrained.pt`` of the installed resemblyzer package.
    partials : bool, default=True
        True: Resemblyzer's 1.6-s windows, averaged (what the model was
        trained on). False: each whole clip through the LSTM (packed to its
        length), its last hidden state.
    partials_per_second : float, default=1.3
        Window rate (Resemblyzer's default), in [0.625, 100]: windows must
        overlap or touch, and their hop is at least one frame.
    min_coverage : float, default=0.75
        A last window covered by less of the clip is dropped, unless it is
        the only one.
    batch_seconds : "auto" or float, default="auto"
        Padded-audio budget per batch in seconds. Batching is exact here (each
        clip's spectrogram comes from its own samples and the windows have one
        length), so ``"auto"`` batches: 8 s on a CPU, 120 s on a GPU.
    max_chunk_seconds : float or None, default=None
        Clips longer than this are cut into chunks whose embeddings are
        averaged, weighted by duration; None (the default) keeps clips whole:
        memory grows with the number of windows only.

    Attributes
    ----------
    n_features_out_ : int
        256.
    device_ : torch.device
        Where the model runs.
    checkpoint_path_ : pathlib.Path
        The weights file loaded.

    Notes
    -----
    Embeddings are non-negative (ReLU) and of unit length. Clips shorter
    than 25 ms are zero-padded to one STFT window. The paper's unscaled
    ``SVC(C=10, gamma=1e-3)`` sees distances below 2 between unit vectors and
    barely separates them; standardise first (see docs/ge2e.md for EMOVO).

    References
    ----------
    .. [1] L. Wan, Q. Wang, A. Papir, I. Lopez Moreno, "Generalized
       End-to-End Loss for Speaker Verification", ICASSP 2018.

    Examples
    --------
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from sklearn.svm import SVC
    >>> pipe = make_pipeline(GE2EEmbedder(), StandardScaler(), SVC(C=10))  # doctest: +SKIP
    """

    _parameter_constraints: dict[str, list[Any]] = {
        **NeuralEmbedder._parameter_constraints,
        "checkpoint": [str, os.PathLike, None],
        "partials": ["boolean"],
        "partials_per_second": [Interval(Real, 0.625, 100, closed="both")],
        "min_coverage": [Interval(Real, 0, 1, closed="right")],
    }
    _feature_prefix = "ge2e"

    def __init__(
        self,
        *,
        checkpoint: str | os.PathLike[str] | None = None,
        partials: bool = True,
        partials_per_second: float = 1.3,
        min_coverage: float = 0.75,
        max_chunk_seconds: float | None = None,
        **params: Any,
    ) -> None:
        super().__init__(max_chunk_seconds=max_chunk_seconds, **params)
        self.checkpoint = checkpoint
        self.partials = partials
        self.partials_per_second = partials_per_second
        self.min_coverage = min_coverage

    def _checkpoint_path(self) -> Path:
        if self.checkpoint is None:
            return packaged_checkpoint(type(self).__name__)
        path = Path(self.checkpoint).expanduser()
        if not path.is_file():
            what = "is a folder" if path.is_dir() else "does not exist"
            raise ParameterError(
                f"checkpoint={os.fspath(self.checkpoint)!r} {what}; expected a GE2E weights "
                "file in Resemblyzer's format (pretrained.pt)"
            )
        return path.resolve()

    def _backend_key(self) -> tuple:
        return source_key("file", self._checkpoint_path())

    def _make_backend(self, device: Any) -> Any:
        return _load_network(self._checkpoint_path()).to(device)

    def _view(self, model: Any) -> _GE2EBackend:
        """The shared, cached network, windowed by this embedder's parameters."""
        return _GE2EBackend(
            model,
            self.device_,
            partials=bool(self.partials),
            rate=float(self.partials_per_second),
            coverage=float(self.min_coverage),
        )
