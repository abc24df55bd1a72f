"""The audio input layer: forms of X, conversion, resampling, errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from sertools import ParameterError
from sertools.audio import as_waveforms, read_audio, to_float32


def _tone(n: int, sr: int = 16000, f: float = 220.0) -> np.ndarray:
    return (0.5 * np.sin(2 * np.pi * f * np.arange(n) / sr)).astype(np.float32)


def test_ragged_list_tuple_and_object_array():
    clips = [_tone(1600), _tone(800), _tone(2400)]
    for X in (clips, tuple(clips), np.array([*clips, None], dtype=object)[:3]):
        out = as_waveforms(X, sampling_rate=16000, target_rate=16000)
        assert [len(w) for w in out] == [1600, 800, 2400]
        assert all(w.dtype == np.float32 for w in out)


def test_2d_array_rows_are_clips():
    X = np.stack([_tone(1000), _tone(1000, f=440)])
    out = as_waveforms(X, sampling_rate=16000, target_rate=8000)
    assert len(out) == 2 and all(len(w) == 500 for w in out)


def test_caller_arrays_are_never_modified_or_aliased():
    clip = _tone(1600)
    keep = clip.copy()
    out = as_waveforms([clip], sampling_rate=16000, target_rate=16000)
    out[0][:] = 7.0
    np.testing.assert_array_equal(clip, keep)


def test_integer_pcm_scaling():
    np.testing.assert_allclose(to_float32(np.array([-32768, 0, 16384], np.int16)), [-1, 0, 0.5])
    np.testing.assert_allclose(to_float32(np.array([0, 128, 255], np.uint8)), [-1, 0, 127 / 128])
    np.testing.assert_allclose(to_float32(np.array([2**31 - 1], np.int32)), [1.0], atol=1e-6)


def test_resampling_preserves_a_tone():
    x = _tone(16000, sr=16000, f=440)
    (y,) = as_waveforms([x], sampling_rate=16000, target_rate=22050)
    assert len(y) == 22050
    spectrum = np.abs(np.fft.rfft(y))
    assert abs(np.argmax(spectrum) * 22050 / len(y) - 440) < 2


def test_files_any_rate_multichannel(tmp_path: Path):
    stereo = np.stack([_tone(4800, 48000), np.zeros(4800, np.float32)], axis=1)
    sf.write(tmp_path / "st.wav", stereo, 48000, subtype="PCM_16")
    sf.write(tmp_path / "mono.flac", _tone(1600), 16000)
    wave, sr = read_audio(tmp_path / "st.wav")
    assert sr == 48000 and wave.ndim == 1
    np.testing.assert_allclose(wave, stereo.mean(axis=1), atol=1e-4)  # downmix
    out = as_waveforms(
        [tmp_path / "st.wav", str(tmp_path / "mono.flac")], sampling_rate=None, target_rate=16000
    )
    assert [len(w) for w in out] == [1600, 1600]
    # files and arrays may be mixed; arrays then need the rate
    out = as_waveforms([tmp_path / "st.wav", _tone(800)], sampling_rate=8000, target_rate=16000)
    assert [len(w) for w in out] == [1600, 1600]


@pytest.mark.parametrize(
    ("X", "kwargs", "match"),
    [
        ([np.zeros(10), np.zeros(0)], {}, r"clip X\[1\] is empty"),
        ([np.zeros(10), np.array([0.0, np.nan])], {}, r"clip X\[1\] contains NaN"),
        ([np.array([np.inf, 0.0])], {}, r"clip X\[0\] contains NaN or infinite"),
        ([np.zeros((2, 10))], {}, r"clip X\[0\] has shape \(2, 10\); expected a 1-D"),
        (np.zeros((2, 3, 4)), {}, r"shape \(2, 3, 4\); expected 2-D"),
        ([np.array(["a", "b"])], {}, r"clip X\[0\] has non-numeric dtype"),
        ([[0.1, "x"]], {}, r"clip X\[0\]"),
        ([np.array([True, False])], {}, r"clip X\[0\]"),
        ([], {}, "no clips"),
        ("clip.wav", {}, "single path"),
        ([np.zeros(10)], {"sampling_rate": None}, "sampling_rate is None"),
        ([np.zeros(10)], {"sampling_rate": -5}, "positive integer"),
        (12, {}, "not a sequence"),
    ],
)
def test_bad_input_names_the_item(X, kwargs, match):
    kw = {"sampling_rate": 16000, **kwargs}
    with pytest.raises(ParameterError, match=match):
        as_waveforms(X, target_rate=16000, **kw)


def test_bad_files(tmp_path: Path):
    missing = tmp_path / "nope.wav"
    with pytest.raises(ParameterError, match=r"not found: .*nope\.wav"):
        as_waveforms([missing], sampling_rate=None, target_rate=16000)
    junk = tmp_path / "junk.wav"
    junk.write_bytes(b"not audio at all")
    with pytest.raises(ParameterError, match=r"cannot read audio file .*junk\.wav"):
        as_waveforms([junk], sampling_rate=None, target_rate=16000)
    lfs = tmp_path / "lfs.wav"
    lfs.write_text("version https://git-lfs.github.com/spec/v1\noid sha256:abc\nsize 10\n")
    with pytest.raises(ParameterError, match=r"Git LFS pointer.*git lfs pull"):
        as_waveforms([lfs], sampling_rate=None, target_rate=16000)
    empty = tmp_path / "empty.wav"
    sf.write(empty, np.zeros(0, np.float32), 16000)
    with pytest.raises(ParameterError, match="no samples"):
        as_waveforms([empty], sampling_rate=None, target_rate=16000)
