"""Contract every waveform embedder must meet (shared by the embedder test files)."""

from __future__ import annotations

import pickle

import numpy as np
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.svm import SVC

from sertools import ParameterError, uar_scorer


def check_waveform_transformer(embedder, clips, labels, *, grid: dict | None = None) -> np.ndarray:
    """Check the scikit-learn contract of an (unfitted) waveform embedder.

    Parameters
    ----------
    embedder : BaseEmbedder
        Unfitted, configured with the ``sampling_rate`` of ``clips``.
    clips : list of ndarray
        Ragged waveforms (at least 6, two classes in ``labels``).
    labels : array-like
        Labels for the GridSearchCV check.
    grid : dict or None
        A parameter grid over the embedder (prefixed in the pipeline).

    Returns
    -------
    ndarray
        The embeddings of ``clips``.
    """
    params = embedder.get_params()
    try:
        embedder.transform(clips)
    except Exception as exc:  # NotFittedError
        assert "not fitted" in str(exc).lower()
    else:  # pragma: no cover - the contract is violated
        raise AssertionError("transform before fit must raise NotFittedError")
    # __init__ stores params only; fit leaves them unchanged
    fitted = clone(embedder).fit(clips)
    assert fitted.get_params() == params
    F = fitted.transform(clips)
    n = fitted.n_features_out_
    assert F.shape == (len(clips), n) and F.dtype == np.float32
    assert np.isfinite(F).all()
    names = fitted.get_feature_names_out()
    assert len(names) == n and len(set(names)) == n

    # order: embedding a permutation permutes the rows
    perm = np.arange(len(clips))[::-1]
    F_perm = fitted.transform([clips[i] for i in perm])
    np.testing.assert_allclose(F_perm, F[perm], rtol=1e-4, atol=1e-5)
    # one clip alone gives the same row as inside the ragged batch (to padding tolerance)
    single = fitted.transform([clips[1]])
    np.testing.assert_allclose(single[0], F[1], rtol=1e-3, atol=1e-4)

    # clone / pickle
    restored = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_allclose(restored.transform(clips), F, rtol=1e-5, atol=1e-6)
    # pandas output with the feature names
    df = clone(embedder).set_output(transform="pandas").fit_transform(clips)
    assert list(df.columns) == list(names)
    np.testing.assert_allclose(df.to_numpy(), F, rtol=1e-5, atol=1e-6)

    # errors name the clip
    bad = [clips[0], np.array([], dtype=np.float32)]
    try:
        fitted.transform(bad)
    except ParameterError as exc:
        assert "X[1]" in str(exc)
    else:  # pragma: no cover
        raise AssertionError("an empty clip must raise ParameterError")

    # inside a Pipeline under GridSearchCV
    pipe = make_pipeline(clone(embedder), SVC(C=10, gamma=1e-3))
    step = pipe.steps[0][0]
    search = GridSearchCV(
        pipe,
        {f"{step}__{k}": v for k, v in (grid or {}).items()} or {"svc__C": [1, 10]},
        cv=2,
        scoring=uar_scorer,
    )
    X_obj = np.empty(len(clips), dtype=object)
    X_obj[:] = clips
    search.fit(X_obj, np.asarray(labels))
    assert 0.0 <= search.best_score_ <= 1.0
    return F
