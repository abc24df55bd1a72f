"""Reports of a study: Table II (Markdown, LaTeX, CSV), the paper side by side, figures, HTML.

:func:`write_reports` writes everything for a :class:`~sertools.study.StudyResult`;
every file is written atomically (a temporary file replaced in one step), so
an interrupted run never leaves half a table. Conventions of every table:

* scores are percent; ``± std`` is the sample standard deviation over folds
  (``ddof=1``, :data:`~sertools.study.STD_DDOF`);
* ``95 % CI`` is the speaker-level (cluster) bootstrap interval of the pooled
  out-of-fold UAR (:func:`~sertools.study.stats.cluster_bootstrap_uar`);
* in Table II the best value of each column is bold, and ``*`` marks a UAR
  significantly below the best UAR of its corpus under the corrected
  resampled t-test (Nadeau & Bengio 2003) with Holm's correction, α = 0.05;
* each table and figure names the protocol that produced it.
"""

from __future__ import annotations

import base64
import html
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ._figures import _fold_spread, _heatmap, plot_confusion, plot_scores
from ._markdown import _cells_markdown, _frame_markdown, _md_table_html, _significance_markdown
from ._paper import (
    CORPUS_TITLES,
    PAPER_N_CLASSES,
    paper_comparison,
    paper_comparison_markdown,
    paper_table,
    scaling_notes,
)
from ._store import STD_DDOF, atomic_write_bytes, atomic_write_text
from .audits import group_uar, report_sections, sections_html

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


#: Number of emotion classes per corpus in the paper's Table I (see :mod:`._paper`).
PAPER_N_CLASSES = PAPER_N_CLASSES

