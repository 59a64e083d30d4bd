"""The XLSX rendering of a `Document`: one sheet per section, tables with native charts beside them.

Amounts are number cells formatted #,##0.00 when a double shows them exactly to the fen, else text
(`pipelines.present.money.write_amount`).
"""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path
from typing import Any

import xlsxwriter
from rich.cells import cell_len

from pipelines.cases.reports.document import Col, Document, Section, Table, cell_text
from pipelines.present.money import write_amount

CHART_ROWS = 17  # rows a chart occupies (288 px * 1.15 at 20 px a row), kept free below it
_SHEET_NAME_BAD = re.compile(r"[\[\]:*?/\\]")


class XlsxReport:
    """Writes a `Document` to a workbook: one sheet per section, tables with native charts beside them."""

    def __init__(self, path: Path) -> None:
        self.workbook = xlsxwriter.Workbook(path)
        add = self.workbook.add_format
        self.formats = {
            "title": add({"bold": True, "font_size": 15}),
            "heading": add({"bold": True, "font_size": 12}),
            "caption": add({"bold": True}),
            "header": add({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True, "valign": "vcenter"}),
            "text": add({"border": 1}),
            "int": add({"border": 1, "num_format": "#,##0"}),
            "money": add({"border": 1, "num_format": "#,##0.00"}),
            "pct": add({"border": 1, "num_format": "0.00%"}),
            "date": add({"border": 1}),
            "total_text": add({"border": 1, "bold": True, "bg_color": "#F2F2F2"}),
            "total_int": add({"border": 1, "bold": True, "bg_color": "#F2F2F2", "num_format": "#,##0"}),
            "total_money": add({"border": 1, "bold": True, "bg_color": "#F2F2F2", "num_format": "#,##0.00"}),
            "total_pct": add({"border": 1, "bold": True, "bg_color": "#F2F2F2", "num_format": "0.00%"}),
            "total_date": add({"border": 1, "bold": True, "bg_color": "#F2F2F2"}),
        }
        self.sheet_names: set[str] = set()

    def write(self, doc: Document) -> None:
        try:
            for index, section in enumerate(doc.sections):
                self._section(doc, section, meta=doc.meta if index == 0 else [])
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

    def _section(self, doc: Document, section: Section, meta: list[str]) -> None:
        name = self._sheet_name(section.heading)
        sheet = self.workbook.add_worksheet(name)
        widths: dict[int, int] = defaultdict(lambda: 8)
        sheet.write_string(0, 0, doc.title, self.formats["title"])
        row = 1
        for line in meta:
            sheet.write_string(row, 0, line)
            row += 1
        sheet.write_string(row, 0, section.heading, self.formats["heading"])
        row += 2
        for block in section.blocks:
            if isinstance(block, Table):
                row = self._table(sheet, name, row, block, widths) + 1
            else:
                sheet.write_string(row, 0, block)
                row += 2
        for col, width in widths.items():
            sheet.set_column(col, col, min(width + 2, 60))

    def _table(self, sheet, sheet_name: str, row: int, table: Table, widths: dict[int, int]) -> int:
        if table.title:
            sheet.write_string(row, 0, table.title, self.formats["caption"])
            row += 1
        header_row = row
        for col, column in enumerate(table.columns):
            sheet.write_string(row, col, column.header, self.formats["header"])
            widths[col] = max(widths[col], min(cell_len(column.header), 24))
        for values in table.rows:
            row += 1
            self._row(sheet, row, table.columns, values, widths, prefix="")
        if table.total:
            row += 1
            self._row(sheet, row, table.columns, table.total, widths, prefix="total_")
        if table.chart and table.rows:
            self._chart(sheet, sheet_name, header_row, table)
            row = max(row, header_row + CHART_ROWS)
        return row + 1

    def _row(self, sheet, row: int, columns: list[Col], values: list[Any], widths, prefix: str) -> None:
        for col, (value, column) in enumerate(zip(values, columns, strict=True)):
            fmt = self.formats[prefix + column.kind]
            widths[col] = max(widths[col], cell_len(cell_text(value, column.kind)))
            if value is None:
                sheet.write_blank(row, col, None, fmt)
            elif column.kind in ("int", "pct"):
                sheet.write_number(row, col, float(value), fmt)
            elif column.kind == "money":
                write_amount(sheet, row, col, value, fmt, fmt)
            else:
                sheet.write_string(row, col, cell_text(value, column.kind), fmt)

    def _chart(self, sheet, sheet_name: str, header_row: int, table: Table) -> None:
        spec = table.chart
        assert spec is not None
        options: dict[str, str] = {"type": spec.kind}
        if spec.stacked:
            options["subtype"] = "stacked"
        chart = self.workbook.add_chart(options)
        first, last = header_row + 1, header_row + len(table.rows)
        for col in spec.values:
            chart.add_series(
                {
                    "name": [sheet_name, header_row, col],
                    "categories": [sheet_name, first, spec.category, last, spec.category_to or spec.category],
                    "values": [sheet_name, first, col, last, col],
                    "data_labels": {"value": len(spec.values) == 1 and len(table.rows) <= 12},
                }
            )
        chart.set_title({"name": spec.title, "name_font": {"size": 11}})
        chart.set_legend({"position": "bottom"} if len(spec.values) > 1 else {"none": True})
        if spec.kind == "bar":
            chart.set_y_axis({"reverse": True})  # a ranking reads top-down, first place on top
        sheet.insert_chart(header_row, len(table.columns) + 1, chart, {"x_scale": 1.25, "y_scale": 1.15})
