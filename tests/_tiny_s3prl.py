"""Random-weight checkpoints in the formats S3PRL's ``*_local`` loaders read.

Built with S3PRL's own model classes, so the tests (and the benchmark) run the
real S3PRL code paths without downloading anything:

* HuBERT (``hubert_local``): a dict with ``task_cfg`` and ``model_cfg`` (plain
  dicts of :class:`HubertPretrainingConfig` / :class:`HubertConfig`),
  ``model_weight`` (the :class:`HubertModel` state dict) and
  ``dictionaries_symbols`` (one list of label symbols per target set) — what
  ``s3prl.upstream.hubert.convert`` writes from a fairseq checkpoint.
* wav2vec 2.0 (``wav2vec2_local``): ``task_cfg`` (:class:`AudioPretrainingConfig`),
  ``model_cfg`` (:class:`Wav2Vec2Config`) and ``model_weight``.
* DeCoAR (``decoar_local``): ``{"model": state_dict}`` of S3PRL's fixed
  :class:`Decoar` network.

``size="tiny"`` gives 2 transformer layers, 32 wide, with a 32-channel copy of the
base models' convolutional front end (same kernels and strides, 320 samples per
frame, group norm in the first block), so a forward pass takes milliseconds.
``size="base"`` gives the published base configurations (95 M parameters) for
the benchmark. DeCoAR's architecture is fixed (1024-wide, 4 + 4 LSTM layers,
67 M parameters); see :func:`save_decoar` for how its file stays small.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Literal

import torch

Size = Literal["tiny", "base"]

#: the base models' front end with 32 channels: strides multiply to 320
_TINY_CONV = "[(32, 10, 5)] + [(32, 3, 2)] * 4 + [(32, 2, 2)] * 2"
_TINY_ENCODER = {
    "encoder_layers": 2,
    "encoder_embed_dim": 32,
    "encoder_ffn_embed_dim": 64,
    "encoder_attention_heads": 2,
    "conv_pos": 16,
    "conv_pos_groups": 4,
    "conv_feature_layers": _TINY_CONV,
    "final_dim": 16,
}
#: label symbols of one target set (HuBERT base: 504 k-means clusters)
_N_LABELS = {"tiny": 10, "base": 504}


def _seed(seed: int) -> None:
    torch.manual_seed(seed)


def hubert_state(size: Size = "tiny", *, seed: int = 0) -> dict:
    """A HuBERT checkpoint in S3PRL's converted format.

    Parameters
    ----------
    size : {"tiny", "base"}
        ``"tiny"``: 2 layers, 32 wide; ``"base"``: HuBERT Base (12 layers, 768 wide).
    seed : int
        Seed of the random weights.

    Returns
    -------
    dict
        ``task_cfg``, ``model_cfg``, ``model_weight``, ``dictionaries_symbols``.
    """
    from s3prl.upstream.hubert.hubert_model import (
        HubertConfig,
        HubertModel,
        HubertPretrainingConfig,
    )

    _seed(seed)
    task_cfg = HubertPretrainingConfig(label_rate=50)
    extra = _TINY_ENCODER if size == "tiny" else {"final_dim": 256}
    model_cfg = HubertConfig(label_rate=50, **extra)
    symbols = [[str(i) for i in range(_N_LABELS[size])]]
    model = HubertModel(model_cfg, task_cfg, symbols)
    return {
        "task_cfg": dataclasses.asdict(task_cfg),
        "model_cfg": dataclasses.asdict(model_cfg),
        "model_weight": model.state_dict(),
        "dictionaries_symbols": symbols,
    }


def wav2vec2_state(size: Size = "tiny", *, extractor_mode: str = "default", seed: int = 0) -> dict:
    """A wav2vec 2.0 checkpoint in S3PRL's converted format.

    Parameters
    ----------
    size : {"tiny", "base"}
        ``"tiny"``: 2 layers, 32 wide; ``"base"``: wav2vec 2.0 Base (12 layers,
        768 wide, with its quantizer).
    extractor_mode : {"default", "layer_norm"}
        ``"default"`` (the base models): group norm over time in the first
        convolution block, which makes the front end depend on batch padding;
        ``"layer_norm"`` (the large models): a layer norm per frame in every block.
    seed : int
        Seed of the random weights.

    Returns
    -------
    dict
        ``task_cfg``, ``model_cfg``, ``model_weight``.
    """
    from s3prl.upstream.wav2vec2.wav2vec2_model import (
        AudioPretrainingConfig,
        Wav2Vec2Config,
        Wav2Vec2Model,
    )

    _seed(seed)
    task_cfg = AudioPretrainingConfig()
    if size == "tiny":
        extra = {**_TINY_ENCODER, "latent_vars": 8}
    else:
        extra = {"final_dim": 256}
    model_cfg = Wav2Vec2Config(quantize_targets=True, extractor_mode=extractor_mode, **extra)
    model = Wav2Vec2Model(model_cfg)
    return {
        "task_cfg": dataclasses.asdict(task_cfg),
        "model_cfg": dataclasses.asdict(model_cfg),
        "model_weight": model.state_dict(),
    }


def decoar_state(*, seed: int = 0, pool_size: int = 1 << 20) -> dict:
    """A DeCoAR checkpoint (``{"model": state_dict}``) whose tensors share one pool.

    S3PRL's DeCoAR network is fixed at 67 M parameters (a 270 MB file). Here
    every tensor is a strided view into one random pool of ``pool_size`` values
    (uniform in ±1/32, PyTorch's LSTM init for 1024 units): row ``i`` of a matrix
    starts ``7 * i`` values after the previous tensor's start, so rows differ
    and the saved file holds the pool once (4 MB). ``torch.load`` restores the
    views and ``load_state_dict`` copies them into full tensors.

    Parameters
    ----------
    seed : int
        Seed of the pool.
    pool_size : int
        Number of random values shared by all tensors.

    Returns
    -------
    dict
        ``{"model": {name: tensor}}`` with the names and shapes of ``Decoar().state_dict()``.
    """
    from s3prl.upstream.decoar.decoar import Decoar

    with torch.device("meta"):
        shapes = {k: v.shape for k, v in Decoar().state_dict().items()}
    generator = torch.Generator().manual_seed(seed)
    pool = (torch.rand(pool_size, generator=generator) * 2 - 1) / 32
    state = {}
    for n, (name, shape) in enumerate(shapes.items()):
        offset = (7919 * n) % (pool_size // 2)
        stride = (7, 1) if len(shape) == 2 else (1,)
        state[name] = pool.as_strided(shape, stride, offset)
    return {"model": state}


def save(state: dict, path: str | Path) -> Path:
    """``torch.save`` a checkpoint dict and return the path."""
    path = Path(path)
    torch.save(state, path)
    return path
