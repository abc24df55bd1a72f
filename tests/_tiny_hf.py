"""Tiny random-weight ``transformers`` speech encoders, saved with ``save_pretrained``.

Built with transformers' own config and model classes (hidden size 32, 2 layers), so the
tests run the real forward code of each family without downloading anything.
"""

from __future__ import annotations

from pathlib import Path

#: family -> (config class, model class, config overrides)
FAMILIES = ("wav2vec2", "hubert", "wavlm", "wavlm-layer", "data2vec-audio", "whisper")
#: Whisper test window: 2 s (max_source_positions 100 -> 200 Mel frames)
WHISPER_SECONDS = 2


def _conv_kwargs() -> dict:
    # the real front end's kernels and strides (320 samples per frame), 32 channels
    return {
        "conv_dim": (32,) * 7,
        "hidden_size": 32,
        "num_hidden_layers": 2,
        "num_attention_heads": 2,
        "intermediate_size": 37,
        "num_conv_pos_embeddings": 16,
        "num_conv_pos_embedding_groups": 2,
    }


def save_tiny(family: str, folder: Path, *, seed: int = 0, with_extractor: bool = True) -> Path:
    """Build, randomly initialise and ``save_pretrained`` one tiny model into ``folder``."""
    import torch
    import transformers as T

    torch.manual_seed(seed)
    if family == "whisper":
        config = T.WhisperConfig(
            d_model=32,
            encoder_layers=2,
            encoder_attention_heads=2,
            encoder_ffn_dim=37,
            decoder_layers=1,
            decoder_attention_heads=2,
            decoder_ffn_dim=37,
            num_mel_bins=80,
            max_source_positions=50 * WHISPER_SECONDS,
            max_target_positions=16,
            vocab_size=64,
            pad_token_id=1,
            bos_token_id=2,
            eos_token_id=2,
            decoder_start_token_id=3,
            begin_suppress_tokens=None,
            suppress_tokens=None,
        )
        model = T.WhisperModel(config)
        extractor = T.WhisperFeatureExtractor(feature_size=80, chunk_length=WHISPER_SECONDS)
    else:
        kw = _conv_kwargs()
        if family == "wav2vec2":
            config = T.Wav2Vec2Config(**kw, feat_extract_norm="group")
            model = T.Wav2Vec2Model(config)
        elif family == "hubert":
            config = T.HubertConfig(**kw, feat_extract_norm="group")
            model = T.HubertModel(config)
        elif family in ("wavlm", "wavlm-layer"):
            norm = "layer" if family == "wavlm-layer" else "group"
            config = T.WavLMConfig(**kw, feat_extract_norm=norm, do_stable_layer_norm=True)
            model = T.WavLMModel(config)
        elif family == "data2vec-audio":
            kw.pop("num_conv_pos_embeddings")
            config = T.Data2VecAudioConfig(**kw, num_conv_pos_embeddings=2, conv_pos_kernel_size=9)
            model = T.Data2VecAudioModel(config)
        else:  # pragma: no cover
            raise ValueError(family)
        layer_norm = getattr(config, "feat_extract_norm", "layer") == "layer"
        # as the released checkpoints: masks and normalisation with layer-normed front ends
        extractor = T.Wav2Vec2FeatureExtractor(
            do_normalize=layer_norm, return_attention_mask=layer_norm
        )
    model.eval().save_pretrained(folder)
    if with_extractor:
        extractor.save_pretrained(folder)
    return folder
