"""The reports page: each report of the 四定一限 cycle generated from its form, answered as an XLSX or Markdown
download or as an HTML page laid out for printing on A4.

A report is built by the same functions `fundwatch report` writes to files (`pipelines.cases.reports`, the
`*_built` functions: one `Document`, rendered by the same Markdown and XLSX renderers), so a download and the
command's file are the same report. Nothing is kept on the server: the workbook is written in a private temporary
folder and read back. The form's values are checked here (a month, a year, a half, a day); a wrong one is said on
the page, never passed on.
"""

from __future__ import annotations

import datetime as dt
import re
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from pipelines.cases.reports.adjudication import OFFICE_ZONE, adjudication_built
from pipelines.cases.reports.circulation import circulation_built
from pipelines.cases.reports.document import Chart, Document, Table, cell_text
from pipelines.cases.reports.indicators import indicators_built
from pipelines.cases.reports.internal_audit import audit_report_built
from pipelines.cases.reports.markdown import render_markdown
from pipelines.cases.reports.monthly import monthly_built
from pipelines.cases.reports.supervision import supervision_built
from pipelines.cases.reports.xlsx import XlsxReport
from pipelines.cases.reports.yaoqing import yaoqing_built

FORMATS = {"xlsx": "下载 XLSX download", "md": "下载 Markdown download", "print": "打印视图 print view"}
MEDIA = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "md": "text/markdown; charset=utf-8",
}


class ReportFormError(ValueError):
    """A report form's value that cannot be used: said on the page."""


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    kind: str  # month | year | half | date


@dataclass(frozen=True)
class ReportKind:
    kind: str
    title: str
    note: str
    fields: tuple[Field, ...] = field(default_factory=tuple)


MONTH = Field("month", "月份 month (YYYYMM)", "month")
YEAR = Field("year", "年度 year", "year")
HALF = Field("half", "半年 half", "half")
AS_OF = Field("as_of", "截至 as of (YYYY-MM-DD)", "date")
MONTH_FROM = Field("month_from", "起始月份 from (YYYYMM)", "month")
MONTH_TO = Field("month_to", "截止月份 to (YYYYMM)", "month")

REPORTS = {
    r.kind: r
    for r in (
        ReportKind("monthly", "定期自查报告 monthly self-check", "当月新发现、处置、追回、逾期与数据质量", (MONTH,)),
        ReportKind("half-year", "半年监督报告 half-year supervision report", "6月底前报送", (YEAR, HALF)),
        ReportKind("annual", "年度监督报告 annual supervision report", "12月底前报送", (YEAR,)),
        ReportKind("circulation", "定期通报 circulation of the regions", "统筹区按未结、逾期、追回排名", (AS_OF,)),
        ReportKind("yaoqing", "要情统计 要情 statistics (half-year)", "无要情时出具零报告", (YEAR, HALF)),
        ReportKind(
            "internal-audit",
            "稽核报告 the month's internal audit report",
            "经办机构当月稽核抽样的覆盖率（按业务类型、经办人）与发现的问题",
            (MONTH,),
        ),
        ReportKind(
            "indicators",
            "监测指标 indicators and early warnings",
            "各统筹区监测指标的历史与预警（每月最后一次运行）",
            (MONTH_FROM, MONTH_TO),
        ),
        ReportKind(
            "adjudication",
            "事前筛查核实认定月报 monthly adjudication of screened payments",
            "本月筛查的暂停、准予发放、不予发放与待认定（按暂停原因、统筹区）；认定截至所填日期日终",
            (MONTH, AS_OF),
        ),
    )
}


def defaults(today: dt.date) -> dict[str, str]:
    """What each field holds when the page opens: this month, this year and half, today."""
    return {
        "month": f"{today.year}{today.month:02d}",
        "month_from": f"{today.year}01",
        "month_to": f"{today.year}{today.month:02d}",
        "year": str(today.year),
        "half": "1" if today.month <= 6 else "2",
        "as_of": today.isoformat(),
    }


def _value(form: Mapping[str, str], spec: Field) -> str | int | dt.date:
    text = (form.get(spec.name) or "").strip()
    if spec.kind == "month":
        if not re.fullmatch(r"[1-9][0-9]{3}(0[1-9]|1[0-2])", text):
            raise ReportFormError(f"月份须为 YYYYMM（如 202611）a month is YYYYMM, got {text[:20]!r}")
        return text
    if spec.kind == "year":
        if not re.fullmatch(r"[1-9][0-9]{3}", text):
            raise ReportFormError(f"年份须为4位数字 a year is four digits, got {text[:20]!r}")
        return int(text)
    if spec.kind == "half":
        if text not in ("1", "2"):
            raise ReportFormError(f"半年须为 1（上半年）或 2（下半年）the half is 1 or 2, got {text[:20]!r}")
        return int(text)
    try:
        return dt.date.fromisoformat(text)
    except ValueError as err:
        raise ReportFormError(f"日期须为 YYYY-MM-DD a date is YYYY-MM-DD, got {text[:20]!r}") from err


