"""One justified tolerance for float32 results that may be summed in another order.

Two evaluations of the same float32 features differ when their sums run in a
different order: another BLAS/oneDNN kernel (CPU model, SIMD width), another
thread count (a joblib worker is limited to fewer BLAS threads than the parent),
another batch shape (batched vs one clip at a time, a permuted batch), or
another but equivalent reduction (mean of layers then time vs time then layers).
float32 has eps = 1.19e-7; a sum of n terms reordered moves by up to about
n * eps relative to the sum of the terms' magnitudes. The features here come
from matmuls, convolutions and time pooling over a few hundred to a few thousand
terms, so:

* ``rtol=1e-4``: about 840 ulp, n * eps for n ~ 1000;
* plus ``row_atol=1e-5`` times the largest magnitude of the row (one clip's
  vector): a coefficient that cancels to near zero (an MFCC near 0 next to a C0
  of -300) keeps an absolute error of the size of the terms, not of the result.

Measured: MFCC/log-Mel on this suite's clips under OpenBLAS Haswell, Sandybridge
and Prescott kernels and 1 vs 2 threads differ by at most 5.7e-6 relative (6e-8
of the row maximum); the issue reports 1.2e-5 on another machine. Real defects
(rows swapped, a parameter not passed to a worker, padding leaking into pooling,
a wrong layer) move values by 1e-2 relative or more, so they still fail.
"""

from __future__ import annotations

import numpy as np

RTOL = 1e-4
ROW_ATOL = 1e-5


def assert_reordered_close(
    actual: np.ndarray,
    desired: np.ndarray,
    *,
    rtol: float = RTOL,
    row_atol: float = ROW_ATOL,
) -> None:
    """Assert ``actual`` equals ``desired`` up to float32 summation order.

    Parameters
    ----------
    actual, desired : array-like of shape (n_clips, n_features) or (n_features,)
        The two results; rows are clips.
    rtol : float, default=1e-4
        Relative tolerance per element.
    row_atol : float, default=1e-5
        Absolute tolerance as a fraction of the largest magnitude in the row.

    Raises
    ------
    AssertionError
        On a shape mismatch or any element outside the tolerance, naming the
        worst element.
    """
    actual = np.asarray(actual, dtype=np.float64)
    desired = np.asarray(desired, dtype=np.float64)
    assert actual.shape == desired.shape, f"shapes differ: {actual.shape} vs {desired.shape}"
    scale = np.max(np.abs(desired), axis=-1, keepdims=True)
    bound = rtol * np.abs(desired) + row_atol * scale
    excess = np.abs(actual - desired) - bound
    if not (excess <= 0).all():  # NaN fails too
        worst = np.unravel_index(
            np.nanargmax(np.where(np.isnan(excess), np.inf, excess)), excess.shape
        )
        raise AssertionError(
            f"not equal up to summation order (rtol={rtol}, row_atol={row_atol}): "
            f"{int((~(excess <= 0)).sum())} of {excess.size} elements differ; worst at {worst}: "
            f"{actual[worst]!r} vs {desired[worst]!r}"
        )
