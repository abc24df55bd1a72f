"""The result of a study: per-fold scores, out-of-fold predictions, failures, cross-corpus cells."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._exceptions import ParameterError
from ._store import STD_DDOF

__all__ = ["StudyResult"]


@dataclass
class StudyResult:
    """Per-fold scores, out-of-fold predictions and failures of a study.

    Parameters
    ----------
    scores : pandas.DataFrame
        One row per (corpus, protocol, feature, classifier, repeat, fold):
        ``uar``, ``war`` (in [0, 1]), ``fit_time``, ``extraction_time``
        (seconds), ``n_train``, ``n_test``.
    predictions : pandas.DataFrame
        Exactly the predictions made: one row per (corpus, protocol, feature,
        classifier, repeat, fold, tested clip) with ``index`` (position of the
        clip in its corpus), ``group`` (speaker, or the clip itself when the
        corpus has no speakers), ``y_true``, ``y_pred``. A clip that no fold
        tests has no row; a clip tested again in a later repeat has one row
        per repeat.
    failures : pandas.DataFrame
        One row per cell that could not be computed: corpus, protocol,
        feature, classifier, ``reason``.
    cross : pandas.DataFrame
        Cross-corpus cells (empty unless asked for): feature, classifier,
        ``train``, ``test``, ``labels``, ``uar``, ``war``, ``n_train``,
        ``n_test``, ``fit_time``.
    cross_predictions : pandas.DataFrame
        Test-corpus predictions of the cross-corpus cells: feature,
        classifier, train, test, ``index``, ``group``, ``y_true``, ``y_pred``.

    Examples
    --------
    A two-fold study of two feature sets on a small synthetic corpus:

    >>> from sertools.datasets import make_synthetic_corpus
    >>> from sertools.study import run_study
    >>> corpus = make_synthetic_corpus(n_per_class=6, n_speakers=4, random_state=0)
    >>> result = run_study({"synthetic": corpus}, features=["mfcc", "mel"],
    ...                    classifiers=["svm-scaled"], n_splits=2)
    >>> result.scores.shape, result.predictions.shape  # 2 cells x 2 folds; 2 x 24 clips
    ((4, 12), (48, 10))
    >>> result.scores.columns.tolist()
    ['corpus', 'protocol', 'feature', 'classifier', 'repeat', 'fold', 'uar', 'war', 'fit_time',
    'extraction_time', 'n_train', 'n_test']
    >>> result.predictions.columns.tolist()[4:]
    ['repeat', 'fold', 'index', 'group', 'y_true', 'y_pred']
    >>> result.ok, result.failures.empty, result.cross.empty
    (True, True, True)
    """

    scores: pd.DataFrame
    predictions: pd.DataFrame
    failures: pd.DataFrame = field(default_factory=pd.DataFrame)
    cross: pd.DataFrame = field(default_factory=pd.DataFrame)
    cross_predictions: pd.DataFrame = field(default_factory=pd.DataFrame)

    KEYS = ("corpus", "protocol", "feature", "classifier")

    @property
    def ok(self) -> bool:
        """True when no cell failed.

        Examples
        --------
        The speaker protocol needs speakers, which a bare ``(X, y)`` corpus lacks:

        >>> from sertools.datasets import make_synthetic_corpus
        >>> from sertools.study import run_study
        >>> corpus = make_synthetic_corpus(n_per_class=6, n_speakers=4, random_state=0)
        >>> result = run_study({"synthetic": (corpus.data, corpus.target)}, features=["mfcc"],
        ...                    classifiers=["svm-scaled"], protocols=["speaker"])
        >>> result.ok
        False
        >>> print(result.failures.reason[0])
        corpus 'synthetic', protocol 'speaker': protocol 'speaker' needs speakers, ...
        """
        return self.failures.empty

    def summary(
        self, *, ci: bool = True, n_boot: int = 1000, random_state: int = 0
    ) -> pd.DataFrame:
        """Mean and sample standard deviation (ddof=1) over folds, in percent.

        Parameters
        ----------
        ci : bool, default=True
            Add ``uar_ci_low``, ``uar_ci_high``: the 95 % speaker-level
            (cluster) bootstrap interval of the pooled out-of-fold UAR
            (:func:`sertools.study.stats.cluster_bootstrap_uar`).
        n_boot : int, default=1000
            Bootstrap resamples.
        random_state : int, default=0
            Seed of the bootstrap.

        Returns
        -------
        pandas.DataFrame
            Indexed by (corpus, protocol, feature, classifier) in run order;
            columns ``uar_mean, uar_std, war_mean, war_std, n_folds`` (and the
            CI columns), percent.

        Examples
        --------
        >>> from sertools.datasets import make_synthetic_corpus
        >>> from sertools.study import run_study
        >>> corpus = make_synthetic_corpus(n_per_class=6, n_speakers=4, random_state=0)
        >>> result = run_study({"synthetic": corpus}, features=["mfcc", "mel"],
        ...                    classifiers=["svm-scaled"], n_splits=2)
        >>> summary = result.summary(n_boot=200)
        >>> summary.columns.tolist()
        ['uar_mean', 'uar_std', 'war_mean', 'war_std', 'n_folds', 'uar_ci_low', 'uar_ci_high']
        >>> summary[["uar_mean", "uar_std", "n_folds"]].round(2)
                                               uar_mean  uar_std  n_folds
        corpus    protocol feature classifier
        synthetic paper    mfcc    svm-scaled     29.17     5.89        2
                           mel     svm-scaled     62.50    17.68        2
        """
        if self.scores.empty:
            cols = ["uar_mean", "uar_std", "war_mean", "war_std", "n_folds"]
            if ci:
                cols += ["uar_ci_low", "uar_ci_high"]
            index = pd.MultiIndex.from_arrays([[]] * 4, names=list(self.KEYS))
            return pd.DataFrame(columns=cols, index=index, dtype=float)
        grouped = self.scores.groupby(list(self.KEYS), sort=False)
        table = pd.DataFrame(
            {
                "uar_mean": grouped.uar.mean() * 100,
                "uar_std": grouped.uar.std(ddof=STD_DDOF) * 100,
                "war_mean": grouped.war.mean() * 100,
                "war_std": grouped.war.std(ddof=STD_DDOF) * 100,
                "n_folds": grouped.size(),
            }
        )
        if ci:
            from .stats import cluster_bootstrap_uar

            lows, highs = [], []
            preds = self.predictions.groupby(list(self.KEYS), sort=False)
            for key in table.index:
                p = preds.get_group(key)
                _, lo, hi = cluster_bootstrap_uar(
                    p.y_true.to_numpy(),
                    p.y_pred.to_numpy(),
                    p.group.to_numpy(),
                    n_boot=n_boot,
                    random_state=random_state,
                )
                lows.append(100 * lo)
                highs.append(100 * hi)
            table["uar_ci_low"] = lows
            table["uar_ci_high"] = highs
        return table

    def best(self) -> tuple[str, str, str, str]:
        """The cell with the highest mean UAR.

        Returns
        -------
        tuple of str
            Its key (corpus, protocol, feature, classifier).

        Examples
        --------
        >>> from sertools.datasets import make_synthetic_corpus
        >>> from sertools.study import run_study
        >>> corpus = make_synthetic_corpus(n_per_class=6, n_speakers=4, random_state=0)
        >>> result = run_study({"synthetic": corpus}, features=["mfcc", "mel"],
        ...                    classifiers=["svm-scaled"], n_splits=2)
        >>> result.best()
        ('synthetic', 'paper', 'mel', 'svm-scaled')
        """
        return self.summary(ci=False)["uar_mean"].idxmax()

    def cell_predictions(self, corpus: str, protocol: str, feature: str, classifier: str):
        """Out-of-fold predictions of one cell.

        Parameters
        ----------
        corpus, protocol, feature, classifier : str
            The cell's key.

        Returns
        -------
        pandas.DataFrame
            Its rows of :attr:`predictions`.

        Raises
        ------
        ParameterError
            If the study has no such cell (the message lists the cells).

        Examples
        --------
        >>> from sertools.datasets import make_synthetic_corpus
        >>> from sertools.study import run_study
        >>> corpus = make_synthetic_corpus(n_per_class=6, n_speakers=4, random_state=0)
        >>> result = run_study({"synthetic": corpus}, features=["mfcc", "mel"],
        ...                    classifiers=["svm-scaled"], n_splits=2)
        >>> pred = result.cell_predictions("synthetic", "paper", "mel", "svm-scaled")
        >>> pred.shape  # every clip is tested once
        (24, 10)
        >>> pred[["fold", "index", "group", "y_true", "y_pred"]].head(3)
            fold  index  group   y_true   y_pred
        24     0      1  spk00      sad  neutral
        25     0      2  spk02    happy  neutral
        26     0      6  spk01  neutral  neutral
        """
        p = self.predictions
        mask = (
            (p.corpus == corpus)
            & (p.protocol == protocol)
            & (p.feature == feature)
            & (p.classifier == classifier)
        )
        if not mask.any():
            raise ParameterError(
                f"no predictions for cell {corpus}/{protocol}/{feature}/{classifier}; cells: "
                + ", ".join("/".join(k) for k in self.summary(ci=False).index)
            )
        return p[mask]

    def confusion_matrix(
        self, corpus: str, protocol: str, feature: str, classifier: str
    ) -> pd.DataFrame:
        """Out-of-fold confusion matrix of one cell.

        Counts every prediction made (all repeats); clips never tested do not count.

        Parameters
        ----------
        corpus, protocol, feature, classifier : str
            The cell's key.

        Returns
        -------
        pandas.DataFrame of shape (n_labels, n_labels)
            Counts; rows: true label, columns: predicted label.

        Examples
        --------
        >>> from sertools.datasets import make_synthetic_corpus
        >>> from sertools.study import run_study
        >>> corpus = make_synthetic_corpus(n_per_class=6, n_speakers=4, random_state=0)
        >>> result = run_study({"synthetic": corpus}, features=["mfcc", "mel"],
        ...                    classifiers=["svm-scaled"], n_splits=2)
        >>> result.confusion_matrix("synthetic", "paper", "mel", "svm-scaled")
                 angry  happy  neutral  sad
        angry        4      2        0    0
        happy        1      3        2    0
        neutral      0      1        5    0
        sad          0      0        3    3
        """
        from sklearn.metrics import confusion_matrix

        p = self.cell_predictions(corpus, protocol, feature, classifier)
        labels = np.unique(np.concatenate([p.y_true.to_numpy(), p.y_pred.to_numpy()]))
        cm = confusion_matrix(p.y_true, p.y_pred, labels=labels)
        return pd.DataFrame(cm, index=labels, columns=labels)

    def to_markdown(self) -> str:
        """The summary as a Markdown table.

        Returns
        -------
        str
            One row per cell, ``mean ± std`` over folds (ddof=1), percent.

        Examples
        --------
        >>> from sertools.datasets import make_synthetic_corpus
        >>> from sertools.study import run_study
        >>> corpus = make_synthetic_corpus(n_per_class=6, n_speakers=4, random_state=0)
        >>> result = run_study({"synthetic": corpus}, features=["mfcc", "mel"],
        ...                    classifiers=["svm-scaled"], n_splits=2)
        >>> print(result.to_markdown())
        | corpus | protocol | feature | classifier | UAR % | WAR % |
        |---|---|---|---|---|---|
        | synthetic | paper | mfcc | svm-scaled | 29.17 ± 5.89 | 29.17 ± 5.89 |
        | synthetic | paper | mel | svm-scaled | 62.50 ± 17.68 | 62.50 ± 17.68 |
        """
        s = self.summary(ci=False)
        lines = [
            "| corpus | protocol | feature | classifier | UAR % | WAR % |",
            "|---|---|---|---|---|---|",
        ]
        for (corpus, protocol, feat, clf), row in s.iterrows():
            lines.append(
                f"| {corpus} | {protocol} | {feat} | {clf} | {row.uar_mean:.2f} ± "
                f"{row.uar_std:.2f} | {row.war_mean:.2f} ± {row.war_std:.2f} |"
            )
        return "\n".join(lines)

    @classmethod
    def load(cls, out_dir: str | Path) -> StudyResult:
        """Read back a study written by :meth:`save` (``scores.csv``, ``predictions.csv``, ...).

        Raises
        ------
        ParameterError
            If the folder holds no ``scores.csv`` and ``predictions.csv``.
        """
        out = Path(out_dir)
        missing = [n for n in ("scores.csv", "predictions.csv") if not (out / n).is_file()]
        if missing:
            raise ParameterError(
                f"{out} holds no study results (missing {', '.join(missing)}); expected the "
                "output folder of run_study(...).save() or 'sertools study --out'"
            )
        keys = {k: str for k in (*cls.KEYS, "group", "y_true", "y_pred")}

        def read(name: str) -> pd.DataFrame:
            path = out / name
            return pd.read_csv(path, dtype=keys) if path.is_file() else pd.DataFrame()

        return cls(
            read("scores.csv"),
            read("predictions.csv"),
            read("failures.csv"),
            read("cross_corpus.csv"),
        )

    def save(self, out_dir: str | Path, *, title: str = "", **kwargs: Any) -> dict[str, Path]:
        """Write every table, figure and the HTML report.

        Parameters
        ----------
        out_dir : str or Path
            Created if needed.
        title : str
            Title of the reports.
        **kwargs
            Passed to :func:`~sertools.study.report.write_reports`.

        Returns
        -------
        dict of str -> Path
            The files written.

        Examples
        --------
        >>> import tempfile
        >>> from sertools.datasets import make_synthetic_corpus
        >>> from sertools.study import StudyResult, run_study
        >>> corpus = make_synthetic_corpus(n_per_class=6, n_speakers=4, random_state=0)
        >>> result = run_study({"synthetic": corpus}, features=["mfcc", "mel"],
        ...                    classifiers=["svm-scaled"], n_splits=2)
        >>> tmp = tempfile.TemporaryDirectory()
        >>> paths = result.save(tmp.name, title="demo", n_boot=100)
        >>> sorted(paths)
        ['confusion_synthetic_paper', 'folds_paper', 'group_uar', 'heatmap_paper', 'predictions',
        'report_html', 'report_md', 'scores', 'significance', 'summary', 'table2_paper_csv',
        'table2_paper_md', 'table2_paper_tex']
        >>> StudyResult.load(tmp.name).scores.shape
        (4, 12)
        >>> tmp.cleanup()
        """
        from .report import write_reports

        return write_reports(self, out_dir, title=title, **kwargs)


#: columns of :attr:`StudyResult.scores` and :attr:`StudyResult.predictions`
SCORE_COLUMNS = [
    *StudyResult.KEYS,
    "repeat",
    "fold",
    "uar",
    "war",
    "fit_time",
    "extraction_time",
    "n_train",
    "n_test",
]
PREDICTION_COLUMNS = [*StudyResult.KEYS, "repeat", "fold", "index", "group", "y_true", "y_pred"]


def assemble(
    keys: Iterable[tuple[str, str, str, str]],
    done: Mapping[tuple[str, str, str, str], dict],
    failures: list[dict[str, Any]],
    cross_rows: list[dict],
    cross_predictions: list[pd.DataFrame],
) -> StudyResult:
    """A :class:`StudyResult` from finished cell records, in the order of ``keys``.

    ``keys`` lists every cell of the study in a stable order (corpus,
    protocol, feature set, classifier); the cells in ``done`` give their rows.
    """
    rows, preds = [], []
    for key in keys:
        rec = done.get(key)
        if rec is None:
            continue
        ident = dict(zip(StudyResult.KEYS, key, strict=True))
        rows += [{**ident, **r} for r in rec["rows"]]
        p = pd.DataFrame(rec["predictions"])
        for i, (k, v) in enumerate(ident.items()):
            p.insert(i, k, v)
        preds.append(p)
    scores = pd.DataFrame(rows, columns=SCORE_COLUMNS)
    predictions = (
        pd.concat(preds, ignore_index=True)[PREDICTION_COLUMNS]
        if preds
        else pd.DataFrame(columns=PREDICTION_COLUMNS)
    )
    return StudyResult(
        scores,
        predictions,
        pd.DataFrame(failures, columns=[*StudyResult.KEYS, "reason"]),
        pd.DataFrame(cross_rows),
        pd.concat(cross_predictions, ignore_index=True) if cross_predictions else pd.DataFrame(),
    )
