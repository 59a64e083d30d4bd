"""The XLSX rendering of a `Document`, and the page setup every workbook of fundwatch prints with.

Layout of a report workbook: one sheet per section — the report's title, (first sheet only) the lines under
it, the section heading, then its paragraphs and tables in order — and after the sections one sheet per
chart, 附图1, 附图2 … in the order of the tables they draw; the section names each chart under its table
("见附图1"). Amounts are number cells formatted #,##0.00 yuan when a double shows them exactly to the fen,
else text (`pipelines.present.money.write_amount`).

Print (docs/adr/0017-print-ready-workbooks.md): every sheet gets the page setup of `pipelines.cases.printing`
(A4, landscape when wide, fit to the page width, 宋体, office, title and date in the page header, page
numbers), and the header row of the sheet's last table repeats on every page once that table has begun (a
spreadsheet repeats one range of rows per sheet, and only the last table's pages can all use it). Rows that
wrap (paragraphs across the sheet, long cells) are given their height.

A chart sheet is one landscape page: the chart (title, axis titles with units, category labels rotated when
many or long, legend below) sized to the printable area. Amounts are plotted in 万元 (10,000 yuan): the
sheet holds, outside its print area, the plotted series as formulas `=<table cell>/10000`; counts are
plotted from the table itself.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.cells import cell_len
from xlsxwriter.utility import quote_sheetname, xl_rowcol_to_cell

from pipelines.cases.printing import (
    FONT_NAME,
    LINE_HEIGHT,
    column_px,
    landscape_for,
    new_workbook,
    print_setup,
    row_height,
    text_lines,
    text_width,
)
from pipelines.cases.reports.document import Chart, Col, Document, Section, Table, cell_text
from pipelines.present.money import write_amount

# ---- a report --------------------------------------------------------------------------------------------------

MIN_SHEET_WIDTH = 90  # characters: about the width of a portrait page, so paragraphs read as lines
MAX_COLUMN_WIDTH = 60
HEADER_WIDTH = 24  # a header wraps beyond this
SHORT_HEADER = 10  # a header this wide stays on one line
CHART_PX = (990, 680)  # a chart on a landscape page (1026 x 650 px printable) below a title: see `_chart_sheet`
CHART_SHEET_COLUMNS = 15  # A:O, 66 px each, hold the chart exactly: the print area of a chart sheet
CHART_COLUMN_WIDTH = (CHART_PX[0] / CHART_SHEET_COLUMNS - 5) / 7  # characters, for 66 px (`column_px`)
CHART_ROW_HEIGHT = 15.75  # points (21 px): every row of a chart sheet, written out
CHART_DATA_COLUMN = 18  # S: where a chart sheet keeps the series it plots in 万元, outside its print area
TEN_THOUSAND = 10_000  # 万
_SHEET_NAME_BAD = re.compile(r"[\[\]:*?/\\]")


@dataclass
class _ChartDraft:
    """A chart waiting for its sheet: the table it draws and where that table's header row is."""

    number: int
    table: Table
    sheet_name: str
    header_row: int


