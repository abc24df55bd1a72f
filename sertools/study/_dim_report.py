"""The reports of a dimensional study, built once as data and rendered with :mod:`._document`.

:func:`dimensional_blocks` turns a :class:`~._dim_result.DimensionalResult`
into report blocks (headings, the Table-II-style CCC table per protocol, every
cell, one predicted-vs-true scatter per cell, :func:`plot_predictions`);
:func:`write_dimensional_reports` renders them as Markdown (names escaped as in
the categorical report) beside the CSV files and the PNGs.
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..metrics import ccc, mae, pearson_r
from ..utils._files import atomic_write_bytes, atomic_write_text
from ._dim_plan import CELL
from ._document import Block, Cell, Column, Figure, Heading, Table, render_markdown, text
from ._store import _safe

if TYPE_CHECKING:
    from ._dim_result import DimensionalResult

__all__ = ["plot_predictions"]


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
    from matplotlib.figure import Figure as MplFigure  # no pyplot: no global state, any backend

    t = np.asarray(y_true, dtype=np.float64).ravel()
    p = np.asarray(y_pred, dtype=np.float64).ravel()
    scores = f"CCC {ccc(t, p):.3f}, r {pearson_r(t, p):.3f}, MAE {mae(t, p):.3f}"
    fig = MplFigure(figsize=(4.2, 4.2))
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
    return atomic_write_bytes(path, _png(fig))


def _png(fig: Any) -> bytes:
    """The PNG of a (pyplot-free) matplotlib figure."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    return buf.getvalue()


def _frame_table(frame: pd.DataFrame) -> Table:
    """A table block of a DataFrame: its columns, each value as text (numbers for CSV)."""
    columns = [
        Column(str(c), key=str(c), align="r" if pd.api.types.is_numeric_dtype(frame[c]) else "l")
        for c in frame.columns
    ]
    rows = [
        [Cell(str(v), value=v if isinstance(v, (int, float, str)) else str(v)) for v in row]
        for row in frame.itertuples(index=False)
    ]
    return Table(columns, rows)


def _scatters(result: DimensionalResult) -> list[Figure]:
    """One predicted-vs-true scatter per cell, named ``scatter_<cell>`` (safe for files)."""
    figures = []
    for key, cell in result.predictions.groupby(CELL, sort=False):
        fig = plot_predictions(cell["y_true"], cell["y_pred"], title=" / ".join(key), label=key[-1])
        figures.append(Figure("scatter_" + "_".join(_safe(k) for k in key), _png(fig)))
    return figures


def dimensional_blocks(result: DimensionalResult) -> list[Block]:
    """The report of a dimensional study as blocks: tables per protocol, cells, scatters."""
    summary = result.summary()
    blocks: list[Block] = [Heading(text("Dimensional study"), 1)]
    for protocol in summary["protocol"].unique():
        blocks += [
            Heading(text(f"Protocol {protocol}: CCC [speaker-level 95 % CI]")),
            _frame_table(result.table(protocol=protocol).reset_index()),
        ]
    blocks += [Heading(text("Cells")), _frame_table(summary.round(4))]
    return blocks + _scatters(result)


def write_dimensional_reports(result: DimensionalResult, out: str | os.PathLike[str]) -> list[Path]:
    """Write ``dimensional_scores.csv``, ``dimensional_summary.csv``, the scatters and
    ``dimensional.md`` (last) into ``out``; see :meth:`DimensionalResult.write_reports`."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    result.scores.to_csv(out / "dimensional_scores.csv", index=False)
    result.summary().to_csv(out / "dimensional_summary.csv", index=False)
    written = [out / "dimensional_scores.csv", out / "dimensional_summary.csv"]
    blocks = dimensional_blocks(result)
    for fig in (b for b in blocks if isinstance(b, Figure)):
        written.append(atomic_write_bytes(out / f"{fig.name}.png", fig.png))
    written.append(atomic_write_text(out / "dimensional.md", render_markdown(blocks)))
    return written
