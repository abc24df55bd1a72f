"""Markdown of the report's cell and significance tables, and its HTML rendering."""

from __future__ import annotations

import html

import pandas as pd


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
