"""The result of a dimensional study: per-fold scores and out-of-fold predictions, and what derives.

:class:`DimensionalResult` holds the two tables :func:`~sertools.study.run_dimensional`
builds; the summary (with the speaker-level CCC intervals of :mod:`._cluster_stats`),
the paired test, the Table-II-style table and the reports (:mod:`._dim_report`)
are computed from them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .._exceptions import ParameterError
from ._cluster_stats import cluster_bootstrap_ccc
from ._dim_plan import CELL
from .stats import corrected_resampled_ttest

__all__ = ["DimensionalResult"]


@dataclass
class DimensionalResult:
    """Per-fold scores and out-of-fold predictions of a dimensional study.

    Built by :func:`~sertools.study.run_dimensional`; the summary, tests, tables and reports
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
        for key, folds in self.scores.groupby(CELL, sort=False):
            preds = self.predictions
            mask = np.ones(len(preds), dtype=bool)
            for col, val in zip(CELL, key, strict=True):
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
                    **dict(zip(CELL, key, strict=True)),
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
                if col not in CELL:
                    raise ParameterError(f"unknown cell coordinate {col!r}; expected {CELL}")
                mask &= (self.scores[col] == val).to_numpy()
            rows = self.scores[mask]
            cells = rows[CELL].drop_duplicates()
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
            The files written, ``dimensional.md`` last.

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
        from ._dim_report import write_dimensional_reports

        return write_dimensional_reports(self, out)
