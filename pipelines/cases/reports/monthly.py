"""定期自查 monthly self-check: new findings, status at month end, dispositions, overdue cases, data quality."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path
from typing import Any

from pipelines.cases import register as case_register
from pipelines.cases.reports.common import (
    UNRESOLVED,
    data_quality_line,
    first_per_case,
    overdue_table,
    rule_table,
    runs_table,
    status_table,
    sum_amount,
)
from pipelines.cases.reports.document import Chart, Col, Document, Section, Table
from pipelines.cases.reports.output import write_report
from pipelines.cases.reports.sources import (
    between,
    cases_at,
    cutoff_day,
    duck_rows,
    events_between,
    month_bounds,
)
from pipelines.present.labels import CASE_STATUSES, rule_name, status_label
from pipelines.present.money import fmt_money
from pipelines.warehouse import session


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
    first, last = month_bounds(month)
    cutoff = cutoff_day(last, as_of, today)
    with case_register.reader(register) as con:
        cases = cases_at(con, cutoff)
        events = events_between(con, first, cutoff)
    with session.reader(db, memory_limit=memory_limit) as con:
        runs = duck_rows(con, "runs_between.sql", {"date_from": first, "date_to": cutoff})
    doc = monthly_document(month, first, cutoff, cases, events, runs, top_n=top_n)
    return write_report(doc, out_dir, f"自查报告_{month}")


def monthly_document(
    month: str,
    first: dt.date,
    cutoff: dt.date,
    cases: list[dict[str, Any]],
    events: list[dict[str, Any]],
    runs: list[dict[str, Any]],
    *,
    top_n: int,
) -> Document:
    label = f"{first.year}年{first.month}月"
    new = [c for c in cases if between(c["first_seen"], first, cutoff)]
    confirmed = [c for c in cases if between(c["confirmed_on"], first, cutoff)]
    dismissed = first_per_case(e for e in events if e["action"] == "dismiss")
    rectified = [c for c in cases if between(c["rectified_on"], first, cutoff)]
    overdue = sorted((c for c in cases if c["overdue"]), key=lambda c: (-c["amount"], c["suspect_id"]))
    recovered_month = sum_amount(rectified, "recovered")
    recovered_total = sum_amount(cases, "recovered")

    s1 = Section("一、本月新发现疑点（New findings by rule）")
    if new:
        s1.blocks.append(
            f"本月（{first.isoformat()} 至 {cutoff.isoformat()}）新发现疑点 {len(new)} 件，"
            f"涉及金额 {fmt_money(sum_amount(new))} 元。"
        )
        s1.blocks.append(rule_table(new, "新发现件数", None, "本月新发现疑点金额（按规则）"))
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
    by_region.chart = Chart("各统筹区案件状态", category=0, values=(1, 2, 3, 4, 5), stacked=True)
    s2.blocks += [by_rule, by_region]

    s3 = Section("三、本月处置情况（Dispositions in the month）")
    s3.blocks.append(
        Table(
            columns=[Col("事项"), Col("件数", "int"), Col("涉及金额（元）", "money"), Col("追回金额（元）", "money")],
            rows=[
                [status_label(CASE_STATUSES, "confirmed"), len(confirmed), sum_amount(confirmed), None],
                [status_label(CASE_STATUSES, "dismissed"), len(dismissed), sum_amount(dismissed), None],
                [status_label(CASE_STATUSES, "rectified"), len(rectified), sum_amount(rectified), recovered_month],
            ],
        )
    )
    s3.blocks.append(
        f"本月追回金额（recovered）{fmt_money(recovered_month)} 元；累计追回 {fmt_money(recovered_total)} 元。"
    )
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
            f"报告月份 month：{month}",
        ],
        sections=[s1, s2, s3, s4, s5],
    )
