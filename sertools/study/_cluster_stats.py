"""Speaker-level (cluster) bootstrap intervals: the shared resampling, and the CCC's.

Beside :mod:`.stats` (the UAR's interval and the paired tests):
:func:`cluster_interval` resamples the speakers of per-speaker sums (confusion
counts for the UAR, moment sums for the CCC), so that a resample costs one sum
per speaker; :func:`cluster_bootstrap_ccc` is the dimensional study's pooled CCC
with its interval.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from scipy import stats as sps

from .._exceptions import ParameterError
from ..metrics import ccc

__all__ = ["cluster_bootstrap_ccc"]


def cluster_interval(
    value: float,
    per_group: np.ndarray,
    statistic: Callable[[np.ndarray], np.ndarray],
    *,
    n_boot: int,
    confidence: float,
    random_state: int | None,
) -> tuple[float, float, float]:
    """``(value, low, high)``: ``value`` and the percentile interval of ``statistic``.

    ``per_group`` holds one row of sums per group (shape ``(n_groups, ...)``);
    each of ``n_boot`` resamples draws ``n_groups`` groups with replacement
    (:func:`scipy.stats.bootstrap`, vectorised) and ``statistic`` receives the
    sums of the drawn rows (shape ``(..., *per_group.shape[1:])``). With fewer
    than two groups there is nothing to resample: ``low`` and ``high`` are
    ``value``.
    """
    if len(per_group) < 2:
        return value, value, value

    def resampled(idx: np.ndarray, axis: int = -1) -> np.ndarray:
        idx = np.asarray(idx, dtype=int)
        return statistic(per_group[idx].sum(axis=-per_group.ndim))

    res = sps.bootstrap(
        (np.arange(len(per_group)),),
        resampled,
        n_resamples=int(n_boot),
        confidence_level=confidence,
        method="percentile",
        vectorized=True,
        random_state=np.random.default_rng(random_state),
    )
    low, high = res.confidence_interval
    return value, float(low), float(high)


def _moments(y_true: np.ndarray, y_pred: np.ndarray, groups: np.ndarray) -> tuple[np.ndarray, int]:
    """Per-group sums (n, St, Sp, Stt, Spp, Stp) of shape (n_groups, 6), and n_groups."""
    _, g = np.unique(groups, return_inverse=True)
    n_g = int(g.max()) + 1
    stats = np.column_stack(
        [np.ones_like(y_true), y_true, y_pred, y_true * y_true, y_pred * y_pred, y_true * y_pred]
    )
    sums = np.zeros((n_g, 6))
    np.add.at(sums, g, stats)
    return sums, n_g


def _ccc_from_sums(s: np.ndarray) -> np.ndarray:
    """CCC (population moments) from summed moments ``s[..., 6]``."""
    n = s[..., 0]
    mt, mp = s[..., 1] / n, s[..., 2] / n
    vt = s[..., 3] / n - mt * mt
    vp = s[..., 4] / n - mp * mp
    cov = s[..., 5] / n - mt * mp
    denom = vt + vp + (mt - mp) ** 2
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denom > 0, 2 * cov / np.where(denom > 0, denom, 1.0), 1.0)


def cluster_bootstrap_ccc(
    y_true: Any,
    y_pred: Any,
    groups: Any,
    *,
    n_boot: int = 1000,
    confidence: float = 0.95,
    random_state: int | None = 0,
) -> tuple[float, float, float]:
    """CCC and its speaker-level (cluster) bootstrap confidence interval.

    Each resample draws as many speakers as there are, with replacement, and
    pools all their predictions; the CCC of a resample uses the population
    moments of the pooled predictions (as :func:`sertools.metrics.ccc`). The
    interval is the percentile interval of :func:`scipy.stats.bootstrap` over
    the speakers: utterances of one speaker are correlated, so resampling
    utterances would give too narrow an interval.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_predictions,)
        Ratings and out-of-fold predictions of one dimension (every repeat pooled).
    groups : array-like of shape (n_predictions,)
        Speaker of each prediction.
    n_boot : int, default=1000
        Bootstrap resamples.
    confidence : float, default=0.95
        Coverage of the interval.
    random_state : int or None, default=0
        Seed of the resampling.

    Returns
    -------
    ccc : float
        CCC of all predictions pooled (:func:`sertools.metrics.ccc`).
    low, high : float
        Interval bounds; both equal ``ccc`` when there is one speaker.

    Raises
    ------
    ParameterError
        For non-finite values, mismatched lengths, ``confidence`` outside
        (0, 1) or ``n_boot`` below 1.

    Examples
    --------
    >>> import numpy as np
    >>> from sertools.study.dimensional import cluster_bootstrap_ccc
    >>> rng = np.random.default_rng(0)
    >>> y = rng.normal(size=120)
    >>> speakers = np.repeat(np.arange(12), 10)
    >>> value, low, high = cluster_bootstrap_ccc(y, y + rng.normal(0, 0.5, 120), speakers)
    >>> bool(low < value < high), round(value, 2)
    (True, 0.86)
    """
    if not 0 < confidence < 1:
        raise ParameterError(f"confidence must be in (0, 1), got {confidence!r}")
    if not isinstance(n_boot, (int, np.integer)) or n_boot < 1:
        raise ParameterError(f"n_boot must be an integer >= 1, got {n_boot!r}")
    value = float(ccc(y_true, y_pred))  # validates the ratings and predictions
    t = np.asarray(y_true, dtype=np.float64).ravel()
    p = np.asarray(y_pred, dtype=np.float64).ravel()
    g = np.asarray(groups)
    if g.shape != t.shape:
        raise ParameterError(f"groups has shape {g.shape}; expected {t.shape} like y_true")
    # centre on the pooled means: the moment sums then lose no precision
    sums, _ = _moments(t - t.mean(), p - t.mean(), g)
    return cluster_interval(
        value, sums, _ccc_from_sums, n_boot=n_boot, confidence=confidence, random_state=random_state
    )
