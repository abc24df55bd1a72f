"""A report as data, rendered per format: Markdown, HTML, LaTeX, CSV.

A report is a list of blocks (headings, paragraphs, bullet lists, tables,
figures) built once from the study's numbers; each renderer walks the same
blocks with its own escaping, so a name is shown as written in every format
and can never break a table:

* Markdown escapes ``\\ ` * _ | < > [ ]`` in text (a ``|`` in a name keeps
  its column);
* HTML escapes ``& < > " '``;
* LaTeX escapes ``\\ & % _ # $ ^ { } ~``;
* CSV quotes with :mod:`csv` and writes numbers, not their formatted text.

Inline text is a :class:`Text`: a sequence of ``(string, style)`` spans,
style ``""`` (plain), ``"code"`` or ``"bold"``. Renderers never parse text
back: what a span says is data.
"""

from __future__ import annotations

import base64
import csv
import html
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

#: one inline span: (text, style) with style "", "code" or "bold"
Span = tuple[str, str]


@dataclass(frozen=True)
class Text:
    """Inline text: spans of plain, ``code`` or ``bold`` strings."""

    spans: tuple[Span, ...] = ()

    def plain(self) -> str:
        """The text without any style."""
        return "".join(s for s, _ in self.spans)


def text(*parts: str | Span | Text) -> Text:
    """A :class:`Text` from plain strings, ``(string, style)`` spans and other Texts."""
    spans: list[Span] = []
    for p in parts:
        if isinstance(p, Text):
            spans += p.spans
        elif isinstance(p, tuple):
            spans.append(p)
        else:
            spans.append((str(p), ""))
    return Text(tuple(spans))


def code(s: str) -> Span:
    """A monospaced span."""
    return (str(s), "code")


@dataclass(frozen=True)
class Cell:
    """One table cell: its text, the number it shows (for CSV), bold, and marks.

    ``mark`` is a suffix of our own symbols (``*``, ``†``), never user text.
    """

    text: str = ""
    value: float | int | str | None = None
    bold: bool = False
    mark: str = ""


@dataclass(frozen=True)
class Column:
    """A table column: its title, a machine name for CSV, and an optional group.

    Neighbouring columns with the same ``group`` share an upper header (a
    LaTeX ``\\multicolumn``, an HTML ``colspan``); Markdown, which has one header
    row, shows ``"group title"``.
    """

    title: str
    key: str = ""
    group: str = ""
    align: str = "r"


@dataclass
class Table:
    """A table: columns, rows of cells, an optional caption and footnotes."""

    columns: list[Column]
    rows: list[list[Cell]]
    caption: Text | None = None
    notes: list[Text] = field(default_factory=list)


@dataclass(frozen=True)
class Heading:
    """A heading of ``level`` 1 (the title), 2 or 3."""

    text: Text
    level: int = 2


@dataclass(frozen=True)
class Paragraph:
    """A paragraph of inline text."""

    text: Text


@dataclass(frozen=True)
class Bullets:
    """A bullet list."""

    items: tuple[Text, ...]


@dataclass(frozen=True)
class Figure:
    """A PNG figure stored beside the report as ``<name>.png``."""

    name: str
    png: bytes


Block = Heading | Paragraph | Bullets | Table | Figure


# --------------------------------------------------------------------------- Markdown
_MD_SPECIAL = re.compile(r"([\\`*_|<>\[\]])")


def md_escape(s: str) -> str:
    """Escape Markdown's inline syntax (and ``|``, which ends a table cell)."""
    return _MD_SPECIAL.sub(r"\\\1", str(s)).replace("\n", " ")


def _md_text(t: Text) -> str:
    out = []
    for s, style in t.spans:
        if style == "code":
            # a code span holds any character; backticks inside need a longer fence
            run = max((len(r) for r in re.findall("`+", s)), default=0)
            fence = "`" * (run + 1)
            out.append(f"{fence} {s} {fence}" if run else f"`{s}`")
        elif style == "bold":
            out.append(f"**{md_escape(s)}**")
        else:
            out.append(md_escape(s))
    return "".join(out)


