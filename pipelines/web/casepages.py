"""What the queue and case pages show, read from the register and the published database; and the case actions a
form may ask for, each calling the register function the command line calls (the overview: `overviewpages`).

The queue is one SQL query to the register per page (`casework.case_conditions`, `reg.case_rows`): filtered,
counted, sorted and sliced by SQLite, so a province's tens of thousands of cases are never all read per request.

Nothing here renders HTML (the templates do, escaping everything) and nothing is unmasked unless `reveal`.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb

from pipelines.cases import casework, evidence
from pipelines.cases import register as reg
from pipelines.cases import staff as staff_register
from pipelines.present.labels import CASE_STATUS_ZH, case_status_label, rule_label
from pipelines.present.masking import mask_id, mask_text, shown_subject
from pipelines.present.money import fmt_money
from pipelines.warehouse.runs import shown_time
from pipelines.warehouse.session import WarehouseBusy, reader
from pipelines.web.config import WebConfig
from schemas.divisions import region_label

PAGE_SIZE = 50
OFFICE_ZONE = WebConfig.timezone  # the default; the app passes its config's zone
SORTS = {
    "amount": "涉及金额 amount",
    "due": "整改期限 due",
    "first_seen": "首次发现 first seen",
    "suspect_id": "疑点编号 id",
}
ACTIONS = ("assign", "verify", "dismiss", "rectify", "write_off", "report", "reopen", "correct")
ACTION_FORM_ZH = {
    "assign": "交办核查 assign",
    "verify": "确认违规 verify",
    "dismiss": "排除 dismiss",
    "rectify": "登记追回 recover",
    "write_off": "核销 write off",
    "report": "报告要情/续报 report",
    "reopen": "重新打开 reopen",
    "correct": "更正最近一步 correct the latest step",
}


class FormError(ValueError):
    """A form field that cannot be used (a date, an amount): said on the page."""


# ---- the queue ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class QueuePage:
    rows: list[dict[str, object]]
    total: int
    page: int
    pages: int


# The SQL of each sort key over `reg.CASES_SQL` (fixed text, never from the request): amounts exactly, in fen.
SORT_SQL = {
    "amount": reg.AMOUNT_FEN_SQL,
    "due": "due_date",
    "first_seen": "first_seen",
    "suspect_id": "suspect_id",
}


def queue_order(sort: str, descending: bool) -> str:
    """ORDER BY of the queue: the key (nulls last either way), then the suspect_id ascending."""
    key = SORT_SQL[sort if sort in SORTS else "amount"]
    return f"{key} {'DESC' if descending else 'ASC'} NULLS LAST, suspect_id ASC"


def queue(
    con: sqlite3.Connection,
    member: staff_register.Staff,
    wanted: casework.CaseFilter,
    today: dt.date,
    sort: str,
    descending: bool,
    page: int,
) -> QueuePage:
    """One page of the cases the member may see that pass the filters, sorted: counted, sorted and sliced by the
    register (SQLite), so that only the page's rows are read, whatever the size of the province."""
    where, params = casework.case_conditions(wanted, member)
    total = reg.count_cases(con, today, where, params)
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(page, 1), pages)
    order = queue_order(sort, descending)
    rows = []
    for case in reg.case_rows(con, today, where, params, order, PAGE_SIZE, (page - 1) * PAGE_SIZE):
        rows.append(
            {
                "suspect_id": case["suspect_id"],
                "rule": rule_label(case["rule"]),
                "region": region_label(case["assigned_region"] or case["region_code"]),
                "subject": shown_subject(case),
                "amount": fmt_money(Decimal(case["amount_at_risk"])),
                "outstanding": fmt_money(reg.outstanding(case)) if case["severity"] else "",
                "status": case_status_label(case["status"], bool(case["overdue"])),
                "overdue": bool(case["overdue"]),
                "assignee": case["assignee"] or "",
                "due": casework.due_label(case["due_date"], case["due_provisional"]) or "",
            }
        )
    return QueuePage(rows, total, page, pages)


