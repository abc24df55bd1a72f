"""openSMILE functionals: eGeMAPS and ComParE embedders."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from _signals import noisy_tones

import sertools.features.opensmile as osm
from sertools.features.opensmile import ComParEEmbedder, EGeMAPSEmbedder
from sertools.utils.estimator_checks import check_embedder

opensmile = pytest.importorskip("opensmile")

SR = 16000
LABELS = ["low", "high"] * 4


@pytest.fixture(scope="module")
def clips():
    return noisy_tones([8000, 12000, 4000, 9000, 16000, 6000, 10000, 7000], sampling_rate=SR)


@pytest.mark.parametrize(
    ("cls", "width"), [(EGeMAPSEmbedder, 88), (ComParEEmbedder, 6373)], ids=["egemaps", "compare"]
)
def test_contract(cls, width, clips):
    F = check_embedder(
        cls(sampling_rate=SR), clips, LABELS, grid={"target_sampling_rate": [16000, 22050]}
    )
    assert F.shape == (len(clips), width)


@pytest.mark.parametrize(
    ("cls", "feature_set"),
    [(EGeMAPSEmbedder, "eGeMAPSv02"), (ComParEEmbedder, "ComParE_2016")],
    ids=["egemaps", "compare"],
)
def test_equals_opensmile_on_file(cls, feature_set, clips, tmp_path: Path):
    """A 16 kHz file gives exactly what opensmile.Smile.process_file gives, names included."""
    path = tmp_path / "clip.wav"
    sf.write(path, clips[4], SR, subtype="FLOAT")
    smile = opensmile.Smile(
        feature_set=getattr(opensmile.FeatureSet, feature_set),
        feature_level=opensmile.FeatureLevel.Functionals,
    )
    ref = smile.process_file(str(path))
    emb = cls().fit()
    got = emb.transform([path])
    assert list(emb.get_feature_names_out()) == list(ref.columns)
    # the same float32 samples through the same extractor: identical up to float32 output
    np.testing.assert_allclose(got[0], ref.to_numpy(np.float32)[0], rtol=1e-6, atol=0)


def test_resamples_to_target_rate(clips):
    """Arrays at another rate are resampled (sertools.audio) before openSMILE sees them."""
    from sertools.audio import resample

    clip = clips[2]
    at_8k = resample(clip, orig_sr=SR, target_sr=8000)
    emb = EGeMAPSEmbedder(sampling_rate=8000).fit()
    smile = opensmile.Smile(
        feature_set=opensmile.FeatureSet.eGeMAPSv02,
        feature_level=opensmile.FeatureLevel.Functionals,
    )
    ref = smile.process_signal(resample(at_8k, orig_sr=8000, target_sr=SR), SR).to_numpy()
    np.testing.assert_allclose(emb.transform([at_8k])[0], ref[0].astype(np.float32), rtol=1e-6)
    # the default target rate is 16 kHz; a different one changes the features
    other = EGeMAPSEmbedder(sampling_rate=SR, target_sampling_rate=22050).fit()
    assert not np.allclose(other.transform([clip])[0], emb.transform([at_8k])[0])


def test_short_clip_is_zero_padded(clips):
    """Below openSMILE's 60 ms window its functionals are NaN: short clips are padded."""
    emb = EGeMAPSEmbedder(sampling_rate=SR).fit()
    short = clips[0][:300]  # 19 ms
    smile = emb._get_smile()
    assert not np.isfinite(smile.process_signal(short, SR).to_numpy()).all()
    got = emb.transform([short])[0]
    assert np.isfinite(got).all()
    padded = np.pad(short, (0, int(np.ceil(osm.MIN_SECONDS * SR)) - len(short)))
    np.testing.assert_array_equal(got, emb.transform([padded])[0])
    # the longest clip that still needs padding is long enough at every common rate
    for rate in (8000, 16000, 22050, 44100, 48000):
        n = int(np.ceil(osm.MIN_SECONDS * rate))
        row = smile.process_signal(np.zeros(n, np.float32) + 1e-3, rate).to_numpy()
        assert np.isfinite(row).all(), rate


def test_input_not_modified_and_pickle_drops_extractor(clips):
    emb = ComParEEmbedder(sampling_rate=SR).fit()
    before = [c.copy() for c in clips[:2]]
    F = emb.transform(clips[:2])
    for a, b in zip(before, clips[:2], strict=True):
        np.testing.assert_array_equal(a, b)
    blob = pickle.dumps(emb)
    assert b"_smile" not in blob
    np.testing.assert_array_equal(pickle.loads(blob).transform(clips[:2]), F)


@pytest.mark.realdata
def test_real_emovo_file_equals_opensmile(emovo_root: Path):
    """On real EMOVO speech (22050 Hz files) at the file's own rate: openSMILE's own result."""
    path = sorted(emovo_root.rglob("*.wav"))[0]
    emb = EGeMAPSEmbedder(target_sampling_rate=22050).fit()
    smile = opensmile.Smile(
        feature_set=opensmile.FeatureSet.eGeMAPSv02,
        feature_level=opensmile.FeatureLevel.Functionals,
    )
    ref = smile.process_file(str(path)).to_numpy(np.float32)[0]
    np.testing.assert_allclose(emb.transform([path])[0], ref, rtol=1e-6)
    # speech is voiced: mean F0 (semitones from 27.5 Hz) is in the human range (~55-440 Hz)
    f0 = ref[list(emb.get_feature_names_out()).index("F0semitoneFrom27.5Hz_sma3nz_amean")]
    assert 12 < f0 < 48
