"""Plots of a study: confusion matrix and UAR/WAR bars (matplotlib, Agg backend)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["plot_confusion", "plot_scores"]


def _pyplot():
    """matplotlib.pyplot on the Agg backend unless the user chose one."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: str | Path) -> Path:
    """Lay out ``fig``, write it to ``path`` as PNG, close it; return the path."""
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=120)
    _pyplot().close(fig)
    return path


def plot_confusion(cm: pd.DataFrame, path: str | Path, *, title: str = "") -> Path:
    """Save a row-normalised confusion matrix (recall per class on the diagonal).

    Parameters
    ----------
    cm : pandas.DataFrame of shape (n_classes, n_classes)
        Counts; rows are true labels, columns predicted labels.
    path : str or Path
        PNG file to write.
    title : str
        Plot title.

    Returns
    -------
    Path
    """
    plt = _pyplot()
    counts = cm.to_numpy()
    share = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    n = len(cm)
    fig, ax = plt.subplots(figsize=(1.0 + 0.8 * n, 0.8 + 0.8 * n))
    ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(n), cm.columns, rotation=45, ha="right")
    ax.set_yticks(range(n), cm.index)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    for i in range(n):
        for j in range(n):
            colour = "white" if share[i, j] > 0.5 else "black"
            ax.text(j, i, f"{100 * share[i, j]:.0f}", ha="center", va="center", color=colour)
    ax.set_title(f"{title}\n(% of true class; diagonal = recall)".strip())
    return _save(fig, path)


def plot_scores(summary: pd.DataFrame, path: str | Path, *, title: str = "") -> Path:
    """Save a bar chart of UAR and WAR (mean ± std over folds) per pipeline.

    Parameters
    ----------
    summary : pandas.DataFrame
        :meth:`StudyResult.summary` output.
    path : str or Path
        PNG file to write.
    title : str
        Plot title.

    Returns
    -------
    Path
    """
    plt = _pyplot()
    labels = [f"{f}\n{c}" for f, c in summary.index]
    x = np.arange(len(labels))
    fig, ax = plt.subplots(figsize=(max(4.0, 1.1 * len(labels) + 1), 3.6))
    ax.bar(x - 0.2, summary.uar_mean, 0.4, yerr=summary.uar_std, label="UAR", capsize=3)
    ax.bar(x + 0.2, summary.war_mean, 0.4, yerr=summary.war_std, label="WAR", capsize=3)
    ax.set_xticks(x, labels)
    ax.set_ylabel("% (mean ± std over folds)")
    ax.set_ylim(0, 100)
    ax.legend()
    ax.set_title(title)
    return _save(fig, path)
