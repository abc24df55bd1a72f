"""Dimensional studies: arousal, valence and dominance regression scored with the CCC.

The dimensional counterpart of the categorical study, cell by cell:

* :func:`make_regressor` builds a named regressor of :data:`REGRESSORS` (``svr``:
  standardised features + ``SVR``, the classical baseline; ``dnn-regressor``:
  :class:`sertools.models.DNNRegressor`, imported on first use), the
  ``"regression"`` entries of the study's catalogue;
* :func:`dimensional_targets` reads the ``arousal`` / ``valence`` / ``dominance``
  fields of a corpus Bunch;
* :func:`cluster_bootstrap_ccc` gives a CCC with its speaker-level (cluster)
  bootstrap confidence interval;
* :func:`run_dimensional` cross-validates every (corpus, protocol, feature set,
  regressor, task) cell: each feature set embeds each corpus once (through the
  embedders' per-clip cache, shared with categorical studies on the same clips),
  finished cells are stored and read back on a re-run, and the result holds the
  per-fold CCC, Pearson's r and MAE and the out-of-fold predictions;
* :class:`DimensionalResult` summarises the cells (fold mean CCC, pooled CCC with
  its speaker-level CI, r, MAE), compares two cells with the corrected resampled
  t-test on their fold CCCs, builds a Table-II-style table and writes reports
  with a predicted-vs-true scatter per cell (:func:`plot_predictions`).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as sps
from sklearn.base import BaseEstimator, clone
from sklearn.model_selection import GroupKFold, KFold, LeaveOneGroupOut

from .._exceptions import ParameterError
from ..metrics import ccc, mae, pearson_r
from ._store import CellStore, _safe, atomic_write_text, fingerprint
from .catalogue import ESTIMATORS, REGRESSORS, _route_params, make_embedder
from .execute import extract_features
from .stats import corrected_resampled_ttest

__all__ = [
    "DIMENSIONAL_PROTOCOLS",
    "DIMENSIONS",
    "REGRESSORS",
    "DimensionalResult",
    "cluster_bootstrap_ccc",
    "dimensional_targets",
    "make_regressor",
    "plot_predictions",
    "run_dimensional",
]

#: dimensional tasks: the Bunch field of each
DIMENSIONS = ("arousal", "valence", "dominance")

#: dimensional protocol name -> description (see :func:`run_dimensional`)
DIMENSIONAL_PROTOCOLS: dict[str, str] = {
    "paper": "shuffled, seeded n_splits-fold CV, speakers on both sides (the paper's protocol; "
    "not stratified: the targets are continuous)",
    "speaker": "speaker-independent: leave-one-speaker-out up to 12 speakers, else speaker "
    "n_splits-fold; leave-one-session-out on IEMOCAP",
    "loso": "leave-one-speaker-out",
    "session": "leave-one-session-out (IEMOCAP)",
    "speaker-kfold": "speaker-grouped n_splits-fold",
    "predefined": "the corpus's own train/test partition (MSP-Podcast: Train -> Test1)",
}


def make_regressor(name: str, *, random_state: int | None = 0, **params: Any) -> BaseEstimator:
    """Build a named regressor.

    Parameters
    ----------
    name : {"svr", "dnn-regressor"}
        A name of :data:`REGRESSORS` (the ``"regression"`` entries of the
        study's catalogue, :data:`sertools.study.catalogue.ESTIMATORS`):
        ``svr``: ``make_pipeline(StandardScaler(), SVR())`` (the classical
        baseline; ``params`` go to the ``SVR`` step); ``dnn-regressor``:
        :class:`sertools.models.DNNRegressor` (imported on first use).
    random_state : int or None, default=0
        Seed of the DNN.
    **params
        Parameters of the estimator.

    Returns
    -------
    estimator
        Unfitted scikit-learn regressor.

    Raises
    ------
    ParameterError
        For an unknown name or parameter, or ``"dnn-regressor"`` where this
        sertools has no ``DNNRegressor``.

    Examples
    --------
    >>> from sertools.study.dimensional import make_regressor
    >>> make_regressor("svr", C=10)
    Pipeline(steps=[('standardscaler', StandardScaler()), ('svr', SVR(C=10))])
    """
    spec = ESTIMATORS.get(name)
    if spec is None or spec.task != "regression":
        raise ParameterError(f"unknown regressor {name!r}; expected one of {', '.join(REGRESSORS)}")
    est = spec.build(random_state)
    prefix = spec.param_prefix
    if params:
        full = {f"{prefix}{k}": v for k, v in params.items()}
        valid = est.get_params(deep=bool(prefix))
        unknown = [k for k in full if k not in valid]
        if unknown:
            shown = sorted(
                k.removeprefix(prefix)
                for k in valid
                if k.startswith(prefix) and "__" not in k[len(prefix) :]
            )
            raise ParameterError(
                f"regressor {name!r} does not take "
                f"{', '.join(repr(k.removeprefix(prefix)) for k in unknown)}; "
                f"valid parameters: {', '.join(shown)}"
            )
        est.set_params(**full)
    return est


def dimensional_targets(bunch: Any, tasks: Sequence[str]) -> np.ndarray:
    """The ratings of ``tasks`` from a corpus Bunch, one column per task.

    Parameters
    ----------
    bunch : Bunch
        A loader's (or the synthetic corpus's) Bunch with ``arousal``,
        ``valence`` and/or ``dominance`` fields.
    tasks : sequence of str
        Names from :data:`DIMENSIONS`.

    Returns
    -------
    ndarray of shape (n_clips, n_tasks)
        The float64 ratings.

    Raises
    ------
    ParameterError
        For an unknown task, a Bunch without that field, or a rating that is
        not a finite number (naming the clip).

    Examples
    --------
    >>> from sertools.datasets import make_synthetic_corpus
    >>> from sertools.study.dimensional import dimensional_targets
    >>> corpus = make_synthetic_corpus(n_per_class=2)
    >>> dimensional_targets(corpus, ["arousal", "valence"]).shape
    (8, 2)
    """
    unknown = [t for t in tasks if t not in DIMENSIONS]
    if unknown or not tasks:
        raise ParameterError(
            f"unknown dimensional task(s) {', '.join(map(repr, unknown)) or '(none given)'}; "
            f"expected names from {', '.join(DIMENSIONS)}"
        )

    def field(name: str) -> Any:
        return bunch.get(name) if isinstance(bunch, Mapping) else getattr(bunch, name, None)

    columns = []
    for task in tasks:
        values = field(task)
        if values is None:
            name = field("corpus") or "this corpus"
            raise ParameterError(
                f"task {task!r} needs {task} ratings, but {name} has no {task!r} field"
            )
        try:
            column = np.asarray(values, dtype=np.float64)
        except (TypeError, ValueError):
            raise ParameterError(f"the {task} ratings are not numbers") from None
        bad = np.flatnonzero(~np.isfinite(column))
        if bad.size:
            raise ParameterError(
                f"the {task} rating of clip {bad[0]} is {column[bad[0]]} ({bad.size} in all); "
                "every clip needs a finite rating"
            )
        columns.append(column)
    return np.column_stack(columns)


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
    sums, n_g = _moments(t - t.mean(), p - t.mean(), g)
    if n_g < 2:
        return value, value, value

    def statistic(idx: np.ndarray, axis: int = -1) -> np.ndarray:
        idx = np.asarray(idx, dtype=int)
        return _ccc_from_sums(sums[idx].sum(axis=-2))

    res = sps.bootstrap(
        (np.arange(n_g),),
        statistic,
        n_resamples=int(n_boot),
        confidence_level=confidence,
        method="percentile",
        vectorized=True,
        random_state=np.random.default_rng(random_state),
    )
    low, high = res.confidence_interval
    return value, float(low), float(high)


def plot_predictions(
    y_true: Any,
    y_pred: Any,
    path: str | os.PathLike[str] | None = None,
    *,
    title: str = "",
    label: str = "rating",
) -> Any:
    """Scatter of predicted vs true ratings with the identity line and the CCC.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_predictions,)
        Ratings and (out-of-fold) predictions.
    path : str or path-like, optional
        PNG file to write; the figure is closed after writing.
    title : str, default=""
        Figure title (the CCC, r and MAE are added below it).
    label : str, default="rating"
        Name of the rated dimension, for the axis labels.

    Returns
    -------
    Path or matplotlib.figure.Figure
        The written file, or the figure when ``path`` is None.

    Examples
    --------
    >>> from sertools.study.dimensional import plot_predictions
    >>> fig = plot_predictions([1.0, 2.0, 3.0], [1.2, 1.9, 2.6], label="arousal")
    >>> fig.axes[0].get_xlabel()
    'true arousal'
    """
    from matplotlib.figure import Figure  # no pyplot: no global state, any backend

    t = np.asarray(y_true, dtype=np.float64).ravel()
    p = np.asarray(y_pred, dtype=np.float64).ravel()
    scores = f"CCC {ccc(t, p):.3f}, r {pearson_r(t, p):.3f}, MAE {mae(t, p):.3f}"
    fig = Figure(figsize=(4.2, 4.2))
    ax = fig.subplots()
    ax.scatter(t, p, s=8, alpha=0.5, edgecolors="none")
    low = float(min(t.min(), p.min()))
    high = float(max(t.max(), p.max()))
    ax.plot([low, high], [low, high], color="black", linewidth=0.8, label="prediction = truth")
    ax.set_xlabel(f"true {label}")
    ax.set_ylabel(f"predicted {label}")
    ax.set_title(f"{title}\n{scores}" if title else scores, fontsize=9)
    ax.set_aspect("equal", adjustable="datalim")
    ax.legend(loc="upper left", fontsize=7)
    fig.tight_layout()
    if path is None:
        return fig
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    return path


# --------------------------------------------------------------------------- the study
@dataclass
class _DimCorpus:
    name: str
    X: Any
    Y: dict[str, np.ndarray]  # task -> ratings
    groups: np.ndarray | None
    bunch: Any
    sampling_rate: int | None
    digest: str = ""


def _as_dim_corpus(name: str, value: Any, tasks: Sequence[str]) -> _DimCorpus:
    from ..datasets import load_corpus

    if isinstance(value, (str, os.PathLike)):
        value = load_corpus(name, value)
    if not hasattr(value, "target") and not isinstance(value, Mapping):
        raise ParameterError(
            f"corpus {name!r}: expected a folder or a sertools.datasets Bunch with "
            f"{', '.join(tasks)} fields, got {type(value).__name__}"
        )
    Y = dimensional_targets(value, tasks)
    files = value.get("filenames") if isinstance(value, Mapping) else None
    X = files if files is not None else value["data"]
    groups = value.get("speaker")
    groups = None if groups is None else np.asarray(groups)
    rate = value.get("sampling_rate") if files is None else None
    corpus = _DimCorpus(name, X, dict(zip(tasks, Y.T, strict=True)), groups, value, rate)
    corpus.digest = fingerprint(Y, groups, clips=X)
    return corpus


def _dim_splits(corpus: _DimCorpus, protocol: str, *, n_splits: int, seed: int | None) -> list:
    n = len(corpus.X)
    index = np.zeros((n, 1))
    if protocol == "paper":
        cv = KFold(n_splits=n_splits, shuffle=True, random_state=seed)
        return list(cv.split(index))
    if protocol == "predefined":
        split = corpus.bunch.get("split")
        if split is None:
            raise ParameterError(
                f"protocol 'predefined' needs a corpus with a split field (MSP-Podcast); "
                f"{corpus.name!r} has none"
            )
        from ..datasets.msp_podcast import msp_podcast_split

        return msp_podcast_split(split)
    if protocol not in DIMENSIONAL_PROTOCOLS:
        raise ParameterError(
            f"unknown protocol {protocol!r}; expected one of {', '.join(DIMENSIONAL_PROTOCOLS)}"
        )
    session = corpus.bunch.get("session")
    if protocol == "session" or (protocol == "speaker" and session is not None):
        if session is None:
            raise ParameterError(f"protocol 'session' needs sessions; {corpus.name!r} has none")
        return list(LeaveOneGroupOut().split(index, groups=session))
    if corpus.groups is None:
        raise ParameterError(
            f"protocol {protocol!r} needs speakers, but corpus {corpus.name!r} has none"
        )
    n_spk = np.unique(corpus.groups).size
    if n_spk < 2:
        raise ParameterError(f"protocol {protocol!r} needs 2 or more speakers, got {n_spk}")
    if protocol == "loso" or (protocol == "speaker" and n_spk <= 12):
        return list(LeaveOneGroupOut().split(index, groups=corpus.groups))
    return list(GroupKFold(n_splits=min(n_splits, n_spk)).split(index, groups=corpus.groups))


def _spec(est: BaseEstimator) -> dict[str, Any]:
    """What determines an estimator's results: its class and (non-volatile) parameters."""
    volatile = {"verbose", "n_jobs", "n_threads", "batch_seconds", "cache"}
    params = est.get_params(deep=True)
    return {
        "class": type(est).__name__,
        "params": {
            k: repr(v)
            for k, v in sorted(params.items())
            if k.rsplit("__", 1)[-1] not in volatile and not isinstance(v, BaseEstimator)
        },
    }


