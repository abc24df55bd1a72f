"""The contract every waveform embedder meets, shipped for third-party embedders.

:func:`check_embedder` runs an unfitted embedder (any scikit-learn transformer
from a list of raw waveforms to ``(n_clips, n_features)``, typically a
:class:`~sertools.features.BaseEmbedder` or
:class:`~sertools.features.NeuralEmbedder` subclass) through what sertools'
study, caches and pipelines rely on::

    from sertools.utils.estimator_checks import check_embedder

    def test_my_embedder():
        clips = [np.random.default_rng(i).standard_normal(8000 + 800 * i).astype("float32")
                 for i in range(8)]
        check_embedder(MyEmbedder(sampling_rate=16000), clips, ["a", "b"] * 4)

Every sertools embedder passes it (``tests/test_signal_features.py``,
``tests/test_nemo.py``, ``tests/test_s3prl.py``).
"""

from __future__ import annotations

import pickle
from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["check_embedder", "check_waveform_transformer"]


def check_embedder(
    embedder: Any,
    clips: Sequence[np.ndarray],
    labels: Sequence[Any],
    *,
    grid: dict[str, list[Any]] | None = None,
    batch_rtol: float = 1e-3,
    batch_atol: float = 1e-4,
) -> np.ndarray:
    """Check the waveform-embedder contract of an unfitted embedder.

    Checked, in order: ``transform`` before ``fit`` raises ``NotFittedError``;
    ``fit`` leaves the parameters as given; ragged clips give a finite float32
    array of shape ``(n_clips, n_features_out_)``; unique feature names, one per
    column; rows follow the input order; one clip alone gives its row of the
    ragged batch; ``clone`` gives an unfitted copy with the same parameters; a
    pickled fitted embedder gives the same features; ``set_output(transform=
    "pandas")`` gives a DataFrame with the feature names as columns; an empty
    clip is a :class:`~sertools.ParameterError` naming ``X[1]``; and the
    embedder works inside a :class:`~sklearn.pipeline.Pipeline` under
    :class:`~sklearn.model_selection.GridSearchCV` (errors raised, not scored
    as NaN), the refitted pipeline using the best parameters.

    Parameters
    ----------
    embedder : estimator
        Unfitted, configured with the ``sampling_rate`` of ``clips``.
    clips : sequence of ndarray of shape (n_samples_i,)
        At least 6 ragged float32 waveforms.
    labels : sequence
        One label per clip, at least two classes, each at least twice.
    grid : dict or None
        A small parameter grid over the embedder (its keys are prefixed with the
        pipeline step's name); None searches the SVC's ``C`` instead.
    batch_rtol, batch_atol : float
        Tolerance between a clip's row embedded alone and in the ragged batch:
        zero padding in a batch may change a neural model's float32 arithmetic
        (summation order, padded frames of non-exact models) by more than
        rounding; 1e-3/1e-4 is far below any effect on a classifier.

    Returns
    -------
    ndarray of shape (n_clips, n_features_out_)
        The embeddings of ``clips``.

    Raises
    ------
    AssertionError
        Naming the first part of the contract that does not hold.

    Examples
    --------
    >>> import numpy as np
    >>> from sertools import MFCCEmbedder
    >>> rng = np.random.default_rng(0)
    >>> clips = [rng.standard_normal(4000 + 500 * i).astype(np.float32) for i in range(6)]
    >>> check_embedder(MFCCEmbedder(sampling_rate=16000), clips, ["a", "b"] * 3).shape
    (6, 39)
    """
    from sklearn.base import clone
    from sklearn.exceptions import NotFittedError
    from sklearn.model_selection import GridSearchCV, StratifiedKFold
    from sklearn.pipeline import make_pipeline
    from sklearn.svm import SVC

    from .._exceptions import ParameterError
    from ..metrics import uar_scorer

    clips = list(clips)
    labels = np.asarray(labels)
    assert len(clips) >= 6 and len(labels) == len(clips), "need >= 6 clips, one label each"
    name = type(embedder).__name__
    params = embedder.get_params()

    try:
        embedder.transform(clips)
    except NotFittedError:
        pass
    else:
        raise AssertionError(f"{name}.transform before fit must raise NotFittedError")

    # __init__ stores params only; fit leaves them unchanged
    fitted = clone(embedder).fit(clips)
    assert fitted.get_params() == params, f"{name}.fit changed its parameters"
    F = fitted.transform(clips)
    n = fitted.n_features_out_
    assert isinstance(F, np.ndarray), f"{name}.transform returned {type(F).__name__}"
    assert F.shape == (len(clips), n), f"{name}: shape {F.shape}, expected ({len(clips)}, {n})"
    assert F.dtype == np.float32, f"{name}: dtype {F.dtype}, expected float32"
    assert np.isfinite(F).all(), f"{name}: non-finite features"
    names = fitted.get_feature_names_out()
    assert len(names) == n and len(set(names)) == n, f"{name}: feature names not unique"

    # order: embedding a permutation permutes the rows (to batching tolerance)
    perm = np.arange(len(clips))[::-1]
    F_perm = fitted.transform([clips[i] for i in perm])
    np.testing.assert_allclose(F_perm, F[perm], rtol=batch_rtol, atol=batch_atol)
    # one clip alone gives the same row as inside the ragged batch
    single = fitted.transform([clips[1]])
    np.testing.assert_allclose(single[0], F[1], rtol=batch_rtol, atol=batch_atol)

    # clone: unfitted, same params; pickle: the same features
    copy = clone(fitted)
    assert copy.get_params() == params
    try:
        copy.transform(clips[:1])
    except NotFittedError:
        pass
    else:
        raise AssertionError(f"clone of a fitted {name} must be unfitted")
    restored = pickle.loads(pickle.dumps(fitted))
    # a fresh load of the same model: identical up to float32 rounding of kernels
    np.testing.assert_allclose(restored.transform(clips), F, rtol=1e-5, atol=1e-6)

    # pandas output with the feature names
    df = clone(embedder).set_output(transform="pandas").fit_transform(clips)
    assert list(df.columns) == list(names), f"{name}: DataFrame columns != feature names"
    np.testing.assert_allclose(df.to_numpy(), F, rtol=1e-5, atol=1e-6)

    # errors name the clip
    try:
        fitted.transform([clips[0], np.array([], dtype=np.float32)])
    except ParameterError as exc:
        assert "X[1]" in str(exc), f"{name}: the error does not name the clip: {exc}"
    else:
        raise AssertionError(f"{name}: an empty clip must raise ParameterError")

    # inside a Pipeline under GridSearchCV; errors raise (error_score="raise")
    pipe = make_pipeline(clone(embedder), SVC(C=10, gamma=1e-3))
    step = pipe.steps[0][0]
    param_grid = {f"{step}__{k}": v for k, v in (grid or {}).items()} or {"svc__C": [1, 10]}
    search = GridSearchCV(
        pipe,
        param_grid,
        cv=StratifiedKFold(n_splits=2),
        scoring=uar_scorer,
        error_score="raise",
    )
    X_obj = np.empty(len(clips), dtype=object)
    X_obj[:] = clips
    search.fit(X_obj, labels)
    n_candidates = int(np.prod([len(v) for v in param_grid.values()]))
    scores = np.asarray(search.cv_results_["mean_test_score"], dtype=float)
    assert scores.shape == (n_candidates,) and np.isfinite(scores).all()
    best = search.best_estimator_
    for key, value in search.best_params_.items():
        assert best.get_params()[key] == value, f"the refitted pipeline lacks {key}={value!r}"
    assert best[0].n_features_out_ == best[0].transform(clips[:2]).shape[1]
    assert set(search.predict(X_obj)) <= set(labels)
    return F


#: the name tests used before the contract shipped
check_waveform_transformer = check_embedder
