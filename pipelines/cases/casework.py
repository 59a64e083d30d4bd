"""What the command line (`fundwatch case`) and the web workbench (`pipelines.web`) both say about cases: the
labels of events and facts, deadlines with 暂定, money lines, an amount as typed, and the case queue's filters.

Said once here so that a case reads the same on the terminal and in the browser (docs/workbench.md).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

import polars as pl

from pipelines.cases import register as reg
from pipelines.cases.staff import Staff
from pipelines.present.labels import case_status_label
from pipelines.present.money import fmt_money

ACTION_ZH = {
    "closing_report": "出具结案报告",
    "found": "发现",
    "assign": "交办",
    "verify": "确认违规",
    "dismiss": "排除",
    "rectify": "追回",
    "write_off": "核销",
    "report": "报告要情",
    "report_again": "续报",
    "reopen": "重新打开",
    "reopened": "整改后再次发现",
    "correct": "更正",
    "stopped_firing": "未再发现",
    "fired_again": "再次发现",
    "deadline_recomputed": "期限重算",
}

FACTS = (
    ("suspect_id", "疑点编号 suspect_id"),
    ("rule", "规则 rule"),
    ("status", "状态 status"),
    ("subject_id", "对象 subject"),
    ("person_id", "公民身份号码 person"),
    ("region_code", "统筹区 region"),
    ("period_from", "所属期起 from"),
    ("period_to", "所属期止 to"),
    ("first_seen", "首次发现 first seen"),
    ("last_seen", "最近发现 last seen"),
    ("assignee", "核查人 assignee"),
    ("assigned_on", "交办日期 assigned"),
    ("due_date", "整改期限 due"),
    ("confirmed_on", "确认日期 confirmed"),
    ("severity", "要情级别 severity"),
    ("report_due", "报告期限 report due"),
    ("reported_on", "首次报告 reported"),
    ("last_reported_on", "最近报告 last reported"),
    ("dismissed_reason", "排除理由 dismissed because"),
    ("rectified_on", "整改完成 rectified"),
    ("summary", "疑点说明 summary"),
)


def due_label(value: str | None, provisional: object) -> str | None:
    """A deadline as shown: '2027-01-14', or '2027-01-14（暂定 provisional）' when counted without the official
    arrangement of that year."""
    return None if value is None else f"{value}（暂定 provisional）" if provisional else value


def parse_money(text: str) -> Decimal:
    """An amount in yuan as typed (separators allowed): finite, at most two decimals; else ValueError."""
    try:
        value = Decimal(str(text).replace(",", "").strip())
    except InvalidOperation as err:
        raise ValueError(f"不是金额 not an amount: {text!r}") from err
    if not value.is_finite():
        raise ValueError(f"不是金额 not an amount: {text!r}")
    if value != value.quantize(Decimal("0.01")):
        raise ValueError(f"金额只能精确到分 an amount is exact to the fen (two decimals): {text!r}")
    return value


def money_lines(case: Mapping[str, object]) -> list[str]:
    """The money of a case in words: at risk; recovered x of y, written off, outstanding; any excess."""
    at_risk = Decimal(str(case["amount_at_risk"]))
    lines = [f"涉及金额 amount at risk: {fmt_money(at_risk)}"]
    recovered = Decimal(str(case["recovered_amount"] or 0))
    written_off = Decimal(str(case["written_off_amount"] or 0))
    if case["severity"]:
        lines.append(
            f"已追回 recovered: {fmt_money(recovered)} / {fmt_money(at_risk)}"
            f"；核销 written off: {fmt_money(written_off)}；待追回 outstanding: {fmt_money(reg.outstanding(case))}"
        )
    if case["excess_amount"]:
        lines.append(f"超出涉及金额的追回（罚没等）excess: {fmt_money(Decimal(str(case['excess_amount'])))}")
    return lines


def shown_status(frame: pl.DataFrame) -> pl.DataFrame:
    """`status` replaced by its label, overdue said first: '逾期 overdue（核查中 under_verification）'."""
    return frame.with_columns(
        pl.struct("status", "overdue")
        .map_elements(lambda c: case_status_label(c["status"], bool(c["overdue"])), return_dtype=pl.String)
        .alias("status")
    )


@dataclass(frozen=True)
class CaseFilter:
    """The case queue's filters (every one optional). `region` matches the region a case was assigned to, else
    its finding's; `person` a person's ID or the finding's subject; `status` 'overdue' the derived flag."""

    rule: str | None = None
    region: str | None = None
    person: str | None = None
    status: str | None = None
    min_amount: Decimal | None = None
    max_amount: Decimal | None = None
    due_before: str | None = None  # ISO date: the 整改期限 falls on or before it


