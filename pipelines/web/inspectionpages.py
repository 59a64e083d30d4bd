"""What the 专项检查 pages show and what their forms mean, through `pipelines.cases.inspections` — the functions
`fundwatch inspection` uses; the register checks every right again.

Who sees what (docs/adr/0025-special-inspections.md): chiefs and auditors every inspection, a verifier those whose
team they are on (others are 404, as a case they may not see); admins none. A chief plans and records; a team
member records the process, findings and opinions; the team leader signs; a chief records the leader in charge's
signature. The pages show free text masked (`mask_text`); the report is downloaded from the register's folder at
/inspection/<n>/report (the inspection's number, never a person's ID).
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo

from pipelines.cases import inspections
from pipelines.cases import staff as staff_register
from pipelines.cases.reports.inspection_docx import MEDIA_TYPE
from pipelines.present.labels import code_label, code_sets
from pipelines.present.masking import mask_text
from pipelines.web.casepages import shown_at
from schemas.divisions import region_label

# The steps a page may post: /inspection/<n>/<action>
ACTIONS = ("start", "note", "finding", "link", "opinion", "report", "sign_leader", "sign_in_charge")
__all__ = ["MEDIA_TYPE", "act", "detail", "listing", "plan_of", "scheme_choices"]


class FormError(ValueError):
    """A form field that cannot be used: said on the page."""


def day(form: Mapping[str, str], name: str, what: str, default: dt.date | None = None) -> dt.date | None:
    """A date field (YYYY-MM-DD); `default` when empty."""
    text = (form.get(name) or "").strip()
    if not text:
        return default
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise FormError(f"{what}须为日期 YYYY-MM-DD: {mask_text(text)[:20]}") from None


def required_day(form: Mapping[str, str], name: str, what: str) -> dt.date:
    found = day(form, name, what)
    if found is None:
        raise FormError(f"{what}不能为空 is required")
    return found


def number(form: Mapping[str, str], name: str, what: str) -> int:
    text = (form.get(name) or "").strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 6:
        raise FormError(f"{what}须为数字 is a number")
    return int(text)


def _codes(text: str | None) -> tuple[str, ...]:
    """Codes typed into one field, separated by spaces, commas or 、."""
    cleaned = (text or "").replace("，", " ").replace(",", " ").replace("、", " ")
    return tuple(cleaned.split())


def plan_of(form: Mapping[str, str]) -> inspections.Plan:
    """The plan a chief filled in; the leader in charge as "姓名 职务"."""
    parts = (form.get("leader_in_charge") or "").split(maxsplit=1)
    if len(parts) != 2:
        raise FormError('分管领导须为"姓名 职务" the leader in charge is a name and a title, e.g. "李明 副局长"')
    return inspections.Plan(
        title=form.get("title") or "",
        schemes=tuple(code for code in code_sets().get("scheme", {}) if form.get(f"scheme_{code}")),
        regions=_codes(form.get("regions")),
        place=form.get("place") or "",
        content=form.get("content") or "",
        method=form.get("method") or "",
        objects=form.get("objects") or "",
        materials=form.get("materials") or "",
        planned_start=required_day(form, "start", "计划开始日期 start"),
        planned_end=required_day(form, "end", "计划结束日期 end"),
        leader=(form.get("leader") or "").strip(),
        members=_codes(form.get("members")),
        leader_in_charge=parts[0],
        leader_in_charge_title=parts[1],
    )


def scheme_choices() -> list[tuple[str, str]]:
    return [(code, code_label("scheme", code)) for code in code_sets().get("scheme", {})]


def listing(con: sqlite3.Connection, member: staff_register.Staff, year: int) -> dict[str, Any]:
    """The inspections of a year `member` may read, and the year's half-year check."""
    statuses = inspections.half_year_status(con, year)
    rows = [
        {
            "id": i.inspection_id,
            "half": inspections.half_label(i.row["half"]),
            "title": mask_text(i.row["title"]),
            "planned": f"{i.row['planned_start']} – {i.row['planned_end']}",
            "leader": i.row["leader"],
            "status": i.status,
            "status_zh": i.status_zh,
            "findings": len(i.findings),
            "version": i.version,
        }
        for i in inspections.listing(con, member, year)
    ]
    halves = [
        {"label": inspections.half_label(s.half), "state": s.state_zh, "ok": s.has_inspection, "planned": s.planned}
        for s in statuses
    ]
    return {"rows": rows, "halves": halves, "year": year}


