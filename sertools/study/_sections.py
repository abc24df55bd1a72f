"""Report sections that combine tables and figures: per protocol, and cross-corpus."""

from __future__ import annotations

from typing import Any

import pandas as pd

from ._document import Block, Figure, Heading, Paragraph, code, text
from ._figures import _fold_spread, _heatmap, plot_confusion
from ._paper import corpus_title
from ._store import _safe
from ._tables import matrix_table


def protocol_figures(result: Any, summary: pd.DataFrame, t2: pd.DataFrame, proto: str):
    """Heatmap, per-fold spread and the best cell's confusion matrix per corpus, of a protocol."""
    heat = t2.xs("UAR", axis=1, level="metric").drop(columns="Feature Mean")
    heat.index = [f"{f} / {c}" for f, c in heat.index]
    heat.columns = [corpus_title(c) for c in heat.columns]
    p = _safe(proto)
    figures = [
        Figure(
            f"heatmap_{p}",
            _heatmap(heat, f"UAR %, protocol {proto}", "corpus", "feature / classifier"),
        ),
        Figure(f"folds_{p}", _fold_spread(result.scores, proto)),
    ]
    for corpus in dict.fromkeys(result.scores[result.scores.protocol == proto].corpus):
        block = summary.loc[(corpus, proto)]
        feat, clf = block["uar_mean"].idxmax()
        cm = result.confusion_matrix(corpus, proto, feat, clf)
        figures.append(
            Figure(
                f"confusion_{_safe(corpus)}_{p}",
                plot_confusion(cm, title=f"{corpus}, {proto}: {feat} + {clf} (best UAR)"),
            )
        )
    return figures


def cross_section(cross: pd.DataFrame, summary: pd.DataFrame, protocols: list[str]):
    """The cross-corpus section: one train x test matrix (table and heatmap) per cell kind."""
    from .cross import cross_matrix

    within_proto = "speaker" if "speaker" in protocols else (protocols or [None])[0]
    blocks: list[Block] = [Heading(text("Cross-corpus (train × test UAR %, shared labels)"))]
    if within_proto is not None:
        blocks.append(
            Paragraph(
                text(
                    "Diagonal: in-corpus UAR under protocol ", code(within_proto), " (all labels)."
                )
            )
        )
    figures = []
    for (feat, clf), _ in cross.groupby(["feature", "classifier"], sort=False):
        within = None
        if within_proto is not None:
            s = summary.reset_index()
            s = s[(s.protocol == within_proto) & (s.feature == feat) & (s.classifier == clf)]
            within = s.set_index("corpus")
        m = cross_matrix(cross, feat, clf, within=within)
        blocks += [Heading(text(f"{feat} + {clf}"), 3), matrix_table(m)]
        figures.append(
            Figure(
                f"cross_{_safe(feat)}_{_safe(clf)}",
                _heatmap(m, f"cross-corpus UAR %, {feat} + {clf}", "test corpus", "train corpus"),
            )
        )
    return blocks, figures
