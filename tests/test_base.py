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


# ---- parameters declared once ---------------------------------------------------------
def _every_embedder_class() -> list[type]:
    from sertools.features import BUILTIN_FEATURE_SETS, HFEmbedder, NeMoEmbedder
    from sertools.features.s3prl import S3PRLEmbedder

    return [fs.load() for fs in BUILTIN_FEATURE_SETS] + [NeMoEmbedder, S3PRLEmbedder, HFEmbedder]


@pytest.mark.parametrize("cls", _every_embedder_class(), ids=lambda c: c.__name__)
def test_documented_parameters_match_the_signature(cls):
    """Every parameter is documented once, with the default the constructor really has."""
    import inspect
    import re

    from sertools.features._base import format_default, parameter_entries

    params = {
        n: p.default for n, p in inspect.signature(cls.__init__).parameters.items() if n != "self"
    }
    entries = parameter_entries(cls.__doc__)
    assert list(entries) and set(entries) == set(params)
    for name, default in params.items():
        first = entries[name].splitlines()[0]
        documented = re.search(r"default=(.*)$", first)
        assert documented, f"{cls.__name__}.{name}: no default in {first!r}"
        assert documented.group(1) == format_default(default), (cls.__name__, name)
    assert set(cls().get_params()) == set(params)


def test_a_subclass_declares_only_its_own_parameters():
    """``__init__(self, *, own, **params)`` gets the bases' parameters, defaults and docs."""
    from sklearn.base import clone

    from sertools.features import MFCCEmbedder, inherit_parameters
    from sertools.features._base import parameter_entries

    @inherit_parameters
    class Scaled(MFCCEmbedder):
        """MFCCs times a factor.

        Parameters
        ----------
        factor : float, default=2.0
            The factor.
        """

        def __init__(self, *, factor=2.0, n_mfcc=13, **params):
            super().__init__(n_mfcc=n_mfcc, **params)
            self.factor = factor

    emb = Scaled(factor=3.0, n_fft=1024, sampling_rate=8000)
    assert emb.get_params()["n_fft"] == 1024 and emb.get_params()["n_mfcc"] == 13
    assert set(emb.get_params()) == set(MFCCEmbedder().get_params()) | {"factor"}
    assert clone(emb).get_params() == emb.get_params()
    assert repr(emb) == "Scaled(factor=3.0, n_fft=1024, sampling_rate=8000)"
    entries = parameter_entries(Scaled.__doc__)
    assert next(iter(entries)) == "factor" and "cache" in entries
    # the inherited n_mfcc entry carries this class's default, not MFCCEmbedder's
    assert entries["n_mfcc"].splitlines()[0].endswith("default=13")
    with pytest.raises(TypeError, match="unexpected keyword argument 'n_mfc'"):
        Scaled(n_mfc=3)