def _md_cell(c: Cell) -> str:
    body = md_escape(c.text)
    if c.bold and body:
        body = f"**{body}**"
    return body + c.mark


def markdown_table(table: Table) -> str:
    """A pipe table (caption line before it, footnotes after), no parse-back."""
    head = [md_escape(f"{c.group} {c.title}" if c.group else c.title) for c in table.columns]
    lines = []
    if table.caption is not None:
        lines += [_md_text(table.caption), ""]
    lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in table.rows]
    if table.notes:
        lines.append("")
        lines += [_md_text(n) for n in table.notes]
    return "\n".join(lines)


def render_markdown(blocks: Iterable[Block]) -> str:
    """Markdown of a report; figures link ``<name>.png``."""
    out: list[str] = []
    for b in blocks:
        if isinstance(b, Heading):
            out += ["#" * b.level + " " + _md_text(b.text), ""]
        elif isinstance(b, Paragraph):
            out += [_md_text(b.text), ""]
        elif isinstance(b, Bullets):
            out += [*(f"- {_md_text(i)}" for i in b.items), ""]
        elif isinstance(b, Table):
            out += [markdown_table(b), ""]
        elif isinstance(b, Figure):
            out.append(f"![{md_escape(b.name)}]({b.name}.png)")
    return "\n".join(out).rstrip("\n") + "\n"


# --------------------------------------------------------------------------- HTML
def _html_text(t: Text) -> str:
    out = []
    for s, style in t.spans:
        e = html.escape(s)
        out.append(
            f"<code>{e}</code>" if style == "code" else f"<b>{e}</b>" if style == "bold" else e
        )
    return "".join(out)


def _html_cell(c: Cell, tag: str = "td") -> str:
    body = html.escape(c.text)
    if c.bold and body:
        body = f"<b>{body}</b>"
    return f"<{tag}>{body}{html.escape(c.mark)}</{tag}>"


def _groups(columns: Sequence[Column]) -> list[tuple[str, int]]:
    """Runs of neighbouring columns with the same group: (group, width)."""
    runs: list[tuple[str, int]] = []
    for c in columns:
        if runs and c.group and runs[-1][0] == c.group:
            runs[-1] = (c.group, runs[-1][1] + 1)
        else:
            runs.append((c.group, 1))
    return runs


def html_table(table: Table) -> str:
    """An HTML table (caption paragraph before it, footnotes after)."""
    out = []
    if table.caption is not None:
        out.append(f"<p>{_html_text(table.caption)}</p>")
    rows = []
    if any(c.group for c in table.columns):
        top, i = [], 0
        for group, width in _groups(table.columns):
            if group:
                top.append(f"<th colspan='{width}'>{html.escape(group)}</th>")
            else:
                top.append(f"<th rowspan='2'>{html.escape(table.columns[i].title)}</th>")
            i += width
        low = [f"<th>{html.escape(c.title)}</th>" for c in table.columns if c.group]
        rows += ["<tr>" + "".join(top) + "</tr>", "<tr>" + "".join(low) + "</tr>"]
    else:
        rows.append(
            "<tr>" + "".join(f"<th>{html.escape(c.title)}</th>" for c in table.columns) + "</tr>"
        )
    rows += ["<tr>" + "".join(_html_cell(c) for c in row) + "</tr>" for row in table.rows]
    out.append("<table>" + "".join(rows) + "</table>")
    out += [f"<p class='note'>{_html_text(n)}</p>" for n in table.notes]
    return "\n".join(out)


HTML_STYLE = (
    "body{font-family:sans-serif;max-width:1400px;margin:2em auto;padding:0 1em}"
    "table{border-collapse:collapse;margin:1em 0;font-size:13px}"
    "td,th{border:1px solid #bbb;padding:3px 6px;text-align:right}"
    "th{background:#eee}img{max-width:100%}figure{display:inline-block;margin:1em}"
    "p.note{font-size:12px}"
)


