"""sertools.utils: the device policy, thread control and the scikit-learn shim."""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
import pytest
import torch

import sertools
from sertools import ParameterError
from sertools.features._checkpoints import file_sha256, fingerprint_files
from sertools.utils import _sklearn_compat as compat
from sertools.utils import resolve_device, torch_threads


@pytest.mark.parametrize("bad", ["gpu0", "gpu", "cuda0", "CPU", "cpu:0", "cuda:x", "auto:1", "", 0])
def test_resolve_device_rejects_what_is_not_a_device(bad):
    with pytest.raises(ParameterError, match="is not a device: expected 'auto', 'cpu'"):
        resolve_device(bad)


def test_resolve_device_cpu_and_auto():
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device(torch.device("cpu")) == torch.device("cpu")
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert resolve_device("auto").type == expected


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the no-CUDA error")
@pytest.mark.parametrize("device", ["cuda", "cuda:0", "cuda:7"])
def test_resolve_device_without_cuda(device):
    with pytest.raises(ParameterError, match="CUDA is not available"):
        resolve_device(device)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_resolve_device_cuda_index():
    n = torch.cuda.device_count()
    assert resolve_device(f"cuda:{n - 1}") == torch.device("cuda", n - 1)
    with pytest.raises(ParameterError, match=f"no such CUDA device; this machine has {n}"):
        resolve_device(f"cuda:{n}")


def test_one_device_policy_everywhere():
    from sertools.features import _engine
    from sertools.models import dnn

    assert _engine.resolve_device is resolve_device
    assert _engine.torch_threads is torch_threads
    assert dnn.resolve_device is resolve_device
    with pytest.raises(ParameterError, match="'gpu0' is not a device"):
        dnn.DNNClassifier(device="gpu0").fit(np.zeros((4, 2)), [0, 1, 0, 1])
    with pytest.raises(ParameterError, match="'gpu0' is not a device"):
        sertools.NeMoEmbedder(device="gpu0").fit()


def test_torch_threads_restores_the_count():
    before = torch.get_num_threads()
    torch.set_num_threads(3)
    try:
        with torch_threads(1):
            assert torch.get_num_threads() == 1
        assert torch.get_num_threads() == 3
        with pytest.raises(KeyError), torch_threads(2):
            raise KeyError("inside")
        assert torch.get_num_threads() == 3
        with torch_threads(None):
            assert torch.get_num_threads() == 3
    finally:
        torch.set_num_threads(before)


# --- the scikit-learn shim ---------------------------------------------------------
def _every_constraint_table():
    from sertools.features import MelSpectrogramEmbedder, MFCCEmbedder, NeMoEmbedder
    from sertools.features.s3prl import S3PRLEmbedder
    from sertools.models import DNNClassifier

    classes = [MelSpectrogramEmbedder, MFCCEmbedder, NeMoEmbedder, S3PRLEmbedder, DNNClassifier]
    return {cls.__name__: cls._parameter_constraints for cls in classes}


# values probing every kind of constraint sertools uses: bounds, types, bools, None, strings
PROBES = [
    None, True, False, np.True_, 0, 1, 2, 15, 16, 999, 1000, 2**33, -1, 0.0, 0.5, 1.0, 1.5,
    float("nan"), float("inf"), np.int64(3), np.float32(0.25), "auto", "mean", "mean+std",
    "cpu", "hann", "x", "", b"mean", [1], np.random.RandomState(0),
]  # fmt: skip


def test_fallback_validation_agrees_with_scikit_learn():
    """The fallback accepts and rejects exactly what scikit-learn does, for every
    parameter of every sertools estimator (so a scikit-learn without the private
    module changes nothing)."""
    n_checked = 0
    for caller, table in _every_constraint_table().items():
        fallback_table = {
            name: [_to_fallback(c) for c in constraints] for name, constraints in table.items()
        }
        for name in table:
            for value in PROBES:
                try:
                    compat.validate_parameter_constraints(table, {name: value}, caller)
                    sklearn_ok, sk_msg = True, ""
                except compat.InvalidParameterError as exc:
                    sklearn_ok, sk_msg = False, str(exc)
                try:
                    compat._fallback_validate(fallback_table, {name: value}, caller)
                    fallback_ok = True
                except compat.InvalidParameterError as exc:
                    fallback_ok = False
                    assert f"The {name!r} parameter of {caller} must be" in str(exc)
                assert fallback_ok == sklearn_ok, (caller, name, value, sk_msg)
                n_checked += 1
    assert n_checked > 500


def _to_fallback(constraint):
    if isinstance(constraint, compat.Interval):
        return compat._FallbackInterval(
            constraint.type, constraint.left, constraint.right, closed=constraint.closed
        )
    if isinstance(constraint, compat.StrOptions):
        return compat._FallbackStrOptions(constraint.options)
    return constraint


def test_fallback_interval_messages():
    assert str(compat._FallbackInterval(Integral, 1, None, closed="left")) == (
        "an int in the range [1, inf)"
    )
    assert str(compat._FallbackInterval(Real, 0, 1, closed="neither")) == (
        "a float in the range (0, 1)"
    )


def test_bad_parameter_is_a_parameter_error_and_sklearns():
    from sklearn.utils._param_validation import InvalidParameterError

    with pytest.raises(ParameterError, match="'n_mfcc' parameter of MFCCEmbedder") as info:
        sertools.MFCCEmbedder(n_mfcc=0).fit()
    assert isinstance(info.value, InvalidParameterError)  # code catching sklearn's still works


