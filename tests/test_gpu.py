"""The GPU path: engine, exact batches, reduced precision and the DNN on CUDA.

Every test here needs a CUDA device and skips with the reason without one (the
CPU behaviour of the same code is covered by test_engine.py, test_exact.py,
test_s3prl.py, test_nemo.py and test_dnn.py). Backends are imported per test:
the S3PRL tests run on the s3prl stack, the NeMo test on the nemo stack.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from _signals import noisy_tones, row_cosine  # noqa: E402

from sertools.features._engine import extract, masked_mean  # noqa: E402

pytestmark = pytest.mark.skipif(
    not torch.cuda.is_available(), reason="needs a CUDA GPU (torch.cuda.is_available() is False)"
)

SR = 16000
CPU = torch.device("cpu")
#: float32 on the GPU vs the CPU: cuDNN runs convolutions in TF32 by default
#: (10 mantissa bits, relative error ~1e-3 per op), so a pooled vector moves by
#: ~1e-3 relative: cosine >= 0.9999 with margin
GPU_VS_CPU_COSINE = 0.9999


@pytest.fixture(scope="module")
def clips() -> list[np.ndarray]:
    return noisy_tones([480, 8_000, 20_800, 44_800, 112_000, 224_000, 496_000], sampling_rate=SR)


class FrameModel(torch.nn.Module):
    """A strided conv + masked mean: the engine's contract with a real torch module."""

    sampling_rate = SR
    n_features = 8
    min_samples = 400

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.conv = torch.nn.Conv1d(1, self.n_features, kernel_size=160, stride=160)
        self.devices: list[str] = []

    def forward(self, batch, lengths):
        self.devices.append(batch.device.type)
        hidden = torch.tanh(self.conv(batch[:, None, :])).transpose(1, 2)
        return masked_mean(hidden, lengths // 160)


def test_engine_on_cuda_equals_cpu(clips):
    model = FrameModel().eval()
    cpu = extract(clips, model, device=CPU, max_batch_samples=30 * SR)
    gpu = extract(clips, model.cuda(), device=torch.device("cuda"), max_batch_samples=30 * SR)
    assert set(model.devices) == {"cpu", "cuda"}
    assert gpu.dtype == np.float32 and gpu.shape == cpu.shape
    assert row_cosine(gpu, cpu).min() >= GPU_VS_CPU_COSINE


@pytest.mark.parametrize("precision", ["bf16", "fp16"])
def test_engine_autocast_on_cuda(precision, clips):
    model = FrameModel().eval().cuda()
    cuda = torch.device("cuda")
    ref = extract(clips, model, device=cuda, max_batch_samples=30 * SR)
    low = extract(clips, model, device=cuda, max_batch_samples=30 * SR, precision=precision)
    assert low.dtype == np.float32 and not np.array_equal(low, ref)
    assert row_cosine(low, ref).min() >= 0.999  # 8 (bf16) / 11 (fp16) mantissa bits


# --- S3PRL wav2vec 2.0 / HuBERT: exact batches and precision on the GPU --------------------------
@pytest.fixture(scope="module")
def s3prl_checkpoints(tmp_path_factory) -> dict[str, Path]:
    pytest.importorskip("s3prl", reason="needs s3prl (the s3prl stack)")
    import _tiny_s3prl as T

    folder = tmp_path_factory.mktemp("gpu_ckpt")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        return {
            "wav2vec2": T.save(T.wav2vec2_state(), folder / "wav2vec2.pt"),
            "hubert": T.save(T.hubert_state(), folder / "hubert.pt"),
        }


def _s3prl(family: str, path: Path, **params):
    from sertools import HubertEmbedder, Wav2Vec2Embedder

    cls = {"wav2vec2": Wav2Vec2Embedder, "hubert": HubertEmbedder}[family]
    return cls(checkpoint=str(path), sampling_rate=SR, layer="all", **params)


def _min_layer_cosine(A: np.ndarray, B: np.ndarray, n_layers: int) -> float:
    a = A.reshape(len(A), n_layers, -1).astype(np.float64)
    b = B.reshape(len(B), n_layers, -1).astype(np.float64)
    cos = (a * b).sum(-1) / (np.linalg.norm(a, axis=-1) * np.linalg.norm(b, axis=-1))
    return float(cos.min())


@pytest.mark.parametrize("family", ["wav2vec2", "hubert"])
def test_s3prl_on_cuda(family, s3prl_checkpoints, clips):
    """On the GPU: batched = one at a time (every layer), GPU = CPU, "auto" batches 120 s."""
    path = s3prl_checkpoints[family]
    cpu = _s3prl(family, path, device="cpu", batch_seconds=1e-3).fit()
    single = _s3prl(family, path, device="cuda", batch_seconds=1e-3).fit()
    auto = _s3prl(family, path, device="cuda").fit()
    assert auto._batch_seconds() == 120.0
    C, S, B = cpu.transform(clips), single.transform(clips), auto.transform(clips)
    n_layers = cpu.n_layers_
    assert _min_layer_cosine(B, S, n_layers) >= 0.99999  # same device, same kernels
    assert _min_layer_cosine(S, C, n_layers) >= GPU_VS_CPU_COSINE


@pytest.mark.parametrize("precision", ["bf16", "fp16"])
def test_s3prl_reduced_precision_drift_is_bounded(precision, s3prl_checkpoints, clips):
    path = s3prl_checkpoints["hubert"]
    ref = _s3prl("hubert", path, device="cuda", batch_seconds=30.0).fit()
    low = _s3prl("hubert", path, device="cuda", batch_seconds=30.0, precision=precision).fit()
    R, L = ref.transform(clips), low.transform(clips)
    assert not np.array_equal(L, R)
    # bf16: 8 mantissa bits, ~4e-3 relative per op; measured >= 0.9999 on a CPU
    assert _min_layer_cosine(L, R, ref.n_layers_) >= 0.999


# --- NeMo -----------------------------------------------------------------------------------------
def test_nemo_on_cuda_equals_cpu(tmp_path, clips):
    pytest.importorskip("nemo", reason="needs NeMo (the nemo stack)")
    import _tiny_nemo

    from sertools import TitaNetEmbedder

    path = _tiny_nemo.save_model("titanet", tmp_path / "titanet.nemo")
    cpu = TitaNetEmbedder(model=str(path), device="cpu", sampling_rate=SR).fit()
    gpu = TitaNetEmbedder(model=str(path), device="cuda", sampling_rate=SR).fit()
    assert gpu._batch_seconds() == 120.0
    assert row_cosine(gpu.transform(clips), cpu.transform(clips)).min() >= GPU_VS_CPU_COSINE


# --- the DNN ---------------------------------------------------------------------------------
def test_dnn_trains_on_cuda():
    from sklearn.datasets import make_blobs
    from sklearn.metrics import balanced_accuracy_score

    from sertools.models import DNNClassifier

    X, y = make_blobs(n_samples=300, centers=4, n_features=20, random_state=0)
    X = X.astype(np.float32)
    params = {"max_epochs": 30, "early_stopping": False, "random_state": 0}
    gpu = DNNClassifier(device="cuda", **params).fit(X, y)
    assert next(gpu.module_.parameters()).device.type == "cuda"
    proba = gpu.predict_proba(X)
    assert isinstance(proba, np.ndarray) and proba.shape == (300, 4)
    cpu = DNNClassifier(device="cpu", **params).fit(X, y)
    # separable blobs: both devices learn them (the runs differ in float order only)
    assert balanced_accuracy_score(y, gpu.predict(X)) >= 0.95
    assert balanced_accuracy_score(y, cpu.predict(X)) >= 0.95