def build(
    kind: str,
    form: Mapping[str, str],
    *,
    register: Path,
    db: Path,
    today: dt.date,
    memory_limit: str,
    zone: ZoneInfo = OFFICE_ZONE,
) -> tuple[Document, str]:
    """The report of `kind` for the form's values, as a document and its file stem (`zone`: the office's time
    zone, the day a screening, decision or blacklist change belongs to)."""
    spec = REPORTS[kind]
    values = {f.name: _value(form, f) for f in spec.fields}
    if kind == "adjudication":
        return adjudication_built(register, values["month"], today=today, zone=zone, as_of=values["as_of"])  # type: ignore[arg-type]
    if kind == "monthly":
        return monthly_built(register, db, values["month"], today=today, memory_limit=memory_limit)  # type: ignore[arg-type]
    if kind in ("half-year", "annual"):
        half = values.get("half") if kind == "half-year" else None
        return supervision_built(register, db, values["year"], half, today=today, memory_limit=memory_limit, zone=zone)  # type: ignore[arg-type]
    if kind == "circulation":
        return circulation_built(register, db, values["as_of"], memory_limit=memory_limit)  # type: ignore[arg-type]
    if kind == "internal-audit":
        return audit_report_built(register, values["month"], today=today)  # type: ignore[arg-type]
    if kind == "indicators":
        if str(values["month_from"]) > str(values["month_to"]):
            raise ReportFormError("起始月份晚于截止月份 the first month is after the last")
        return indicators_built(
            db,
            month_from=values["month_from"],  # type: ignore[arg-type]
            month_to=values["month_to"],  # type: ignore[arg-type]
            today=today,
            memory_limit=memory_limit,
        )
    return yaoqing_built(register, db, values["year"], values["half"], today=today, memory_limit=memory_limit)  # type: ignore[arg-type]


def rendered(doc: Document, stem: str, fmt: str) -> tuple[bytes, str, str]:
    """The report's bytes, media type and file name for a download (`fmt` xlsx or md)."""
    name = f"{stem}.{fmt}"
    if fmt == "md":
        return render_markdown(doc).encode("utf-8"), MEDIA["md"], name
    with tempfile.TemporaryDirectory(prefix="fundwatch-report-") as folder:  # 0700: private while it exists
        path = Path(folder) / "report.xlsx"
        XlsxReport(path).write(doc)
        return path.read_bytes(), MEDIA["xlsx"], name


def attachment(name: str) -> str:
    """A Content-Disposition naming the file in Chinese (RFC 6266/5987), with an ASCII fallback."""
    fallback = re.sub(r"[^A-Za-z0-9._-]", "_", name)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name)}"


# ---- the print view -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChartView:
    title: str
    series: list[str]
    groups: list[dict[str, Any]]  # {"label": str, "bars": [{"width": int, "text": str}]}
    width: int


CHART_WIDTH = 360


def _number(value: Any) -> Decimal:
    if value is None:
        return Decimal(0)
    return Decimal(str(value))


def chart_view(table: Table, chart: Chart) -> ChartView:
    """A chart's bars as the print view draws them (SVG), scaled to the largest value of any series."""
    last = chart.category_to if chart.category_to is not None else chart.category
    top = max((_number(row[i]) for row in table.rows for i in chart.values), default=Decimal(0))
    groups = []
    for row in table.rows:
        label = " ".join(str(row[i]) for i in range(chart.category, last + 1) if row[i] not in (None, ""))
        bars = []
        for i in chart.values:
            value = _number(row[i])
            width = int(value * CHART_WIDTH / top) if top > 0 else 0
            # With several series a zero bar says nothing: its number is left out (the table beside has it).
            text = "" if value == 0 and len(chart.values) > 1 else cell_text(row[i], table.columns[i].kind)
            bars.append({"width": max(width, 1 if value > 0 else 0), "text": text})
        groups.append({"label": label, "bars": bars})
    return ChartView(chart.title, [table.columns[i].header for i in chart.values], groups, CHART_WIDTH)


def table_view(table: Table) -> dict[str, Any]:
    """A table as the templates walk it: its cells as text (numbers right-aligned), its total, its chart."""
    numeric = [c.kind in ("int", "money", "pct") for c in table.columns]
    rows = [[cell_text(v, c.kind) for v, c in zip(row, table.columns, strict=True)] for row in table.rows]
    total = [cell_text(v, c.kind) for v, c in zip(table.total, table.columns, strict=True)] if table.total else None
    return {
        "table": True,
        "title": table.title,
        "headers": [c.header for c in table.columns],
        "numeric": numeric,
        "rows": rows,
        "total": total,
        "chart": chart_view(table, table.chart) if table.chart and table.rows else None,
    }


def print_blocks(doc: Document) -> list[dict[str, Any]]:
    """The document's sections as the print template walks them: paragraphs, and tables (`table_view`)."""
    return [
        {
            "heading": section.heading,
            "blocks": [
                table_view(block) if isinstance(block, Table) else {"table": False, "text": block}
                for block in section.blocks
            ],
        }
        for section in doc.sections
    ]
