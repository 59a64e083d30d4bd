"""The document model of a report: headings, paragraphs, tables and chart specs, before any rendering.

A report is built once as a `Document` and rendered twice (`markdown`, `xlsx`). `cell_text` is how a
value of a column kind reads as text, in Markdown and wherever a cell is shown as text.

What a printed page carries besides the content (docs/adr/0017-print-ready-workbooks.md) is part of the
model too: the office that issues the report (`OFFICE`, left of the page header) and the report's date
(`Document.date`, right of the page header; the cut-off day a report states).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from pipelines.cases.printing import OFFICE
from pipelines.present.money import fmt_money, fmt_pct


@dataclass(frozen=True)
class Col:
    """A table column: its header and kind (text | int | money | pct | date)."""

    header: str
    kind: str = "text"


@dataclass(frozen=True)
class Chart:
    """A native XLSX chart over a table's rows (never its total row)."""

    title: str
    category: int  # column index of the category labels
    values: tuple[int, ...]  # column indices of the plotted series
    kind: str = "column"  # column | bar
    stacked: bool = False
    category_to: int | None = None  # last column of multi-level category labels (e.g. benefit type, scheme)


@dataclass
class Table:
    columns: list[Col]
    rows: list[list[Any]]
    title: str | None = None
    total: list[Any] | None = None
    chart: Chart | None = None


@dataclass
class Section:
    heading: str
    blocks: list[str | Table] = field(default_factory=list)


@dataclass
class Document:
    """A report: its title, the lines under the title (period, cut-off), its sections.

    `date` is the report's date as the page header prints it (its cut-off day); a document without one
    prints the day it is printed (打印日期). `office` is the issuing office, printed beside it.
    """

    title: str
    meta: list[str]
    sections: list[Section]
    date: dt.date | None = None
    office: str = OFFICE


def cell_text(value: Any, kind: str) -> str:
    if value is None:
        return ""
    if kind == "money":
        return fmt_money(value)
    if kind == "pct":
        return fmt_pct(value)
    if kind == "int":
        return f"{value:,}"
    return str(value)