class XlsxReport:
    """Writes a `Document` to a print-ready workbook: a sheet per section, then a sheet per chart (附图N)."""

    def __init__(self, path: Path) -> None:
        self.workbook = new_workbook(path)
        add = self.workbook.add_format
        cell = {"border": 1, "valign": "top"}
        total = {**cell, "bold": True, "bg_color": "#F2F2F2"}
        self.formats = {
            "title": add({"bold": True, "font_size": 15, "valign": "vcenter"}),
            "heading": add({"bold": True, "font_size": 12, "valign": "vcenter"}),
            "paragraph": add({"text_wrap": True, "valign": "top"}),
            "caption": add({"bold": True}),
            "note": add({"italic": True, "font_color": "#595959"}),
            "header": add({**cell, "bold": True, "bg_color": "#DDEBF7", "text_wrap": True, "valign": "vcenter"}),
            "text": add({**cell, "text_wrap": True}),
            "int": add({**cell, "num_format": "#,##0"}),
            "money": add({**cell, "num_format": "#,##0.00"}),
            "pct": add({**cell, "num_format": "0.00%"}),
            "date": add(cell),
            "total_text": add({**total, "text_wrap": True}),
            "total_int": add({**total, "num_format": "#,##0"}),
            "total_money": add({**total, "num_format": "#,##0.00"}),
            "total_pct": add({**total, "num_format": "0.00%"}),
            "total_date": add(total),
            "chart_data": add({"num_format": "#,##0.000000"}),
        }
        self.sheet_names: set[str] = set()
        self.charts: list[_ChartDraft] = []

    def write(self, doc: Document) -> None:
        try:
            for index, section in enumerate(doc.sections):
                self._section(doc, section, meta=doc.meta if index == 0 else [])
            for draft in self.charts:
                self._chart_sheet(doc, draft)
        finally:
            self.workbook.close()

    def _sheet_name(self, heading: str) -> str:
        base = _SHEET_NAME_BAD.sub("", heading)[:28] or "Sheet"
        name, n = base, 1
        while name.lower() in self.sheet_names:
            n += 1
            name = f"{base[:26]}_{n}"
        self.sheet_names.add(name.lower())
        return name

    # -- a section -------------------------------------------------------------------------------------------

    def _section(self, doc: Document, section: Section, meta: list[str]) -> None:
        name = self._sheet_name(section.heading)
        sheet = self.workbook.add_worksheet(name)
        widths = _column_widths([b for b in section.blocks if isinstance(b, Table)])
        for col, width in enumerate(widths):
            sheet.set_column(col, col, width)
        last_col = len(widths) - 1
        span = sum(widths)

        row = self._line(sheet, 0, last_col, span, doc.title, "title", min_height=24)
        for line in meta:
            row = self._line(sheet, row, last_col, span, line, "paragraph")
        row = self._line(sheet, row, last_col, span, section.heading, "heading", min_height=20) + 1
        last_header: int | None = None
        for block in section.blocks:
            if isinstance(block, Table):
                row, last_header = self._table(sheet, name, row, widths, span, block)
            else:
                row = self._line(sheet, row, last_col, span, block, "paragraph") + 1

        print_setup(
            sheet,
            title=doc.title,
            date_text=_date_text(doc),
            office=doc.office,
            landscape=landscape_for(sum(column_px(w) for w in widths)),
            repeat_rows=(last_header, last_header) if last_header is not None else None,
        )

    def _line(self, sheet, row: int, last_col: int, span: float, text: str, kind: str, min_height: float = 0) -> int:
        """A line of text across the sheet's width, wrapped, its row as tall as its lines; returns the next row."""
        fmt = self.formats[kind]
        if last_col > 0:
            sheet.merge_range(row, 0, row, last_col, text, fmt)
        else:
            sheet.write_string(row, 0, text, fmt)
        # a merged cell never grows by itself: its height is set from an estimate of its lines
        lines = text_lines(text, span / (1.4 if kind == "title" else 1.0))
        sheet.set_row(row, max(min_height, lines * LINE_HEIGHT))
        return row + 1

    def _table(
        self, sheet, sheet_name: str, row: int, widths: list[float], span: float, table: Table
    ) -> tuple[int, int]:
        """The table from `row` on; returns the row after it and its header row."""
        if table.title:
            row = self._line(sheet, row, len(widths) - 1, span, table.title, "caption")
        header_row = row
        headers = [header_lines(column.header) for column in table.columns]
        for col, header in enumerate(headers):
            sheet.write_string(row, col, header, self.formats["header"])
        sheet.set_row(row, row_height(list(zip(headers, widths, strict=False))))
        for values in table.rows:
            row += 1
            self._row(sheet, row, table.columns, values, widths, prefix="")
        if table.total:
            row += 1
            self._row(sheet, row, table.columns, table.total, widths, prefix="total_")
        row += 1
        if table.chart and table.rows:
            draft = _ChartDraft(len(self.charts) + 1, table, sheet_name, header_row)
            self.charts.append(draft)
            sheet.write_string(row, 0, f"（图见工作表“附图{draft.number}”：{table.chart.title}）", self.formats["note"])
            row += 1
        return row + 1, header_row

    def _row(self, sheet, row: int, columns: list[Col], values: list[Any], widths: list[float], prefix: str) -> None:
        texts = [
            cell_text(v, c.kind) if c.kind in ("text", "date") else "" for v, c in zip(values, columns, strict=True)
        ]
        sheet.set_row(row, row_height(list(zip(texts, widths, strict=False))))
        for col, (value, column) in enumerate(zip(values, columns, strict=True)):
            fmt = self.formats[prefix + column.kind]
            if value is None:
                sheet.write_blank(row, col, None, fmt)
            elif column.kind in ("int", "pct"):
                sheet.write_number(row, col, float(value), fmt)
            elif column.kind == "money":
                write_amount(sheet, row, col, value, fmt, fmt)
            else:
                sheet.write_string(row, col, cell_text(value, column.kind), fmt)

    # -- a chart ---------------------------------------------------------------------------------------------

    def _chart_sheet(self, doc: Document, draft: _ChartDraft) -> None:
        table, spec = draft.table, draft.table.chart
        assert spec is not None
        name = self._sheet_name(f"附图{draft.number}")
        sheet = self.workbook.add_worksheet(name)
        money = [col for col in spec.values if table.columns[col].kind == "money"]
        counts = [col for col in spec.values if col not in money]

        last_col = CHART_SHEET_COLUMNS - 1
        # set, not default: a spreadsheet sizes a chart by the cells it spans, and LibreOffice's own defaults differ
        sheet.set_column(0, last_col, CHART_COLUMN_WIDTH)
        sheet.set_default_row(CHART_ROW_HEIGHT)
        span = CHART_SHEET_COLUMNS * CHART_COLUMN_WIDTH
        self._line(sheet, 0, last_col, span, f"附图{draft.number}　{spec.title}", "heading", min_height=22)
        units = "；金额单位：万元（1 万元 = 10,000 元）" if money else ""
        where = f"数据见工作表“{draft.sheet_name}”" + (f"的“{table.title}”" if table.title else "")
        self._line(sheet, 1, last_col, span, where + units, "note")

        first, last = draft.header_row + 1, draft.header_row + len(table.rows)
        plotted = self._chart_data(sheet, draft, money)
        chart = self.workbook.add_chart({"type": spec.kind, **({"subtype": "stacked"} if spec.stacked else {})})
        font = {"name": FONT_NAME}
        categories = [draft.sheet_name, first, spec.category, last, spec.category_to or spec.category]
        labels = len(spec.values) == 1 and len(table.rows) <= 12
        for col in spec.values:
            secondary = bool(money and counts and col in counts)  # counts beside amounts get their own axis
            header = table.columns[col].header
            if col in plotted:  # 万元, from this sheet: its name says so
                values, series_name = plotted[col], _in_ten_thousands(header)
            else:
                values, series_name = [draft.sheet_name, first, col, last, col], header
            chart.add_series(
                {
                    "name": series_name,
                    "categories": categories,
                    "values": values,
                    "gap": 80,
                    "y2_axis": secondary,
                    "data_labels": {
                        "value": labels,
                        "num_format": "#,##0.00" if col in money else "#,##0",
                        "font": {**font, "size": 9},
                    },
                }
            )
        title = spec.title.replace("（元）", "（万元）") if money else spec.title  # the unit the chart plots in
        chart.set_title({"name": title, "name_font": {**font, "size": 14}})
        chart.set_legend({"position": "bottom", "font": font} if len(spec.values) > 1 else {"none": True})
        value_axis = {
            "name": "金额（万元）" if money else "件数（件）",
            "num_format": "#,##0.0" if money else "#,##0",
            "name_font": {**font, "size": 10, "bold": False},
            "num_font": {**font, "size": 9},
            "major_gridlines": {"visible": True, "line": {"color": "#D9D9D9"}},
        }
        category_axis = {"num_font": {**font, "size": 9, **_label_rotation(spec, table)}}
        if spec.kind == "bar":  # xlsxwriter: in a bar chart x is the value axis, y the category axis
            chart.set_x_axis(value_axis)
            chart.set_y_axis({**category_axis, "reverse": True, "crossing": "max"})  # first place on top, values below
        else:
            chart.set_y_axis(value_axis)
            chart.set_x_axis(category_axis)
        if money and counts:
            chart.set_y2_axis(
                {**value_axis, "name": "件数（件）", "num_format": "#,##0", "major_gridlines": {"visible": False}}
            )
        chart.set_chartarea({"border": {"none": True}})
        chart.set_size({"width": CHART_PX[0], "height": CHART_PX[1]})
        sheet.insert_chart(2, 0, chart, {"object_position": 1})

        rows_used = 2 + math.ceil(CHART_PX[1] / (CHART_ROW_HEIGHT * 4 / 3)) + 1
        for row in range(2, rows_used + 1):  # each row written out: LibreOffice ignores the default for absent rows
            sheet.set_row(row, CHART_ROW_HEIGHT)
        sheet.print_area(0, 0, rows_used, last_col)
        print_setup(
            sheet,
            title=doc.title,
            date_text=_date_text(doc),
            office=doc.office,
            landscape=True,
            one_page=True,
        )

    def _chart_data(self, sheet, draft: _ChartDraft, money: list[int]) -> dict[int, list[Any]]:
        """The amounts of the chart in 万元, beside the print area: formulas on the table's cells, with their values.

        Returns column of the table -> the range of this sheet the chart plots for it.
        """
        if not money:
            return {}
        table, spec = draft.table, draft.table.chart
        assert spec is not None
        left = CHART_DATA_COLUMN
        sheet.write_string(0, left, "图表数据（万元）chart data in 10,000 yuan", self.formats["caption"])
        sheet.write_string(1, left, "类别", self.formats["header"])
        for offset, col in enumerate(money, start=1):
            sheet.write_string(1, left + offset, _in_ten_thousands(table.columns[col].header), self.formats["header"])
        source = quote_sheetname(draft.sheet_name)
        last_category = spec.category_to if spec.category_to is not None else spec.category
        for index, values in enumerate(table.rows):
            row, table_row = 2 + index, draft.header_row + 1 + index
            label = " ".join(
                cell_text(values[c], table.columns[c].kind) for c in range(spec.category, last_category + 1)
            )
            sheet.write_string(row, left, label)
            for offset, col in enumerate(money, start=1):
                amount = values[col]
                cached = float(amount / TEN_THOUSAND) if amount is not None else 0  # the chart shows 万元 rounded
                formula = f"={source}!{xl_rowcol_to_cell(table_row, col)}/{TEN_THOUSAND}"
                sheet.write_formula(row, left + offset, formula, self.formats["chart_data"], cached)
        sheet.set_column(left, left, 24)
        sheet.set_column(left + 1, left + len(money), 18)
        last = 2 + len(table.rows) - 1
        return {col: [sheet.name, 2, left + offset, last, left + offset] for offset, col in enumerate(money, start=1)}


