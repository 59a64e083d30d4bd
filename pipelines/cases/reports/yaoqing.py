"""要情统计 for a half-year: 要情 and 重大要情 by rule and region, and the timeliness of their reporting;
its 零报告 when none occurred.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path
from typing import Any

from pipelines.cases import register as case_register
from pipelines.cases.reports.common import SEVERITIES, SEVERITY_COLUMNS, TOTAL, severity_cells, sum_amount
from pipelines.cases.reports.document import Chart, Col, Document, Section, Table
from pipelines.cases.reports.output import write_report
from pipelines.cases.reports.sources import between, cases_at, half_bounds
from pipelines.present.labels import rule_name, rule_sort_key
from pipelines.present.money import fmt_money

TIMELINESS = {
    "on_time": "按时报告 on time",
    "late": "逾期报告 reported late",
    "overdue": "逾期未报 overdue, not reported",
    "pending": "未到期限 not yet due",
}


def report_timeliness(case: dict[str, Any], as_of: dt.date) -> str:
    """on_time | late | overdue | pending: reported_on against report_due (5 working days after confirmation)."""
    due, reported = case["report_due"], case["reported_on"]
    if reported:
        return "late" if due and reported > due else "on_time"
    return "overdue" if due and due < as_of.isoformat() else "pending"


def yaoqing_statistics(
    register: Path, year: int, half: int, out_dir: Path, *, today: dt.date, as_of: dt.date | None = None
) -> list[Path]:
    """要情统计 for a half-year (`要情统计_2025H2`), or its 零报告 when no 要情 occurred.

    A 要情 of the half is a case confirmed (confirmed_on) in it with severity 要情 or 重大要情. Reporting
    timeliness is judged on `as_of` (default: `today`, the command's day in Asia/Shanghai): unreported
    past report_due is flagged 逾期未报.
    """
    if half not in (1, 2):
        raise ValueError(f"half must be 1 or 2, got {half!r}")
    first, last = half_bounds(year, half)
    as_of = as_of or today
    with case_register.reader(register) as con:
        cases = cases_at(con, max(as_of, last))
    yaoqing = [c for c in cases if c["severity"] in SEVERITIES and between(c["confirmed_on"], first, last)]
    label = f"{year}年{'上' if half == 1 else '下'}半年"
    doc = yaoqing_document(label, first, last, as_of, yaoqing)
    return write_report(doc, out_dir, f"要情统计_{year}H{half}")


def yaoqing_document(
    label: str, first: dt.date, last: dt.date, as_of: dt.date, yaoqing: list[dict[str, Any]]
) -> Document:
    meta = [
        "要情统计 statistics of reportable cases (要情 / 重大要情)",
        f"统计期间 period：{first.isoformat()} 至 {last.isoformat()}（按确认违规日期）",
        f"报送及时性判定日 as of：{as_of.isoformat()}",
    ]
    if not yaoqing:
        zero = Section(
            "零报告（Zero report）",
            [
                f"{label}（{first.isoformat()} 至 {last.isoformat()}），本地区未发生社会保险基金要情（含重大要情），"
                "特此零报告。",
                "No 要情 or 重大要情 occurred in the period: zero report.",
            ],
        )
        return Document(title=f"社会保险基金要情统计（{label}）——零报告", meta=meta, sections=[zero])

    counts = Counter(c["severity"] for c in yaoqing)
    s1 = Section(
        "一、总体情况（Overview）",
        [
            f"{label}共发生要情 {counts['要情']} 件、重大要情 {counts['重大要情']} 件，合计 {len(yaoqing)} 件，"
            f"涉及金额 {fmt_money(sum_amount(yaoqing))} 元。"
        ],
    )
    rules = sorted({c["rule"] for c in yaoqing}, key=rule_sort_key)
    s2 = Section(
        "二、按规则统计（By rule）",
        [
            Table(
                columns=[Col("规则 rule"), Col("规则名称"), *SEVERITY_COLUMNS],
                rows=[
                    [rule, rule_name(rule), *severity_cells([c for c in yaoqing if c["rule"] == rule])]
                    for rule in rules
                ],
                total=[TOTAL, "", *severity_cells(yaoqing)],
                chart=Chart("要情金额（按规则）", category=1, values=(3, 5), stacked=True),
            )
        ],
    )
    regions = sorted({c["region"] for c in yaoqing})
    s3 = Section(
        "三、按统筹区统计（By region）",
        [
            Table(
                columns=[Col("统筹区 region"), *SEVERITY_COLUMNS],
                rows=[[region, *severity_cells([c for c in yaoqing if c["region"] == region])] for region in regions],
                total=[TOTAL, *severity_cells(yaoqing)],
                chart=Chart("要情件数（按统筹区）", category=0, values=(1, 3), stacked=True),
            )
        ],
    )
    timeliness = {c["suspect_id"]: report_timeliness(c, as_of) for c in yaoqing}
    tally_t = Counter(timeliness.values())
    flagged = tally_t["late"] + tally_t["overdue"]
    s4 = Section(
        "四、报送及时性（Reporting timeliness）",
        [
            "要情应于确认违规后 5 个工作日内报送（report_due）。"
            + "；".join(f"{TIMELINESS[k].split(' ')[0]} {tally_t[k]} 件" for k in TIMELINESS)
            + ("。" if not flagged else f"。其中 {flagged} 件报送不及时（标注“⚠”），请相关统筹区说明原因。"),
            Table(
                columns=[
                    Col("疑点编号 suspect_id"),
                    Col("规则名称"),
                    Col("统筹区 region"),
                    Col("等级 severity"),
                    Col("涉及金额（元）", "money"),
                    Col("确认日期 confirmed_on"),
                    Col("报送期限 report_due"),
                    Col("报送日期 reported_on"),
                    Col("及时性 timeliness"),
                ],
                rows=[
                    [
                        c["suspect_id"],
                        rule_name(c["rule"]),
                        c["region"],
                        c["severity"],
                        c["amount"],
                        c["confirmed_on"],
                        c["report_due"],
                        c["reported_on"],
                        ("⚠ " if timeliness[c["suspect_id"]] in ("late", "overdue") else "")
                        + TIMELINESS[timeliness[c["suspect_id"]]],
                    ]
                    for c in sorted(yaoqing, key=lambda c: (c["confirmed_on"], c["suspect_id"]))
                ],
            ),
        ],
    )
    return Document(title=f"社会保险基金要情统计（{label}）", meta=meta, sections=[s1, s2, s3, s4])
