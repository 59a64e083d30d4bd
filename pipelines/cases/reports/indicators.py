"""监测指标报告 — the history of the 统计分析 indicators per pooling region, and the trend blocks of the half-year
report's 四、基金安全评估情况 (issue 16 item 4; docs/adr/0027-indicators-and-early-warning.md).

The indicators and early warnings are those every nightly run keeps in the DuckDB file (`pipelines.cases.indicators`,
tables `indicators` / `early_warnings`). Time base: a month is represented by the last run of that month (by data
date as_of; a day run twice: the latest computed), so a month of nightly runs reads as one point of the trend.

* `read_history(db, …)` — the indicators and warnings of the period, one read transaction of the DuckDB file;
* `indicators_report(…)` — `fundwatch report indicators`: `监测指标_<from>_<to>` (Markdown + XLSX): per region (the
  province first) a table of its indicators month by month, then the per-indicator change tables, the trend chart
  and the warnings raised;
* `trend_blocks(history)` — the blocks of the supervision report's assessment: one change table per indicator
  (first vs last month, per region), the trend of findings per 10,000 insured by month with its chart, the
  warnings of the period, and the judgement (安全 / 关注 / 风险) from the thresholds' levels reached in the last month.

Values are exact decimals shown as the run summary shows them (`indicators.shown_value`); the trend chart plots
findings per 10,000 insured to 2 decimals.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path
from typing import Any

from pipelines.cases.indicators import (
    BY_CODE,
    INDICATORS,
    LEVEL_ZH,
    LEVELS,
    PROVINCE,
    history,
    level_label,
    region_text,
    shown_value,
)
from pipelines.cases.reports.document import Chart, Col, Document, Section, Table
from pipelines.cases.reports.output import write_report
from pipelines.warehouse import session

History = dict[str, list[dict[str, Any]]]
CENT = Decimal("0.01")
JUDGEMENT = {"alarm": "风险", "warning": "关注", "watch": "关注", None: "安全"}


def read_history(db: Path, *, memory_limit: str, date_from: dt.date, date_to: dt.date) -> History:
    """The indicators and warnings of the last run of each month with as_of from `date_from` to `date_to`."""
    db = Path(db)
    if not db.is_file():
        raise FileNotFoundError(f"数据库不存在 no DuckDB file at {db.resolve()}")
    with session.reader(db, memory_limit=memory_limit) as con:
        con.execute("BEGIN TRANSACTION")
        try:
            return history(con, date_from, date_to)
        finally:
            con.execute("COMMIT")


def _months(h: History) -> list[str]:
    return sorted({r["month"] for r in h["values"]})


def _regions(h: History) -> list[str]:
    return sorted({r["region_code"] for r in h["values"]}, key=lambda c: (c != PROVINCE, c))


def _by_key(h: History) -> dict[tuple[str, str, str], Decimal | None]:
    """(month, region, indicator) -> value."""
    return {(r["month"], r["region_code"], r["indicator"]): r["value"] for r in h["values"]}


def _month_text(month: str) -> str:
    return f"{month[:4]}-{month[4:]}"


def change_table(h: History, indicator: str) -> Table:
    """One indicator per region: its value in the first and the last month of the period, and the change."""
    ind = BY_CODE[indicator]
    values = _by_key(h)
    months = _months(h)
    rows = []
    for region in _regions(h):
        had = [m for m in months if (m, region, indicator) in values]
        if not had:
            continue
        first, last = had[0], had[-1]
        a, b = values[(first, region, indicator)], values[(last, region, indicator)]
        change = None if a is None or b is None else b - a
        shown_change = "—" if change is None else ("+" if change > 0 else "") + shown_value(indicator, change)
        rows.append(
            [
                region_text(region),
                _month_text(first),
                shown_value(indicator, a),
                _month_text(last),
                shown_value(indicator, b),
                shown_change,
            ]
        )
    return Table(
        title=f"{ind.label}：{ind.numerator_zh}" + (f" ÷ {ind.denominator_zh}" if ind.denominator_zh else ""),
        columns=[
            Col("统筹区 region"),
            Col("首月 first month"),
            Col("首月数值 first"),
            Col("末月 last month"),
            Col("末月数值 last"),
            Col("变化 change"),
        ],
        rows=rows,
    )


def trend_table(h: History, indicator: str = "findings_per_10k") -> Table:
    """An indicator month by month (rows), per region (columns, the province first), with its chart."""
    ind = BY_CODE[indicator]
    values = _by_key(h)
    regions = [r for r in _regions(h) if any(k[1] == r and k[2] == indicator for k in values)]
    rows = []
    for month in _months(h):
        cells: list[Any] = [_month_text(month)]
        for region in regions:
            v = values.get((month, region, indicator))
            cells.append(None if v is None else v.quantize(CENT, rounding=ROUND_HALF_EVEN))
        rows.append(cells)
    return Table(
        title=f"{ind.label}趋势（按月，各月最后一次运行）trend by month",
        columns=[Col("月份 month"), *(Col(region_text(r), "int") for r in regions)],
        rows=rows,
        chart=Chart(f"{ind.name_zh}趋势（按月）", category=0, values=tuple(range(1, len(regions) + 1)), kind="column")
        if regions
        else None,
    )


def warnings_table(h: History, title: str = "本期预警 early warnings of the period") -> Table:
    return Table(
        title=title,
        columns=[
            Col("月份 month"),
            Col("级别 level"),
            Col("统筹区 region"),
            Col("指标 indicator"),
            Col("数值 value"),
            Col("阈值 threshold"),
        ],
        rows=[
            [
                _month_text(w["month"]),
                level_label(w["level"]),
                region_text(w["region_code"]),
                BY_CODE[w["indicator"]].label,
                shown_value(w["indicator"], w["value"]),
                shown_value(w["indicator"], w["threshold"]),
            ]
            for w in h["warnings"]
        ],
    )


def judgement(h: History) -> tuple[str, str]:
    """(安全 | 关注 | 风险, the sentence): by the most severe level the last month's indicators reached."""
    months = _months(h)
    last = [w for w in h["warnings"] if months and w["month"] == months[-1]]
    worst = next((level for level in reversed(LEVELS) if any(w["level"] == level for w in last)), None)
    verdict = JUDGEMENT[worst]
    if worst is None:
        return verdict, "各项监测指标均未达到预警阈值。"
    counts = "、".join(
        f"{LEVEL_ZH[level]}（{level}）{n} 项"
        for level in reversed(LEVELS)
        if (n := sum(w["level"] == level for w in last))
    )
    return verdict, f"{_month_text(months[-1])} 共有 {len(last)} 项指标达到预警阈值：{counts}。"


