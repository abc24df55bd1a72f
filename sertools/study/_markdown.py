"""HTML of Markdown pipe tables, for the sections :mod:`.audits` writes as Markdown lines.

The study's own reports no longer use it: they are built as data and rendered per
format (:mod:`._document`). Kept only for :func:`.audits.sections_html` until those
sections are built as blocks too.
"""

from __future__ import annotations

import html


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
