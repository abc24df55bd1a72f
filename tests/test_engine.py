"""The shared neural extraction engine, exercised with a small real torch model."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from _tolerance import assert_reordered_close

from sertools.features._engine import (
    extract,
    masked_mean,
    plan_batches,
    resolve_device,
    split_chunks,
    torch_threads,
)

HOP = 160


class FrameModel(torch.nn.Module):
    """A strided conv front end + masked mean pooling (padding-exact by design)."""

    sampling_rate = 16000
    n_features = 8
    min_samples = 400

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.conv = torch.nn.Conv1d(1, self.n_features, kernel_size=HOP, stride=HOP)
        self.calls: list[tuple[int, int]] = []

    def forward(self, batch: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        self.calls.append(tuple(batch.shape))
        assert not torch.is_grad_enabled()
        hidden = torch.tanh(self.conv(batch[:, None, :])).transpose(1, 2)
        return masked_mean(hidden, lengths // HOP)


@pytest.fixture
def waves():
    rng = np.random.default_rng(0)
    return [rng.standard_normal(n).astype(np.float32) for n in (16000, 3200, 48000, 4800, 1600)]


CPU = torch.device("cpu")


def test_batched_equals_one_at_a_time_and_order_is_restored(waves):
    model = FrameModel().eval()
    batched = extract(waves, model, device=CPU, max_batch_samples=10**9)
    assert len(model.calls) == 1 and model.calls[0] == (5, 48000)  # one padded batch
    single = np.stack([extract([w], model, device=CPU, max_batch_samples=1)[0] for w in waves])
    # float32, other summation order: see tests/_tolerance.py
    assert_reordered_close(batched, single)


def test_budget_limits_padded_audio(waves):
    model = FrameModel().eval()
    extract(waves, model, device=CPU, max_batch_samples=20000)
    assert all(b * t <= 20000 or b == 1 for b, t in model.calls)
    assert sum(b for b, _ in model.calls) == len(waves)


def test_chunking_averages_by_duration(waves):
    model = FrameModel().eval()
    long = waves[2]  # 48000 samples -> 3 chunks of 16000
    got = extract([long], model, device=CPU, max_batch_samples=10**9, max_chunk_samples=16000)
    parts = [
        extract([long[a:b]], model, device=CPU, max_batch_samples=1)[0]
        for a, b in split_chunks(len(long), 16000)
    ]
    # float32, other summation order: see tests/_tolerance.py
    assert_reordered_close(got[0], np.mean(parts, axis=0))
    assert max(t for _, t in model.calls) <= 16000  # memory stays bounded


class SampleMean(torch.nn.Module):
    """Mean of each clip's valid samples (one feature): chunking must not change it."""

    sampling_rate = 16000
    n_features = 1
    min_samples = 1

    def forward(self, batch: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        return masked_mean(batch[:, :, None], lengths)


def test_chunks_of_unequal_length_are_weighted_by_duration():
    x = np.arange(10, dtype=np.float32) ** 2  # chunks of 3, 4 and 3 samples
    got = extract([x], SampleMean(), device=CPU, max_batch_samples=10**9, max_chunk_samples=4)
    # the duration-weighted mean of the chunk means is the clip mean (28.5); an
    # unweighted one would be 29.28. float32 sums of a few small integers: exact to 1e-6
    np.testing.assert_allclose(got[0, 0], x.mean(), rtol=1e-6)


def test_short_clips_are_padded_to_the_minimum():
    model = FrameModel().eval()
    out = extract([np.ones(100, np.float32)], model, device=CPU, max_batch_samples=1)
    assert model.calls == [(1, 400)] and np.isfinite(out).all()


def test_helpers():
    assert split_chunks(10, None) == [(0, 10)]
    assert split_chunks(10, 4) == [(0, 3), (3, 7), (7, 10)]
    assert plan_batches([3, 1, 2], max_batch_samples=1) == [[0], [2], [1]]
    assert sorted(i for b in plan_batches([5, 4, 3, 2, 1], max_batch_samples=8) for i in b) == [
        0,
        1,
        2,
        3,
        4,
    ]
    h = torch.arange(12, dtype=torch.float32).reshape(2, 3, 2)
    np.testing.assert_allclose(masked_mean(h, torch.tensor([1, 3])).numpy(), [[0, 1], [8, 9]])
    assert resolve_device("cpu") == CPU
    before = torch.get_num_threads()
    torch.set_num_threads(3)
    try:
        with torch_threads(1):
            assert torch.get_num_threads() == 1
        assert torch.get_num_threads() == 3
        with pytest.raises(RuntimeError, match="inside"), torch_threads(1):
            raise RuntimeError("inside")
        assert torch.get_num_threads() == 3  # restored after an exception too
    finally:
        torch.set_num_threads(before)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the no-CUDA error")
def test_cuda_missing_is_a_clear_error():
    from sertools import ParameterError

    with pytest.raises(ParameterError, match="CUDA is not available"):
        resolve_device("cuda")
