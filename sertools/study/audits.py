"""What a study's folds share (the leak audit), EmoBox's figures, and UAR per group.

Built from a finished study: :func:`plan_audits` audits every (corpus, protocol)
fold set of a plan with :func:`sertools.datasets.audit_folds`; :func:`group_uar`
computes the pooled out-of-fold UAR per speaker or gender from the predictions
table; :func:`report_sections` renders them, with EmoBox's published figures
beside ours, as Markdown for the study report.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import balanced_accuracy_score

__all__ = ["group_uar", "plan_audits", "report_sections"]

_KEYS = ["corpus", "protocol", "feature", "classifier"]


def plan_audits(plan: Any) -> dict[tuple[str, str], Any]:
    """Audit every (corpus, protocol) fold set of a study plan.

    Parameters
    ----------
    plan : Plan
        A plan from :func:`sertools.study.plan.make_plan` (its ``corpora`` and
        ``folds``).

    Returns
    -------
    dict of (corpus, protocol) -> FoldAudit
        Speakers are the corpus's groups; texts its spec's text column when
        the corpus is a named one loaded from disk. A fold set that cannot be
        audited (clips without a length) is left out.

    Examples
    --------
    >>> from sertools.study.audits import plan_audits
    >>> audits = plan_audits(plan)  # doctest: +SKIP
    """
    from ..datasets import CORPUS_SPECS, audit_folds

    out = {}
    for (cname, pname), folds in plan.folds.items():
        corpus = plan.corpora[cname]
        texts = None
        frame = getattr(corpus.bunch, "frame", None)
        spec = CORPUS_SPECS.get(str(getattr(corpus.bunch, "corpus", "")))
        if frame is not None and spec is not None and spec.text_field in frame:
            texts = frame[spec.text_field].to_numpy()
        try:  # informational: a fold set that cannot be audited is left out, never fatal
            out[cname, pname] = audit_folds(folds, corpus.X, corpus.y, corpus.groups, texts=texts)
        except Exception:
            continue
    return out


def group_uar(
    predictions: pd.DataFrame, by: str = "group", metadata: Mapping[str, Any] | None = None
) -> pd.DataFrame:
    """Pooled out-of-fold UAR per group (speaker, gender, any clip column) of every cell.

    Parameters
    ----------
    predictions : pandas.DataFrame
        :attr:`StudyResult.predictions` (``corpus, protocol, feature,
        classifier, index, group, y_true, y_pred``).
    by : str, default="group"
        ``"group"`` (the speaker column of the predictions) or a key of each
        corpus's ``metadata``.
    metadata : mapping of str -> mapping of str -> array-like, optional
        Per corpus, clip columns indexed like its clips (``{"ravdess":
        {"gender": bunch.gender}}``); needed for ``by`` other than
        ``"group"``.

    Returns
    -------
    pandas.DataFrame
        Columns ``corpus, protocol, feature, classifier``, ``by``'s name,
        ``n`` (clips) and ``uar`` (percent), one row per cell and group.

    Examples
    --------
    >>> import pandas as pd
    >>> from sertools.study.audits import group_uar
    >>> p = pd.DataFrame({"corpus": "c", "protocol": "p", "feature": "f", "classifier": "k",
    ...                   "index": range(4), "group": ["a", "a", "b", "b"],
    ...                   "y_true": ["x", "y", "x", "y"], "y_pred": ["x", "y", "y", "y"]})
    >>> group_uar(p, "gender", {"c": {"gender": ["female", "female", "male", "male"]}})
      corpus protocol feature classifier  gender  n    uar
    0      c        p       f          k  female  2  100.0
    1      c        p       f          k    male  2   50.0
    """
    rows = []
    if predictions.empty:
        return pd.DataFrame(columns=[*_KEYS, by, "n", "uar"])
    for key, cell in predictions.groupby(_KEYS, sort=False):
        if by == "group":
            values = cell["group"].astype(str).to_numpy()
        else:
            column = (metadata or {}).get(key[0], {}).get(by)
            if column is None:
                continue
            values = np.asarray(column, dtype=str)[cell["index"].to_numpy(dtype=int)]
        for value in sorted(set(values)):
            mask = values == value
            yt, yp = cell["y_true"].to_numpy()[mask], cell["y_pred"].to_numpy()[mask]
            rows.append(
                {
                    **dict(zip(_KEYS, key, strict=True)),
                    by: value,
                    "n": int(mask.sum()),
                    "uar": 100 * balanced_accuracy_score(yt.astype(str), yp.astype(str)),
                }
            )
    return pd.DataFrame(rows, columns=[*_KEYS, by, "n", "uar"])


def _table(frame: pd.DataFrame) -> str:
    head = "| " + " | ".join(map(str, frame.columns)) + " |"
    rule = "|" + "---|" * len(frame.columns)
    body = [
        "| " + " | ".join(str(v).replace("|", "\\|") for v in row) + " |"
        for row in frame.itertuples(index=False)
    ]
    return "\n".join([head, rule, *body])


def report_sections(result: Any) -> list[str]:
    """Markdown sections for the study report: leak audit, EmoBox beside ours, UAR by group.

    Parameters
    ----------
    result : StudyResult
        A finished study; its ``fold_audits`` and ``clip_metadata`` (set by
        :func:`~sertools.study.run_study`) are used when present.

    Returns
    -------
    list of str
        Markdown lines (empty when there is nothing to show).

    Examples
    --------
    >>> from sertools.study.audits import report_sections
    >>> lines = report_sections(result)  # doctest: +SKIP
    """
    from ..datasets import emobox_reference

    md: list[str] = []
    audits = getattr(result, "fold_audits", None) or {}
    if audits:
        md += ["## Fold audit", ""]
        md += [
            "What each protocol's folds share between training and test "
            "(`sertools.datasets.audit_folds`). A speaker-dependent protocol tests "
            "speakers it also trains on: its scores are not speaker-independent.",
            "",
        ]
        for (cname, pname), audit in audits.items():
            shared = audit.folds["shared_speakers"].tolist() if audit.has_speakers else []
            tests = audit.folds["test_speakers"].tolist() if audit.has_speakers else []
            counts = ", ".join(f"{s}/{t}" for s, t in zip(shared, tests, strict=True))
            line = f"- `{cname}` / `{pname}`: {audit.headline()}"
            if counts:
                line += f" Shared/test speakers per fold: {counts}."
            if audit.has_texts:
                line += (
                    f" Texts shared per fold: {', '.join(map(str, audit.folds['shared_texts']))}."
                )
            if audit.never_tested:
                line += f" {len(audit.never_tested)} clips in no test fold."
            md.append(line)
        md.append("")
    scores = result.scores
    emobox = scores[scores.protocol == "emobox"] if not scores.empty else scores
    if not emobox.empty:
        rows = []
        for (corpus, feature, clf), cell in emobox.groupby(
            ["corpus", "feature", "classifier"], sort=False
        ):
            ref = emobox_reference(corpus)
            rows.append(
                {
                    "corpus": corpus,
                    "feature": feature,
                    "classifier": clf,
                    "ours UAR %": f"{100 * cell.uar.mean():.2f}",
                    "EmoBox UA %": "" if ref is None else f"{ref['uar']:.2f}",
                    "Δ": "" if ref is None else f"{100 * cell.uar.mean() - ref['uar']:+.2f}",
                }
            )
        md += ["## Ours vs EmoBox (protocol `emobox`)", "", _table(pd.DataFrame(rows)), ""]
        md += [
            "EmoBox UA: the best of EmoBox's 10 pretrained models on the same folds "
            "(Ma et al., Interspeech 2024; `sertools.datasets.EMOBOX_RESULTS`, with its source).",
            "",
        ]
    preds = result.predictions
    if not preds.empty:
        metadata = getattr(result, "clip_metadata", None) or {}
        gender = group_uar(preds, "gender", metadata)
        gender = gender[gender.gender != "unknown"]
        if gender.gender.nunique() > 1:
            wide = gender.pivot_table(index=_KEYS, columns="gender", values="uar").round(2)
            md += ["## UAR by gender", "", _table(wide.reset_index()), ""]
        speakers = group_uar(preds, "group")
        if not speakers.empty and speakers.groupby(_KEYS[:2]).group.nunique().max() > 1:
            spread = (
                speakers.groupby(_KEYS, sort=False)
                .uar.agg(["min", "median", "max", "count"])
                .round(2)
                .rename(columns={"count": "speakers"})
                .reset_index()
            )
            md += [
                "## UAR by speaker",
                "",
                "Pooled out-of-fold UAR of each speaker: the worst, median and best speaker "
                "per cell (every speaker's figure: `group_uar.csv`).",
                "",
                _table(spread),
                "",
            ]
    return md


def sections_html(lines: list[str]) -> list[str]:
    """The HTML of :func:`report_sections`' Markdown lines (headings, lists, tables, text).

    Parameters
    ----------
    lines : list of str
        Markdown lines from :func:`report_sections`.

    Returns
    -------
    list of str
        HTML fragments, escaped.

    Examples
    --------
    >>> from sertools.study.audits import sections_html
    >>> sections_html(["## Fold audit", "", "- `emodb` / `paper`: Speaker-dependent"])
    ['<h2>Fold audit</h2>', '<ul>', '<li>emodb / paper: Speaker-dependent</li>', '</ul>']
    """
    import html

    from ._markdown import _md_table_html

    out: list[str] = []
    table: list[str] = []
    items: list[str] = []

    def flush() -> None:
        if table:
            out.append(_md_table_html("\n".join(table)))
            table.clear()
        if items:
            out.extend(["<ul>", *items, "</ul>"])
            items.clear()

    for line in [*lines, ""]:
        if line.startswith("|"):
            table.append(line)
            continue
        if line.startswith("- "):
            items.append(f"<li>{html.escape(line[2:].replace('`', ''))}</li>")
            continue
        flush()
        if line.startswith("## "):
            out.append(f"<h2>{html.escape(line[3:].replace('`', ''))}</h2>")
        elif line.strip():
            out.append(f"<p>{html.escape(line.replace('`', '').replace('**', ''))}</p>")
    return out