def status_choices() -> list[tuple[str, str]]:
    return [(code, f"{zh} {code}") for code, zh in CASE_STATUS_ZH.items()]


# ---- one case ----------------------------------------------------------------------------------------------


def visible_case(con: sqlite3.Connection, member: staff_register.Staff, suspect_id: str, today: dt.date) -> dict:
    """The case as `reg.cases_frame` has it, if the staff member may see it; else an empty dict."""
    found = reg.case_rows(con, today, "suspect_id = :suspect_id", {"suspect_id": suspect_id})
    return found[0] if found and casework.may_see(member, found[0]) else {}


def allowed_actions(con: sqlite3.Connection, member: staff_register.Staff, case: Mapping[str, object]) -> list[str]:
    """The actions whose forms the page shows: what the register would accept from this role in this state (the
    register decides again when the form is sent)."""
    if member.role not in ("chief", "verifier"):
        return []
    chief = member.role == "chief"
    mine = case["assignee"] == member.staff_id
    status = str(case["status"])
    out = []
    for action, (starts, _) in reg.TRANSITIONS.items():
        if status in starts and (chief or (action in reg.WORK and mine)):
            out.append(action)
    confirmed = case["severity"] is not None and status not in ("open", "under_verification", "dismissed")
    if confirmed and (chief or mine):
        out.append("report")
    if chief and status in reg.CLOSED:
        out.append("reopen")
    if chief and reg.latest_step(con, str(case["suspect_id"])) is not None:
        out.append("correct")
    return [a for a in ACTIONS if a in out]


def assignees(con: sqlite3.Connection, case: Mapping[str, object]) -> list[staff_register.Staff]:
    region = case["assigned_region"] or case["region_code"]
    return [
        m
        for m in staff_register.everyone(con)
        if m.active and m.role in ("verifier", "chief") and m.covers(region)  # type: ignore[arg-type]
    ]


def facts(case: Mapping[str, object], reveal: bool) -> list[tuple[str, str]]:
    shown = dict(case)
    shown["status"] = case_status_label(str(case["status"]), bool(case["overdue"]))
    shown["rule"] = rule_label(str(case["rule"]))
    shown["region_code"] = region_label(case["region_code"])  # type: ignore[arg-type]
    shown["due_date"] = casework.due_label(case["due_date"], case["due_provisional"])  # type: ignore[arg-type]
    shown["report_due"] = casework.due_label(case["report_due"], case["report_due_provisional"])  # type: ignore[arg-type]
    if not reveal:
        shown["subject_id"] = shown_subject(case)
        shown["person_id"] = mask_id(str(case["person_id"])) if case["person_id"] else None
        shown["summary"] = mask_text(str(case["summary"])) if case["summary"] else None
        shown["dismissed_reason"] = mask_text(str(case["dismissed_reason"])) if case["dismissed_reason"] else None
    return [(label, str(shown[key])) for key, label in casework.FACTS if shown.get(key) not in (None, "")]


def shown_at(value: object, zone: ZoneInfo) -> str:
    """An event's time as the register stores it (ISO text with the offset of the machine that wrote it, often
    +00:00) shown in the office's zone with its offset: '2026-01-15 10:00:00+08:00'. A time stored without an
    offset is the machine's local time (`runs.in_zone`); text that is not a time is shown as it is."""
    try:
        at = dt.datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    return shown_time(at, zone)


def timeline(
    con: sqlite3.Connection, suspect_id: str, reveal: bool, zone: ZoneInfo | str = OFFICE_ZONE
) -> list[dict[str, object]]:
    """Every event of the case in order, its time in the office's zone (`zone`, WebConfig.timezone)."""
    zone = ZoneInfo(zone) if isinstance(zone, str) else zone
    history = reg.events(con, suspect_id)
    voided = reg.voided_events(con, suspect_id)
    return [
        {
            "event_id": e["event_id"],
            "at": shown_at(e["at"], zone),
            "actor": e["actor"],
            "action": f"{casework.ACTION_ZH.get(e['action'], e['action'])} {e['action']}",
            "change": f"{e['from_status'] or '-'} → {e['to_status'] or '-'}",
            "reason": (e["reason"] if reveal else mask_text(e["reason"])) if e["reason"] else "",
            "voided": e["event_id"] in voided,
        }
        for e in history
    ]


