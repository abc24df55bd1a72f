"""Test signals and comparisons shared by the neural-embedder tests and benchmarks."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def noisy_tones(
    lengths: Sequence[int], *, sampling_rate: int = 16000, seed: int = 0
) -> list[np.ndarray]:
    """Ragged clips: tones alternating between 150 and 300 Hz plus a little noise.

    Parameters
    ----------
    lengths : sequence of int
        Length of each clip in samples.
    sampling_rate : int, default=16000
    seed : int, default=0
        Seed of the noise.

    Returns
    -------
    list of ndarray of shape (lengths[i],), float32
        Clip ``i`` is at 150 Hz for even ``i``, 300 Hz for odd ``i``.
    """
    rng = np.random.default_rng(seed)
    clips = []
    for i, n in enumerate(lengths):
        tone = 0.3 * np.sin(2 * np.pi * (150, 300)[i % 2] * np.arange(n) / sampling_rate)
        clips.append((tone + 0.05 * rng.standard_normal(n)).astype(np.float32))
    return clips


def row_cosine(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Cosine similarity of matching rows of two ``(n, d)`` arrays (or of two vectors)."""
    return (a * b).sum(-1) / (np.linalg.norm(a, axis=-1) * np.linalg.norm(b, axis=-1))
