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
import io
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ._store import STD_DDOF, atomic_write_bytes, atomic_write_text

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

#: Display names of the corpora and feature sets in tables.
CORPUS_TITLES = {
    "cremad": "CREMA-D",
    "emovo": "EMOVO",
    "emodb": "EMODB",
    "iemocap": "IEMOCAP",
    "ravdess": "RAVDESS",
    "savee": "SAVEE",
}

#: Number of emotion classes per corpus in the paper's Table I.
PAPER_N_CLASSES = {"cremad": 6, "emovo": 7, "emodb": 7, "iemocap": 4, "ravdess": 7, "savee": 7}

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


def _pyplot():
    """matplotlib.pyplot on the Agg backend unless the user chose one."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def _png(fig) -> bytes:
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    _pyplot().close(fig)
    return buf.getvalue()


def _save(fig, path: str | Path) -> Path:
    """Lay out ``fig``, write it to ``path`` as PNG (atomically), close it; return the path."""
    return atomic_write_bytes(path, _png(fig))


# --------------------------------------------------------------------------- paper
def paper_table() -> pd.DataFrame:
    """The paper's Table II (package data).

    Returns
    -------
    pandas.DataFrame
        Columns ``feature``, ``classifier`` (``svm``/``dnn``), ``corpus``
        (``cremad``, ``emovo``, ``emodb``, ``iemocap``, ``ravdess``, ``savee``
        and ``mean`` for the paper's Feature Mean), ``uar``, ``war`` (percent),
        all under the paper's protocol (random stratified 5-fold).

    Examples
    --------
    >>> from sertools.study import paper_table
    >>> table = paper_table()
    >>> table.shape
    (126, 5)
    >>> table.head(3)
      feature classifier  corpus    uar    war
    0     mel        svm  cremad  37.25  37.68
    1     mel        svm   emovo  35.22  34.70
    2     mel        svm   emodb  41.66  48.22
    >>> sorted(table.corpus.unique())
    ['cremad', 'emodb', 'emovo', 'iemocap', 'mean', 'ravdess', 'savee']
    """
    ref = resources.files("sertools.study").joinpath("data/paper_table2.csv")
    with ref.open("r", encoding="utf-8") as fh:
        return pd.read_csv(fh, comment="#")


def paper_comparison(result: Any, *, protocol: str = "paper") -> pd.DataFrame:
    """Our cells beside the paper's, where feature, classifier and corpus match.

    Parameters
    ----------
    result : StudyResult
        A finished study.
    protocol : str, default="paper"
        Protocol of our cells (the paper's numbers are all from its own
        random 5-fold protocol).

    Returns
    -------
    pandas.DataFrame
        One row per matching cell: feature, classifier, corpus, ``uar``,
        ``uar_paper``, ``uar_diff`` (ours minus paper), ``war``,
        ``war_paper``, ``war_diff``; percent; ``n_classes`` (ours) and
        ``n_classes_paper`` (the paper's Table I): where they differ the
        numbers are not comparable.

    Examples
    --------
    Only corpora, feature sets and classifiers of the paper's Table II match;
    here the synthetic corpus stands in for EMOVO (so the class counts differ and
    the numbers are not comparable):

    >>> from sertools.datasets import make_synthetic_corpus
    >>> from sertools.study import run_study
    >>> from sertools.study.report import paper_comparison
    >>> corpus = make_synthetic_corpus(n_per_class=6, n_speakers=4, random_state=0)
    >>> result = run_study({"emovo": corpus}, features=["mfcc", "mel"], classifiers=["svm"],
    ...                    n_splits=2)
    >>> comp = paper_comparison(result)
    >>> comp[["feature", "classifier", "corpus", "uar", "uar_paper", "uar_diff"]].round(2)
      feature classifier corpus    uar  uar_paper  uar_diff
    0    mfcc        svm  emovo  20.83      66.98    -46.15
    1     mel        svm  emovo  70.83      35.22     35.61
    >>> comp[["n_classes", "n_classes_paper"]].drop_duplicates()
       n_classes  n_classes_paper
    0          4                7
    """
    s = result.summary(ci=False).reset_index()
    s = s[s.protocol == protocol]
    ours = s.rename(columns={"uar_mean": "uar", "war_mean": "war"})[
        ["feature", "classifier", "corpus", "uar", "war"]
    ]
    merged = ours.merge(
        paper_table(), on=["feature", "classifier", "corpus"], suffixes=("", "_paper")
    )
    merged["uar_diff"] = merged.uar - merged.uar_paper
    merged["war_diff"] = merged.war - merged.war_paper
    p = result.predictions
    p = p[p.protocol == protocol]
    merged["n_classes"] = merged.corpus.map(p.groupby("corpus").y_true.nunique())
    merged["n_classes_paper"] = merged.corpus.map(PAPER_N_CLASSES)
    return merged[
        [
            "feature",
            "classifier",
            "corpus",
            "uar",
            "uar_paper",
            "uar_diff",
            "war",
            "war_paper",
            "war_diff",
            "n_classes",
            "n_classes_paper",
        ]
    ]


def paper_comparison_markdown(comp: pd.DataFrame) -> str:
    """Markdown of :func:`paper_comparison`: per corpus UAR ours | paper | Δ, WAR likewise."""
    if comp.empty:
        return "_No cell matches the paper's Table II (feature, classifier, corpus)._"
    corpora = list(dict.fromkeys(comp.corpus))
    head = ["Feature", "Model"]
    for c in corpora:
        t = CORPUS_TITLES.get(c, c)
        head += [f"{t} UAR", "paper", "Δ", f"{t} WAR", "paper", "Δ"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for (feat, clf), block in comp.groupby(["feature", "classifier"], sort=False):
        cells = [feat, clf]
        by = block.set_index("corpus")
        for c in corpora:
            if c in by.index:
                r = by.loc[c]
                cells += [
                    f"{r.uar:.2f}",
                    f"{r.uar_paper:.2f}",
                    f"{r.uar_diff:+.2f}",
                    f"{r.war:.2f}",
                    f"{r.war_paper:.2f}",
                    f"{r.war_diff:+.2f}",
                ]
            else:
                cells += [""] * 6
        lines.append("| " + " | ".join(cells) + " |")
    if {"n_classes", "n_classes_paper"} <= set(comp.columns):
        per = comp.drop_duplicates("corpus").set_index("corpus")
        differ = [
            f"{CORPUS_TITLES.get(c, c)}: ours {per.loc[c, 'n_classes']} classes, the paper's "
            f"{per.loc[c, 'n_classes_paper']}"
            for c in corpora
            if per.loc[c, "n_classes"] != per.loc[c, "n_classes_paper"]
        ]
        if differ:
            lines += [
                "",
                "Not comparable where the label sets differ (so does chance level): "
                + "; ".join(differ)
                + ".",
            ]
    return "\n".join(lines)


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


def _cells_markdown(summary: pd.DataFrame) -> str:
    lines = [
        "| corpus | protocol | feature | classifier | UAR % ± std | 95 % CI (UAR) | WAR % ± std "
        "| folds |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for (corpus, protocol, feat, clf), r in summary.iterrows():
        ci = f"[{r.uar_ci_low:.1f}, {r.uar_ci_high:.1f}]" if "uar_ci_low" in summary else ""
        lines.append(
            f"| {corpus} | {protocol} | {feat} | {clf} | {r.uar_mean:.2f} ± {r.uar_std:.2f} | "
            f"{ci} | {r.war_mean:.2f} ± {r.war_std:.2f} | {int(r.n_folds)} |"
        )
    return "\n".join(lines)


def _significance_markdown(sig: pd.DataFrame) -> str:
    if sig.empty:
        return "_No comparisons (fewer than two cells with two or more folds per corpus)._"
    lines = [
        "| corpus | protocol | best | other | Δ UAR (pp) | t | p (t-test) | p Holm "
        "| bootstrap Δ [95 % CI] | p (bootstrap) | significant |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for _, r in sig.iterrows():
        lines.append(
            f"| {r.corpus} | {r.protocol} | {r.best} | {r.other} | {r['diff']:.2f} | {r.t:.2f} "
            f"| {r.p_ttest:.3g} | {r.p_holm:.3g} | {r.boot_diff:.2f} [{r.boot_low:.2f}, "
            f"{r.boot_high:.2f}] | {r.p_boot:.3g} | {'yes' if r.significant else 'no'} |"
        )
    return "\n".join(lines)


def scaling_notes(result: Any, *, margin: float = 10.0) -> list[str]:
    """Where the paper's unscaled SVM is near chance but the scaled SVM is not.

    The paper's ``SVC(C=10, gamma=1e-3)`` sees unscaled features; where
    their distances are large for ``gamma=1e-3`` its RBF kernel is about 0
    between any two clips and it predicts one class. For each corpus,
    protocol and feature set with both ``svm`` and ``svm-scaled`` cells, a
    note is made when ``svm`` is within ``margin`` points of chance
    (100 / number of classes) and ``svm-scaled`` is more than ``margin``
    points above it.

    Parameters
    ----------
    result : StudyResult
        A finished study.
    margin : float, default=10.0
        Percentage points.

    Returns
    -------
    list of str
        One sentence per such feature set.

    Examples
    --------
    A hand-made study of 4 classes (chance: 25 % UAR) in which the unscaled SVM is
    near chance and the scaled one is not:

    >>> import pandas as pd
    >>> from sertools.study import StudyResult
    >>> from sertools.study.report import scaling_notes
    >>> cell = {"corpus": "emodb", "protocol": "paper", "feature": "mfcc"}
    >>> scores = pd.DataFrame([
    ...     {**cell, "classifier": "svm", "fold": 0, "uar": 0.26, "war": 0.30},
    ...     {**cell, "classifier": "svm", "fold": 1, "uar": 0.24, "war": 0.28},
    ...     {**cell, "classifier": "svm-scaled", "fold": 0, "uar": 0.61, "war": 0.63},
    ...     {**cell, "classifier": "svm-scaled", "fold": 1, "uar": 0.65, "war": 0.66},
    ... ])
    >>> predictions = pd.DataFrame({"corpus": "emodb",
    ...                             "y_true": ["angry", "happy", "neutral", "sad"]})
    >>> for note in scaling_notes(StudyResult(scores, predictions)):
    ...     print(note)
    emodb/paper/mfcc: the unscaled SVM (the paper's) is near chance (25.0 % UAR, chance 25.0 %);
    standardised, the same SVM reaches 63.0 % (svm-scaled) — the features are not uninformative,
    their scale does not suit gamma=1e-3.
    """
    s = result.summary(ci=False)
    if s.empty:
        return []
    notes = []
    n_classes = result.predictions.groupby("corpus").y_true.nunique()
    for (corpus, protocol, feat, clf), row in s.iterrows():
        if clf != "svm" or (corpus, protocol, feat, "svm-scaled") not in s.index:
            continue
        chance = 100 / n_classes[corpus]
        scaled = s.loc[(corpus, protocol, feat, "svm-scaled"), "uar_mean"]
        if row.uar_mean < chance + margin and scaled > row.uar_mean + margin:
            notes.append(
                f"{corpus}/{protocol}/{feat}: the unscaled SVM (the paper's) is near chance "
                f"({row.uar_mean:.1f} % UAR, chance {chance:.1f} %); standardised, the same "
                f"SVM reaches {scaled:.1f} % (svm-scaled) — the features are not uninformative, "
                "their scale does not suit gamma=1e-3."
            )
    return notes


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
    disp = ConfusionMatrixDisplay(100 * share, display_labels=list(cm.columns))
    disp.plot(ax=ax, cmap="Blues", colorbar=False, values_format=".0f", xticks_rotation=45)
    ax.images[0].set_clim(0, 100)
    ax.set_title(f"{title}\n(% of true class; diagonal = recall)".strip(), fontsize=9)
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
    labels = ["\n".join(map(str, k)) if isinstance(k, tuple) else str(k) for k in summary.index]
    x = np.arange(len(labels))
    fig, ax = plt.subplots(figsize=(max(4.0, 1.1 * len(labels) + 1), 4.0))
    ax.bar(x - 0.2, summary.uar_mean, 0.4, yerr=summary.uar_std, label="UAR", capsize=3)
    ax.bar(x + 0.2, summary.war_mean, 0.4, yerr=summary.war_std, label="WAR", capsize=3)
    ax.set_xticks(x, labels, fontsize=7)
    ax.set_ylabel(f"% (mean ± std over folds, ddof={STD_DDOF})")
    ax.set_ylim(0, 100)
    ax.legend()
    ax.set_title(title)
    return _save(fig, path) if path is not None else _png(fig)


def _heatmap(matrix: pd.DataFrame, title: str, xlabel: str, ylabel: str) -> bytes:
    plt = _pyplot()
    n_r, n_c = matrix.shape
    fig, ax = plt.subplots(figsize=(2.0 + 1.0 * n_c, 1.2 + 0.42 * n_r))
    im = ax.imshow(matrix.to_numpy(dtype=float), cmap="viridis", vmin=0, vmax=100, aspect="auto")
    ax.set_xticks(range(n_c), [str(c) for c in matrix.columns], rotation=30, ha="right")
    ax.set_yticks(range(n_r), [str(r) for r in matrix.index])
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
    ax.set_title(title, fontsize=9)
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
    ax.set_xticks(range(1, len(keys) + 1), ["\n".join(k) for k in keys], fontsize=7)
    ax.set_ylabel("UAR % per fold")
    ax.set_ylim(0, 100)
    ax.set_title(f"Per-fold UAR, protocol {protocol}", fontsize=9)
    return _png(fig)


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
        (CSV, when run), ``failures`` (CSV, when any), ``report_md``,
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
    ['confusion_synthetic_paper', 'folds_paper', 'heatmap_paper', 'predictions', 'report_html',
    'report_md', 'scores', 'significance', 'summary', 'table2_paper_csv', 'table2_paper_md',
    'table2_paper_tex']
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
        md += [f"## Table II, protocol `{proto}`", "", t2_md, ""]
        body += [
            f"<h2>Table II, protocol <code>{html.escape(proto)}</code></h2>",
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


def _frame_markdown(frame: pd.DataFrame) -> str:
    cols = [str(c) for c in frame.columns]
    lines = [
        f"| {frame.index.name or ''} \\ {frame.columns.name or ''} | " + " | ".join(cols) + " |",
        "|" + "---|" * (len(cols) + 1),
    ]
    for idx, row in frame.iterrows():
        vals = ["" if pd.isna(v) else f"{v:.2f}" for v in row]
        lines.append(f"| {idx} | " + " | ".join(vals) + " |")
    return "\n".join(lines)


def _md_table_html(md: str) -> str:
    """Render the pipe tables of our own Markdown (and its text lines) as HTML."""
    import re

    out, rows = [], []

    def cell(text: str) -> str:
        text = html.escape(text.strip())
        text = re.sub(r"\*\*(.+?)\*\*", r"<b>\1</b>", text)
        return re.sub(r"`(.+?)`", r"<code>\1</code>", text)

    def flush() -> None:
        if rows:
            head, *rest = rows
            out.append(
                "<table><tr>"
                + "".join(f"<th>{cell(c)}</th>" for c in head)
                + "</tr>"
                + "".join(
                    "<tr>" + "".join(f"<td>{cell(c)}</td>" for c in r) + "</tr>" for r in rest
                )
                + "</table>"
            )
            rows.clear()

    for line in md.splitlines():
        if line.startswith("|"):
            parts = line.strip().strip("|").split(" | ")
            if all(set(p.strip()) <= {"-", ":"} for p in line.strip().strip("|").split("|")):
                continue
            rows.append(parts)
        else:
            flush()
            if line.strip():
                out.append(f"<p>{cell(line)}</p>")
    flush()
    return "\n".join(out)
