"""The audio input layer: forms of X, conversion, resampling, errors."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from sertools import AudioWarning, ParameterError
from sertools.audio import as_waveforms, audio_info, load_clip, read_audio, to_float32


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


# ------------------------------------------------- integrity of files and arrays


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("subtype", ["FLOAT", "DOUBLE"])
def test_float_file_with_non_finite_samples_names_the_file(tmp_path: Path, bad, subtype):
    x = _tone(1600)
    x[700] = bad
    path = tmp_path / "bad.wav"
    sf.write(path, x, 16000, subtype=subtype)
    # the file's own rate: no resampling step that could notice the NaN by chance
    with pytest.raises(ParameterError, match=r"bad\.wav contains NaN or infinite samples"):
        as_waveforms([path], sampling_rate=None, target_rate=16000)
    with pytest.raises(ParameterError, match=r"bad\.wav contains NaN or infinite"):
        read_audio(path)


@pytest.mark.parametrize(
    ("fmt", "subtype", "ext"),
    [
        ("WAV", "PCM_16", "wav"),
        ("WAVEX", "FLOAT", "wav"),
        ("RF64", "PCM_24", "wav"),
        ("AIFF", "PCM_16", "aiff"),
    ],
)
def test_truncated_file_names_the_file_and_both_counts(tmp_path: Path, fmt, subtype, ext):
    full = tmp_path / f"full.{ext}"
    sf.write(full, _tone(6000), 16000, format=fmt, subtype=subtype)
    cut = tmp_path / f"cut.{ext}"
    data = full.read_bytes()
    cut.write_bytes(data[: len(data) // 2])
    held = sf.info(str(cut)).frames
    assert 0 < held < 6000  # libsndfile reads the shorter clip without a word
    message = rf"cut\.{ext} is truncated: its header declares 6000 frames but the file holds {held}"
    with pytest.raises(ParameterError, match=message):
        as_waveforms([cut], sampling_rate=None, target_rate=16000)
    info = audio_info(cut)  # from the header alone
    assert info.truncated and (info.frames, info.declared_frames) == (held, 6000)
    complete = audio_info(full)
    assert not complete.truncated and complete.frames == complete.declared_frames == 6000
    assert len(read_audio(full)[0]) == 6000


def test_streamed_wav_without_a_length_is_not_called_truncated(tmp_path: Path):
    path = tmp_path / "streamed.wav"
    sf.write(path, _tone(1000), 16000, subtype="PCM_16")
    raw = bytearray(path.read_bytes())
    at = raw.index(b"data") + 4
    raw[at : at + 4] = b"\xff\xff\xff\xff"  # the "unknown length" marker of streaming writers
    path.write_bytes(bytes(raw))
    assert audio_info(path).declared_frames is None
    assert len(read_audio(path)[0]) == 1000


def test_unreadable_file_never_leaks_a_soundfile_error(tmp_path: Path):
    junk = tmp_path / "junk.wav"
    junk.write_bytes(b"RIFF" + bytes(range(256)) * 8)  # over 1 KiB, not audio
    with pytest.raises(ParameterError, match=r"cannot read audio file .*junk\.wav"):
        audio_info(junk)
    with pytest.raises(ParameterError, match=r"cannot read audio file .*junk\.wav"):
        read_audio(junk)


def test_integer_dtype_rule():
    # int8/int16/int32: full scale of the type; uint8: centred on 128
    np.testing.assert_array_equal(to_float32(np.array([-128, 64], np.int8)), [-1.0, 0.5])
    np.testing.assert_array_equal(to_float32(np.array([-(2**31), 2**30], np.int32)), [-1, 0.5])
    pcm = np.array([1000, -8000, 32767], np.int16)
    (wave,) = as_waveforms([pcm], sampling_rate=16000, target_rate=16000)
    np.testing.assert_array_equal(wave, pcm.astype(np.float32) / 32768)
    # int64 (numpy's default integer) has no known scale: it used to be divided by 2**63
    for X, origin in (
        ([pcm.astype(np.int64)], "int64"),
        ([[1000, -8000, 32767]], r"int64 \(a Python list of integers becomes int64\)"),
        (np.zeros((2, 100), np.int64), "int64"),
    ):
        with pytest.raises(ParameterError, match=rf"clip X\[0\] has integer dtype {origin}.*int16"):
            as_waveforms(X, sampling_rate=16000, target_rate=16000)
    for dtype in (np.uint16, np.uint32, np.uint64):
        with pytest.raises(
            ParameterError, match=rf"clip X\[1\] has integer dtype {dtype.__name__}"
        ):
            as_waveforms([pcm, np.zeros(10, dtype)], sampling_rate=16000, target_rate=16000)
    with pytest.raises(ParameterError, match=r"clip X\[0\] has complex dtype"):
        as_waveforms([np.zeros(10, complex)], sampling_rate=16000, target_rate=16000)


@pytest.mark.parametrize("shape", [(16000, 2), (16000, 1), (4800, 8), (9, 8)])
def test_2d_array_that_looks_like_channels_is_rejected(shape):
    X = np.zeros(shape, np.float32)
    with pytest.raises(ParameterError, match=rf"shape \({shape[0]}, {shape[1]}\).*multichannel"):
        as_waveforms(X, sampling_rate=16000, target_rate=16000)


def test_2d_array_with_few_long_rows_is_accepted():
    out = as_waveforms(np.zeros((8, 9), np.float32), sampling_rate=16000, target_rate=16000)
    assert [len(w) for w in out] == [9] * 8
    out = as_waveforms(np.zeros((2, 2), np.float32), sampling_rate=16000, target_rate=16000)
    assert len(out) == 2


def test_float_audio_at_pcm_scale_warns_naming_the_clips(tmp_path: Path):
    pcm_scale = _tone(1600) * 32767 / 0.5
    sf.write(tmp_path / "loud.wav", pcm_scale, 16000, subtype="FLOAT")
    X = [_tone(1600), pcm_scale, tmp_path / "loud.wav", 1.4 * _tone(1600) / 0.5]
    with pytest.warns(AudioWarning) as record:
        out = as_waveforms(X, sampling_rate=16000, target_rate=16000)
    [message] = [str(w.message) for w in record]
    assert message.startswith("2 clip(s) peak above 1.5")
    assert "clip X[1] (peak 32767)" in message and "loud.wav (X[2]) (peak 32767)" in message
    assert "X[0]" not in message and "X[3]" not in message  # 1.4 is a tolerated overshoot
    assert record[0].filename == __file__  # attributed to the caller
    np.testing.assert_array_equal(out[1], pcm_scale)  # kept as given, only warned about
    assert issubclass(AudioWarning, UserWarning)
    # one clip at a time (the streaming reader's path): warned at once
    with pytest.warns(AudioWarning, match=r"1 clip\(s\).*clip X\[7\] \(peak 32767\)"):
        load_clip(pcm_scale, 7, sampling_rate=16000, target_rate=16000)


def test_audio_layer_does_not_need_librosa():
    # resampling goes to soxr directly: librosa's first import compiles numba kernels
    # (tens of seconds on a fresh install), which made the first resampling test take 52 s
    code = (
        "import sys, numpy as np; from sertools.audio import as_waveforms; "
        "as_waveforms([np.zeros(1000, np.float32)], sampling_rate=16000, target_rate=8000); "
        "assert 'librosa' not in sys.modules, 'librosa imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# ------------------------------------------------------- property-based (hypothesis)

RATES = st.sampled_from([8000, 16000, 22050])
#: PCM-16 codes: every accepted dtype can hold them (int8/uint8: their top byte) exactly
PCM16 = st.integers(-(2**15), 2**15 - 1)
DTYPES = (
    "float32",
    "float64",
    "int16",
    "int32",
    "int8",
    "uint8",
    "pylist",
    "file-float",
    "file-pcm16",
)


def _in_form(codes: np.ndarray, form: str, folder: Path, sr: int) -> tuple[object, np.ndarray]:
    """One clip as ``form``, and its float32 equivalent (exact: chosen on a shared grid)."""
    if form in ("int8", "uint8"):
        codes8 = (codes >> 8).astype(np.int8)  # 8-bit PCM: the top byte
        equivalent = codes8.astype(np.float32) / 128
        item = codes8 if form == "int8" else (codes8.astype(np.int16) + 128).astype(np.uint8)
        return item, equivalent
    equivalent = codes.astype(np.float32) / 32768  # exact: 16 significant bits
    if form == "float32":
        return equivalent.copy(), equivalent
    if form == "float64":
        return equivalent.astype(np.float64), equivalent
    if form == "pylist":
        return equivalent.astype(np.float64).tolist(), equivalent
    if form == "int16":
        return codes.astype(np.int16), equivalent
    if form == "int32":
        return codes.astype(np.int32) << 16, equivalent  # same value at 32-bit full scale
    path = folder / f"clip{len(list(folder.iterdir()))}.wav"
    if form == "file-float":
        sf.write(path, equivalent, sr, subtype="FLOAT")
    else:
        sf.write(path, codes.astype(np.int16), sr, subtype="PCM_16")
    return str(path), equivalent


@st.composite
def valid_inputs(draw):
    """(X, float32 equivalents, sampling_rate) in a random accepted layout."""
    n = draw(st.integers(1, 4))
    sr = draw(RATES)
    layout = draw(st.sampled_from(["list", "tuple", "object", "2d"]))
    if layout == "2d":  # equal lengths, one array dtype; >= 9 columns: not (n, channels)
        length = draw(st.integers(9, 300))
        form = draw(st.sampled_from(DTYPES[:6]))
        lengths, forms = [length] * n, [form] * n
    else:
        lengths = draw(st.lists(st.integers(1, 300), min_size=n, max_size=n))
        forms = draw(st.lists(st.sampled_from(DTYPES), min_size=n, max_size=n))
    codes = [draw(hnp.arrays(np.int16, length, elements=PCM16)) for length in lengths]
    return layout, codes, forms, sr


def _build(layout, codes, forms, sr, folder):
    pairs = [_in_form(c, f, folder, sr) for c, f in zip(codes, forms, strict=True)]
    items = [item for item, _ in pairs]
    if layout == "tuple":
        X = tuple(items)
    elif layout == "object":
        X = np.empty(len(items), dtype=object)
        X[:] = items
    elif layout == "2d":
        X = np.stack(items)
    else:
        X = items
    return X, [eq for _, eq in pairs]


@settings(max_examples=60, deadline=None)
@given(valid_inputs(), st.sampled_from([16000, 22050]))
def test_property_any_valid_form_gives_its_float32_equivalent(case, target_rate):
    layout, codes, forms, sr = case
    with tempfile.TemporaryDirectory() as tmp:
        X, equivalents = _build(layout, codes, forms, sr, Path(tmp))
        got = as_waveforms(X, sampling_rate=sr, target_rate=target_rate)
    # exact: every form holds the same float32 values (a grid they all represent), and
    # the same float32 input goes through the same deterministic resampler
    expected = [
        as_waveforms([e], sampling_rate=sr, target_rate=target_rate)[0] for e in equivalents
    ]
    assert len(got) == len(expected)
    for g, e in zip(got, expected, strict=True):
        assert g.dtype == np.float32
        np.testing.assert_array_equal(g, e)


def _bad_item(kind: str, rng: np.random.Generator, folder: Path):
    """An invalid clip of ``kind``; returns (item, text its error must contain or None)."""
    if kind == "nan":
        x = rng.uniform(-1, 1, 50).astype(rng.choice([np.float32, np.float64]))
        x[rng.integers(50)] = rng.choice([np.nan, np.inf, -np.inf])
        return x, None
    if kind == "empty":
        return np.zeros(0, rng.choice([np.float32, np.int16])), None
    if kind == "2d-item":
        return np.zeros((2, 50), np.float32), None
    if kind == "int64":
        return rng.integers(-1000, 1000, 50), None  # numpy's default integer
    if kind == "int-list":
        return [int(v) for v in rng.integers(-1000, 1000, 50)], None
    if kind == "uint16":
        return np.zeros(50, np.uint16), None
    if kind == "junk":
        return [None, {"a": 1}, [0.1, "x"], np.array([True, False]), object()][
            rng.integers(5)
        ], None
    path = folder / f"bad-{kind}.wav"
    if kind == "nan-file":
        x = rng.uniform(-1, 1, 400).astype(np.float32)
        x[rng.integers(400)] = np.nan
        sf.write(path, x, 16000, subtype="FLOAT")
    elif kind == "truncated-file":
        sf.write(path, rng.uniform(-1, 1, 4000).astype(np.float32), 16000, subtype="PCM_16")
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2])
    else:  # not audio, over 1 KiB
        path.write_bytes(b"<html>" + b"x" * 2000)
    return str(path), path.name


BAD_KINDS = ["nan", "empty", "2d-item", "int64", "int-list", "uint16", "junk"]
BAD_KINDS += ["nan-file", "truncated-file", "junk-file"]


@settings(max_examples=60, deadline=None)
@given(valid_inputs(), st.sampled_from(BAD_KINDS), st.data())
def test_property_any_invalid_clip_raises_naming_it(case, kind, data):
    _, codes, forms, sr = case
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    with tempfile.TemporaryDirectory() as tmp:
        X, _ = _build("list", codes, forms, sr, Path(tmp))
        bad, text = _bad_item(kind, rng, Path(tmp))
        j = data.draw(st.integers(0, len(X)))
        X.insert(j, bad)
        if data.draw(st.booleans()):
            X = tuple(X)
        with pytest.raises(ParameterError) as info:
            as_waveforms(X, sampling_rate=sr, target_rate=16000)
    assert (text or f"X[{j}]") in str(info.value)


@settings(max_examples=30, deadline=None)
@given(st.integers(9, 2000), st.integers(1, 8), st.sampled_from([np.float32, np.int16]))
def test_property_array_shaped_like_channels_is_rejected(n_samples, n_channels, dtype):
    X = np.zeros((n_samples, n_channels), dtype)
    with pytest.raises(ParameterError, match="multichannel"):
        as_waveforms(X, sampling_rate=16000, target_rate=16000)


def test_a_fifo_or_a_folder_is_named_as_such(tmp_path):
    """#20: a FIFO or a directory in X was reported as "audio file not found"."""
    import os

    from sertools import MFCCEmbedder

    folder = tmp_path / "clips.wav"
    folder.mkdir()
    with pytest.raises(ParameterError, match=r"clips\.wav is a folder, not an audio file"):
        read_audio(folder)
    if hasattr(os, "mkfifo"):
        fifo = tmp_path / "pipe.wav"
        os.mkfifo(fifo)
        with pytest.raises(ParameterError, match=r"pipe\.wav is a FIFO \(named pipe\)"):
            audio_info(fifo)  # never opened: reading a FIFO would block
        with pytest.raises(ParameterError, match="FIFO"):
            MFCCEmbedder(cache=False).fit().transform([str(fifo)])
    with pytest.raises(ParameterError, match="audio file not found"):
        read_audio(tmp_path / "missing.wav")


def test_audio_warning_points_at_the_callers_line():
    """#26: AudioWarning was attributed to sklearn/utils/_set_output.py."""
    import warnings

    from sertools import MFCCEmbedder

    emb = MFCCEmbedder(sampling_rate=16000, cache=False).fit()
    loud = [_tone(4000) * 32767]
    for call in (emb.transform, emb.fit_transform):
        with warnings.catch_warnings(record=True) as record:
            warnings.simplefilter("always")
            call(loud)
        audio = [w for w in record if issubclass(w.category, AudioWarning)]
        assert len(audio) == 1
        assert audio[0].filename == __file__, audio[0].filename