def _column_widths(tables: list[Table]) -> list[float]:
    """Each column's width in characters over the section's tables, padded to at least `MIN_SHEET_WIDTH` in all.

    A column is as wide as its widest value (at most `MAX_COLUMN_WIDTH`, longer text wraps) and as its header
    needs to wrap onto two lines without breaking a word.
    """
    widths: dict[int, int] = defaultdict(lambda: 8)
    for table in tables:
        for col, column in enumerate(table.columns):
            widths[col] = max(widths[col], _header_width(column.header))
            for values in [*table.rows, *([table.total] if table.total else [])]:
                widths[col] = max(widths[col], math.ceil(text_width(cell_text(values[col], column.kind))))
    out = [min(widths[col] + 2, MAX_COLUMN_WIDTH) for col in range(len(widths))] or [10.0]
    while sum(out) < MIN_SHEET_WIDTH:  # empty columns to the right: paragraphs need the room, tables do not
        out.append(min(12, MIN_SHEET_WIDTH - sum(out)) or 1)
    return [float(w) for w in out]


def _header_width(header: str) -> int:
    """The width of a header as `header_lines` breaks it: its longest line (at most `HEADER_WIDTH`)."""
    return min(max(math.ceil(text_width(line)) for line in header_lines(header).split("\n")), HEADER_WIDTH)