def render_html(blocks: Iterable[Block], *, title: str) -> str:
    """A self-contained HTML page (figures embedded as data URIs)."""
    body: list[str] = []
    for b in blocks:
        if isinstance(b, Heading):
            body.append(f"<h{b.level}>{_html_text(b.text)}</h{b.level}>")
        elif isinstance(b, Paragraph):
            body.append(f"<p>{_html_text(b.text)}</p>")
        elif isinstance(b, Bullets):
            body.append("<ul>" + "".join(f"<li>{_html_text(i)}</li>" for i in b.items) + "</ul>")
        elif isinstance(b, Table):
            body.append(html_table(b))
        elif isinstance(b, Figure):
            b64 = base64.b64encode(b.png).decode("ascii")
            name = html.escape(b.name, quote=True)
            body.append(
                f"<figure><img alt='{name}' src='data:image/png;base64,{b64}'/>"
                f"<figcaption>{name}</figcaption></figure>"
            )
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title><style>{HTML_STYLE}</style></head><body>"
        + "\n".join(body)
        + "</body></html>\n"
    )


# --------------------------------------------------------------------------- LaTeX
_TEX = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "_": r"\_",
    "#": r"\#",
    "$": r"\$",
    "^": r"\^{}",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
}
_TEX_MARKS = {"†": r"\textsuperscript{\dag}"}


def tex_escape(s: str) -> str:
    """Escape LaTeX's special characters ``\\ & % _ # $ ^ { } ~``."""
    return "".join(_TEX.get(ch, ch) for ch in str(s))


def _tex_text(t: Text) -> str:
    out = []
    for s, style in t.spans:
        e = tex_escape(s)
        out.append(
            rf"\texttt{{{e}}}" if style == "code" else rf"\textbf{{{e}}}" if style == "bold" else e
        )
    return "".join(out)


def _tex_cell(c: Cell) -> str:
    body = tex_escape(c.text)
    if c.bold and body:
        body = rf"\textbf{{{body}}}"
    return body + "".join(_TEX_MARKS.get(m, tex_escape(m)) for m in c.mark)


def latex_table(table: Table, *, caption_tex: str | None = None) -> str:
    """A booktabs ``table`` environment; ``caption_tex`` (already LaTeX) replaces the caption."""
    cols = table.columns
    spec = "".join("l" if c.align == "l" else "r" for c in cols)
    lines = [r"\begin{table}[t]", r"\centering"]
    if caption_tex is not None:
        lines.append(rf"\caption{{{caption_tex}}}")
    elif table.caption is not None:
        lines.append(rf"\caption{{{_tex_text(table.caption)}}}")
    lines += [rf"\begin{{tabular}}{{{spec}}}", r"\toprule"]
    if any(c.group for c in cols):
        top, i = [], 0
        for group, width in _groups(cols):
            if group:
                top.append(rf"\multicolumn{{{width}}}{{c}}{{{tex_escape(group)}}}")
            else:
                top.append(tex_escape(cols[i].title))
            i += width
        lines.append(" & ".join(top) + r" \\")
        lines.append(" & ".join(tex_escape(c.title) if c.group else "" for c in cols) + r" \\")
    else:
        lines.append(" & ".join(tex_escape(c.title) for c in cols) + r" \\")
    lines.append(r"\midrule")
    lines += [" & ".join(_tex_cell(c) for c in row) + r" \\" for row in table.rows]
    lines += [r"\bottomrule", r"\end{tabular}"]
    lines += [rf"\par\footnotesize {_tex_text(n)}" for n in table.notes]
    lines.append(r"\end{table}")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- CSV
def csv_table(table: Table) -> str:
    """CSV of a table: one header row of column keys (or titles), cells' values."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow([c.key or (f"{c.group}_{c.title}" if c.group else c.title) for c in table.columns])
    for row in table.rows:
        w.writerow([c.text if c.value is None else c.value for c in row])
    return buf.getvalue()
