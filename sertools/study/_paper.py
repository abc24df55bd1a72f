"""The paper's Table II beside ours, and what a reader needs to compare them."""

from __future__ import annotations

from importlib import resources
from typing import Any

import pandas as pd

# Display names of the corpora in tables, and the paper's number of classes per corpus
# (Table I): both derived from the corpus specs (sertools.datasets.CORPUS_SPECS).
from ..datasets._corpora import CORPUS_TITLES, PAPER_N_CLASSES

__all__ = ["paper_comparison", "paper_table", "scaling_notes"]


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