SIGNIFICANCE_NOTE = (
    "`*`: UAR significantly below the best UAR of its corpus (corrected resampled t-test, "
    "Nadeau & Bengio 2003, on fold UARs; Holm-corrected over the cells of a corpus and "
    "protocol; α = 0.05)."
)
STD_NOTE = f"± std: sample standard deviation over folds (ddof={STD_DDOF})."
CI_NOTE = (
    "95 % CI: speaker-level (cluster) bootstrap of the pooled out-of-fold UAR "
    "(speakers resampled with replacement, {n_boot} resamples, percentile interval)."
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


def _marks(sig: pd.DataFrame | None, protocol: str) -> set[tuple[str, str, str]]:
    if sig is None or sig.empty:
        return set()
    hit = sig[(sig.protocol == protocol) & sig.significant]
    return {(*o.split("/"), c) for o, c in zip(hit.other, hit.corpus, strict=True)}


def _formatted(table: pd.DataFrame, marks: set, bold: tuple[str, str]) -> list[list[str]]:
    best = table.max(axis=0)
    out = []
    for (feat, clf), row in table.iterrows():
        cells = [feat, clf]
        for (corpus, metric), v in row.items():
            if pd.isna(v):
                cells.append("")
                continue
            text = f"{v:.2f}"
            if np.isclose(v, best[(corpus, metric)]):
                text = bold[0] + text + bold[1]
            if metric == "UAR" and (feat, clf, corpus) in marks:
                text += "*"
            cells.append(text)
        out.append(cells)
    return out


def table2_markdown(
    table: pd.DataFrame, *, protocol: str, significance: pd.DataFrame | None = None
) -> str:
    """Markdown of :func:`table2`; best per column in bold, ``*`` significantly below the best.

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
        return f"_No finished cells under protocol {protocol!r}._"
    head = ["Feature", "Model"] + [f"{CORPUS_TITLES.get(c, c)} {m}" for c, m in table.columns]
    lines = [
        f"UAR / WAR (%), protocol `{protocol}`, mean over folds.",
        "",
        "| " + " | ".join(head) + " |",
        "|" + "---|" * len(head),
    ]
    for cells in _formatted(table, _marks(significance, protocol), ("**", "**")):
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _tex(s: str) -> str:
    for a, b in (
        ("\\", r"\textbackslash{}"),
        ("&", r"\&"),
        ("%", r"\%"),
        ("_", r"\_"),
        ("#", r"\#"),
    ):
        s = s.replace(a, b)
    return s


def table2_latex(
    table: pd.DataFrame, *, protocol: str, significance: pd.DataFrame | None = None
) -> str:
    """LaTeX (booktabs) of :func:`table2`, best per column in ``\\textbf``.

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
     & & UAR & WAR & UAR & WAR \\\\
    \\midrule
    mfcc & svm-scaled & 29.17 & 29.17 & 29.17 & 29.17 \\\\
    mel & svm-scaled & \\textbf{62.50} & \\textbf{62.50} & \\textbf{62.50} & \\textbf{62.50} \\\\
    \\bottomrule
    \\end{tabular}
    \\end{table}
    """
    if table.empty:
        return f"% no finished cells under protocol {protocol}\n"
    corpora = list(dict.fromkeys(c for c, _ in table.columns))
    spec = "ll" + "rr" * len(corpora)
    top = " & ".join(rf"\multicolumn{{2}}{{c}}{{{_tex(CORPUS_TITLES.get(c, c))}}}" for c in corpora)
    lines = [
        r"\begin{table}[t]",
        r"\centering",
        rf"\caption{{UAR and WAR (\%), protocol \texttt{{{_tex(protocol)}}}, mean over folds. "
        r"Best per column in bold; * significantly below the best UAR of its corpus "
        r"(corrected resampled t-test, Holm, $\alpha=0.05$).}",
        rf"\begin{{tabular}}{{{spec}}}",
        r"\toprule",
        rf"Feature & Model & {top} \\",
        r" & & " + " & ".join(["UAR & WAR"] * len(corpora)) + r" \\",
        r"\midrule",
    ]
    for cells in _formatted(table, _marks(significance, protocol), (r"\textbf{", "}")):
        lines.append(" & ".join(_tex(c) if i < 2 else c for i, c in enumerate(cells)) + r" \\")
    lines += [r"\bottomrule", r"\end{tabular}", r"\end{table}"]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- all reports
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
        per speaker of every cell), ``report_md``,
        ``report_html`` and one PNG per figure.

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

    head = f"# {title or 'sertools study'}"
    ci_note = CI_NOTE.format(n_boot=n_boot)
    md: list[str] = [head, "", STD_NOTE, ci_note, SIGNIFICANCE_NOTE, ""]
    body: list[str] = [f"<h1>{html.escape(title or 'sertools study')}</h1>"]
    body += [
        f"<p>{html.escape(n.replace('`', ''))}</p>" for n in (STD_NOTE, ci_note, SIGNIFICANCE_NOTE)
    ]
    figures: list[tuple[str, bytes]] = []

    protocols = list(dict.fromkeys(result.scores.protocol)) if not result.scores.empty else []
    for proto in protocols:
        t2 = table2(result, protocol=proto)
        t2_md = table2_markdown(t2, protocol=proto, significance=sig)
        put(f"table2_{proto}_md", f"table2_{proto}.md", t2_md + "\n")
        put(
            f"table2_{proto}_tex",
            f"table2_{proto}.tex",
            table2_latex(t2, protocol=proto, significance=sig),
        )
        flat = t2.copy()
        flat.columns = [f"{c}_{m}" for c, m in flat.columns]
        put(f"table2_{proto}_csv", f"table2_{proto}.csv", flat.round(2).to_csv())
        audits = getattr(result, "fold_audits", None) or {}
        leaky = sorted(c for (c, p), a in audits.items() if p == proto and a.speaker_dependent)
        mark = f" (speaker-dependent folds: {', '.join(leaky)})" if leaky else ""
        md += [f"## Table II, protocol `{proto}`{mark}", "", t2_md, ""]
        body += [
            f"<h2>Table II, protocol <code>{html.escape(proto)}</code>{html.escape(mark)}</h2>",
            _md_table_html(t2_md),
        ]
        heat = t2.xs("UAR", axis=1, level="metric").drop(columns="Feature Mean")
        heat.index = [f"{f} / {c}" for f, c in heat.index]
        heat.columns = [CORPUS_TITLES.get(c, c) for c in heat.columns]
        figures.append(
            (
                f"heatmap_{proto}",
                _heatmap(heat, f"UAR %, protocol {proto}", "corpus", "feature / classifier"),
            )
        )
        figures.append((f"folds_{proto}", _fold_spread(result.scores, proto)))
        for corpus in dict.fromkeys(result.scores[result.scores.protocol == proto].corpus):
            block = summary.loc[(corpus, proto)]
            feat, clf = block["uar_mean"].idxmax()
            cm = result.confusion_matrix(corpus, proto, feat, clf)
            figures.append(
                (
                    f"confusion_{corpus}_{proto}",
                    plot_confusion(cm, title=f"{corpus}, {proto}: {feat} + {clf} (best UAR)"),
                )
            )

    if paper and "paper" in protocols:
        comp = paper_comparison(result, protocol="paper")
        if not comp.empty:
            put("paper_comparison", "paper_comparison.csv", comp.round(2).to_csv(index=False))
            comp_md = paper_comparison_markdown(comp)
            put("paper_comparison_md", "paper_comparison.md", comp_md + "\n")
            intro = (
                "Ours (protocol `paper`) beside the paper's Table II; Δ = ours − paper, "
                "percentage points."
            )
            md += ["## Ours vs the paper's Table II", "", intro, "", comp_md, ""]
            body += [
                "<h2>Ours vs the paper's Table II</h2>",
                f"<p>{html.escape(intro)}</p>",
                _md_table_html(comp_md),
            ]

    scale_notes = scaling_notes(result)
    if scale_notes:
        md += ["## The unscaled SVM", "", *[f"- {n}" for n in scale_notes], ""]
        body += ["<h2>The unscaled SVM</h2>", "<ul>"]
        body += [f"<li>{html.escape(n)}</li>" for n in scale_notes] + ["</ul>"]

    extra = report_sections(result)  # fold audit, EmoBox beside ours, UAR by group
    if extra:
        md += extra
        body += sections_html(extra)
    if not result.predictions.empty:
        put(
            "group_uar", "group_uar.csv", group_uar(result.predictions).round(3).to_csv(index=False)
        )

    cells_md = _cells_markdown(summary)
    sig_md = _significance_markdown(sig)
    md += [
        "## Cells (mean ± std over folds, 95 % CI of the UAR)",
        "",
        cells_md,
        "",
        "## Significance (each cell vs the best of its corpus and protocol)",
        "",
        sig_md,
        "",
    ]
    body += [
        "<h2>Cells (mean ± std over folds, 95 % CI of the UAR)</h2>",
        _md_table_html(cells_md),
        "<h2>Significance (each cell vs the best of its corpus and protocol)</h2>",
        _md_table_html(sig_md),
    ]

    cross = result.cross
    if cross is not None and not cross.empty:
        from .cross import cross_matrix

        put("cross_corpus", "cross_corpus.csv", cross.round(4).to_csv(index=False))
        within_proto = "speaker" if "speaker" in protocols else (protocols or [None])[0]
        md += [
            "## Cross-corpus (train × test UAR %, shared labels)",
            "",
            f"Diagonal: in-corpus UAR under protocol `{within_proto}` (all labels).",
            "",
        ]
        body.append("<h2>Cross-corpus (train × test UAR %, shared labels)</h2>")
        for (feat, clf), _ in cross.groupby(["feature", "classifier"], sort=False):
            within = None
            if within_proto is not None:
                s = summary.reset_index()
                s = s[(s.protocol == within_proto) & (s.feature == feat) & (s.classifier == clf)]
                within = s.set_index("corpus")
            m = cross_matrix(cross, feat, clf, within=within)
            md += [f"### {feat} + {clf}", "", _frame_markdown(m), ""]
            body += [
                f"<h3>{html.escape(feat)} + {html.escape(clf)}</h3>",
                _md_table_html(_frame_markdown(m)),
            ]
            figures.append(
                (
                    f"cross_{feat}_{clf}",
                    _heatmap(
                        m, f"cross-corpus UAR %, {feat} + {clf}", "test corpus", "train corpus"
                    ),
                )
            )

    if not result.failures.empty:
        fail_md = "\n".join(
            f"- {'/'.join(map(str, r[:4]))}: {r.reason}"
            for r in result.failures.itertuples(index=False)
        )
        md += ["## Failed cells", "", fail_md, ""]
        body += ["<h2>Failed cells</h2>", f"<pre>{html.escape(fail_md)}</pre>"]

    md += ["## Figures", ""]
    body.append("<h2>Figures</h2>")
    for name, png in figures:
        put(name, f"{name}.png", png)
        md.append(f"![{name}]({name}.png)")
        b64 = base64.b64encode(png).decode("ascii")
        body.append(
            f"<figure><img alt='{html.escape(name)}' src='data:image/png;base64,{b64}'/>"
            f"<figcaption>{html.escape(name)}</figcaption></figure>"
        )
    put("report_md", "report.md", "\n".join(md) + "\n")
    page = (
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        f"<title>{html.escape(title or 'sertools study')}</title><style>"
        "body{font-family:sans-serif;max-width:1400px;margin:2em auto;padding:0 1em}"
        "table{border-collapse:collapse;margin:1em 0;font-size:13px}"
        "td,th{border:1px solid #bbb;padding:3px 6px;text-align:right}"
        "th{background:#eee}img{max-width:100%}figure{display:inline-block;margin:1em}"
        "</style></head><body>" + "\n".join(body) + "</body></html>\n"
    )
    put("report_html", "report.html", page)
    return paths
