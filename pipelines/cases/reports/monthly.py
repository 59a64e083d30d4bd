"""定期自查 monthly self-check: new findings, status at month end, dispositions and money, overdue cases, data
quality — the office's work of one month.

Time base (stated in the report): the register's dates. A finding belongs to the month it was found
(first_seen, the run that found it), a disposition to the day the register gives it (the analyst's --on,
case_events), money to the day
it moved (case_money.on_date), a run to its data date; status and overdue are as of the cut-off day. Every
figure comes from one read of the register and one of the DuckDB file (docs/adr/0019-report-time-base.md).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path
from typing import Any

from pipelines.cases.reports.common import (
    CONFIRMED,
    UNRESOLVED,
    data_quality_line,
    money_sentence,
    overdue_table,
    pair_note,
    region_table,
    rule_table,
    runs_table,
    status_table,
    sum_amount,
)
from pipelines.cases.reports.document import Chart, Col, Document, Section, Table
from pipelines.cases.reports.output import write_report
from pipelines.cases.reports.sources import (
    RegisterSnapshot,
    WarehouseSnapshot,
    between,
    cases_at,
    cutoff_day,
    entered_between,
    month_bounds,
    read_register,
    read_warehouse,
)
from pipelines.present.labels import CASE_STATUSES, rule_name, status_label
from pipelines.present.money import fmt_money

TIME_BASE = (
    "口径 time base：按登记簿日期——疑点按发现日期（first_seen），"
    "核查处置按登记簿所载业务日期（交办、确认、排除、追回的 --on 日期），"
    "追回、核销按款项日期（on_date），运行按数据日期；案件状态、逾期截至统计截止日；"
    "专户账实不符配对（仅日期超窗的同一笔款项）金额只计一次。"
)


def monthly_self_check(
    register: Path,
    db: Path,
    month: str,
    out_dir: Path,
    *,
    today: dt.date,
    memory_limit: str,
    top_n: int = 20,
    as_of: dt.date | None = None,
) -> list[Path]:
    """定期自查报告 for a month "YYYYMM": `自查报告_YYYYMM.md` and `.xlsx`; returns both paths.

    `today` is the command's day (Asia/Shanghai): the cut-off day is the month's last day, or `today`
    if earlier, unless `as_of` is given. `memory_limit` is DuckDB's, from the settings.
    """
    doc, stem = monthly_built(register, db, month, today=today, memory_limit=memory_limit, top_n=top_n, as_of=as_of)
    return write_report(doc, out_dir, stem)


def monthly_built(
    register: Path,
    db: Path,
    month: str,
    *,
    today: dt.date,
    memory_limit: str,
    top_n: int = 20,
    as_of: dt.date | None = None,
) -> tuple[Document, str]:
    """The monthly self-check as a document and its file stem, written nowhere (the workbench serves it)."""
    first, last = month_bounds(month)
    cutoff = cutoff_day(last, as_of, today)
    doc = monthly_document(
        month, first, cutoff, read_register(register), read_warehouse(db, memory_limit=memory_limit), top_n=top_n
    )
    return doc, f"自查报告_{month}"


def monthly_document(
    month: str,
    first: dt.date,
    cutoff: dt.date,
    register: RegisterSnapshot,
    warehouse: WarehouseSnapshot,
    *,
    top_n: int,
) -> Document:
    label = f"{first.year}年{first.month}月"
    cases = cases_at(register, cutoff, warehouse.pairs)
    before = cases_at(register, first - dt.timedelta(days=1), warehouse.pairs)
    runs = [r for r in warehouse.runs if between(str(r["as_of"]), first, cutoff)]
    new = [c for c in cases if between(c["first_seen"], first, cutoff)]
    overdue = sorted((c for c in cases if c["overdue"]), key=lambda c: (-c["own_amount"], c["suspect_id"]))

    s1 = Section("一、本月新发现疑点（New findings by rule and region）")
    if new:
        s1.blocks.append(
            f"本月（{first.isoformat()} 至 {cutoff.isoformat()}）新发现疑点 {len(new)} 件，"
            f"涉及金额 {fmt_money(sum_amount(new))} 元。"
        )
        s1.blocks.append(rule_table(new, "新发现件数", "按规则 by rule", "本月新发现疑点金额（按规则）"))
        s1.blocks.append(region_table(new, "新发现件数", "按统筹区 by region"))
    else:
        s1.blocks.append(f"本月（{first.isoformat()} 至 {cutoff.isoformat()}）未发现新的疑点。")

    s2 = Section("二、月末案件状态（Status at month end）")
    unresolved = [c for c in cases if c["status_at"] in UNRESOLVED]
    s2.blocks.append(
        f"截至 {cutoff.isoformat()}，登记案件共 {len(cases)} 件，其中未结 {len(unresolved)} 件"
        f"（涉及金额 {fmt_money(sum_amount(unresolved))} 元），逾期 {len(overdue)} 件。"
    )
    by_rule = status_table(cases, "rule", "规则 rule", rule_name)
    by_rule.title = "按规则 by rule"
    by_region = status_table(cases, "region", "统筹区 region", None)
    by_region.title = "按统筹区 by region"
    by_region.chart = Chart("各统筹区案件状态", category=0, values=(1, 2, 3, 4, 5, 6), stacked=True)
    s2.blocks += [by_rule, by_region]
    note = pair_note(cases)
    if note:
        s2.blocks.append(note)

    s3 = Section("三、本月处置情况（Dispositions and money in the month）")
    s3.blocks.append(_dispositions(cases, first, cutoff))
    s3.blocks.append(_money_in_month(cases, before))
    moved = _moved(cases, before)
    s3.blocks.append(
        f"本月（按款项日期）追回 {fmt_money(moved['recovered'])} 元、核销 {fmt_money(moved['written_off'])} 元"
        + (f"，另追回超出涉及金额部分（罚没等）{fmt_money(moved['excess'])} 元" if moved["excess"] else "")
        + "。"
        + money_sentence([c for c in cases if c["status_at"] in CONFIRMED], f"截至 {cutoff.isoformat()} 累计")
    )
    confirmed = [c for c in cases if entered_between(c, "confirmed", first, cutoff)]
    if confirmed:
        severities = Counter(c["severity"] or "未分级" for c in confirmed)
        s3.blocks.append("本月确认违规中：" + "，".join(f"{k} {v} 件" for k, v in sorted(severities.items())) + "。")

    s4 = Section("四、逾期案件清单（Overdue cases）")
    if overdue:
        shown = overdue[:top_n]
        s4.blocks.append(
            f"逾期案件共 {len(overdue)} 件，涉及金额 {fmt_money(sum_amount(overdue))} 元；"
            f"下表按金额列出前 {len(shown)} 件（逾期天数为自然日）。"
        )
        s4.blocks.append(overdue_table(shown, cutoff))
        note = pair_note(shown)
        if note:
            s4.blocks.append(note)
    else:
        s4.blocks.append(f"截至 {cutoff.isoformat()}，无逾期案件。")

    s5 = Section("五、数据质量（Data quality）")
    s5.blocks.append(data_quality_line("本月", runs))
    if runs:
        s5.blocks.append(runs_table(runs))

    return Document(
        title=f"定期自查报告（{label}）",
        meta=[
            "Monthly self-check report 定期自查",
            f"统计期间 period：{first.isoformat()} 至 {cutoff.isoformat()}",
            f"报告月份 month：{first.year:04d}{first.month:02d}",
            TIME_BASE,
        ],
        sections=[s1, s2, s3, s4, s5],
        date=cutoff,
    )


def _dispositions(cases: list[dict[str, Any]], first: dt.date, cutoff: dt.date) -> Table:
    """Cases that entered each status in the month (by the day the register gives), with their amounts (pairs once)."""
    rows = []
    for status in ("under_verification", "confirmed", "partially_recovered", "dismissed", "rectified"):
        entered = [c for c in cases if entered_between(c, status, first, cutoff)]
        rows.append([status_label(CASE_STATUSES, status), len(entered), sum_amount(entered)])
    return Table(
        title="本月进入各状态的案件 cases that entered a status in the month",
        columns=[Col("事项"), Col("件数", "int"), Col("涉及金额（元）", "money")],
        rows=rows,
    )


def _moved(cases: list[dict[str, Any]], before: list[dict[str, Any]]) -> dict[str, Any]:
    """Money that moved in the month: the cumulative figures at the cut-off less those the day before it began."""
    return {kind: sum_amount(cases, kind) - sum_amount(before, kind) for kind in ("recovered", "written_off", "excess")}


def _money_in_month(cases: list[dict[str, Any]], before: list[dict[str, Any]]) -> Table:
    moved = _moved(cases, before)
    labels = {
        "recovered": "追回 recovered",
        "written_off": "核销 written off",
        "excess": "超出涉及金额的追回（罚没等）excess",
    }
    return Table(
        title="款项（按款项日期）money by the day it moved",
        columns=[
            Col("款项"),
            Col("月初累计（元）", "money"),
            Col("本月（元）", "money"),
            Col("月末累计（元）", "money"),
        ],
        rows=[
            [labels[k], sum_amount(before, k), moved[k], sum_amount(cases, k)]
            for k in ("recovered", "written_off", "excess")
        ],
    )