@dataclass(frozen=True)
class ShownRow:
    cells: tuple[str, ...]  # the row's values, without its source
    sources: tuple[str, ...]  # 'file:line' of each row in force holding it; empty: none (evidence.NOT_FOUND)


@dataclass(frozen=True)
class ShownTable:
    title: str
    columns: tuple[evidence.EvidenceColumn, ...]  # without the source file and line columns
    records: tuple[ShownRow, ...]


@dataclass(frozen=True)
class ShownEvidence:
    """`evidence.EvidenceView` as the case page lays it out: each proving row once, with its source file and line
    in one last column (the view's own 来源文件/行号 columns, for the terminal, are left out)."""

    view: evidence.EvidenceView
    tables: tuple[ShownTable, ...]

    def header_lines(self) -> list[str]:
        return self.view.header_lines()

    @property
    def notes(self) -> tuple[str, ...]:
        return self.view.notes


SOURCE_HEADERS = (evidence.SOURCE_FILE_HEADER, evidence.SOURCE_LINE_HEADER)


def shown_evidence(view: evidence.EvidenceView) -> ShownEvidence:
    tables = []
    for t in view.tables:
        keep = [i for i, c in enumerate(t.columns) if c.header not in SOURCE_HEADERS]
        records = tuple(
            ShownRow(tuple(r.cells[i] for i in keep), tuple(f"{s.file}:{s.line}" for s in r.sources)) for r in t.records
        )
        tables.append(ShownTable(t.title, tuple(t.columns[i] for i in keep), records))
    return ShownEvidence(view, tuple(tables))


@dataclass(frozen=True)
class Evidence:
    view: ShownEvidence | None
    unavailable: str | None


def evidence_of(db: Path, memory_limit: str, suspect_id: str, reveal: bool) -> Evidence:
    """The proving rows from the published file, opened read-only for this request only."""
    if not db.is_file():
        return Evidence(None, "证据不可用：没有数据库 evidence unavailable: no published database")
    try:
        with reader(db, memory_limit=memory_limit) as duck:
            return Evidence(shown_evidence(evidence.evidence_view(duck, suspect_id, reveal=reveal)), None)
    except WarehouseBusy:
        return Evidence(None, "证据暂不可用：数据库正被占用 evidence unavailable: the database is busy")
    except (duckdb.Error, evidence.EvidenceNotFound, FileNotFoundError) as err:
        return Evidence(None, f"证据不可用 evidence unavailable: {mask_text(' '.join(str(err).split()))[:200]}")


def audit_evidence(con: sqlite3.Connection, suspect_id: str) -> Evidence | None:
    """What stands for the evidence of a case an internal audit opened (AUDIT_FINDING, issue 16): no rule found it,
    so no finding's rows prove it; the audit's recorded conclusion on the business does. None for any other case."""
    if con.execute("SELECT 1 FROM sqlite_master WHERE name = 'audit_results'").fetchone() is None:
        return None
    row = con.execute(
        "SELECT r.draw_id, d.month, r.business_id, r.finding, r.by_actor, r.at FROM audit_results AS r"
        " JOIN audit_draws AS d USING (draw_id) WHERE r.suspect_id = ? ORDER BY r.result_id LIMIT 1",
        [suspect_id],
    ).fetchone()
    if row is None:
        return None
    return Evidence(
        None,
        f"稽核发现问题，非规则疑点 an internal-audit finding, not a rule's: "
        f"稽核抽样 draw {row['draw_id']}（{row['month']}）业务 {row['business_id']} 的稽核结论："
        f"{mask_text(row['finding'] or '')}（{row['by_actor']}，{row['at'][:10]}）。"
        f"该业务的抽样与结论见 see /internal-audit/{row['draw_id']}",
    )