@dataclass
class DimensionalResult:
    """Per-fold scores and out-of-fold predictions of a dimensional study.

    Built by :func:`run_dimensional`; the summary, tests, tables and reports
    derive from the two tables.

    Parameters
    ----------
    scores : pandas.DataFrame
        One row per fold: ``corpus, protocol, features, regressor, task, fold,
        n_train, n_test, ccc, r, mae, fit_time``.
    predictions : pandas.DataFrame
        One row per out-of-fold prediction: ``corpus, protocol, features,
        regressor, task, fold, clip`` (index in the corpus), ``speaker,
        y_true, y_pred``.
    n_boot : int, default=1000
        Bootstrap resamples of the confidence intervals.
    random_state : int or None, default=0
        Seed of the bootstrap.

    Examples
    --------
    >>> from sertools.datasets import make_synthetic_corpus
    >>> from sertools.study.dimensional import run_dimensional
    >>> result = run_dimensional({"syn": make_synthetic_corpus(n_per_class=6)}, n_boot=200)
    >>> result.scores[["task", "fold", "n_test"]].head(2)
          task  fold  n_test
    0  arousal     0       4
    1  arousal     1       4
    >>> result.predictions.shape  # 24 clips, each predicted once
    (24, 10)
    """

    scores: pd.DataFrame
    predictions: pd.DataFrame
    n_boot: int = 1000
    random_state: int | None = 0
    _summary: pd.DataFrame | None = field(default=None, init=False, repr=False)

    _CELL = ["corpus", "protocol", "features", "regressor", "task"]

    def summary(self) -> pd.DataFrame:
        """One row per cell: fold CCC mean and s.d., pooled CCC with its speaker CI, r, MAE.

        Returns
        -------
        pandas.DataFrame
            Columns ``corpus, protocol, features, regressor, task, n_folds,
            ccc_mean, ccc_std`` (over folds, ddof=1), ``ccc`` (all out-of-fold
            predictions pooled), ``ccc_low, ccc_high`` (speaker-level bootstrap
            CI), ``r, mae`` (fold means).

        Examples
        --------
        >>> from sertools.datasets import make_synthetic_corpus
        >>> from sertools.study.dimensional import run_dimensional
        >>> corpus = make_synthetic_corpus(n_per_class=6)
        >>> result = run_dimensional({"synthetic": corpus}, n_boot=200)
        >>> list(result.summary().columns[5:9])
        ['n_folds', 'ccc_mean', 'ccc_std', 'ccc']
        """
        if self._summary is not None:
            return self._summary
        rows = []
        for key, folds in self.scores.groupby(self._CELL, sort=False):
            preds = self.predictions
            mask = np.ones(len(preds), dtype=bool)
            for col, val in zip(self._CELL, key, strict=True):
                mask &= (preds[col] == val).to_numpy()
            cell = preds[mask]
            groups = cell["speaker"].to_numpy()
            value, low, high = cluster_bootstrap_ccc(
                cell["y_true"].to_numpy(),
                cell["y_pred"].to_numpy(),
                groups,
                n_boot=self.n_boot,
                random_state=self.random_state,
            )
            rows.append(
                {
                    **dict(zip(self._CELL, key, strict=True)),
                    "n_folds": len(folds),
                    "ccc_mean": folds["ccc"].mean(),
                    "ccc_std": folds["ccc"].std(ddof=1) if len(folds) > 1 else 0.0,
                    "ccc": value,
                    "ccc_low": low,
                    "ccc_high": high,
                    "r": folds["r"].mean(),
                    "mae": folds["mae"].mean(),
                }
            )
        self._summary = pd.DataFrame(rows)
        return self._summary

    def compare(self, a: Mapping[str, str], b: Mapping[str, str]) -> dict[str, float]:
        """Corrected resampled t-test of two cells' fold CCCs (same folds).

        Parameters
        ----------
        a, b : mapping of str to str
            Cell coordinates (``features``, ``regressor``, ... ; the others
            must identify one cell).

        Returns
        -------
        dict
            ``ccc_a, ccc_b`` (fold means), ``t`` and ``p`` of
            :func:`sertools.study.corrected_resampled_ttest`.

        Raises
        ------
        ParameterError
            If a coordinate set matches no cell or several, or the cells do not
            share their folds.

        Examples
        --------
        >>> from sertools.datasets import make_synthetic_corpus
        >>> from sertools.study.dimensional import run_dimensional
        >>> result = run_dimensional(
        ...     {"syn": make_synthetic_corpus(n_per_class=6)}, features=["mfcc", "mel"], n_boot=200
        ... )
        >>> sorted(result.compare({"features": "mfcc"}, {"features": "mel"}))
        ['ccc_a', 'ccc_b', 'p', 't']
        """
        folds = []
        for name, coords in (("a", a), ("b", b)):
            mask = np.ones(len(self.scores), dtype=bool)
            for col, val in coords.items():
                if col not in self._CELL:
                    raise ParameterError(f"unknown cell coordinate {col!r}; expected {self._CELL}")
                mask &= (self.scores[col] == val).to_numpy()
            rows = self.scores[mask]
            cells = rows[self._CELL].drop_duplicates()
            if len(cells) != 1:
                raise ParameterError(
                    f"cell {name} = {dict(coords)} matches {len(cells)} cells; "
                    "give more coordinates"
                )
            folds.append(rows.sort_values("fold"))
        fa, fb = folds
        if fa["n_test"].tolist() != fb["n_test"].tolist() or len(fa) != len(fb):
            raise ParameterError("the two cells were not evaluated on the same folds")
        t, p = corrected_resampled_ttest(
            fa["ccc"].to_numpy(), fb["ccc"].to_numpy(), n_train=fa["n_train"], n_test=fa["n_test"]
        )
        return {"ccc_a": float(fa["ccc"].mean()), "ccc_b": float(fb["ccc"].mean()), "t": t, "p": p}

    def table(self, *, protocol: str | None = None) -> pd.DataFrame:
        """Table II for dimensions: rows features x regressor, columns corpus x task.

        Parameters
        ----------
        protocol : str, optional
            The protocol to show; default the first in the scores.

        Returns
        -------
        pandas.DataFrame
            Cells ``"CCC [low, high]"`` (pooled CCC with its speaker-level
            95 % CI), with a ``mean`` column per task over the corpora.

        Examples
        --------
        >>> from sertools.datasets import make_synthetic_corpus
        >>> from sertools.study.dimensional import run_dimensional
        >>> result = run_dimensional({"syn": make_synthetic_corpus(n_per_class=6)}, n_boot=200)
        >>> list(result.table().columns)
        ['arousal syn', 'arousal mean']
        """
        summary = self.summary()
        protocol = protocol or summary["protocol"].iloc[0]
        s = summary[summary["protocol"] == protocol]
        table = s.pivot_table(
            index=["features", "regressor"], columns=["task", "corpus"], values="ccc", sort=False
        )
        text = pd.DataFrame(index=table.index)
        for task, corpus in table.columns:
            row = s[(s["task"] == task) & (s["corpus"] == corpus)].set_index(
                ["features", "regressor"]
            )
            text[f"{task} {corpus}"] = [
                f"{row.loc[i, 'ccc']:.3f} "
                f"[{row.loc[i, 'ccc_low']:.3f}, {row.loc[i, 'ccc_high']:.3f}]"
                if i in row.index
                else "—"
                for i in table.index
            ]
        for task in dict.fromkeys(t for t, _ in table.columns):
            text[f"{task} mean"] = table[task].mean(axis=1).map(lambda v: f"{v:.3f}")
        return text

    def write_reports(self, out: str | os.PathLike[str]) -> list[Path]:
        """Write the tables, the CSV files and a predicted-vs-true scatter per cell.

        Writes ``dimensional.md`` (the Table-II-style table per protocol and
        every cell), ``dimensional_scores.csv`` (per fold),
        ``dimensional_summary.csv`` (per cell) and ``scatter_<cell>.png``
        (names made safe for the file system).

        Parameters
        ----------
        out : str or path-like
            Folder (created).

        Returns
        -------
        list of Path
            The files written.

        Examples
        --------
        >>> import tempfile
        >>> from sertools.datasets import make_synthetic_corpus
        >>> from sertools.study.dimensional import run_dimensional
        >>> result = run_dimensional({"syn": make_synthetic_corpus(n_per_class=6)}, n_boot=200)
        >>> tmp = tempfile.TemporaryDirectory()
        >>> sorted(p.name for p in result.write_reports(tmp.name))
        ['dimensional.md', 'dimensional_scores.csv', 'dimensional_summary.csv', \
'scatter_syn_speaker_mfcc_svr_arousal.png']
        >>> tmp.cleanup()
        """
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        written = []
        summary = self.summary()
        self.scores.to_csv(out / "dimensional_scores.csv", index=False)
        summary.to_csv(out / "dimensional_summary.csv", index=False)
        written += [out / "dimensional_scores.csv", out / "dimensional_summary.csv"]
        lines = ["# Dimensional study", ""]
        for protocol in summary["protocol"].unique():
            table = self.table(protocol=protocol).reset_index()
            lines += [f"## Protocol {protocol}: CCC [speaker-level 95 % CI]", ""]
            lines += [_markdown(table), ""]
        lines += ["## Cells", "", _markdown(summary.round(4)), ""]
        for key, cell in self.predictions.groupby(self._CELL, sort=False):
            name = "scatter_" + "_".join(_safe(k) for k in key) + ".png"
            plot_predictions(
                cell["y_true"], cell["y_pred"], out / name, title=" / ".join(key), label=key[-1]
            )
            written.append(out / name)
            lines.append(f"![{' / '.join(key)}]({name})")
        atomic_write_text(out / "dimensional.md", "\n".join(lines) + "\n")
        written.append(out / "dimensional.md")
        return written


