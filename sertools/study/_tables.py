"""The tables of a study's reports, built once as data (:class:`~._document.Table`).

Each builder turns numbers (a DataFrame) into cells: formatted text, the
number for CSV, bold for the best of a column, ``*`` for a UAR significantly
below the best of its corpus, ``†`` for a Feature Mean over fewer corpora than
the table. The renderers of :mod:`._document` draw them in every format.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ._document import Cell, Column, Table, Text, code, text
from ._paper import corpus_title

#: the test whose Holm-corrected p-value decides "significant" (reports name it)
DECIDING_TEST = "Holm-corrected t-test"

FEWER_CORPORA_MARK = "†"


def _num(v: Any, fmt: str = ".2f", *, bold: bool = False, mark: str = "") -> Cell:
    if v is None or pd.isna(v):
        return Cell("")
    return Cell(format(v, fmt), value=round(float(v), 4), bold=bold, mark=mark)


def _marks(sig: pd.DataFrame | None, protocol: str) -> set[tuple[str, str, str]]:
    """(feature, classifier, corpus) of the cells significantly below the best."""
    if sig is None or sig.empty:
        return set()
    hit = sig[(sig.protocol == protocol) & sig.significant.astype(bool)]
    out = set()
    for other, corpus in zip(hit.other, hit.corpus, strict=True):
        feat, _, clf = str(other).rpartition("/")
        out.add((feat, clf, corpus))
    return out


def table2_table(
    table: pd.DataFrame, *, protocol: str, significance: pd.DataFrame | None = None
) -> Table:
    """Table II of one protocol: rows (feature, classifier), UAR and WAR per corpus.

    ``table`` is :func:`~sertools.study.report.table2`'s output. The best value
    of each column is bold; ``*`` marks a UAR significantly below the best of
    its corpus; ``†`` marks a Feature Mean over fewer corpora than the table
    (a cell of that row failed), with a footnote naming them.
    """
    corpora = [c for c, m in table.columns if m == "UAR" and c != "Feature Mean"]
    columns = [
        Column("Feature", key="feature", align="l"),
        Column("Model", key="classifier", align="l"),
    ]
    columns += [Column(m, key=f"{c}_{m}", group=corpus_title(c)) for c, m in table.columns]
    marks = _marks(significance, protocol)
    best = table.max(axis=0)
    rows, short = [], []
    for (feat, clf), row in table.iterrows():
        have = [c for c in corpora if pd.notna(row[(c, "UAR")])]
        fewer = len(have) < len(corpora)
        if fewer:
            missing = [corpus_title(c) for c in corpora if c not in have]
            short.append(
                f"{feat}/{clf}: {len(have)} of {len(corpora)} (none for {', '.join(missing)})"
            )
        cells = [Cell(str(feat), value=str(feat)), Cell(str(clf), value=str(clf))]
        for (corpus, metric), v in row.items():
            mark = ""
            if metric == "UAR" and (feat, clf, corpus) in marks:
                mark += "*"
            if corpus == "Feature Mean" and fewer:
                mark += FEWER_CORPORA_MARK
            bold = pd.notna(v) and bool(np.isclose(v, best[(corpus, metric)]))
            cells.append(_num(v, bold=bold, mark=mark))
        rows.append(cells)
    notes = []
    if short:
        notes.append(
            text(
                f"{FEWER_CORPORA_MARK} Feature Mean over fewer corpora than the table "
                "(a cell failed or was not run): " + "; ".join(short) + "."
            )
        )
    caption = text("UAR / WAR (%), protocol ", code(protocol), ", mean over folds.")
    return Table(columns, rows, caption=caption, notes=notes)


def table2_caption_tex(protocol: str) -> str:
    """The LaTeX caption of Table II (already escaped)."""
    from ._document import tex_escape

    return (
        rf"UAR and WAR (\%), protocol \texttt{{{tex_escape(protocol)}}}, mean over folds. "
        r"Best per column in bold; * significantly below the best UAR of its corpus "
        r"(corrected resampled t-test, Holm, $\alpha=0.05$)."
    )


def cells_table(summary: pd.DataFrame) -> Table:
    """Every cell: mean ± std over folds, the 95 % CI of the UAR, number of folds."""
    columns = [
        Column("corpus", align="l"),
        Column("protocol", align="l"),
        Column("feature", align="l"),
        Column("classifier", align="l"),
        Column("UAR % ± std", key="uar"),
        Column("95 % CI (UAR)", key="uar_ci"),
        Column("WAR % ± std", key="war"),
        Column("folds", key="n_folds"),
    ]
    has_ci = "uar_ci_low" in summary
    rows = []
    for key, r in summary.iterrows():
        ci = f"[{r.uar_ci_low:.1f}, {r.uar_ci_high:.1f}]" if has_ci else ""
        rows.append(
            [Cell(str(k), value=str(k)) for k in key]
            + [
                Cell(f"{r.uar_mean:.2f} ± {r.uar_std:.2f}"),
                Cell(ci),
                Cell(f"{r.war_mean:.2f} ± {r.war_std:.2f}"),
                Cell(str(int(r.n_folds)), value=int(r.n_folds)),
            ]
        )
    return Table(columns, rows)


def significance_doc(sig: pd.DataFrame) -> Table | Text:
    """Each cell against the best of its corpus and protocol (or a sentence when none)."""
    if sig.empty:
        return text("No comparisons (fewer than two cells with two or more folds per corpus).")
    columns = [
        Column("corpus", align="l"),
        Column("protocol", align="l"),
        Column("best", align="l"),
        Column("other", align="l"),
        Column("Δ UAR (pp)", key="diff"),
        Column("t", key="t"),
        Column("p (t-test)", key="p_ttest"),
        Column("p Holm", key="p_holm"),
        Column("bootstrap Δ [95 % CI]", key="boot"),
        Column("p (bootstrap)", key="p_boot"),
        Column(f"significant ({DECIDING_TEST})", key="significant"),
    ]
    rows = []
    for _, r in sig.iterrows():
        rows.append(
            [Cell(str(r[k]), value=str(r[k])) for k in ("corpus", "protocol", "best", "other")]
            + [
                _num(r["diff"]),
                _num(r.t),
                _num(r.p_ttest, ".3g"),
                _num(r.p_holm, ".3g"),
                Cell(f"{r.boot_diff:.2f} [{r.boot_low:.2f}, {r.boot_high:.2f}]"),
                _num(r.p_boot, ".3g"),
                Cell("yes" if r.significant else "no"),
            ]
        )
    return Table(columns, rows)


def paper_comparison_doc(comp: pd.DataFrame) -> Table | Text:
    """Ours beside the paper's Table II: per corpus UAR ours | paper | Δ, WAR likewise."""
    if comp.empty:
        return text("No cell matches the paper's Table II (feature, classifier, corpus).")
    corpora = list(dict.fromkeys(comp.corpus))
    columns = [
        Column("Feature", key="feature", align="l"),
        Column("Model", key="classifier", align="l"),
    ]
    for c in corpora:
        t = corpus_title(c)
        for metric in ("UAR", "WAR"):
            columns += [
                Column(metric, key=f"{c}_{metric.lower()}", group=t),
                Column("paper", key=f"{c}_{metric.lower()}_paper", group=t),
                Column("Δ", key=f"{c}_{metric.lower()}_diff", group=t),
            ]
    rows = []
    for (feat, clf), block in comp.groupby(["feature", "classifier"], sort=False):
        cells = [Cell(str(feat), value=str(feat)), Cell(str(clf), value=str(clf))]
        by = block.set_index("corpus")
        for c in corpora:
            if c not in by.index:
                cells += [Cell("")] * 6
                continue
            r = by.loc[c]
            cells += [
                _num(r.uar),
                _num(r.uar_paper),
                _num(r.uar_diff, "+.2f"),
                _num(r.war),
                _num(r.war_paper),
                _num(r.war_diff, "+.2f"),
            ]
        rows.append(cells)
    notes = []
    if {"n_classes", "n_classes_paper"} <= set(comp.columns):
        per = comp.drop_duplicates("corpus").set_index("corpus")
        differ = [
            f"{corpus_title(c)}: ours {per.loc[c, 'n_classes']} classes, the paper's "
            f"{per.loc[c, 'n_classes_paper']}"
            for c in corpora
            if per.loc[c, "n_classes"] != per.loc[c, "n_classes_paper"]
        ]
        if differ:
            notes.append(
                text(
                    "Not comparable where the label sets differ (so does chance level): "
                    + "; ".join(differ)
                    + "."
                )
            )
    return Table(columns, rows, notes=notes)


def matrix_table(frame: pd.DataFrame) -> Table:
    """A train x test matrix (percent, 2 decimals; empty where not run)."""
    corner = f"{frame.index.name or ''} \\ {frame.columns.name or ''}"
    columns = [Column(corner, key=str(frame.index.name or ""), align="l")]
    columns += [Column(str(c)) for c in frame.columns]
    rows = [
        [Cell(str(idx), value=str(idx))] + [_num(v) for v in row] for idx, row in frame.iterrows()
    ]
    return Table(columns, rows)


def failures_items(failures: pd.DataFrame) -> tuple[Text, ...]:
    """One line per failed cell: its key and the reason."""
    return tuple(
        text("/".join(map(str, r[:4])) + f": {r.reason}") for r in failures.itertuples(index=False)
    )
