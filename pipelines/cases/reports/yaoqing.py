"""要情统计 for a half-year: 要情 and 重大要情 by rule and region, their money, and the timeliness of their
reporting, and each one's 结案报告 (closing report, policy §六); its 零报告 when none occurred.

Time base (stated in the report): the day of confirmation (确认违规日期: the verify event's date as the register
gives it, the analyst's --on; a voided one left out) decides the half a 要情 belongs to; money (追回, 核销,
超额) by its on_date and reporting timeliness are judged on the snapshot day (`as_of`, default the day the
report is made). Every figure comes from one read of the register and one of the DuckDB file
(docs/adr/0019-report-time-base.md); the closing reports recorded (`closing_reports`) are read right after the
register, and a report counts when made by the end of `as_of` for the closing the case stands in on that day
(`reports.closing.closing_event` over the events dated by then; docs/adr/0026-yaoqing-closing-reports.md).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path
from typing import Any

from pipelines.cases.calendar import due_text
from pipelines.cases.register import CLOSED
from pipelines.cases.reports.closing import (
    NOT_APPLICABLE,
    NOT_MADE,
    closing_event,
    latest_for,
    made_text,
    reports_in,
)
from pipelines.cases.reports.common import (
    SEVERITIES,
    SEVERITY_COLUMNS,
    TOTAL,
    money_sentence,
    money_table,
    pair_mark,
    pair_note,
    severity_cells,
    sum_amount,
)
from pipelines.cases.reports.document import Chart, Col, Document, Section, Table
from pipelines.cases.reports.output import write_report
from pipelines.cases.reports.sources import (
    RegisterSnapshot,
    WarehouseSnapshot,
    cases_at,
    entered_between,
    half_bounds,
    read_register,
    read_warehouse,
)
from pipelines.present.labels import CASE_STATUSES, rule_name, rule_sort_key, status_label
from pipelines.present.money import fmt_money

TIMELINESS = {
    "on_time": "按时报告 on time",
    "late": "逾期报告 reported late",
    "overdue": "逾期未报 overdue, not reported",
    "pending": "未到期限 not yet due",
}


# What every listing of 要情 begins with (sections 五 and 六): the case, its rule, region, severity and amount.
CASE_COLUMNS = (
    Col("疑点编号 suspect_id"),
    Col("规则名称"),
    Col("统筹区 region"),
    Col("等级 severity"),
    Col("涉及金额（元）", "money"),
)


def case_cells(c: dict[str, Any]) -> list[Any]:
    """The cells of `CASE_COLUMNS` for one 要情."""
    return [pair_mark(c), rule_name(c["rule"]), c["region"], c["severity"], c["own_amount"]]


def report_timeliness(case: dict[str, Any], as_of: dt.date) -> str:
    """on_time | late | overdue | pending: reported_on against report_due (5 working days after confirmation)."""
    due, reported = case["report_due"], case["reported_on"]
    if reported and reported <= as_of.isoformat():
        return "late" if due and reported > due else "on_time"
    return "overdue" if due and due < as_of.isoformat() else "pending"


def yaoqing_statistics(
    register: Path,
    db: Path,
    year: int,
    half: int,
    out_dir: Path,
    *,
    today: dt.date,
    memory_limit: str,
    as_of: dt.date | None = None,
) -> list[Path]:
    """要情统计 for a half-year (`要情统计_2025H2`), or its 零报告 when no 要情 occurred.

    A 要情 of the half is a case confirmed (确认违规) in it, with severity 要情 or
    重大要情. Money and reporting timeliness are judged on `as_of` (default: `today`, the command's day in
    Asia/Shanghai): unreported past report_due is flagged 逾期未报.
    """
    doc, stem = yaoqing_built(register, db, year, half, today=today, memory_limit=memory_limit, as_of=as_of)
    return write_report(doc, out_dir, stem)


def yaoqing_built(
    register: Path,
    db: Path,
    year: int,
    half: int,
    *,
    today: dt.date,
    memory_limit: str,
    as_of: dt.date | None = None,
) -> tuple[Document, str]:
    """The 要情 statistics as a document and its file stem, written nowhere (the workbench serves it)."""
    if half not in (1, 2):
        raise ValueError(f"half must be 1 or 2, got {half!r}")
    first, last = half_bounds(year, half)
    as_of = as_of or today
    label = f"{year}年{'上' if half == 1 else '下'}半年"
    snapshot = read_register(register, also={"closing": reports_in})  # the closing reports in the one read
    doc = yaoqing_document(
        label,
        first,
        last,
        as_of,
        snapshot,
        read_warehouse(db, memory_limit=memory_limit),
        closing_reports=snapshot.also["closing"],
    )
    return doc, f"要情统计_{year}H{half}"


def yaoqing_of(cases: list[dict[str, Any]], first: dt.date, last: dt.date) -> list[dict[str, Any]]:
    """The 要情 of a period: confirmed in it (确认违规日期), severity 要情 or 重大要情."""
    return [c for c in cases if c["severity"] in SEVERITIES and entered_between(c, "confirmed", first, last)]


def yaoqing_document(
    label: str,
    first: dt.date,
    last: dt.date,
    as_of: dt.date,
    register: RegisterSnapshot,
    warehouse: WarehouseSnapshot,
    closing_reports: list[dict[str, Any]] | None = None,
) -> Document:
    cases = cases_at(register, as_of, warehouse.pairs)
    yaoqing = yaoqing_of(cases, first, last)
    meta = [
        "要情统计 statistics of reportable cases (要情 / 重大要情)",
        f"统计期间 period：{first.isoformat()} 至 {last.isoformat()}（按确认违规日期）",
        f"报送及时性、款项判定日 as of：{as_of.isoformat()}",
        f"口径 time base：要情按确认违规日期归期；追回、核销按款项日期（on_date），截至 {as_of.isoformat()}；"
        "专户账实不符配对（仅日期超窗的同一笔款项）金额只计一次。",
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
        return Document(title=f"社会保险基金要情统计（{label}）——零报告", meta=meta, sections=[zero], date=as_of)

    counts = Counter(c["severity"] for c in yaoqing)
    s1 = Section(
        "一、总体情况（Overview）",
        [
            f"{label}共发生要情 {counts['要情']} 件、重大要情 {counts['重大要情']} 件，合计 {len(yaoqing)} 件，"
            f"涉及金额 {fmt_money(sum_amount(yaoqing))} 元。"
            + money_sentence(yaoqing, f"截至 {as_of.isoformat()}，上述")
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
    s_money = Section(
        "四、追回及核销（Money）",
        [
            money_table(yaoqing, "rule", "规则 rule", "按规则 by rule"),
            money_table(yaoqing, "region", "统筹区 region", "按统筹区 by region"),
        ],
    )
    timeliness = {c["suspect_id"]: report_timeliness(c, as_of) for c in yaoqing}
    tally_t = Counter(timeliness.values())
    flagged = tally_t["late"] + tally_t["overdue"]
    s4 = Section(
        "五、报送及时性（Reporting timeliness）",
        [
            "要情应于确认违规后 5 个工作日内报送（report_due）。"
            + "；".join(f"{TIMELINESS[k].split(' ')[0]} {tally_t[k]} 件" for k in TIMELINESS)
            + ("。" if not flagged else f"。其中 {flagged} 件报送不及时（标注“⚠”），请相关统筹区说明原因。"),
            Table(
                columns=[
                    *CASE_COLUMNS,
                    Col("确认日期 confirmed_on"),
                    Col("报送期限 report_due"),
                    Col("报送日期 reported_on"),
                    Col("及时性 timeliness"),
                ],
                rows=[
                    [
                        *case_cells(c),
                        c["confirmed_on"],
                        due_text(c["report_due"], c["report_due_provisional"]),
                        c["reported_on"],
                        ("⚠ " if timeliness[c["suspect_id"]] in ("late", "overdue") else "")
                        + TIMELINESS[timeliness[c["suspect_id"]]],
                    ]
                    for c in sorted(yaoqing, key=lambda c: (c["confirmed_on"], c["suspect_id"]))
                ],
            ),
        ],
    )
    note = pair_note(yaoqing)
    if note:
        s4.blocks.append(note)
    s6 = closing_section(yaoqing, register, closing_reports or [], as_of)
    sections = [s1, s2, s3, s_money, s4, s6]
    return Document(title=f"社会保险基金要情统计（{label}）", meta=meta, sections=sections, date=as_of)


def closing_states(
    yaoqing: list[dict[str, Any]], register: RegisterSnapshot, reports: list[dict[str, Any]], as_of: dt.date
) -> dict[str, tuple[str, str]]:
    """suspect_id -> (state, text) of each 要情's closing report on `as_of`: 'made' ('2026-12-03 出具 v1（C01）'),
    'missing' (closed, none for its closing: 未出具), 'n/a' (open, or dismissed: 不适用)."""
    iso = as_of.isoformat()
    events: dict[str, list[dict[str, Any]]] = {}
    for e in register.events:
        if e["event_date"] <= iso:
            events.setdefault(e["suspect_id"], []).append(e)
    states = {}
    for c in yaoqing:
        sid = c["suspect_id"]
        if c["status_at"] != "rectified":
            why = "排除 dismissed" if c["status_at"] in CLOSED else "未结 open"
            states[sid] = ("n/a", f"{NOT_APPLICABLE}（{why}）")
            continue
        closing = closing_event(events.get(sid, []), register.voided)
        made = None if closing is None else latest_for(reports, sid, closing["event_id"], as_of)
        states[sid] = ("made", made_text(made)) if made is not None else ("missing", f"⚠ {NOT_MADE}")
    return states


def closing_section(
    yaoqing: list[dict[str, Any]], register: RegisterSnapshot, reports: list[dict[str, Any]], as_of: dt.date
) -> Section:
    """六、要情结案报告: every 要情 of the half — open and closed — with its closing report (policy §六)."""
    states = closing_states(yaoqing, register, reports, as_of)
    tally = Counter(state for state, _ in states.values())
    closed = tally["made"] + tally["missing"]
    sentence = (
        f"截至 {as_of.isoformat()}，本期要情 {len(yaoqing)} 件中已整改结案 {closed} 件，"
        f"已出具结案报告 {tally['made']} 件，结案未出具结案报告 {tally['missing']} 件"
        + ("（标注“⚠”，请尽快出具）。" if tally["missing"] else "。")
        + f"未结或排除 {tally['n/a']} 件，暂不适用。"
    )
    table = Table(
        columns=[
            *CASE_COLUMNS,
            Col("状态 status"),
            Col("结案日期 closed"),
            Col("结案报告 closing report"),
        ],
        rows=[
            [
                *case_cells(c),
                status_label(CASE_STATUSES, c["status_at"]),
                (c["entered"].get("rectified") or [""])[-1] if c["status_at"] == "rectified" else "",
                states[c["suspect_id"]][1],
            ]
            for c in sorted(yaoqing, key=lambda c: (c["confirmed_on"], c["suspect_id"]))
        ],
    )
    return Section(
        "六、要情结案报告（Closing reports）",
        [sentence, table, f"结案未出具结案报告 closed without a closing report：{tally['missing']} 件"],
    )
