"""Random-weight NeMo speaker/label models with the topologies of the four published ones.

The configurations follow NeMo's recipes in ``examples/speaker_tasks/recognition/conf``
(``SpeakerNet_verification_3x2x256.yaml``, ``titanet-large.yaml``, ``ecapa_tdnn.yaml``)
and the AmberNet language-ID model (TitaNet-LID: the TitaNet encoder, squeeze-and-excitation
included, with an x-vector statistics-pooling decoder over 107 languages). ``full=True``
keeps the published widths and depths (TitaNet-L: 23 M parameters with its 7205-speaker
output layer); the default shrinks widths and repeats so that a model builds in well
under a second and saves to a few hundred kB, while keeping every block type:

* SpeakerNet — ``ConvASREncoder`` of separable Jasper blocks (no SE), x-vector pooling;
* TitaNet — ``ConvASREncoder`` of separable Jasper blocks with SE, attention pooling;
* ECAPA-TDNN — ``ECAPAEncoder`` (TDNN + group-conv SE blocks), attention pooling;
* AmberNet — the TitaNet encoder, x-vector pooling, a language-ID output layer.

No dataset is attached (no ``train_ds``/``validation_ds``), so nothing is read at build
time. Used by ``tests/test_nemo.py`` and ``benchmarks/bench_nemo.py``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

#: family -> the pretrained name its embedder defaults to
FAMILIES = {
    "speakernet": "speakerverification_speakernet",
    "titanet": "titanet_large",
    "ecapa": "ecapa_tdnn",
    "ambernet": "langid_ambernet",
}


def _preprocessor(n_mels: int, window_size: float) -> dict[str, Any]:
    return {
        "_target_": "nemo.collections.asr.modules.AudioToMelSpectrogramPreprocessor",
        "normalize": "per_feature",
        "window_size": window_size,
        "sample_rate": 16000,
        "window_stride": 0.01,
        "window": "hann",
        "features": n_mels,
        "n_fft": 512,
        "frame_splicing": 1,
        "dither": 0.00001,
    }


def _jasper(filters: int, repeat: int, out: int, *, se: bool, prolog_residual: bool) -> list:
    """Prolog (k=3), three residual mega-blocks (k=7, 11, 15), epilog (k=1)."""

    def block(f: int, r: int, k: int, residual: bool) -> dict[str, Any]:
        b = {
            "filters": f,
            "repeat": r,
            "kernel": [k],
            "stride": [1],
            "dilation": [1],
            "dropout": 0.0,
            "residual": residual,
            "separable": True,
        }
        if se:
            b.update(se=True, se_context_size=-1)
        return b

    return [
        block(filters, 1, 3, prolog_residual),
        *(block(filters, repeat, k, True) for k in (7, 11, 15)),
        block(out, 1, 1, False),
    ]


def _conv_encoder(n_mels: int, jasper: list) -> dict[str, Any]:
    return {
        "_target_": "nemo.collections.asr.modules.ConvASREncoder",
        "feat_in": n_mels,
        "activation": "relu",
        "conv_mask": True,
        "jasper": jasper,
    }


def _decoder(feat_in: int, n_classes: int, pool: str, emb: int, attention: int) -> dict[str, Any]:
    dec = {
        "_target_": "nemo.collections.asr.modules.SpeakerDecoder",
        "feat_in": feat_in,
        "num_classes": n_classes,
        "pool_mode": pool,
        "emb_sizes": emb,
    }
    if pool == "attention":
        dec["attention_channels"] = attention
    return dec


def model_config(family: str, *, full: bool = False) -> dict[str, Any]:
    """The ``model`` section of an ``EncDecSpeakerLabelModel`` config.

    Parameters
    ----------
    family : {"speakernet", "titanet", "ecapa", "ambernet"}
    full : bool
        Published widths and depths (True) or a tiny model (False).

    Returns
    -------
    dict
        Preprocessor, encoder, decoder and loss sections.
    """
    if family == "speakernet":
        f, r, out, emb = (512, 2, 1500, 256) if full else (16, 1, 32, 16)
        n_classes = 7205 if full else 4
        cfg = {
            "preprocessor": _preprocessor(64, 0.02),
            "encoder": _conv_encoder(64, _jasper(f, r, out, se=False, prolog_residual=True)),
            "decoder": _decoder(out, n_classes, "xvector", emb, 0),
        }
    elif family in ("titanet", "ambernet"):
        f, r, out = (1024, 3, 3072) if full else (16, 1, 32)
        if family == "titanet":
            pool, emb, n_classes = "attention", 192 if full else 16, 7205 if full else 4
        else:
            pool, emb, n_classes = "xvector", 512 if full else 16, 107 if full else 4
        cfg = {
            "preprocessor": _preprocessor(80, 0.025),
            "encoder": _conv_encoder(80, _jasper(f, r, out, se=True, prolog_residual=False)),
            "decoder": _decoder(out, n_classes, pool, emb, 128 if full else 8),
        }
    elif family == "ecapa":
        filters = [1024, 1024, 1024, 1024, 3072] if full else [16, 16, 16, 16, 48]
        cfg = {
            "preprocessor": _preprocessor(80, 0.025),
            "encoder": {
                "_target_": "nemo.collections.asr.modules.ECAPAEncoder",
                "feat_in": 80,
                "filters": filters,
                "kernel_sizes": [5, 3, 3, 3, 1],
                "dilations": [1, 1, 1, 1, 1],
                "scale": 8,
            },
            "decoder": _decoder(
                filters[-1],
                7205 if full else 4,
                "attention",
                192 if full else 16,
                128 if full else 8,
            ),
        }
    else:
        raise ValueError(f"unknown family {family!r}; expected one of {sorted(FAMILIES)}")
    cfg["loss"] = {"_target_": "nemo.collections.common.losses.cross_entropy.CrossEntropyLoss"}
    return cfg


def build_model(family: str, *, full: bool = False, seed: int = 0):
    """Instantiate a random-weight ``EncDecSpeakerLabelModel`` in eval mode.

    The weights are random; the BatchNorm running statistics are then estimated
    on random noisy tones (see :func:`_calibrate_batchnorm`).

    Parameters
    ----------
    family : {"speakernet", "titanet", "ecapa", "ambernet"}
    full : bool
        Published size (True) or tiny (False).
    seed : int
        Seed of the random initialisation and of the calibration audio.

    Returns
    -------
    nemo.collections.asr.models.EncDecSpeakerLabelModel
    """
    import torch
    from nemo.collections.asr.models import EncDecSpeakerLabelModel
    from omegaconf import OmegaConf

    torch.manual_seed(seed)
    model = EncDecSpeakerLabelModel(cfg=OmegaConf.create(model_config(family, full=full)))
    _calibrate_batchnorm(model, seed)
    return model.eval()


def _calibration_audio(seed: int, n_clips: int = 24) -> tuple:
    """Noisy tones of 0.5-2 s with random pitch, level and noise colour, zero-padded."""
    import numpy as np
    import torch

    rng = np.random.default_rng(seed)
    lengths = rng.integers(8000, 32000, n_clips)
    batch = np.zeros((n_clips, int(lengths.max())), dtype=np.float32)
    for i, n in enumerate(lengths):
        t = np.arange(n) / 16000
        f0 = rng.uniform(80, 400)
        tone = sum(np.sin(2 * np.pi * k * f0 * t) / k for k in range(1, 6))
        noise = np.cumsum(rng.standard_normal(n)) * rng.uniform(0, 0.05)  # brown-ish
        noise = noise - noise.mean() + rng.standard_normal(n) * rng.uniform(0.01, 0.3)
        batch[i, :n] = 10 ** rng.uniform(-2, 0) * (rng.uniform(0, 1) * tone + noise)
    return torch.from_numpy(batch), torch.from_numpy(lengths.astype(np.int64))


def _calibrate_batchnorm(model, seed: int) -> None:
    """Estimate the BatchNorm running statistics on random audio, as training would.

    Freshly built BatchNorm layers are the identity in eval mode; with random
    weights the embeddings are then dominated by a constant offset (cosine
    between *different* clips > 0.999), which would make the fidelity checks
    vacuous. Calibrated statistics centre every layer as in a trained model:
    different clips get clearly different embeddings, and padded frames come
    out of a BatchNorm non-zero, as they do in a trained model.
    """
    import torch

    norms = [m for m in model.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    for bn in norms:
        bn.reset_running_stats()
        bn.momentum = None  # cumulative average over the calibration batches
    signal, lengths = _calibration_audio(seed)
    model.train()
    with torch.no_grad():
        for rows in torch.arange(len(signal)).split(8):
            model.forward(input_signal=signal[rows], input_signal_length=lengths[rows])
    for bn in norms:
        bn.momentum = 0.1


def save_model(family: str, path: str | Path, *, full: bool = False, seed: int = 0) -> Path:
    """Build a random-weight model and save it as a ``.nemo`` archive.

    Parameters
    ----------
    family : {"speakernet", "titanet", "ecapa", "ambernet"}
    path : str or Path
        Destination ``.nemo`` file.
    full : bool
        Published size (True) or tiny (False).
    seed : int
        Seed of the random initialisation.

    Returns
    -------
    Path
        ``path``.
    """
    path = Path(path)
    build_model(family, full=full, seed=seed).save_to(str(path))
    return path


def save_ctc_model(path: str | Path) -> Path:
    """Save a tiny random-weight ASR ``EncDecCTCModel`` (a checkpoint of the wrong kind).

    Parameters
    ----------
    path : str or Path
        Destination ``.nemo`` file.

    Returns
    -------
    Path
        ``path``.
    """
    from nemo.collections.asr.models import EncDecCTCModel
    from omegaconf import OmegaConf

    labels = list(" abc")
    cfg = {
        "labels": labels,
        "preprocessor": _preprocessor(64, 0.02),
        "encoder": _conv_encoder(64, _jasper(16, 1, 32, se=False, prolog_residual=False)),
        "decoder": {
            "_target_": "nemo.collections.asr.modules.ConvASRDecoder",
            "feat_in": 32,
            "num_classes": len(labels),
            "vocabulary": labels,
        },
    }
    path = Path(path)
    EncDecCTCModel(cfg=OmegaConf.create(cfg)).save_to(str(path))
    return path
