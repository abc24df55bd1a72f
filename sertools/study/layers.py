"""Layer-wise probing: cross-validate a classifier on each hidden layer of an SSL model.

The paper pools one (unnamed) layer of each S3PRL model. To see which layer
carries the emotion information, embed the clips once with ``layer="all"``
(every layer's pooled vector, concatenated) and score each layer's slice::

    from sertools.features import HubertEmbedder
    from sertools.study.layers import layerwise_scores

    emb = HubertEmbedder(checkpoint="hubert_base_ls960.pt", layer="all")
    F = emb.fit_transform(paths)                      # (n_clips, 13 * 768)
    curve = layerwise_scores(F, y, n_layers=emb.n_layers_, cv=5, plot="layers.png")
    best = curve["uar_mean"].idxmax()                 # then HubertEmbedder(layer=best)

The embedders learn nothing from data, so scoring slices of features extracted
once equals cross-validating ``make_pipeline(HubertEmbedder(layer=i), clf)``
for each ``i``, for a fraction of the extraction time.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, clone
from sklearn.model_selection import cross_validate

from .._exceptions import ParameterError
from ._figures import _pyplot, _save
from ._store import STD_DDOF

__all__ = ["layer_slices", "layerwise_scores", "plot_layerwise"]


def layer_slices(n_features: int, n_layers: int) -> list[slice]:
    """Column slices of each layer in a ``layer="all"`` feature matrix.

    Parameters
    ----------
    n_features : int
        Width of the matrix (``n_layers * width``).
    n_layers : int
        Number of layers concatenated in it.

    Returns
    -------
    list of slice
        ``n_layers`` contiguous slices of equal width, layer 0 first.

    Raises
    ------
    ParameterError
        If ``n_layers`` is not positive or does not divide ``n_features``.

    Examples
    --------
    >>> layer_slices(6, 3)
    [slice(0, 2, None), slice(2, 4, None), slice(4, 6, None)]
    """
    if isinstance(n_layers, bool) or not isinstance(n_layers, (int, np.integer)) or n_layers < 1:
        raise ParameterError(f"n_layers must be a positive integer, got {n_layers!r}")
    if n_features % n_layers:
        raise ParameterError(
            f"a matrix of {n_features} features cannot hold {n_layers} layers of equal width; "
            "pass the features of layer='all' and the embedder's n_layers_"
        )
    width = n_features // n_layers
    return [slice(i * width, (i + 1) * width) for i in range(n_layers)]


def layerwise_scores(
    features: Any,
    y: Any,
    *,
    n_layers: int,
    estimator: BaseEstimator | None = None,
    cv: Any = 5,
    scoring: Any = None,
    groups: Any = None,
    n_jobs: int | None = None,
    plot: str | Path | None = None,
) -> pd.DataFrame:
    """Cross-validate ``estimator`` on each layer's slice of a ``layer="all"`` matrix.

    Parameters
    ----------
    features : array-like of shape (n_clips, n_layers * width)
        Output of an S3PRL embedder with ``layer="all"`` (ndarray or DataFrame).
    y : array-like of shape (n_clips,)
        Labels.
    n_layers : int
        Number of layers in ``features`` (the embedder's ``n_layers_``).
    estimator : estimator, default=None
        Classifier (or pipeline) fitted on each slice; None: the paper's
        ``SVC(C=10, gamma=1e-3)``.
    cv : int, cross-validation generator or iterable, default=5
        As in :func:`sklearn.model_selection.cross_validate` (an int means
        stratified k-fold for classifiers). Pass a speaker-aware splitter and
        ``groups`` for speaker-independent scores.
    scoring : str, callable, list or dict, default=None
        As in ``cross_validate``; None: :data:`sertools.SCORING` (UAR and WAR).
    groups : array-like of shape (n_clips,), default=None
        Group labels (e.g. speakers) for group-aware splitters.
    n_jobs : int or None, default=None
        Parallel folds, as in ``cross_validate``.
    plot : str or Path, default=None
        Where to save a PNG of the mean score (± one sample standard deviation,
        ddof=1, over folds) per layer, one line per metric; None draws nothing.

    Returns
    -------
    pandas.DataFrame
        One row per layer (index ``layer``, 0 first) with ``<metric>_mean`` and
        ``<metric>_std`` (sample standard deviation, ddof=1) columns over the
        folds (``uar_mean``, ``uar_std``,
        ``war_mean``, ``war_std`` by default; ``score_*`` for a single scorer).

    Raises
    ------
    ParameterError
        If ``features`` is not 2-D, its rows do not match ``y``, or its width
        is not a multiple of ``n_layers``.

    Examples
    --------
    Features of three "layers" of width 4, of which only the middle one tells
    the two classes apart:

    >>> import numpy as np
    >>> from sklearn.svm import SVC
    >>> from sertools.study import layerwise_scores
    >>> rng = np.random.default_rng(0)
    >>> y = np.repeat(["angry", "sad"], 20)
    >>> informative = rng.normal(size=(40, 4)) + 3.0 * (y == "angry")[:, None]
    >>> features = np.hstack([rng.normal(size=(40, 4)), informative, rng.normal(size=(40, 4))])
    >>> features.shape  # (n_clips, n_layers * width)
    (40, 12)
    >>> table = layerwise_scores(features, y, n_layers=3, estimator=SVC(), cv=4)
    >>> table.columns.tolist()
    ['uar_mean', 'uar_std', 'war_mean', 'war_std']
    >>> int(table["uar_mean"].idxmax())
    1
    >>> table.round(2)
           uar_mean  uar_std  war_mean  war_std
    layer
    0          0.40     0.14      0.40     0.14
    1          1.00     0.00      1.00     0.00
    2          0.55     0.24      0.55     0.24
    """
    X = features.to_numpy() if isinstance(features, pd.DataFrame) else np.asarray(features)
    if X.ndim != 2:
        raise ParameterError(f"features must be 2-D (n_clips, n_features), got shape {X.shape}")
    y = np.asarray(y)
    if len(y) != len(X):
        raise ParameterError(f"features has {len(X)} rows but y has {len(y)} labels")
    slices = layer_slices(X.shape[1], n_layers)
    if estimator is None:
        from sklearn.svm import SVC

        estimator = SVC(C=10, gamma=1e-3)
    if scoring is None:
        from ..metrics import SCORING

        scoring = SCORING

    rows = []
    for cols in slices:
        result = cross_validate(
            clone(estimator), X[:, cols], y, cv=cv, scoring=scoring, groups=groups, n_jobs=n_jobs
        )
        row = {}
        for key, values in result.items():
            if key.startswith("test_"):
                name = key[len("test_") :]
                row[f"{name}_mean"] = float(np.mean(values))
                row[f"{name}_std"] = (
                    float(np.std(values, ddof=STD_DDOF)) if len(values) > 1 else 0.0
                )
        rows.append(row)
    table = pd.DataFrame(rows, index=pd.RangeIndex(len(slices), name="layer"))
    if plot is not None:
        plot_layerwise(table, plot)
    return table


def plot_layerwise(table: pd.DataFrame, path: str | Path, *, title: str = "") -> Path:
    """Save the layer-wise curve of :func:`layerwise_scores` as a PNG.

    Parameters
    ----------
    table : pandas.DataFrame
        Output of :func:`layerwise_scores`.
    path : str or Path
        PNG file to write.
    title : str
        Plot title.

    Returns
    -------
    Path
        The file written.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> import numpy as np
    >>> import pandas as pd
    >>> from sertools.study import plot_layerwise
    >>> table = pd.DataFrame({"uar_mean": [0.52, 0.81, 0.64], "uar_std": [0.05, 0.04, 0.06]},
    ...                      index=pd.RangeIndex(3, name="layer"))
    >>> tmp = tempfile.TemporaryDirectory()
    >>> path = plot_layerwise(table, Path(tmp.name) / "layers.png", title="UAR per layer")
    >>> path.name, path.read_bytes()[1:4]
    ('layers.png', b'PNG')
    >>> tmp.cleanup()
    """
    plt = _pyplot()
    metrics = [c[: -len("_mean")] for c in table.columns if c.endswith("_mean")]
    fig, ax = plt.subplots(figsize=(6.0, 3.5))
    layers = table.index.to_numpy()
    for name in metrics:
        mean = table[f"{name}_mean"].to_numpy()
        std = table[f"{name}_std"].to_numpy()
        ax.plot(layers, mean, marker="o", label=name.upper())
        ax.fill_between(layers, mean - std, mean + std, alpha=0.2)
    ax.set_xlabel("hidden state (0 = the first one the upstream returns)")
    ax.set_ylabel("score (mean ± std over folds)")
    ax.set_xticks(layers)
    ax.grid(alpha=0.3)
    ax.legend()
    if title:
        ax.set_title(title)
    return _save(fig, path)
