"""A backend failure inside the neural engine is a clear error naming the clips."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import soundfile as sf
import torch

from sertools import BackendError, ParameterError
from sertools.features._engine import extract
from sertools.features._neural import NeuralEmbedder, clear_backend_cache

CPU = torch.device("cpu")
KERNEL = 160


class ConvModel(torch.nn.Module):
    """A strided conv + mean: torch itself rejects inputs shorter than the kernel."""

    sampling_rate = 16000
    n_features = 4
    min_samples = 1  # so that a too-short clip reaches the convolution unpadded

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.conv = torch.nn.Conv1d(1, self.n_features, kernel_size=KERNEL, stride=KERNEL)

    def forward(self, batch: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        return self.conv(batch[:, None, :]).mean(dim=2)


class HungryModel(ConvModel):
    """Asks for a petabyte per second of audio: a real allocation failure of torch."""

    def forward(self, batch: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        torch.empty((batch.shape[0], batch.shape[1], 1 << 36), dtype=torch.uint8)
        return super().forward(batch, lengths)


def clips(*lengths: int) -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    return [rng.standard_normal(n).astype(np.float32) for n in lengths]


def test_torch_error_names_the_clip_and_is_chained() -> None:
    waves = clips(16000, 100, 4800)  # X[1] is shorter than the kernel
    with pytest.raises(BackendError, match=r"ConvModel failed .* clips X\[1\] ") as info:
        extract(waves, ConvModel().eval(), device=CPU, max_batch_samples=1, desc="ConvModel")
    error = info.value
    assert isinstance(error, RuntimeError)
    assert error.clips == (1,) and not error.out_of_memory
    assert isinstance(error.__cause__, RuntimeError)
    assert "Kernel size" in str(error.__cause__) and "Kernel size" in str(error)
    assert "memory" not in str(error)


def test_out_of_memory_says_so_and_names_every_clip_of_the_batch() -> None:
    waves = clips(16000, 3200, 4800)
    with pytest.raises(BackendError, match=r"ran out of memory.*smaller batch_seconds") as info:
        extract(waves, HungryModel().eval(), device=CPU, max_batch_samples=10**9)
    assert info.value.out_of_memory
    assert info.value.clips == (0, 1, 2)
    assert "X[0], X[1], X[2]" in str(info.value)
    assert "can't allocate memory" in str(info.value.__cause__)
    assert "max_chunk_seconds" not in str(info.value)  # the batch had 3 pieces
    with pytest.raises(BackendError, match="single piece: pass a smaller max_chunk_seconds"):
        extract(waves, HungryModel().eval(), device=CPU, max_batch_samples=1)


def test_chunks_of_one_clip_name_that_clip() -> None:
    waves = clips(200, 230)  # X[1] splits into two pieces of 115 samples, shorter than the kernel
    with pytest.raises(BackendError) as info:
        extract(waves, ConvModel().eval(), device=CPU, max_batch_samples=1, max_chunk_samples=200)
    assert info.value.clips == (1,)


def test_backend_parameter_errors_pass_unchanged() -> None:
    class Picky(ConvModel):
        def forward(self, batch, lengths):
            raise ParameterError("clip too quiet")

    with pytest.raises(ParameterError, match=r"^clip too quiet$"):
        extract(clips(1600), Picky(), device=CPU, max_batch_samples=1)


def test_error_pickles_with_its_clips() -> None:
    """joblib sends errors from worker processes back pickled."""
    error = BackendError("failed", (3, 5), True)
    restored = pickle.loads(pickle.dumps(error))
    assert str(restored) == "failed" and restored.clips == (3, 5) and restored.out_of_memory


class ConvEmbedder(NeuralEmbedder):
    """The smallest neural embedder: the engine and the transform path, nothing else."""

    _feature_prefix = "conv"

    def __init__(self, *, batch_seconds: float | str = 1e-6, sampling_rate: int | None = None):
        self.device = "cpu"
        self.batch_seconds = batch_seconds
        self.max_chunk_seconds = None
        self.n_threads = None
        self.sampling_rate = sampling_rate
        self.verbose = False

    def _backend_key(self) -> tuple:
        return ("conv",)

    def _make_backend(self, device):
        return ConvModel().eval()


def test_transform_names_the_failing_file(tmp_path) -> None:
    clear_backend_cache()
    good, short = tmp_path / "good.wav", tmp_path / "short.wav"
    sf.write(good, clips(16000)[0] * 0.1, 16000)
    sf.write(short, clips(100)[0] * 0.1, 16000)
    embedder = ConvEmbedder(sampling_rate=16000).fit()
    assert embedder.transform([str(good)]).shape == (1, 4)
    with pytest.raises(BackendError, match=rf"clips X\[2\] .*Files: X\[2\]: {short}$") as info:
        embedder.transform([str(good), clips(16000)[0], str(short)])
    assert info.value.clips == (2,)
    assert "Kernel size" in str(info.value.__cause__)
    # clips given as arrays have no file to name
    with pytest.raises(BackendError, match=r"clips X\[0\] .*Kernel size") as info:
        embedder.transform([clips(100)[0]])
    assert "Files" not in str(info.value)
    clear_backend_cache()