def header_parts(header: str) -> tuple[str, str]:
    zh, _, en = header.partition("\n")
    return zh, en


# ---- acting ------------------------------------------------------------------------------------------------


def _date(form: Mapping[str, str], today: dt.date) -> dt.date:
    text = (form.get("on") or "").strip()
    if not text:
        return today
    try:
        return dt.date.fromisoformat(text)
    except ValueError as err:
        raise FormError(f"日期格式应为 a date is YYYY-MM-DD: {text!r}") from err


def _money(text: str | None, what: str, required: bool) -> Decimal | None:
    if not text or not text.strip():
        if required:
            raise FormError(f"请填写{what}")
        return None
    try:
        return casework.parse_money(text)
    except ValueError as err:
        raise FormError(str(err)) from err


def act(con: sqlite3.Connection, action: str, suspect_id: str, by: str, form: Mapping[str, str], today: dt.date) -> str:
    """Do one case action through the register (the same functions `fundwatch case` calls); the message to show.
    The register's refusals (CaseError, StaffError/NotAllowed) and FormError are the caller's to show."""
    on = _date(form, today)
    reason = (form.get("reason") or "").strip() or None
    if action == "assign":
        due = reg.assign(
            con,
            suspect_id,
            assignee=(form.get("assignee") or "").strip(),
            by=by,
            on=on,
            today=today,
            region_code=(form.get("region") or "").strip() or None,
            reason=reason,
        )
        shown_due = casework.due_label(due.date.isoformat(), due.provisional)
        return f"已交办 assigned to {form.get('assignee')}; 整改期限 due {shown_due}"
    if action == "verify":
        severity = reg.verify(con, suspect_id, by=by, on=on, today=today, reason=reason)
        return f"确认违规 confirmed, {severity}; 须5个工作日内报告 report within 5 working days"
    if action == "dismiss":
        reg.dismiss(con, suspect_id, by=by, on=on, today=today, reason=reason or "")
        return "已排除 dismissed"
    if action == "rectify":
        recovered = _money(form.get("recovered"), "追回金额 the amount recovered", True)
        assert recovered is not None
        status = reg.rectify(
            con,
            suspect_id,
            by=by,
            on=on,
            today=today,
            recovered=recovered,
            reason=reason,
            excess_reason=(form.get("excess_reason") or "").strip() or None,
        )
        rest = reg.outstanding(reg.get_case(con, suspect_id))
        shown = case_status_label(status)
        return f"追回 recovered {fmt_money(recovered)}; {shown}; 待追回 outstanding {fmt_money(rest)}"
    if action == "write_off":
        amount = _money(form.get("amount"), "核销金额", False)
        value = reg.write_off(con, suspect_id, by=by, on=on, today=today, reason=reason or "", amount=amount)
        status = reg.get_case(con, suspect_id)["status"]
        return f"核销 written off {fmt_money(value)}; {case_status_label(status)}"
    if action == "report":
        done = reg.mark_reported(con, suspect_id, by=by, on=on, today=today)
        return f"{'已报告 reported' if done == 'report' else '已续报 reported again'} on {on}"
    if action == "reopen":
        status = reg.reopen(con, suspect_id, by=by, on=on, today=today, reason=reason or "")
        return f"已重新打开 reopened, {case_status_label(status)}"
    if action == "correct":
        try:
            event_id = int(form.get("event") or "")
        except ValueError as err:
            raise FormError("请指明要更正的记录 name the event to void") from err
        changes = reg.correct(con, suspect_id, by=by, event_id=event_id, reason=reason or "", today=today)
        shown = ", ".join(f"{k}={v}" for k, v in changes.items()) or "无字段变化 no field changed"
        return f"已更正 event {event_id} voided; {shown}"
    raise FormError(f"未知操作 unknown action: {action}")
