"""Reports of a study: Table II (Markdown, LaTeX, CSV), the paper side by side, figures, HTML.

:func:`write_reports` writes everything for a :class:`~sertools.study.StudyResult`.
A report is built once as data — headings, paragraphs, tables of cells, figures
(``_document``, ``_tables``) — and rendered per format, each with its own
escaping: Markdown escapes its inline syntax and ``|`` (a name keeps its
column), HTML its markup, LaTeX ``\\ & % _ # $ ^ { } ~``; CSV writes the
numbers. Every file name made from a corpus, protocol, feature-set or
classifier name is sanitised (it stays in the output folder), and every file is
written atomically (a temporary file replaced in one step) with the user's
normal permissions, so an interrupted run never leaves half a table.
Conventions of every table:

* scores are percent; ``± std`` is the sample standard deviation over folds
  (``ddof=1``, :data:`~sertools.study.STD_DDOF`);
* ``95 % CI`` is the speaker-level (cluster) bootstrap interval of the pooled
  out-of-fold UAR (:func:`~sertools.study.stats.cluster_bootstrap_uar`);
* in Table II the best value of each column is bold, ``*`` marks a UAR
  significantly below the best UAR of its corpus under the corrected
  resampled t-test (Nadeau & Bengio 2003) with Holm's correction, α = 0.05,
  and ``†`` a Feature Mean over fewer corpora than the table (a cell failed);
* the significance table names the test that decides "significant" (the
  Holm-corrected t-test), beside the paired bootstrap's Δ, CI and p;
* each table and figure names the protocol that produced it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._exceptions import ParameterError
from ..utils._files import atomic_write_bytes, atomic_write_text
from ._document import (
    Block,
    Bullets,
    Figure,
    Heading,
    Paragraph,
    Table,
    code,
    csv_table,
    latex_table,
    markdown_table,
    md_escape,
    render_html,
    render_markdown,
    tex_escape,
    text,
)
from ._figures import plot_confusion, plot_scores
from ._paper import (
    CORPUS_TITLES,
    PAPER_N_CLASSES,
    paper_comparison,
    paper_table,
    scaling_notes,
)
from ._sections import cross_section, protocol_figures
from ._store import STD_DDOF, _safe
from ._tables import (
    cells_table,
    failures_items,
    paper_comparison_doc,
    significance_doc,
    table2_caption_tex,
    table2_table,
)
from .audits import group_uar, report_blocks

__all__ = [
    "paper_comparison",
    "paper_table",
    "plot_confusion",
    "plot_scores",
    "scaling_notes",
    "table2",
    "table2_latex",
    "table2_markdown",
    "write_reports",
]

#: Display names of the corpora in tables: each corpus spec's ``title``
#: (:mod:`sertools.datasets`); the number of classes of the paper's Table I
#: is ``PAPER_N_CLASSES``.
_TITLES_AND_CLASSES = (CORPUS_TITLES, PAPER_N_CLASSES)

SIGNIFICANCE_NOTE = text(
    code("*"),
    ": UAR significantly below the best UAR of its corpus (corrected resampled t-test, "
    "Nadeau & Bengio 2003, on fold UARs; Holm-corrected over the cells of a corpus and "
    "protocol; α = 0.05).",
)
STD_NOTE = text(f"± std: sample standard deviation over folds (ddof={STD_DDOF}).")


def CI_NOTE(n_boot: int):
    """The note on the bootstrap confidence intervals."""
    return text(
        "95 % CI: speaker-level (cluster) bootstrap of the pooled out-of-fold UAR "
        f"(speakers resampled with replacement, {n_boot} resamples, percentile interval)."
    )


# --------------------------------------------------------------------------- Table II
def table2(result: Any, *, protocol: str) -> pd.DataFrame:
    """Table II layout for one protocol: rows (feature, classifier), columns (corpus, metric).

    Parameters
    ----------
    result : StudyResult
        A finished study.
    protocol : str
        The protocol whose cells fill the table.

    Returns
    -------
    pandas.DataFrame
        Mean UAR and WAR over folds (percent); columns ``(corpus, "UAR")``,
        ``(corpus, "WAR")`` per corpus, then ``("Feature Mean", "UAR"/"WAR")``
        averaging the corpora of the row.

    Examples
    --------
    >>> from sertools.datasets import make_synthetic_corpus
    >>> from sertools.study import run_study
    >>> corpus = make_synthetic_corpus(n_per_class=6, n_speakers=4, random_state=0)
    >>> result = run_study({"synthetic": corpus}, features=["mfcc", "mel"],
    ...                    classifiers=["svm-scaled"], n_splits=2)
    >>> from sertools.study import table2
    >>> table2(result, protocol="paper").round(2)
    corpus             synthetic        Feature Mean
    metric                   UAR    WAR          UAR    WAR
    feature classifier
    mfcc    svm-scaled     29.17  29.17        29.17  29.17
    mel     svm-scaled     62.50  62.50        62.50  62.50
    """
    s = result.summary(ci=False).reset_index()
    s = s[s.protocol == protocol]
    if s.empty:
        return pd.DataFrame()
    wide = s.pivot_table(
        index=["feature", "classifier"],
        columns="corpus",
        values=["uar_mean", "war_mean"],
        sort=False,
    )
    corpora = list(dict.fromkeys(s.corpus))
    rows = list(dict.fromkeys(zip(s.feature, s.classifier, strict=True)))
    cols = {}
    for c in corpora:
        cols[(c, "UAR")] = wide[("uar_mean", c)]
        cols[(c, "WAR")] = wide[("war_mean", c)]
    out = pd.DataFrame(cols)
    out[("Feature Mean", "UAR")] = out[[(c, "UAR") for c in corpora]].mean(axis=1)
    out[("Feature Mean", "WAR")] = out[[(c, "WAR") for c in corpora]].mean(axis=1)
    out = out.reindex(pd.MultiIndex.from_tuples(rows, names=["feature", "classifier"]))
    out.columns = pd.MultiIndex.from_tuples(out.columns, names=["corpus", "metric"])
    return out


def table2_markdown(
    table: pd.DataFrame, *, protocol: str, significance: pd.DataFrame | None = None
) -> str:
    """Markdown of :func:`table2`; best per column in bold, ``*`` significantly below the best.

    Names are escaped (a ``|`` in a name keeps its column); a Feature Mean
    over fewer corpora than the table is marked ``†`` with a footnote.

    Parameters
    ----------
    table : pandas.DataFrame
        Output of :func:`table2`.
    protocol : str
        Protocol named in the caption.
    significance : pandas.DataFrame, optional
        Output of :func:`~sertools.study.stats.significance_table`; its
        significant rows are marked ``*``.

    Returns
    -------
    str
        A caption line and a pipe table.

    Examples
    --------
    >>> from sertools.datasets import make_synthetic_corpus
    >>> from sertools.study import run_study
    >>> corpus = make_synthetic_corpus(n_per_class=6, n_speakers=4, random_state=0)
    >>> result = run_study({"synthetic": corpus}, features=["mfcc", "mel"],
    ...                    classifiers=["svm-scaled"], n_splits=2)
    >>> from sertools.study import table2
    >>> from sertools.study.report import table2_markdown
    >>> print(table2_markdown(table2(result, protocol="paper"), protocol="paper"))
    UAR / WAR (%), protocol `paper`, mean over folds.
    <BLANKLINE>
    | Feature | Model | synthetic UAR | synthetic WAR | Feature Mean UAR | Feature Mean WAR |
    |---|---|---|---|---|---|
    | mfcc | svm-scaled | 29.17 | 29.17 | 29.17 | 29.17 |
    | mel | svm-scaled | **62.50** | **62.50** | **62.50** | **62.50** |
    """
    if table.empty:
        return f"_No finished cells under protocol {md_escape(repr(protocol))}._"
    return markdown_table(table2_table(table, protocol=protocol, significance=significance))


def table2_latex(
    table: pd.DataFrame, *, protocol: str, significance: pd.DataFrame | None = None
) -> str:
    """LaTeX (booktabs) of :func:`table2`, best per column in ``\\textbf``.

    Every name is escaped (``\\ & % _ # $ ^ { } ~``), so the table compiles
    whatever the corpus, feature set and classifier are called.

    Parameters
    ----------
    table : pandas.DataFrame
        Output of :func:`table2`.
    protocol : str
        Protocol named in the caption.
    significance : pandas.DataFrame, optional
        Output of :func:`~sertools.study.stats.significance_table`; its
        significant rows are marked ``*``.

    Returns
    -------
    str
        A ``table`` environment.

    Examples
    --------
    >>> from sertools.datasets import make_synthetic_corpus
    >>> from sertools.study import run_study
    >>> corpus = make_synthetic_corpus(n_per_class=6, n_speakers=4, random_state=0)
    >>> result = run_study({"synthetic": corpus}, features=["mfcc", "mel"],
    ...                    classifiers=["svm-scaled"], n_splits=2)
    >>> from sertools.study import table2
    >>> from sertools.study.report import table2_latex
    >>> print(table2_latex(table2(result, protocol="paper"), protocol="paper"))
    \\begin{table}[t]
    \\centering
    \\caption{UAR and WAR (\\%), protocol \\texttt{paper}, mean over folds. Best per column in
    bold; * significantly below the best UAR of its corpus (corrected resampled t-test, Holm,
    $\\alpha=0.05$).}
    \\begin{tabular}{llrrrr}
    \\toprule
    Feature & Model & \\multicolumn{2}{c}{synthetic} & \\multicolumn{2}{c}{Feature Mean} \\\\
     &  & UAR & WAR & UAR & WAR \\\\
    \\midrule
    mfcc & svm-scaled & 29.17 & 29.17 & 29.17 & 29.17 \\\\
    mel & svm-scaled & \\textbf{62.50} & \\textbf{62.50} & \\textbf{62.50} & \\textbf{62.50} \\\\
    \\bottomrule
    \\end{tabular}
    \\end{table}
    """
    if table.empty:
        return f"% no finished cells under protocol {tex_escape(protocol)}\n"
    doc = table2_table(table, protocol=protocol, significance=significance)
    return latex_table(doc, caption_tex=table2_caption_tex(protocol))


def paper_comparison_markdown(comp: pd.DataFrame) -> str:
    """Markdown of :func:`paper_comparison`: per corpus UAR ours | paper | Δ, WAR likewise.

    Parameters
    ----------
    comp : pandas.DataFrame
        Output of :func:`paper_comparison`.

    Returns
    -------
    str
        A pipe table and, where the label sets differ, a note saying so.
    """
    doc = paper_comparison_doc(comp)
    return (
        markdown_table(doc)
        if isinstance(doc, Table)
        else render_markdown([Paragraph(doc)]).rstrip()
    )


# --------------------------------------------------------------------------- all reports
#: files a previous run into the same folder may have left that this run may not write
_OPTIONAL_OUTPUTS = (
    "failures.csv",
    "cross_corpus.csv",
    "paper_comparison.csv",
    "paper_comparison.md",
)


def write_reports(
    result: Any,
    out_dir: str | Path,
    *,
    title: str = "",
    paper: bool = True,
    n_boot: int = 1000,
    alpha: float = 0.05,
    random_state: int = 0,
) -> dict[str, Path]:
    """Write every table, figure and the self-contained HTML report of a study.

    The report is built once as data (headings, paragraphs, tables, figures)
    and rendered to Markdown and HTML, Table II also to LaTeX and CSV, each
    with that format's escaping. Every file name made from a corpus, protocol,
    feature-set or classifier name is sanitised, so all files land in
    ``out_dir``; optional files of an earlier run into the same folder that this
    run does not write (``failures.csv``, ``cross_corpus.csv``,
    ``paper_comparison.*``) are removed.

    Parameters
    ----------
    result : StudyResult
        A finished study.
    out_dir : str or Path
        Created if needed.
    title : str
        Title of the reports.
    paper : bool, default=True
        Add the paper's Table II side by side for ``paper``-protocol cells.
    n_boot : int, default=1000
        Bootstrap resamples of the CIs and the paired bootstrap.
    alpha : float, default=0.05
        Level of the significance marks.
    random_state : int, default=0
        Seed of the bootstraps.

    Returns
    -------
    dict of str -> Path
        ``scores``, ``predictions``, ``summary`` (CSV, with CIs),
        ``table2_<protocol>_{md,tex,csv}``, ``significance`` (CSV),
        ``paper_comparison`` (CSV, when any cell matches), ``cross_corpus``
        (CSV, when run), ``failures`` (CSV, when any), ``group_uar`` (CSV: UAR
        per speaker of every cell), ``report_md``, ``report_html`` and one PNG
        per figure.

    Raises
    ------
    ParameterError
        If ``n_boot`` is not a positive integer, ``alpha`` is not in (0, 1),
        or ``out_dir`` is an existing file.

    Examples
    --------
    >>> from sertools.datasets import make_synthetic_corpus
    >>> from sertools.study import run_study
    >>> corpus = make_synthetic_corpus(n_per_class=6, n_speakers=4, random_state=0)
    >>> result = run_study({"synthetic": corpus}, features=["mfcc", "mel"],
    ...                    classifiers=["svm-scaled"], n_splits=2)
    >>> import tempfile
    >>> from sertools.study import write_reports
    >>> tmp = tempfile.TemporaryDirectory()
    >>> paths = write_reports(result, tmp.name, title="synthetic corpus", n_boot=100)
    >>> sorted(paths)
    ['confusion_synthetic_paper', 'folds_paper', 'group_uar', 'heatmap_paper', 'predictions',
    'report_html', 'report_md', 'scores', 'significance', 'summary', 'table2_paper_csv',
    'table2_paper_md', 'table2_paper_tex']
    >>> print(paths["table2_paper_md"].read_text())
    UAR / WAR (%), protocol `paper`, mean over folds.
    <BLANKLINE>
    | Feature | Model | synthetic UAR | synthetic WAR | Feature Mean UAR | Feature Mean WAR |
    |---|---|---|---|---|---|
    | mfcc | svm-scaled | 29.17 | 29.17 | 29.17 | 29.17 |
    | mel | svm-scaled | **62.50** | **62.50** | **62.50** | **62.50** |
    >>> tmp.cleanup()
    """
    from .stats import significance_table

    check_report_args(out_dir, n_boot=n_boot, alpha=alpha)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}

    def put(key: str, name: str, data: str | bytes) -> None:
        paths[key] = (atomic_write_text if isinstance(data, str) else atomic_write_bytes)(
            out / name, data
        )

    summary = result.summary(n_boot=n_boot, random_state=random_state)
    sig = significance_table(result, alpha=alpha, n_boot=n_boot, random_state=random_state)
    put("scores", "scores.csv", result.scores.to_csv(index=False))
    put("predictions", "predictions.csv", result.predictions.to_csv(index=False))
    put("summary", "summary.csv", summary.round(3).to_csv())
    put("significance", "significance.csv", sig.to_csv(index=False))
    if not result.failures.empty:
        put("failures", "failures.csv", result.failures.to_csv(index=False))

    doc: list[Block] = [
        Heading(text(title or "sertools study"), 1),
        *(Paragraph(n) for n in (STD_NOTE, CI_NOTE(n_boot), SIGNIFICANCE_NOTE)),
    ]
    figures: list[Figure] = []
    protocols = list(dict.fromkeys(result.scores.protocol)) if not result.scores.empty else []
    for proto in protocols:
        t2 = table2(result, protocol=proto)
        t2_doc = table2_table(t2, protocol=proto, significance=sig)
        stem = f"table2_{_safe(proto)}"
        put(f"{stem}_md", f"{stem}.md", markdown_table(t2_doc) + "\n")
        put(
            f"{stem}_tex",
            f"{stem}.tex",
            latex_table(t2_doc, caption_tex=table2_caption_tex(proto)),
        )
        put(f"{stem}_csv", f"{stem}.csv", csv_table(t2_doc))
        audits = getattr(result, "fold_audits", None) or {}
        leaky = sorted(c for (c, p), a in audits.items() if p == proto and a.speaker_dependent)
        mark = f" (speaker-dependent folds: {', '.join(leaky)})" if leaky else ""
        doc += [Heading(text("Table II, protocol ", code(proto), mark)), t2_doc]
        figures += protocol_figures(result, summary, t2, proto)

    if paper and "paper" in protocols:
        comp = paper_comparison(result, protocol="paper")
        if not comp.empty:
            put("paper_comparison", "paper_comparison.csv", comp.round(2).to_csv(index=False))
            put(
                "paper_comparison_md", "paper_comparison.md", paper_comparison_markdown(comp) + "\n"
            )
            doc += [
                Heading(text("Ours vs the paper's Table II")),
                Paragraph(
                    text(
                        "Ours (protocol ",
                        code("paper"),
                        ") beside the paper's Table II; Δ = ours − paper, percentage points.",
                    )
                ),
                paper_comparison_doc(comp),
            ]

    notes = scaling_notes(result)
    if notes:
        doc += [Heading(text("The unscaled SVM")), Bullets(tuple(text(n) for n in notes))]

    doc += report_blocks(result)  # fold audit, EmoBox beside ours, UAR by group
    if not result.predictions.empty:
        put(
            "group_uar", "group_uar.csv", group_uar(result.predictions).round(3).to_csv(index=False)
        )

    sig_doc = significance_doc(sig)
    doc += [
        Heading(text("Cells (mean ± std over folds, 95 % CI of the UAR)")),
        cells_table(summary),
        Heading(text("Significance (each cell vs the best of its corpus and protocol)")),
        sig_doc if isinstance(sig_doc, Table) else Paragraph(sig_doc),
    ]

    cross = result.cross
    if cross is not None and not cross.empty:
        put("cross_corpus", "cross_corpus.csv", cross.round(4).to_csv(index=False))
        blocks, cross_figures = cross_section(cross, summary, protocols)
        doc += blocks
        figures += cross_figures

    if not result.failures.empty:
        doc += [Heading(text("Failed cells")), Bullets(failures_items(result.failures))]

    doc.append(Heading(text("Figures")))
    for fig in figures:
        put(fig.name, f"{fig.name}.png", fig.png)
        doc.append(fig)
    put("report_md", "report.md", render_markdown(doc))
    put("report_html", "report.html", render_html(doc, title=title or "sertools study"))
    written = {p.name for p in paths.values()}
    for name in _OPTIONAL_OUTPUTS:
        if name not in written:
            (out / name).unlink(missing_ok=True)
    return paths


def check_report_args(out_dir: str | Path, *, n_boot: int, alpha: float = 0.05) -> None:
    """Refuse report arguments that would fail only after every cell is computed.

    Parameters
    ----------
    out_dir : str or Path
        Output folder: must not be an existing file.
    n_boot : int
        Bootstrap resamples: a positive integer.
    alpha : float, default=0.05
        Significance level, in (0, 1).

    Raises
    ------
    ParameterError
        Naming the bad argument and what is expected.

    Examples
    --------
    >>> from sertools.study.report import check_report_args
    >>> check_report_args("out", n_boot=0)
    Traceback (most recent call last):
    ...
    sertools._exceptions.ParameterError: n_boot=0: expected a positive number of bootstrap resamples
    """
    if isinstance(n_boot, bool) or not isinstance(n_boot, (int, np.integer)) or n_boot < 1:
        raise ParameterError(
            f"n_boot={n_boot!r}: expected a positive number of bootstrap resamples"
        )
    if not 0 < alpha < 1:
        raise ParameterError(f"alpha={alpha!r}: expected a significance level in (0, 1)")
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise ParameterError(f"output folder {out} is an existing file; expected a folder")
