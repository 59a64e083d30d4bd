"""要情结案报告 — the closing report of a 要情 / 重大要情 case (policy §六, issue 16), as a `Document`; and what the
要情统计 and the case page need to know of closing reports (which event closed a case, the reports recorded).

The document has the five parts an official signs: 一、基本案情 (the facts), 二、涉及金额及追回情况 (one row: 涉及金额,
已追回, 已核销, 未追回), 三、整改措施, 四、责任认定及追究, 五、结案意见 with the signature lines of 经办人 and 负责人.
It is rendered to Markdown and print-ready XLSX by `output.write_report` like every report; citizen IDs and accounts
in it are masked (`pipelines.present.masking`).

A case may be closed more than once (reopened by a chief, or found again after rectification and worked again):
a report closes one closing, the event that moved the case to 已整改 (`closing_event`). A report made for an earlier
closing does not answer a later one; a corrected report for the same closing is a new version.

This module reads nothing but what it is given and, for `read_closing_reports`, the register read-only; making and
recording a report is `pipelines.cases.closing`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from pipelines.cases import register as case_register
from pipelines.cases.reports.document import Col, Document, Section, Table
from pipelines.present.labels import rule_name
from pipelines.present.masking import mask_text
from pipelines.present.money import fmt_money

TITLE = "社会保险基金要情结案报告"
MONEY_COLUMNS = [
    Col("涉及金额（元）", "money"),
    Col("已追回（元）", "money"),
    Col("已核销（元）", "money"),
    Col("未追回（元）", "money"),
]
SECTIONS = ("一、基本案情", "二、涉及金额及追回情况", "三、整改措施", "四、责任认定及追究", "五、结案意见")
SIGNATURES = (
    "经办人（签字）：____________________    日期：______年____月____日",
    "负责人（签字）：____________________    日期：______年____月____日",
)
NOT_MADE = "未出具 not made"
NOT_APPLICABLE = "不适用 n/a"


# ---- which event closed a case -------------------------------------------------------------------------------


def closing_event(events: Iterable[Mapping[str, Any]], voided: Iterable[int] = ()) -> Mapping[str, Any] | None:
    """The event that closed the case as it stands: the last one, not voided by a correction, that moved it to
    已整改 (rectified) from another status. A correction's own event is never it (voiding a reopen returns the case
    to the closing it undid), nor is an event that leaves a rectified case rectified. None: never closed so."""
    skip = set(voided)
    found = None
    for e in events:
        if e["event_id"] in skip or e["action"] == "correct":
            continue
        if e["to_status"] == "rectified" and e["from_status"] != "rectified":
            found = e
        elif found is not None and e["from_status"] == "rectified" and e["to_status"] not in (None, "rectified"):
            found = None  # reopened since (by a chief, or found again by a run)
    return found


# ---- the reports recorded ------------------------------------------------------------------------------------


def read_closing_reports(path: Path) -> list[dict[str, Any]]:
    """Every closing report recorded in the register at `path` (read-only), in the order made; none for a register
    from before closing reports existed."""
    with case_register.reader(path) as con:
        return reports_in(con)


def reports_in(con: Any, suspect_id: str | None = None) -> list[dict[str, Any]]:
    """The closing reports of a register connection (all, or one case's), in the order made."""
    if con.execute("SELECT 1 FROM sqlite_master WHERE name = 'closing_reports'").fetchone() is None:
        return []
    sql = "SELECT * FROM closing_reports"
    params: list[Any] = []
    if suspect_id is not None:
        sql, params = sql + " WHERE suspect_id = ?", [suspect_id]
    return [dict(r) for r in con.execute(sql + " ORDER BY report_id", params)]


def latest_for(
    reports: Iterable[Mapping[str, Any]], suspect_id: str, closing_event_id: int, by_day: dt.date | None = None
) -> Mapping[str, Any] | None:
    """The latest version of the report for this closing of the case (made on or before `by_day`, if given: the day
    it was made is its `as_of`, the maker's day in the office's calendar)."""
    chosen = None
    for r in reports:
        if r["suspect_id"] != suspect_id or int(r["closing_event_id"]) != int(closing_event_id):
            continue
        if by_day is not None and str(r["as_of"]) > by_day.isoformat():
            continue
        if chosen is None or r["version"] > chosen["version"]:
            chosen = r
    return chosen


def made_text(report: Mapping[str, Any]) -> str:
    """'2026-12-03 出具 v2（C01）': when and by whom the report in force was made."""
    return f"{report['as_of']} 出具 v{report['version']}（{report['made_by']}）"


# ---- the document --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClosingFigures:
    """The money of the closed case, exact, as the register computes it on `as_of` (`sources.cases_at`)."""

    amount: Decimal
    recovered: Decimal
    written_off: Decimal
    outstanding: Decimal
    excess: Decimal


def closing_document(
    case: Mapping[str, Any],
    figures: ClosingFigures,
    *,
    version: int,
    facts: str,
    measures: str,
    responsibility: str,
    made_by: str,
    made_on: dt.date,
    closed_on: str,
    carried_note: str | None = None,
) -> Document:
    """The closing report of one case. Every free text is masked here, whoever wrote it (an ID typed into the
    measures is masked in the document as in the register)."""
    sid = str(case["suspect_id"])
    severity = str(case["severity"])
    money_sentence = (
        f"本案涉及金额 {fmt_money(figures.amount)} 元，已追回 {fmt_money(figures.recovered)} 元，"
        f"已核销 {fmt_money(figures.written_off)} 元，未追回 {fmt_money(figures.outstanding)} 元"
        f"（截至 {made_on.isoformat()}，按款项日期计）。"
    )
    money_blocks: list[str | Table] = [
        money_sentence,
        Table(
            title="涉及金额及追回情况 amount involved and recovered",
            columns=[Col("疑点编号 suspect_id"), Col("要情级别 severity"), *MONEY_COLUMNS],
            rows=[
                [sid, severity, figures.amount, figures.recovered, figures.written_off, figures.outstanding],
            ],
        ),
    ]
    if figures.excess:
        money_blocks.append(f"另追回超出涉及金额部分（罚没等）{fmt_money(figures.excess)} 元，单列，不计入追回金额。")
    if carried_note:
        money_blocks.append(carried_note)
    opinion = (
        f"经核查，该案已确认违规（{case['confirmed_on'] or '-'}），定为{severity}，"
        f"已于 {closed_on} 整改完成；追回 {fmt_money(figures.recovered)} 元，核销 {fmt_money(figures.written_off)} 元，"
        f"未追回 {fmt_money(figures.outstanding)} 元。整改措施已落实，责任已认定，拟予结案。"
    )
    sections = [
        Section(f"{SECTIONS[0]}（Facts）", [mask_text(p) for p in facts.split("\n") if p.strip()]),
        Section(f"{SECTIONS[1]}（Amount and recovery）", money_blocks),
        Section(f"{SECTIONS[2]}（Measures taken）", [mask_text(p) for p in measures.split("\n") if p.strip()]),
        Section(f"{SECTIONS[3]}（Responsibility）", [mask_text(p) for p in responsibility.split("\n") if p.strip()]),
        Section(
            f"{SECTIONS[4]}（Closing opinion）",
            [opinion, f"核查人 verifier：{case['assignee'] or '-'}；报告出具 made by：{made_by}", *SIGNATURES],
        ),
    ]
    return Document(
        title=f"{TITLE}（{sid}）",
        meta=[
            "Closing report of a reportable case 要情结案报告",
            f"疑点编号 suspect_id：{sid}    规则 rule：{case['rule']} {rule_name(str(case['rule']))}",
            f"要情级别 severity：{severity}    结案日期 closed：{closed_on}    版本 version：v{version}",
            f"统筹区 region：{case['assigned_region'] or case['region_code'] or '-'}",
            f"口径 time base：金额为登记簿截至 {made_on.isoformat()} 的数字（追回、核销按款项日期），"
            "与各报告同一计算。",
        ],
        sections=sections,
        date=made_on,
    )