def detail(
    con: sqlite3.Connection, member: staff_register.Staff, inspection_id: int, zone: ZoneInfo
) -> dict[str, Any] | None:
    """One inspection as `member` may read it (None: no such inspection, or not theirs to see) and what they may do."""
    try:
        i = inspections.get(con, inspection_id)
    except inspections.InspectionError:
        return None
    if not inspections.may_read(member, i):
        return None
    plan = i.row
    on_team = member.role in inspections.TEAM_ROLES and member.staff_id in i.team
    open_ = i.status != "signed"
    may_record = open_ and (member.role == "chief" or on_team)
    ready = i.report_event is not None and not i.stale
    events = [
        {
            "at": shown_at(e["at"], zone),
            "actor": e["actor"],
            "action": inspections.ACTION_ZH[e["action"]],
            "code": e["action"],
            "text": mask_text(e["text"]) if e["text"] else "",
            "on": e["details"].get("on") or "",
            "file": e["details"].get("file") or "",
            "sha256": e["details"].get("sha256") or "",
        }
        for e in i.events
    ]
    findings = [
        {
            "no": f["finding_no"],
            "text": mask_text(f["finding"]),
            "amount": f["amount"] or "",
            "case": f["suspect_id"] or "",
            "opinion": mask_text(f["opinion"]) if f["opinion"] else "",
            "deadline": f["deadline"] or "",
        }
        for f in i.findings
    ]
    return {
        "i": i,
        "id": i.inspection_id,
        "title": mask_text(plan["title"]),
        "half": inspections.half_label(plan["half"]),
        "schemes": [code_label("scheme", s) for s in plan["schemes"]],
        "regions": [region_label(r) for r in plan["regions"]],
        "plan": {k: mask_text(str(plan[k])) for k in ("place", "content", "method", "objects", "materials")},
        "events": events,
        "findings": findings,
        "status_zh": i.status_zh,
        "status": i.status,
        "stale": i.stale,
        "version": i.version,
        "has_file": i.latest_file() is not None,
        "may_start": may_record and not i.started,
        "may_record": may_record and i.started,
        "may_report": open_ and i.started and (member.role == "chief" or member.staff_id == plan["leader"]),
        "may_sign_leader": ready and member.staff_id == plan["leader"] and i.leader_signed is None,
        "may_sign_in_charge": ready
        and member.role == "chief"
        and i.leader_signed is not None
        and i.in_charge_signed is None,
    }


def act(
    con: sqlite3.Connection,
    member: staff_register.Staff,
    inspection_id: int,
    action: str,
    form: Mapping[str, str],
    today: dt.date,
) -> str:
    """Do what a page's form asks (one of `ACTIONS`) as `member`; what was done, to show. The register decides
    whether they may (NotAllowed) and whether it can be done (InspectionError)."""
    if action == "start":
        on = day(form, "on", "开始日期", today)
        inspections.start(con, member, inspection_id, on, today=today)  # type: ignore[arg-type]
        return f"已开始检查 started on {on}"
    if action == "note":
        on = day(form, "on", "记录日期", today)
        inspections.note(con, member, inspection_id, form.get("text") or "", on, today=today)  # type: ignore[arg-type]
        return f"已记录检查过程 noted ({on})"
    if action == "finding":
        no = inspections.add_finding(
            con,
            member,
            inspection_id,
            form.get("text") or "",
            amount=form.get("amount") or None,
            suspect_id=form.get("case") or None,
            opinion=form.get("opinion") or None,
            deadline=day(form, "deadline", "整改期限"),
        )
        return f"已登记第 {no} 项问题 finding {no} recorded"
    if action == "link":
        no = number(form, "finding_no", "问题序号")
        inspections.link_case(con, member, inspection_id, no, form.get("case") or "")
        return f"第 {no} 项已关联案件 linked"
    if action == "opinion":
        no = number(form, "finding_no", "问题序号")
        deadline = day(form, "deadline", "整改期限")
        inspections.add_opinion(con, member, inspection_id, no, form.get("text") or "", deadline)
        return f"第 {no} 项已提出整改意见 opinion recorded"
    if action == "report":
        made = inspections.generate_report(con, member, inspection_id, today=today)
        return f"已生成第 {made.version} 版检查报告 report v{made.version} generated"
    if action == "sign_leader":
        made = inspections.sign_as_leader(con, member, inspection_id, day(form, "on", "签字日期", today), today=today)
        return f"检查组组长已签字 signed by the team leader (v{made.version})"
    if action == "sign_in_charge":
        on = required_day(form, "on", "签字日期")
        made = inspections.sign_for_leader_in_charge(
            con, member, inspection_id, form.get("name") or "", on, today=today
        )
        return f"已登记分管领导签字，报告签发 signed by the leader in charge (v{made.version})"
    raise FormError(f"没有这个操作 no such action: {mask_text(action)[:20]}")
