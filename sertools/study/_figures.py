"""Figures of a study's reports: confusion matrices, score bars, heatmaps, per-fold spread."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd

from ..utils._files import atomic_write_bytes
from ._store import STD_DDOF

__all__ = ["plot_confusion", "plot_scores"]


def _pyplot():
    """matplotlib.pyplot on the Agg backend unless the user chose one."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def _literal(text: object) -> str:
    """``text`` shown as written: a ``$`` never starts matplotlib's mathtext."""
    return str(text).replace("$", r"\$")


def _png(fig) -> bytes:
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    _pyplot().close(fig)
    return buf.getvalue()


def _save(fig, path: str | Path) -> Path:
    """Lay out ``fig``, write it to ``path`` as PNG (atomically), close it; return the path."""
    return atomic_write_bytes(path, _png(fig))


# --------------------------------------------------------------------------- figures
def plot_confusion(cm: pd.DataFrame, path: str | Path | None = None, *, title: str = ""):
    """Row-normalised confusion matrix with scikit-learn's ``ConfusionMatrixDisplay``.

    Parameters
    ----------
    cm : pandas.DataFrame of shape (n_classes, n_classes)
        Counts; rows are true labels, columns predicted labels.
    path : str or Path, optional
        PNG file to write; None returns the PNG bytes.
    title : str
        Plot title.

    Returns
    -------
    Path or bytes
        The file written, or the PNG when ``path`` is None.

    Examples
    --------
    >>> from sertools.datasets import make_synthetic_corpus
    >>> from sertools.study import run_study
    >>> corpus = make_synthetic_corpus(n_per_class=6, n_speakers=4, random_state=0)
    >>> result = run_study({"synthetic": corpus}, features=["mfcc", "mel"],
    ...                    classifiers=["svm-scaled"], n_splits=2)
    >>> from sertools.study import plot_confusion
    >>> cm = result.confusion_matrix("synthetic", "paper", "mel", "svm-scaled")
    >>> png = plot_confusion(cm, title="synthetic, mel + SVM")
    >>> type(png).__name__, png[1:4]
    ('bytes', b'PNG')

    With a path, the figure is written there:

    >>> import tempfile
    >>> from pathlib import Path
    >>> tmp = tempfile.TemporaryDirectory()
    >>> plot_confusion(cm, Path(tmp.name) / "confusion.png").name
    'confusion.png'
    >>> tmp.cleanup()
    """
    from sklearn.metrics import ConfusionMatrixDisplay

    plt = _pyplot()
    counts = cm.to_numpy()
    share = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    n = len(cm)
    fig, ax = plt.subplots(figsize=(1.6 + 0.75 * n, 1.2 + 0.75 * n))
    disp = ConfusionMatrixDisplay(100 * share, display_labels=[_literal(c) for c in cm.columns])
    disp.plot(ax=ax, cmap="Blues", colorbar=False, values_format=".0f", xticks_rotation=45)
    ax.images[0].set_clim(0, 100)
    ax.set_title(f"{_literal(title)}\n(% of true class; diagonal = recall)".strip(), fontsize=9)
    return _save(fig, path) if path is not None else _png(fig)


def plot_scores(summary: pd.DataFrame, path: str | Path | None = None, *, title: str = ""):
    """Bar chart of UAR and WAR (mean ± std over folds, ddof=1) per cell.

    Parameters
    ----------
    summary : pandas.DataFrame
        :meth:`StudyResult.summary` output (any index).
    path : str or Path, optional
        PNG file to write; None returns the PNG bytes.
    title : str
        Plot title.

    Returns
    -------
    Path or bytes
        The file written, or the PNG when ``path`` is None.

    Examples
    --------
    >>> from sertools.datasets import make_synthetic_corpus
    >>> from sertools.study import run_study
    >>> corpus = make_synthetic_corpus(n_per_class=6, n_speakers=4, random_state=0)
    >>> result = run_study({"synthetic": corpus}, features=["mfcc", "mel"],
    ...                    classifiers=["svm-scaled"], n_splits=2)
    >>> import tempfile
    >>> from pathlib import Path
    >>> from sertools.study import plot_scores
    >>> png = plot_scores(result.summary(ci=False), title="synthetic corpus")
    >>> type(png).__name__, png[1:4]
    ('bytes', b'PNG')
    >>> tmp = tempfile.TemporaryDirectory()
    >>> path = plot_scores(result.summary(ci=False), Path(tmp.name) / "scores.png")
    >>> path.name, path.stat().st_size > 0
    ('scores.png', True)
    >>> tmp.cleanup()
    """
    plt = _pyplot()
    labels = [
        "\n".join(map(_literal, k)) if isinstance(k, tuple) else _literal(k) for k in summary.index
    ]
    x = np.arange(len(labels))
    fig, ax = plt.subplots(figsize=(max(4.0, 1.1 * len(labels) + 1), 4.0))
    ax.bar(x - 0.2, summary.uar_mean, 0.4, yerr=summary.uar_std, label="UAR", capsize=3)
    ax.bar(x + 0.2, summary.war_mean, 0.4, yerr=summary.war_std, label="WAR", capsize=3)
    ax.set_xticks(x, labels, fontsize=7)
    ax.set_ylabel(f"% (mean ± std over folds, ddof={STD_DDOF})")
    ax.set_ylim(0, 100)
    ax.legend()
    ax.set_title(_literal(title))
    return _save(fig, path) if path is not None else _png(fig)


def _heatmap(matrix: pd.DataFrame, title: str, xlabel: str, ylabel: str) -> bytes:
    plt = _pyplot()
    n_r, n_c = matrix.shape
    fig, ax = plt.subplots(figsize=(2.0 + 1.0 * n_c, 1.2 + 0.42 * n_r))
    im = ax.imshow(matrix.to_numpy(dtype=float), cmap="viridis", vmin=0, vmax=100, aspect="auto")
    ax.set_xticks(range(n_c), [_literal(c) for c in matrix.columns], rotation=30, ha="right")
    ax.set_yticks(range(n_r), [_literal(r) for r in matrix.index])
    for i in range(n_r):
        for j in range(n_c):
            v = matrix.iat[i, j]
            if pd.notna(v):
                ax.text(
                    j,
                    i,
                    f"{v:.1f}",
                    ha="center",
                    va="center",
                    color="white" if v < 60 else "black",
                    fontsize=8,
                )
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    fig.colorbar(im, ax=ax, label="UAR %")
    ax.set_title(_literal(title), fontsize=9)
    return _png(fig)


def _fold_spread(scores: pd.DataFrame, protocol: str) -> bytes:
    plt = _pyplot()
    s = scores[scores.protocol == protocol]
    keys = list(dict.fromkeys(zip(s.corpus, s.feature, s.classifier, strict=True)))
    fig, ax = plt.subplots(figsize=(max(4.5, 0.55 * len(keys) + 1.5), 4.2))
    data = [
        100 * s[(s.corpus == c) & (s.feature == f) & (s.classifier == m)].uar.to_numpy()
        for c, f, m in keys
    ]
    ax.boxplot(data, widths=0.5, showfliers=False)
    rng = np.random.default_rng(0)
    for i, d in enumerate(data, start=1):
        ax.scatter(i + rng.uniform(-0.12, 0.12, len(d)), d, s=10, color="k", zorder=3)
    ax.set_xticks(range(1, len(keys) + 1), ["\n".join(map(_literal, k)) for k in keys], fontsize=7)
    ax.set_ylabel("UAR % per fold")
    ax.set_ylim(0, 100)
    ax.set_title(f"Per-fold UAR, protocol {_literal(protocol)}", fontsize=9)
    return _png(fig)
