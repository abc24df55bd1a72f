"""Reports built once as data and rendered per format, each with its own escaping (#20 item 10)."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.svm import SVC

from sertools import MFCCEmbedder
from sertools.datasets import make_synthetic_corpus
from sertools.study import StudyResult, run_study, table2, write_reports
from sertools.study.report import table2_latex, table2_markdown


@pytest.fixture(scope="module")
def odd_names():
    """A study whose feature and classifier names hold Markdown, HTML and LaTeX syntax."""
    corpus = make_synthetic_corpus(n_per_class=6, n_speakers=4, random_state=0)
    return run_study(
        {"s": corpus},
        features={
            "a | b": MFCCEmbedder(sampling_rate=corpus.sampling_rate),
            "x$^{}~_&%#\\y": MFCCEmbedder(sampling_rate=corpus.sampling_rate, n_mfcc=13),
        },
        classifiers={"<svm>*": SVC(C=10, gamma=1e-3)},
        n_splits=2,
    )


def _unescaped_pipes(line: str) -> int:
    return len(re.findall(r"(?<!\\)\|", line))


def test_markdown_keeps_columns_whatever_the_names(odd_names):
    # before: cells were joined with " | " and a name's own "|" made a column
    md = table2_markdown(table2(odd_names, protocol="paper"), protocol="paper")
    rows = [line for line in md.splitlines() if line.startswith("|")]
    assert len({_unescaped_pipes(line) for line in rows}) == 1
    assert r"a \| b" in md and r"\<svm\>\*" in md


class _Cells(HTMLParser):
    """Body rows (rows of <td>) of each HTML table, colspans expanded."""

    def __init__(self):
        super().__init__()
        self.tables: list[list[list[str]]] = []
        self.widths: list[int] = []  # columns per table, from its first header row
        self._row: list[str] | None = None
        self._cell: list[str] | None = None
        self._header = False

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables.append([])
            self.widths.append(0)
            self._first = True
        elif tag == "tr":
            self._row, self._header = [], False
        elif tag in ("td", "th"):
            self._cell = []
            self._span = int(dict(attrs).get("colspan", 1))
            self._header = tag == "th"

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self._row += ["".join(self._cell)] + [""] * (self._span - 1)
            self._cell = None
        elif tag == "tr" and self._row is not None:
            if self._header and self._first:
                self.widths[-1], self._first = len(self._row), False
            elif not self._header:
                self.tables[-1].append(self._row)
            self._row = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def test_html_keeps_columns_and_shows_names_as_written(odd_names, tmp_path: Path):
    # before: the HTML tables were parsed back from Markdown, splitting cells on " | "
    html = write_reports(odd_names, tmp_path, n_boot=50)["report_html"].read_text()
    parser = _Cells()
    parser.feed(html)
    assert len(parser.tables) >= 3
    for rows, width in zip(parser.tables, parser.widths, strict=True):
        assert {len(r) for r in rows} <= {width}, rows
    cells = {c for rows in parser.tables for r in rows for c in r}
    assert {"a | b", "<svm>*", "x$^{}~_&%#\\y"} <= cells


def test_latex_escapes_every_special_character(odd_names):
    # before: only \ & % _ # were escaped: "$ ^ { } ~" gave an uncompilable table
    tex = table2_latex(table2(odd_names, protocol="paper"), protocol="paper")
    rows = [line for line in tex.splitlines() if line.endswith(r"\\") and " & " in line]
    names = {line.split(" & ")[0] for line in rows}
    assert r"x\$\^{}\{\}\textasciitilde{}\_\&\%\#\textbackslash{}y" in names
    assert "a | b" in names
    # every data row has as many cells as the tabular has columns
    spec = re.search(r"\\begin\{tabular\}\{(\w+)\}", tex).group(1)
    for line in rows:
        if "multicolumn" not in line:
            assert len(re.split(r"(?<!\\) & ", line)) == len(spec), line


def _partial_result() -> StudyResult:
    """Two corpora; the mel/svm cell of corpus b failed (no rows)."""
    rows = []
    for corpus in ("a", "b"):
        for feat in ("mfcc", "mel"):
            if (corpus, feat) == ("b", "mel"):
                continue
            for fold, uar in enumerate((0.5, 0.7)):
                rows.append(
                    {
                        "corpus": corpus,
                        "protocol": "paper",
                        "feature": feat,
                        "classifier": "svm",
                        "repeat": 0,
                        "fold": fold,
                        "uar": uar,
                        "war": uar,
                    }
                )
    return StudyResult(pd.DataFrame(rows), pd.DataFrame())


def test_feature_mean_over_fewer_corpora_is_marked():
    # before: the mean of one corpus was shown as the mean of the table's two, unmarked
    t = table2(_partial_result(), protocol="paper")
    assert np.isnan(t.loc[("mel", "svm"), ("b", "UAR")])
    md = table2_markdown(t, protocol="paper")
    mel = next(line for line in md.splitlines() if line.startswith("| mel"))
    mfcc = next(line for line in md.splitlines() if line.startswith("| mfcc"))
    assert "†" in mel and "†" not in mfcc
    assert re.search(r"† Feature Mean over fewer corpora.*mel/svm: 1 of 2", md)
    tex = table2_latex(t, protocol="paper")
    assert r"\textsuperscript{\dag}" in tex and "1 of 2" in tex


def test_corpus_titles_come_from_the_corpus_specs():
    import importlib

    from sertools.datasets._corpora import CORPORA, canonical_corpus_name
    from sertools.study.report import CORPUS_TITLES

    for name, loader in CORPORA.items():
        spec = importlib.import_module(loader.__module__).SPEC
        assert CORPUS_TITLES[canonical_corpus_name(name)] == spec.title


def test_report_sections_render_from_one_model(odd_names, tmp_path: Path):
    paths = write_reports(odd_names, tmp_path, n_boot=50)
    md = paths["report_md"].read_text()
    html = paths["report_html"].read_text()
    for heading in ("Table II, protocol", "Cells (mean", "Significance (each cell", "Figures"):
        assert heading in md and heading in html
    csv = pd.read_csv(paths["table2_paper_csv"], keep_default_na=False)
    assert list(csv.columns[:2]) == ["feature", "classifier"]
    assert set(csv.feature) == {"a | b", "x$^{}~_&%#\\y"}


#: a corpus name and a gender label holding Markdown, HTML and LaTeX syntax
ODD_CORPUS = "a | <b>&$`x"
ODD_GENDER = "f | <i>&$`"


@pytest.fixture(scope="module")
def odd_corpus_study():
    corpus = make_synthetic_corpus(n_per_class=6, n_speakers=4, random_state=0)
    corpus.gender = np.where(np.asarray(corpus.gender) == "female", ODD_GENDER, "male")
    return run_study(
        {ODD_CORPUS: corpus}, features=["mfcc"], classifiers=["svm-scaled"], n_splits=2
    )


class _Texts(HTMLParser):
    """The text of every element of each tag (entities decoded, inner markup dropped)."""

    def __init__(self, tags):
        super().__init__()
        self.texts: dict[str, list[str]] = {t: [] for t in tags}
        self._open: str | None = None

    def handle_starttag(self, tag, attrs):
        if tag in self.texts:
            self._open = tag
            self.texts[tag].append("")

    def handle_endtag(self, tag):
        if tag == self._open:
            self._open = None

    def handle_data(self, data):
        if self._open is not None:
            self.texts[self._open][-1] += data


def test_audit_sections_show_corpus_and_group_names_as_written(odd_corpus_study, tmp_path):
    # before: the fold audit and UAR-by-group sections were Markdown lines parsed back
    # into HTML: cells were split on " | " and backticks were dropped from the names
    paths = write_reports(odd_corpus_study, tmp_path, n_boot=20)
    md = paths["report_md"].read_text()
    html = paths["report_html"].read_text()
    for heading in ("Fold audit", "UAR by gender", "UAR by speaker"):
        assert f"## {heading}" in md and f"<h2>{heading}</h2>" in html
    # Markdown: every table keeps its columns; the names are escaped, not markup
    tables = re.findall(r"(?:^\|.*\n)+", md, flags=re.MULTILINE)
    assert len(tables) >= 4
    for table in tables:
        assert len({_unescaped_pipes(line) for line in table.splitlines()}) == 1, table
    assert r"| a \| \<b\>&$\`x | paper | mfcc | svm-scaled |" in md
    assert r"| f \| \<i\>&$\` | male |" in md
    # HTML: every table keeps its columns; the names show as written
    cells = _Cells()
    cells.feed(html)
    for rows, width in zip(cells.tables, cells.widths, strict=True):
        assert {len(r) for r in rows} <= {width}, rows
    by_corpus = [r for rows in cells.tables for r in rows if r[0] == ODD_CORPUS]
    assert len(by_corpus) >= 2  # UAR by gender and by speaker (and the Cells table)
    texts = _Texts(("th", "li"))
    texts.feed(html)
    assert ODD_GENDER in texts.texts["th"]
    assert any(
        li.startswith(f"{ODD_CORPUS} / paper: Speaker-dependent") for li in texts.texts["li"]
    )


def test_audit_tables_keep_their_numbers(odd_corpus_study):
    from sertools.study._document import Heading, Table
    from sertools.study.audits import group_uar, report_blocks

    blocks = report_blocks(odd_corpus_study)
    after = {
        blocks[i].text.plain(): next(b for b in blocks[i:] if isinstance(b, Table))
        for i in range(len(blocks))
        if isinstance(blocks[i], Heading)
    }
    speakers = after["UAR by speaker"]
    [row] = speakers.rows
    assert [c.value for c in row[:4]] == [ODD_CORPUS, "paper", "mfcc", "svm-scaled"]
    uar = group_uar(odd_corpus_study.predictions).uar
    expected = [round(uar.min(), 2), round(uar.median(), 2), round(uar.max(), 2), 4]
    np.testing.assert_allclose([c.value for c in row[4:]], expected)
    assert [c.title for c in after["UAR by gender"].columns][4:] == [ODD_GENDER, "male"]