def header_lines(header: str) -> str:
    """A column header broken onto two lines where it reads best, so columns stay narrow and nothing dangles.

    A short header stays whole. A longer one breaks at a space, before a '（' or after a '）', wherever its
    longer line is shortest: '核查中 under_verification' -> '核查中' / 'under_verification', '未结涉及金额（元）' ->
    '未结涉及金额' / '（元）'. Left to itself a spreadsheet breaks where the line is full, '…（元' / '）'.
    """
    if cell_len(header) <= SHORT_HEADER:
        return header
    best, best_width = header, cell_len(header)
    for match in re.finditer(r" |(?=（)|(?<=）)", header):
        first, second = header[: match.start()].rstrip(), header[match.end() :].lstrip()
        width = max(cell_len(first), cell_len(second))
        if first and second and width < best_width:
            best, best_width = f"{first}\n{second}", width
    return best


def _label_rotation(spec: Chart, table: Table) -> dict[str, int]:
    """Category labels of a column chart turned 45° when they would collide side by side."""
    if spec.kind == "bar":
        return {}
    last = spec.category_to if spec.category_to is not None else spec.category
    longest = max(
        (cell_len(cell_text(values[c], table.columns[c].kind)) for values in table.rows for c in (spec.category, last)),
        default=0,
    )
    room = CHART_PX[0] / 7 / max(1, len(table.rows))  # characters of room per category along the axis
    return {"rotation": -45} if longest > room * 0.8 else {}


def _in_ten_thousands(header: str) -> str:
    """A money column's header with its unit in 万元: '核定应缴（元）' -> '核定应缴（万元）'."""
    return header.replace("（元）", "（万元）") if "（元）" in header else f"{header}（万元）"


def _date_text(doc: Document) -> str:
    return f"日期 {doc.date.isoformat()}" if doc.date else "打印日期 &D"
