"""What a study's folds share (the leak audit), EmoBox's figures, and UAR per group.

Built from a finished study: :func:`plan_audits` audits every (corpus, protocol)
fold set of a plan with :func:`sertools.datasets.audit_folds`; :func:`group_uar`
computes the pooled out-of-fold UAR per speaker or gender from the predictions
table; :func:`report_blocks` builds them, with EmoBox's published figures beside
ours, as report sections (data, rendered per format by :mod:`._document`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import balanced_accuracy_score

from ._document import Block, Bullets, Cell, Column, Heading, Paragraph, Table, code, text

__all__ = ["group_uar", "plan_audits", "report_blocks"]

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


def _cells(frame: pd.DataFrame, names: int, fmt: Any = str) -> Table:
    """A table of ``frame``: its first ``names`` columns are names, the rest numbers.

    A name is cell text (each renderer escapes it); a number is shown as
    ``fmt(number)`` and kept as the number for CSV; a missing one is blank.
    """
    columns = [
        Column(str(c), key=str(c), align="l" if i < names else "r")
        for i, c in enumerate(frame.columns)
    ]
    rows = []
    for row in frame.itertuples(index=False):
        cells = [Cell(str(v), value=str(v)) for v in row[:names]]
        for v in row[names:]:
            if v is None or pd.isna(v):
                cells.append(Cell(""))
            else:
                number = int(v) if isinstance(v, (int, np.integer)) else float(v)
                cells.append(Cell(fmt(v), value=number))
        rows.append(cells)
    return Table(columns, rows)


def _audit_blocks(audits: Mapping[tuple[str, str], Any]) -> list[Block]:
    items = []
    for (cname, pname), audit in audits.items():
        shared = audit.folds["shared_speakers"].tolist() if audit.has_speakers else []
        tests = audit.folds["test_speakers"].tolist() if audit.has_speakers else []
        counts = ", ".join(f"{s}/{t}" for s, t in zip(shared, tests, strict=True))
        line = audit.headline()
        if counts:
            line += f" Shared/test speakers per fold: {counts}."
        if audit.has_texts:
            line += f" Texts shared per fold: {', '.join(map(str, audit.folds['shared_texts']))}."
        if audit.never_tested:
            line += f" {len(audit.never_tested)} clips in no test fold."
        items.append(text(code(cname), " / ", code(pname), ": ", line))
    return [
        Heading(text("Fold audit")),
        Paragraph(
            text(
                "What each protocol's folds share between training and test (",
                code("sertools.datasets.audit_folds"),
                "). A speaker-dependent protocol tests speakers it also trains on: its scores "
                "are not speaker-independent.",
            )
        ),
        Bullets(tuple(items)),
    ]


def _emobox_blocks(emobox: pd.DataFrame) -> list[Block]:
    from ..datasets import emobox_reference

    rows = []
    for (corpus, feature, clf), cell in emobox.groupby(
        ["corpus", "feature", "classifier"], sort=False
    ):
        ref = emobox_reference(corpus)
        ours = 100 * cell.uar.mean()
        rows.append(
            {
                "corpus": corpus,
                "feature": feature,
                "classifier": clf,
                "ours UAR %": ours,
                "EmoBox UA %": None if ref is None else ref["uar"],
                "Δ": None if ref is None else ours - ref["uar"],
            }
        )
    table = _cells(pd.DataFrame(rows), 3, lambda v: f"{v:.2f}")
    for row in table.rows:  # the difference carries its sign
        delta = row[-1]
        if delta.value is not None:
            row[-1] = Cell(f"{delta.value:+.2f}", value=delta.value)
    return [
        Heading(text("Ours vs EmoBox (protocol ", code("emobox"), ")")),
        table,
        Paragraph(
            text(
                "EmoBox UA: the best of EmoBox's 10 pretrained models on the same folds "
                "(Ma et al., Interspeech 2024; ",
                code("sertools.datasets.EMOBOX_RESULTS"),
                ", with its source).",
            )
        ),
    ]


def _group_blocks(preds: pd.DataFrame, metadata: Mapping[str, Any]) -> list[Block]:
    blocks: list[Block] = []
    gender = group_uar(preds, "gender", metadata)
    gender = gender[gender.gender != "unknown"]
    if gender.gender.nunique() > 1:
        wide = gender.pivot_table(index=_KEYS, columns="gender", values="uar").round(2)
        blocks += [Heading(text("UAR by gender")), _cells(wide.reset_index(), len(_KEYS))]
    speakers = group_uar(preds, "group")
    if not speakers.empty and speakers.groupby(_KEYS[:2]).group.nunique().max() > 1:
        spread = (
            speakers.groupby(_KEYS, sort=False)
            .uar.agg(["min", "median", "max", "count"])
            .round(2)
            .rename(columns={"count": "speakers"})
            .reset_index()
        )
        blocks += [
            Heading(text("UAR by speaker")),
            Paragraph(
                text(
                    "Pooled out-of-fold UAR of each speaker: the worst, median and best speaker "
                    "per cell (every speaker's figure: ",
                    code("group_uar.csv"),
                    ").",
                )
            ),
            _cells(spread, len(_KEYS)),
        ]
    return blocks


def report_blocks(result: Any) -> list[Block]:
    """Report sections as data: the fold audit, EmoBox beside ours, UAR by gender and speaker.

    Built once as blocks (:mod:`sertools.study._document`) and rendered to
    Markdown and HTML by :func:`~sertools.study.write_reports`, each format with
    its own escaping: corpus, protocol, feature, classifier and group names are
    text, never markup, and the tables' cells keep their numbers.

    Parameters
    ----------
    result : StudyResult
        A finished study; its ``fold_audits`` and ``clip_metadata`` (set by
        :func:`~sertools.study.run_study`) are used when present.

    Returns
    -------
    list of Block
        Headings, paragraphs, bullet lists and tables (empty when there is
        nothing to show).

    Examples
    --------
    >>> from sertools.datasets import make_synthetic_corpus
    >>> from sertools.study import run_study
    >>> from sertools.study.audits import report_blocks
    >>> corpus = make_synthetic_corpus(n_per_class=6, n_speakers=4, random_state=0)
    >>> result = run_study({"synthetic": corpus}, features=["mfcc"],
    ...                    classifiers=["svm-scaled"], n_splits=2)
    >>> [b.text.plain() for b in report_blocks(result) if hasattr(b, "level")]
    ['Fold audit', 'UAR by gender', 'UAR by speaker']
    """
    blocks: list[Block] = []
    audits = getattr(result, "fold_audits", None) or {}
    if audits:
        blocks += _audit_blocks(audits)
    scores = result.scores
    emobox = scores[scores.protocol == "emobox"] if not scores.empty else scores
    if not emobox.empty:
        blocks += _emobox_blocks(emobox)
    if not result.predictions.empty:
        blocks += _group_blocks(result.predictions, getattr(result, "clip_metadata", None) or {})
    return blocks