def trend_blocks(h: History) -> list[str | Table]:
    """The supervision report's indicator part of 四、基金安全评估情况: judgement, change tables, trend, warnings."""
    months = _months(h)
    if not months:
        return ["（监测指标）本期没有监测指标记录（夜间运行尚未计算指标）no indicators recorded for the period."]
    verdict, why = judgement(h)
    blocks: list[str | Table] = [
        f"监测预警研判：{verdict}。依据本期各月最后一次夜间运行计算的监测指标（{_month_text(months[0])} 至 "
        f"{_month_text(months[-1])}，共 {len(months)} 个月）和预警阈值判定：{why}"
        "研判口径：末月有警报（alarm）为“风险”，有关注或预警（watch / warning）为“关注”，均未达到为“安全”。"
    ]
    blocks += [change_table(h, ind.code) for ind in INDICATORS if any(r["indicator"] == ind.code for r in h["values"])]
    blocks.append(trend_table(h))
    if h["warnings"]:
        blocks.append(warnings_table(h))
    else:
        blocks.append("本期各月均未发生预警 no early warnings in the period.")
    return blocks


def indicators_document(h: History, month_from: str | None, month_to: str | None, today: dt.date) -> Document:
    months = _months(h)
    span = f"{_month_text(months[0])} 至 {_month_text(months[-1])}" if months else "（无记录 none）"
    asked = f"{month_from or '最早 earliest'} – {month_to or '最新 latest'}"
    sections: list[Section] = []
    values = _by_key(h)
    for region in _regions(h):
        codes = [i.code for i in INDICATORS if any(k[1] == region and k[2] == i.code for k in values)]
        rows = [
            [_month_text(m), *(shown_value(c, values.get((m, region, c))) for c in codes)]
            for m in months
            if any((m, region, c) in values for c in codes)
        ]
        table = Table(
            title="各月指标 indicators by month",
            columns=[Col("月份 month"), *(Col(BY_CODE[c].label) for c in codes)],
            rows=rows,
        )
        sections.append(Section(f"{region_text(region)}", [table]))
    overview: list[str | Table] = trend_blocks(h)
    sections.insert(0, Section("总体趋势与预警 trend and early warnings", overview))
    return Document(
        title="社会保险基金监测指标报告（统计分析、监测预警）",
        meta=[
            "Indicator history 监测指标历史",
            f"期间 months：{span}（所请求 asked {asked}）",
            "口径 time base：每月取该月数据日期最后一次夜间运行的指标（同日多次运行取最后计算者）；"
            "全省（000000）为全省合计，缺失报送数仅全省计；比率为精确小数，显示为百分比；"
            "指标定义见 docs/adr/0027-indicators-and-early-warning.md。",
        ],
        sections=sections,
        date=today,
    )


def month_first_day(month: str) -> dt.date:
    return dt.date(int(month[:4]), int(month[4:]), 1)


def month_last_day(month: str) -> dt.date:
    year, mon = int(month[:4]), int(month[4:])
    return dt.date(year + mon // 12, mon % 12 + 1, 1) - dt.timedelta(days=1)


def indicators_report(
    db: Path,
    out_dir: Path,
    *,
    month_from: str | None,
    month_to: str | None,
    today: dt.date,
    memory_limit: str,
) -> list[Path]:
    """`fundwatch report indicators`: `监测指标_<from>_<to>.md/.xlsx` (YYYYMM, or 全部 when not limited)."""
    doc, stem = indicators_built(db, month_from=month_from, month_to=month_to, today=today, memory_limit=memory_limit)
    return write_report(doc, out_dir, stem)


def indicators_built(
    db: Path, *, month_from: str | None, month_to: str | None, today: dt.date, memory_limit: str
) -> tuple[Document, str]:
    """The indicators' history as a document and its file stem, written nowhere (the workbench serves it)."""
    date_from = month_first_day(month_from) if month_from else dt.date(1, 1, 1)
    date_to = month_last_day(month_to) if month_to else dt.date(9999, 12, 31)
    h = read_history(db, memory_limit=memory_limit, date_from=date_from, date_to=date_to)
    return indicators_document(h, month_from, month_to, today), f"监测指标_{month_from or '最早'}_{month_to or '最新'}"