def amount_column() -> pl.Expr:
    return pl.col("amount_at_risk").cast(pl.Decimal(18, 2))


def filter_cases(frame: pl.DataFrame, f: CaseFilter) -> pl.DataFrame:
    """The cases of `reg.cases_frame` that pass the filters."""
    if f.rule:
        frame = frame.filter(pl.col("rule") == f.rule)
    if f.region:
        frame = frame.filter(pl.coalesce("assigned_region", "region_code") == f.region)
    if f.person:
        frame = frame.filter((pl.col("person_id") == f.person) | (pl.col("subject_id") == f.person))
    if f.status == "overdue":
        frame = frame.filter(pl.col("overdue"))
    elif f.status:
        frame = frame.filter(pl.col("status") == f.status)
    if f.min_amount is not None:
        frame = frame.filter(amount_column() >= f.min_amount)
    if f.max_amount is not None:
        frame = frame.filter(amount_column() <= f.max_amount)
    if f.due_before:
        frame = frame.filter(pl.col("due_date").is_not_null() & (pl.col("due_date") <= f.due_before))
    return frame


def visible_to(frame: pl.DataFrame, member: Staff) -> pl.DataFrame:
    """The cases a staff member may see: chiefs and auditors all; a verifier those of their regions (the
    finding's or the one it was assigned to) and those assigned to them; an admin none."""
    if member.role == "admin":
        return frame.clear()
    if member.role in ("chief", "auditor"):
        return frame
    regions = list(member.regions)
    return frame.filter(
        pl.col("region_code").is_in(regions)
        | pl.col("assigned_region").is_in(regions).fill_null(False)
        | (pl.col("assignee") == member.staff_id).fill_null(False)
    )


def case_conditions(f: CaseFilter, member: Staff | None = None) -> tuple[str, dict[str, object]]:
    """`filter_cases` (and, given a member, `visible_to`) as a SQL condition over the columns of `reg.CASES_SQL`,
    with its values as named parameters: the queue asks the register for one page instead of reading every case.
    The same filters, with SQL's NULL where Polars has null (a row whose condition is NULL is dropped by both)."""
    clauses: list[str] = []
    params: dict[str, object] = {}

    def bind(value: object) -> str:
        name = f"f{len(params)}"
        params[name] = value
        return f":{name}"

    if member is not None and member.role == "admin":
        clauses.append("0")
    elif member is not None and member.role not in ("chief", "auditor"):
        regions = ", ".join(bind(r) for r in member.regions)
        clauses.append(
            f"(region_code IN ({regions}) OR assigned_region IN ({regions}) OR assignee = {bind(member.staff_id)})"
        )
    if f.rule:
        clauses.append(f"rule = {bind(f.rule)}")
    if f.region:
        clauses.append(f"COALESCE(assigned_region, region_code) = {bind(f.region)}")
    if f.person:
        person = bind(f.person)
        clauses.append(f"(person_id = {person} OR subject_id = {person})")
    if f.status == "overdue":
        clauses.append("overdue")
    elif f.status:
        clauses.append(f"status = {bind(f.status)}")
    # amounts compare in integer fen, exactly: amount >= min <=> fen >= ceil(min x 100), <= max <=> <= floor(...)
    if f.min_amount is not None:
        clauses.append(f"{reg.AMOUNT_FEN_SQL} >= {bind(math.ceil(f.min_amount * 100))}")
    if f.max_amount is not None:
        clauses.append(f"{reg.AMOUNT_FEN_SQL} <= {bind(math.floor(f.max_amount * 100))}")
    if f.due_before:
        clauses.append(f"(due_date IS NOT NULL AND due_date <= {bind(f.due_before)})")
    return " AND ".join(clauses) or "1", params


def may_see(member: Staff, case: Mapping[str, object]) -> bool:
    """`visible_to` for one case."""
    if member.role == "admin":
        return False
    return (
        member.covers(case["region_code"])  # type: ignore[arg-type]
        or member.covers(case["assigned_region"])  # type: ignore[arg-type]
        or case["assignee"] == member.staff_id
    )
