"""BaseEmbedder's contract beyond scikit-learn's: parameters changed after fit."""

from __future__ import annotations

import numpy as np
import pytest

from sertools import MelSpectrogramEmbedder, MFCCEmbedder, ParameterError

SR = 16000


@pytest.fixture(scope="module")
def clips() -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    return [rng.standard_normal(n).astype(np.float32) * 0.1 for n in (4000, 8000, 6000)]


def test_set_params_then_transform_without_refit_is_refused(clips):
    """#10: set_params(n_mfcc=20) on a fitted embedder raised an internal RuntimeError
    about shapes; now a ParameterError says to refit."""
    emb = MFCCEmbedder(sampling_rate=SR).fit()
    emb.set_params(n_mfcc=20)
    with pytest.raises(ParameterError, match=r"changed since fit \(n_mfcc: 39 -> 20\)"):
        emb.transform(clips)
    with pytest.raises(ParameterError, match="refit after set_params"):
        emb.get_feature_names_out()
    assert emb.fit().transform(clips).shape == (3, 20)
    assert emb.fit_transform(clips).shape == (3, 20)


def test_same_width_change_is_refused_too(clips):
    """log=True keeps the width: without the check the output would silently mix."""
    emb = MelSpectrogramEmbedder(sampling_rate=SR).fit()
    emb.set_params(log=True)
    with pytest.raises(ParameterError, match=r"log: False -> True"):
        emb.transform(clips)


def test_live_params_may_change(clips):
    emb = MFCCEmbedder(sampling_rate=SR).fit()
    expected = emb.transform(clips)
    emb.set_params(verbose=True, n_jobs=1)
    # the same computation, whatever the progress display: identical
    np.testing.assert_array_equal(emb.transform(clips), expected)
    emb.set_params(sampling_rate=8000)  # the rate of the array input, read at transform
    assert emb.transform(clips).shape == expected.shape