def _markdown(frame: pd.DataFrame) -> str:
    def cell(v: Any) -> str:
        return str(v).replace("|", "\\|").replace("\n", " ")

    head = "| " + " | ".join(cell(c) for c in frame.columns) + " |"
    rule = "|" + "---|" * len(frame.columns)
    body = ["| " + " | ".join(cell(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join([head, rule, *body])


def run_dimensional(
    corpora: Mapping[str, Any],
    *,
    tasks: Sequence[str] = ("arousal",),
    features: Sequence[str] | Mapping[str, BaseEstimator] = ("mfcc",),
    regressors: Sequence[str] | Mapping[str, BaseEstimator] = ("svr",),
    protocols: Sequence[str] = ("speaker",),
    n_splits: int = 5,
    embedder_params: Mapping[str, Any] | None = None,
    store: str | os.PathLike[str] | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    n_boot: int = 1000,
    random_state: int | None = 0,
    progress: bool | Callable[[str], None] = False,
) -> DimensionalResult:
    """Cross-validate every (corpus, protocol, feature set, regressor, task) cell.

    Each feature set embeds each corpus once (the embedders are per-clip
    transforms that learn nothing in ``fit``), then each regressor is fitted on
    the training folds of each task's ratings and scored on the test fold with
    the CCC, Pearson's r and the MAE.

    Parameters
    ----------
    corpora : mapping of str -> corpus
        Corpora by name: a folder (loaded with
        :func:`sertools.datasets.load_corpus` under that name) or a Bunch with
        the tasks' rating fields (``make_synthetic_corpus()``, ``load_iemocap``,
        ``load_msp_podcast``).
    tasks : sequence of str, default=("arousal",)
        Names from :data:`DIMENSIONS`.
    features : sequence of str or mapping of str -> embedder, default=("mfcc",)
        Feature-set names (:data:`sertools.study.FEATURE_SETS`) or ready embedders.
    regressors : sequence of str or mapping of str -> estimator, default=("svr",)
        Names from :data:`REGRESSORS` or ready regressors.
    protocols : sequence of str, default=("speaker",)
        Names from :data:`DIMENSIONAL_PROTOCOLS` (those of the categorical
        study, plus ``"predefined"``): ``"speaker"`` (speaker-independent),
        ``"loso"``, ``"session"``, ``"speaker-kfold"``, ``"paper"`` (shuffled,
        seeded k-fold; not stratified, the targets are continuous) or
        ``"predefined"`` (the corpus's own partition).
    n_splits : int, default=5
        Folds of ``"paper"`` and of speaker k-fold.
    embedder_params : mapping, optional
        Parameters for the embedders built by name; each key goes to the
        feature sets that take it (as in :func:`sertools.study.run_study`).
    store : str or path-like, optional
        Folder of finished cells (one JSON file each): a re-run reads them
        back instead of fitting again; a changed clip, rating, fold or
        parameter is a new cell.
    cache_dir : str or path-like, optional
        Per-clip embedding cache (see :func:`sertools.study.extract_features`);
        give the one of a categorical study on the same clips to share its
        embeddings.
    n_boot : int, default=1000
        Bootstrap resamples of the speaker-level CIs.
    random_state : int or None, default=0
        Seed of the folds, the DNN and the bootstrap.
    progress : bool or callable, default=False
        True prints one line per cell; a callable receives the lines.

    Returns
    -------
    DimensionalResult
        Per-fold scores and out-of-fold predictions of every cell.

    Raises
    ------
    ParameterError
        For an unknown task, feature set, regressor or protocol, or a corpus
        without the tasks' ratings.

    Examples
    --------
    >>> from sertools.datasets import make_synthetic_corpus
    >>> from sertools.study.dimensional import run_dimensional
    >>> corpus = make_synthetic_corpus(n_per_class=10)
    >>> result = run_dimensional({"synthetic": corpus}, tasks=["arousal"], n_boot=200)
    >>> row = result.summary().iloc[0]
    >>> row["task"], bool(row["ccc_low"] < row["ccc"] < row["ccc_high"]), bool(row["ccc"] > 0.5)
    ('arousal', True, True)
    """
    say = progress if callable(progress) else (print if progress else (lambda _msg: None))
    tasks = list(tasks)
    dimensional_targets({t: np.zeros(2) for t in DIMENSIONS}, tasks)  # names first
    if isinstance(features, Mapping):
        embedders = dict(features)
    else:
        routed = _route_params(list(features), embedder_params or {})
        embedders = {f: make_embedder(f, **routed[f]) for f in features}
    if isinstance(regressors, Mapping):
        estimators = dict(regressors)
    else:
        estimators = {r: make_regressor(r, random_state=random_state) for r in regressors}
    for protocol in protocols:
        if protocol not in DIMENSIONAL_PROTOCOLS:
            raise ParameterError(
                f"unknown protocol {protocol!r}; expected one of {', '.join(DIMENSIONAL_PROTOCOLS)}"
            )
    cells = None if store is None else CellStore(store)
    score_rows: list[dict[str, Any]] = []
    pred_rows: list[pd.DataFrame] = []
    for cname, value in corpora.items():
        corpus = _as_dim_corpus(cname, value, tasks)
        feats: dict[str, np.ndarray] = {}
        for protocol in protocols:
            folds = _dim_splits(corpus, protocol, n_splits=n_splits, seed=random_state)
            fold_key = [te.tolist() for _, te in folds]
            for fname, embedder in embedders.items():
                emb = clone(embedder)
                if corpus.sampling_rate and "sampling_rate" in emb.get_params(deep=False):
                    emb.set_params(sampling_rate=corpus.sampling_rate)
                for rname, est in estimators.items():
                    for task in tasks:
                        key = (cname, protocol, fname, rname, task)
                        digest = fingerprint(
                            corpus.digest, task, fold_key, _spec(emb), _spec(est), random_state
                        )
                        record = None if cells is None else cells.load(key, digest)
                        if record is None:
                            if fname not in feats:
                                feats[fname] = extract_features(
                                    fname, emb, corpus.X, cache_dir=cache_dir
                                )
                            record = _run_cell(feats[fname], corpus.Y[task], folds, est)
                            if cells is not None:
                                cells.save(key, digest, record)
                            say(f"{' / '.join(key)}: CCC {np.mean(record['ccc']):.3f}")
                        else:
                            say(f"{' / '.join(key)}: read back")
                        coords = dict(zip(DimensionalResult._CELL, key, strict=True))
                        for j in range(len(folds)):
                            score_rows.append(
                                {
                                    **coords,
                                    "fold": j,
                                    "n_train": record["n_train"][j],
                                    "n_test": record["n_test"][j],
                                    "ccc": record["ccc"][j],
                                    "r": record["r"][j],
                                    "mae": record["mae"][j],
                                    "fit_time": record["fit_time"][j],
                                }
                            )
                        clip = np.asarray(record["clip"], dtype=int)
                        speakers = (
                            corpus.groups[clip] if corpus.groups is not None else clip.astype(str)
                        )
                        pred_rows.append(
                            pd.DataFrame(
                                {
                                    **coords,
                                    "fold": record["fold"],
                                    "clip": clip,
                                    "speaker": speakers,
                                    "y_true": corpus.Y[task][clip],
                                    "y_pred": np.asarray(record["y_pred"], dtype=np.float64),
                                }
                            )
                        )
    return DimensionalResult(
        pd.DataFrame(score_rows),
        pd.concat(pred_rows, ignore_index=True),
        n_boot=n_boot,
        random_state=random_state,
    )


def _run_cell(F: np.ndarray, y: np.ndarray, folds: list, est: BaseEstimator) -> dict[str, Any]:
    """Fit and score one cell on its folds; a JSON-able record."""
    record: dict[str, list] = {
        k: []
        for k in ("n_train", "n_test", "ccc", "r", "mae", "fit_time", "clip", "fold", "y_pred")
    }
    stacked = None
    if getattr(est, "_fits_folds_together", False):  # sertools' DNN: one stack, docs/dnn.md
        from ..models import fit_folds

        start = time.perf_counter()
        stacked = fit_folds(est, F, y, folds)
        share = (time.perf_counter() - start) / len(folds)
    for j, (train, test) in enumerate(folds):
        if stacked is not None:
            model, fit_time = stacked[j], share
        else:
            model = clone(est)
            start = time.perf_counter()
            model.fit(F[train], y[train])
            fit_time = time.perf_counter() - start
        pred = np.asarray(model.predict(F[test]), dtype=np.float64).ravel()
        record["n_train"].append(len(train))
        record["n_test"].append(len(test))
        record["ccc"].append(float(ccc(y[test], pred)))
        record["r"].append(float(pearson_r(y[test], pred)))
        record["mae"].append(float(mae(y[test], pred)))
        record["fit_time"].append(fit_time)
        record["clip"] += np.asarray(test).tolist()
        record["fold"] += [j] * len(test)
        record["y_pred"] += pred.tolist()
    return record
