"""Hugging Face transformers backend, on tiny random-weight models of each family."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from _signals import noisy_tones, row_cosine
from _tiny_hf import FAMILIES, WHISPER_SECONDS, save_tiny

from sertools import ParameterError
from sertools.features._engine import split_chunks
from sertools.features.hf import HFEmbedder, WavLMBasePlusEmbedder
from sertools.utils.estimator_checks import check_embedder

transformers = pytest.importorskip("transformers")
torch = pytest.importorskip("torch")

SR = 16000
LABELS = ["low", "high"] * 4
#: families whose batches are exact up to float rounding (docs/hf.md): masked layer-norm
#: front ends, group-norm ones through sertools' padding-exact hooks, Whisper's fixed window
EXACT = {"wav2vec2", "hubert", "wavlm", "wavlm-layer", "whisper", "data2vec-audio"}


@pytest.fixture(scope="module")
def models(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("hf")
    return {family: save_tiny(family, root / family) for family in FAMILIES}


@pytest.fixture(scope="module")
def clips():
    # 0.25 s to 2.5 s; 2.5 s is longer than the tiny Whisper's 2-s window (chunked)
    return noisy_tones([4000, 40000, 12000, 26000, 8000, 20000, 6000, 10000], sampling_rate=SR)


def _emb(folder: Path, **kw) -> HFEmbedder:
    return HFEmbedder(model=folder, sampling_rate=SR, device="cpu", **kw)


@pytest.mark.parametrize("family", FAMILIES)
def test_contract(family, models, clips):
    F = check_embedder(_emb(models[family]), clips, LABELS, grid={"layer": [-1, "mean"]})
    assert F.shape == (len(clips), 32)


@pytest.mark.parametrize("family", FAMILIES)
def test_batched_vs_one_at_a_time(family, models, clips):
    """Measured cosines (tiny random models): see docs/hf.md for the table."""
    batched = _emb(models[family], batch_seconds=60).fit()
    single = _emb(models[family], batch_seconds=1e-3).fit()
    A, B = batched.transform(clips), single.transform(clips)
    auto = _emb(models[family]).fit()
    assert family in EXACT
    # only float rounding differs (measured max 1.8e-6 over the six families, the group
    # norm recomputed per clip, data2vec-audio's positional convolutions re-zeroed);
    # 2e-5 leaves room for other BLAS kernels
    np.testing.assert_allclose(A, B, atol=2e-5)
    assert auto._batch_seconds() == 8.0  # "auto" batches them on a CPU


def test_data2vec_needs_its_positional_hooks(models, clips):
    """Without the hooks between its stacked positional convolutions, padding leaks in."""
    from sertools.features._neural import clear_backend_cache

    clear_backend_cache()
    folder = models["data2vec-audio"]
    batched = _emb(folder, batch_seconds=60).fit()
    single = _emb(folder, batch_seconds=1e-3).fit()
    hooks = batched._get_backend().model.exact_hooks
    assert (
        hooks.n_positional_convs
        == transformers.AutoConfig.from_pretrained(folder).num_conv_pos_embeddings
    )
    B = single.transform(clips)
    np.testing.assert_allclose(batched.transform(clips), B, atol=2e-5)
    hooks.remove()  # the model as transformers gives it, masks and all
    try:
        assert row_cosine(batched.transform(clips), B).min() < 0.9999
    finally:
        clear_backend_cache()  # the next test loads a hooked model again


def test_layer_semantics(models, clips):
    folder = models["wavlm-layer"]
    every = _emb(folder, layer="all").fit()
    F_all = every.transform(clips[:3])
    assert every.n_layers_ == 3 and F_all.shape == (3, 3 * 32)
    names = every.get_feature_names_out()
    assert names[0] == "layer0_0" and names[-1] == "layer2_31"
    slices = F_all.reshape(3, 3, 32)
    # float32 pooling of the same hidden states: identical up to rounding
    np.testing.assert_allclose(_emb(folder).fit().transform(clips[:3]), slices[:, 2], atol=1e-6)
    np.testing.assert_allclose(
        _emb(folder, layer=0).fit().transform(clips[:3]), slices[:, 0], atol=1e-6
    )
    np.testing.assert_allclose(
        _emb(folder, layer="mean").fit().transform(clips[:3]), slices.mean(axis=1), atol=1e-6
    )
    assert not np.allclose(slices[:, 0], slices[:, 2])
    stats = _emb(folder, pooling="mean+std").fit()
    assert stats.transform(clips[:1]).shape == (1, 64)
    assert list(stats.get_feature_names_out()[[0, 32]]) == ["wavlm_0", "wavlm_std0"]
    for bad in (3, -4):
        with pytest.raises(ParameterError, match=r"layer=.*out of range.*\[-3, 2\]"):
            _emb(folder, layer=bad).fit()
    with pytest.raises(ParameterError, match="layer=True"):
        _emb(folder, layer=True).fit()


@pytest.mark.parametrize("family", ["wav2vec2", "hubert", "wavlm", "wavlm-layer", "data2vec-audio"])
def test_equals_direct_transformers_forward(family, models, clips):
    """One clip through transformers itself, as its feature extractor prepares it."""
    folder = models[family]
    model = transformers.AutoModel.from_pretrained(folder).eval()
    extractor = transformers.AutoFeatureExtractor.from_pretrained(folder)
    clip = clips[3]
    inputs = extractor(clip, sampling_rate=SR, return_tensors="pt")
    with torch.inference_mode():
        hidden = model(**inputs, output_hidden_states=True).hidden_states
    ref = hidden[-1][0].mean(0).numpy()
    got = _emb(folder).fit().transform([clip])[0]
    # the same model on the same samples; normalisation computed in float32 (1e-7 variance
    # epsilon as transformers): agreement to float32 rounding of a 2-layer network
    np.testing.assert_allclose(got, ref, atol=2e-5)


def test_whisper_pools_only_the_clip_frames(models, clips):
    folder = models["whisper"]
    encoder = transformers.WhisperModel.from_pretrained(folder).get_encoder().eval()
    extractor = transformers.WhisperFeatureExtractor.from_pretrained(folder)
    clip = clips[4]  # 0.5 s in a 2-s window
    features = extractor(clip, sampling_rate=SR, return_tensors="pt").input_features
    with torch.inference_mode():
        hidden = encoder(features, output_hidden_states=True).hidden_states[-1][0]
    frames = math.ceil(len(clip) / 320)  # 20-ms encoder frames
    assert frames == 25 and hidden.shape[0] == 50 * WHISPER_SECONDS
    got = _emb(folder).fit().transform([clip])[0]
    np.testing.assert_allclose(got, hidden[:frames].mean(0).numpy(), atol=1e-5)
    # the padding frames would change it: the trap the pooling avoids
    assert row_cosine(got, hidden.mean(0).numpy()) < 0.99


def test_whisper_longer_than_window_is_chunked(models, clips):
    emb = _emb(models["whisper"], max_chunk_seconds=None).fit()
    clip = clips[1]  # 2.5 s, window 2 s: two chunks of 1.25 s despite max_chunk_seconds=None
    (a, b), (c, d) = split_chunks(len(clip), WHISPER_SECONDS * SR)
    parts = emb.transform([clip[a:b], clip[c:d]])
    expected = (parts[0] * (b - a) + parts[1] * (d - c)) / len(clip)
    np.testing.assert_allclose(emb.transform([clip])[0], expected, atol=1e-6)


def test_without_feature_extractor_file(models, tmp_path, clips):
    """A folder with config + weights only: masks/normalisation follow feat_extract_norm."""
    bare = save_tiny("wavlm-layer", tmp_path / "bare", with_extractor=False)
    emb = _emb(bare).fit()
    model = emb._get_backend().model
    assert model.use_mask and model.normalize
    np.testing.assert_allclose(
        emb.transform(clips[:2]), _emb(models["wavlm-layer"]).fit().transform(clips[:2]), atol=1e-6
    )
    whisper = save_tiny("whisper", tmp_path / "bare-whisper", with_extractor=False)
    # the default WhisperFeatureExtractor, sized to the model's window (2 s here, 30 s real)
    np.testing.assert_allclose(
        _emb(whisper).fit().transform(clips[:2]),
        _emb(models["whisper"]).fit().transform(clips[:2]),
        atol=1e-6,
    )


def test_model_dir_and_env_lookup(models, monkeypatch, clips):
    root = models["wavlm"].parent
    ref = _emb(models["wavlm"]).fit().transform(clips[:1])
    # "<org>/<name>" is found as <model_dir>/<name>
    emb = HFEmbedder(model="someorg/wavlm", model_dir=root, sampling_rate=SR, device="cpu")
    np.testing.assert_array_equal(emb.fit().transform(clips[:1]), ref)
    assert emb.model_type_ == "wavlm" and emb.model_files_
    monkeypatch.setenv("SERTOOLS_MODEL_DIR", str(root))
    emb = HFEmbedder(model="wavlm", sampling_rate=SR, device="cpu")
    np.testing.assert_array_equal(emb.fit().transform(clips[:1]), ref)


def test_errors_name_the_model(models, tmp_path, monkeypatch):
    with pytest.raises(ParameterError, match="model folder not found"):
        HFEmbedder(model=tmp_path / "nope").fit()
    a_file = tmp_path / "weights.bin"
    a_file.write_bytes(b"0")
    with pytest.raises(ParameterError, match="is a file"):
        HFEmbedder(model=a_file).fit()
    with pytest.raises(ParameterError, match=r"no config\.json"):
        HFEmbedder(model=tmp_path).fit()
    other = tmp_path / "bert"
    transformers.BertConfig(
        hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=37
    ).save_pretrained(other)
    with pytest.raises(ParameterError, match=r"'bert' model.*wavlm"):
        HFEmbedder(model=other).fit()
    # a hub name that is neither local nor reachable (offline mode): how to go offline
    import huggingface_hub.constants

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    monkeypatch.delenv("SERTOOLS_MODEL_DIR", raising=False)
    with pytest.raises(ParameterError, match=r"microsoft/wavlm-base-plus.*save_pretrained"):
        WavLMBasePlusEmbedder(device="cpu").fit()


def test_registry_names_resolve(models):
    from sertools.features import available_feature_sets
    from sertools.study import make_embedder

    sets = available_feature_sets()
    for name in ("wavlm", "wavlm-base-plus", "wavlm-large", "hf-hubert", "hf-wav2vec2"):
        assert sets[name].family == "hf"
    for name in ("data2vec", "whisper-base", "whisper-small"):
        assert name in sets
    emb = make_embedder("wavlm", model=str(models["wavlm"]), device="cpu", sampling_rate=SR)
    assert emb.fit().transform([np.zeros(8000, np.float32) + 0.01]).shape == (1, 32)