# --- checkpoint fingerprints ---------------------------------------------------------
def test_file_hash_is_cached_by_file_token(tmp_path):
    import hashlib
    import os

    f = tmp_path / "model.bin"
    f.write_bytes(b"abc" * 1000)
    expected = hashlib.sha256(b"abc" * 1000).hexdigest()
    assert file_sha256(f) == expected
    assert fingerprint_files([f]) == f"sha256:{expected}"
    assert fingerprint_files([]) == ""
    # rewritten in place with the same size and the modification time restored: the
    # status-change time moved (utils._files.file_token), so the file is hashed again
    stat = f.stat()
    f.write_bytes(b"xyz" * 1000)
    os.utime(f, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert file_sha256(f) == hashlib.sha256(b"xyz" * 1000).hexdigest()


def test_folder_fingerprint_covers_every_file(tmp_path):
    (tmp_path / "a").write_bytes(b"1")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b").write_bytes(b"2")
    first = fingerprint_files([tmp_path])
    (tmp_path / "sub" / "b").write_bytes(b"3")
    os_stat = (tmp_path / "sub" / "b").stat()
    assert os_stat.st_size == 1
    import os

    os.utime(tmp_path / "sub" / "b", ns=(os_stat.st_atime_ns, os_stat.st_mtime_ns + 10**9))
    assert fingerprint_files([tmp_path]) not in ("", first)


def test_signal_features_have_an_empty_fingerprint():
    assert sertools.MFCCEmbedder(sampling_rate=16000).fit().model_fingerprint_ == ""


# ---- progress bars ---------------------------------------------------------------------
class _Terminal:
    """A standard error that says it is a terminal and keeps what is written."""

    def __init__(self) -> None:
        self.text = ""

    def write(self, s: str) -> int:
        self.text += s
        return len(s)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return True


class _MeanBackend:
    sampling_rate, n_features, min_samples = 16000, 1, 1

    def __call__(self, batch, lengths):
        return batch.sum(dim=1, keepdim=True) / lengths[:, None]


def test_one_bar_at_a_time_and_only_on_a_terminal(monkeypatch, capsys):
    """Nested loops (an embedder's clips, the engine's batches) draw one bar, never two."""
    from sertools.features._engine import extract
    from sertools.utils._progress import progress_bar

    waves = [np.ones(n, np.float32) for n in (16000, 48000, 8000)]

    def run() -> None:
        with progress_bar(total=3, desc="outer", unit="clip", enabled=True) as bar:
            extract(
                waves,
                _MeanBackend(),
                device=torch.device("cpu"),
                max_batch_samples=16000,
                max_chunk_samples=16000,
                verbose=True,
                desc="inner",
            )  # 5 pieces
            bar.update(3)

    terminal = _Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    run()
    assert "outer" in terminal.text and "0/3" in terminal.text
    assert "inner" not in terminal.text and "/5" not in terminal.text
    # alone, the engine's bar shows
    terminal.text = ""
    extract(
        waves,
        _MeanBackend(),
        device=torch.device("cpu"),
        max_batch_samples=16000,
        verbose=True,
        desc="inner",
    )
    assert "inner" in terminal.text
    # not a terminal (a log, CI, a notebook's stored output): no bar at all
    monkeypatch.undo()
    run()
    assert capsys.readouterr().err == ""


def test_verbose_embedder_off_a_terminal_prints_its_summary_only(capsys):
    emb = sertools.MFCCEmbedder(sampling_rate=16000, verbose=True, cache=False).fit()
    emb.transform([np.zeros(16000, np.float32)] * 2)
    err = capsys.readouterr().err
    assert err == "MFCCEmbedder: 2 clips, 2 embedded, 0 from the cache\n"


# --- the one random-state guard ------------------------------------------------------------
def test_keep_global_rng_restores_every_global_stream_even_on_error():
    """Python's, NumPy's and torch's global generators come back as they were on entry."""
    import random

    from sertools.utils._rng import keep_global_rng

    def draw():
        return random.random(), float(np.random.random()), torch.rand(1).item()  # noqa: NPY002

    def seed(value):
        random.seed(value)
        np.random.seed(value)  # noqa: NPY002 (the legacy global stream is the point)
        torch.manual_seed(value)

    seed(7)
    expected = draw()
    seed(7)
    with keep_global_rng():
        seed(0)  # what S3PRL does while loading a model
        draw()
    assert draw() == expected
    seed(7)
    with pytest.raises(RuntimeError, match="boom"), keep_global_rng():
        seed(0)
        raise RuntimeError("boom")
    assert draw() == expected
    seed(7)
    with keep_global_rng(cuda_devices=[]):  # CPU streams only: no CUDA state touched
        seed(0)
    assert draw() == expected


def test_every_backend_guards_the_rng_with_the_one_helper():
    """No family keeps its own copy of the guard (hf, s3prl load under keep_global_rng)."""
    from pathlib import Path

    features = Path(sertools.__file__).parent / "features"
    for path in features.glob("*.py"):
        text = path.read_text()
        assert "fork_rng" not in text and "random.getstate" not in text, path.name
    for family in ("hf.py", "s3prl.py"):
        assert "keep_global_rng()" in (features / family).read_text()


def test_utils_import_nothing_from_the_package_root():
    """sertools.utils sits below the root: it imports the modules it needs, never ``sertools``."""
    import ast
    from pathlib import Path

    for path in (Path(sertools.__file__).parent / "utils").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                root = node.level == 2 and node.module is None
                absolute = node.level == 0 and node.module == "sertools"
                assert not (root or absolute), f"{path.name}:{node.lineno}"
