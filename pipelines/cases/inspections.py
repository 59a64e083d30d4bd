"""专项检查 (special inspections, policy §五; issue 16 item 2; docs/adr/0025-special-inspections.md).

The policy asks for at least two special inspections a year, one per half, each closed by a 检查报告 that
states 检查时间、检查地点、检查内容、检查人员、检查方式、检查对象、检查资料、检查过程、所发现问题和整改意见
and is signed by the team leader (检查组组长) and the leader in charge (分管领导). Kept in the case register
(sql/cases/008_inspections.sql), append-only: the plan is fixed once made; every later step is an
`inspection_events` row (who, when, what); a finding is numbered within its inspection and a later link to a
case or a new opinion is a new row of it.

Lifecycle (derived from the events, never stored):

    planned 已计划 --start--> in_progress 检查中 --report--> reported 已出具报告 --sign leader--> leader_signed 组长已签
        --sign leader in charge--> signed 已签发

Who may do what (`staff` roles):

* plan: a chief (科长), naming the team: a leader and members who are active chiefs or verifiers on the staff register,
  and the leader in charge by name and title (a leader need not be on the register);
* start, process notes, findings, links to cases, opinions: a chief, or a member of the team (the leader included);
  a verifier links only a case they may see (`casework.may_see`);
* generate the report: a chief or the team leader; it is written beside the register (`folder_of`) as
  专项检查报告_<id>_v<n>.docx, readable by its owner only, its sha256 recorded;
* sign: the team leader signs the latest version himself; then a chief records the leader in charge's signature
  (name as planned, the day signed). Each signature writes the signed copy of that version (the same content, the
  signature block filled) and records its file and sha256.

Versions (decided here, ADR 0025): a report can be generated again until it is fully signed; a new version
voids the signatures on earlier ones (they sign the new one again). A signature is refused when the record changed
after the version was generated (a note, a finding, an opinion): what is signed is what the record says. Once both
have signed (签发) the inspection is closed: no new step, no new version (a correction is a new inspection).

Readers: chiefs and auditors every inspection; a verifier those whose team they are on (`may_read`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import sqlite3
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path
from typing import Any

from pipelines.cases import casework
from pipelines.cases import register as reg
from pipelines.cases import staff as staff_register
from pipelines.cases.reports.document import Col, Table
from pipelines.cases.reports.inspection_docx import (
    Finding,
    ReportContent,
    Signature,
    chinese_date,
    render,
    write_private,
)
from pipelines.present.labels import code_label, code_sets, rule_name
from pipelines.present.masking import mask_text
from schemas.divisions import region_label

HALF = re.compile(r"(\d{4})-H([12])")
REGION = re.compile(r"\d{6}")
STATUS_ZH = {
    "planned": "已计划",
    "in_progress": "检查中",
    "reported": "已出具报告（待签字）",
    "leader_signed": "组长已签（待分管领导签字）",
    "signed": "已签发",
}
ACTION_ZH = {
    "plan": "制定检查计划",
    "start": "开始检查",
    "note": "检查过程记录",
    "finding": "登记发现问题",
    "link": "关联案件",
    "opinion": "提出整改意见",
    "report": "生成检查报告",
    "sign_leader": "检查组组长签字",
    "sign_in_charge": "登记分管领导签字",
}
HALF_ZH = {"1": "上半年", "2": "下半年"}
RECORD_ACTIONS = ("note", "finding", "link", "opinion")  # what changes the report's content
TEAM_ROLES = ("chief", "verifier")
FOLDER = "inspections"  # beside the register: the generated reports


class InspectionError(reg.CaseError):
    """A request the register refuses for an inspection (unknown, wrong state, a bad date or value …)."""


@dataclass(frozen=True)
class Plan:
    """What a chief plans. `half` ('2026-H1') may be given: it must be the half of `planned_start`."""

    title: str
    schemes: tuple[str, ...]
    regions: tuple[str, ...]
    place: str
    content: str
    method: str
    objects: str
    materials: str
    planned_start: dt.date
    planned_end: dt.date
    leader: str
    members: tuple[str, ...]
    leader_in_charge: str
    leader_in_charge_title: str
    half: str | None = None


@dataclass
class Inspection:
    """An inspection as recorded: the plan (`row`), its events and findings (each the latest row of its number),
    and what follows from them."""

    row: dict[str, Any]
    events: list[dict[str, Any]]
    findings: list[dict[str, Any]]
    status: str = "planned"
    version: int = 0  # the latest report version (0: none)
    report_event: dict[str, Any] | None = None
    leader_signed: dict[str, Any] | None = None  # the sign_leader event of the latest version
    in_charge_signed: dict[str, Any] | None = None
    stale: bool = False  # the record changed after the latest version was generated
    team: tuple[str, ...] = field(default_factory=tuple)

    @property
    def inspection_id(self) -> int:
        return int(self.row["inspection_id"])

    @property
    def status_zh(self) -> str:
        return STATUS_ZH[self.status]

    @property
    def started(self) -> bool:
        return any(e["action"] == "start" for e in self.events)

    def latest_file(self) -> tuple[str, str] | None:
        """(file name, sha256) of the latest document written: the signed copy when signed, else the version."""
        for e in reversed(self.events):
            if e["action"] in ("report", "sign_leader", "sign_in_charge"):
                details = e["details"]
                return str(details["file"]), str(details["sha256"])
        return None


# ---- reading ---------------------------------------------------------------------------------------------------


def half_of(day: dt.date) -> str:
    """'2026-H1' for a day of January to June, '2026-H2' otherwise."""
    return f"{day.year}-H{1 if day.month <= 6 else 2}"


def half_label(half: str) -> str:
    """'2026年上半年'."""
    found = HALF.fullmatch(half)
    if found is None:
        raise InspectionError(f"半年须为 a half is YYYY-H1 or YYYY-H2: {half!r}")
    return f"{found.group(1)}年{HALF_ZH[found.group(2)]}"


def folder_of(con: sqlite3.Connection) -> Path:
    """Where the reports of a register are written: the folder `inspections` beside the register's file."""
    path = next(r[2] for r in con.execute("PRAGMA database_list") if r[1] == "main")
    if not path:
        raise InspectionError("登记簿不是文件 the register is not a file: no folder for the reports")
    return Path(path).parent / FOLDER


def _event_rows(con: sqlite3.Connection, inspection_id: int) -> list[dict[str, Any]]:
    rows = con.execute(
        "SELECT * FROM inspection_events WHERE inspection_id = ? ORDER BY event_id", [inspection_id]
    ).fetchall()
    return [{**dict(r), "details": json.loads(r["details"]) if r["details"] else {}} for r in rows]


def get(con: sqlite3.Connection, inspection_id: int, *, upto_event: int | None = None) -> Inspection:
    """An inspection as recorded (or as it stood after event `upto_event`), else InspectionError."""
    row = con.execute("SELECT * FROM inspections WHERE inspection_id = ?", [inspection_id]).fetchone()
    if row is None:
        raise InspectionError(f"没有这次专项检查 no such inspection: {inspection_id}")
    plan = dict(row)
    plan["schemes"], plan["regions"], plan["members"] = (json.loads(plan[k]) for k in ("schemes", "regions", "members"))
    events = _event_rows(con, inspection_id)
    limit = upto_event if upto_event is not None else (events[-1]["event_id"] if events else 0)
    events = [e for e in events if e["event_id"] <= limit]
    found = con.execute(
        "SELECT * FROM inspection_findings WHERE inspection_id = ? AND event_id <= ? ORDER BY finding_no, row_id",
        [inspection_id, limit],
    ).fetchall()
    latest: dict[int, dict[str, Any]] = {}
    for f in found:
        latest[int(f["finding_no"])] = dict(f)
    inspection = Inspection(plan, events, [latest[n] for n in sorted(latest)])
    inspection.team = (plan["leader"], *plan["members"])
    _derive(inspection)
    return inspection


def _derive(i: Inspection) -> None:
    reports = [e for e in i.events if e["action"] == "report"]
    i.version = len(reports)
    i.report_event = reports[-1] if reports else None
    i.status = "in_progress" if i.started else "planned"
    if i.report_event is None:
        return
    i.status = "reported"
    version = i.version
    signs = [e for e in i.events if e["action"].startswith("sign_") and e["details"].get("version") == version]
    i.leader_signed = next((e for e in signs if e["action"] == "sign_leader"), None)
    i.in_charge_signed = next((e for e in signs if e["action"] == "sign_in_charge"), None)
    after = i.report_event["event_id"]
    i.stale = any(e["action"] in RECORD_ACTIONS and e["event_id"] > after for e in i.events)
    if i.in_charge_signed is not None:
        i.status = "signed"
    elif i.leader_signed is not None:
        i.status = "leader_signed"


def may_read(member: staff_register.Staff, inspection: Inspection) -> bool:
    """Chiefs and auditors read every inspection; a verifier those whose team they are on; an admin none."""
    if member.role in ("chief", "auditor"):
        return True
    return member.role == "verifier" and member.staff_id in inspection.team


def listing(
    con: sqlite3.Connection, member: staff_register.Staff | None = None, year: int | None = None
) -> list[Inspection]:
    """The inspections (of a year: by the half they are planned in), newest plan first; only those `member` may
    read when given."""
    params: list[object] = []
    where = ""
    if year is not None:
        where, params = "WHERE half LIKE ?", [f"{year:04d}-H%"]
    ids = [r[0] for r in con.execute(f"SELECT inspection_id FROM inspections {where} ORDER BY inspection_id", params)]
    found = [get(con, i) for i in ids]
    if member is not None:
        found = [i for i in found if may_read(member, i)]
    return list(reversed(found))


# ---- the half-year check ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HalfStatus:
    """One half-year's special inspections: how many planned, done (a report generated) and signed (签发)."""

    half: str  # '2026-H1'
    planned: int
    done: int
    signed: int
    inspections: tuple[dict[str, Any], ...]  # inspection_id, title, status, status_zh, findings, cases

    @property
    def has_inspection(self) -> bool:
        """The policy's check: the half has an inspection whose report is signed by both (签发)."""
        return self.signed > 0

    @property
    def label(self) -> str:
        return HALF_ZH[self.half[-1]]

    @property
    def state_zh(self) -> str:
        """已开展（已签发） / 已开展（报告未签发） / 检查中 / 已计划，未开展 / 未开展."""
        if self.signed:
            return "已开展（已签发）"
        if self.done:
            return "已开展（报告未签发）"
        if any(i["status"] == "in_progress" for i in self.inspections):
            return "检查中"
        if self.planned:
            return "已计划，未开展"
        return "未开展"


def half_year_status(con: sqlite3.Connection, year: int, as_of: dt.date | None = None) -> list[HalfStatus]:
    """For H1 and H2 of `year`: the inspections planned, done and signed, as recorded up to `as_of` (every step
    recorded on that day or before; default: everything recorded)."""
    result = []
    for n in (1, 2):
        half = f"{year:04d}-H{n}"
        rows = []
        for (inspection_id,) in con.execute(
            "SELECT inspection_id FROM inspections WHERE half = ? ORDER BY inspection_id", [half]
        ).fetchall():
            if as_of is not None:
                upto = con.execute(
                    "SELECT max(event_id) FROM inspection_events WHERE inspection_id = ? AND substr(at, 1, 10) <= ?",
                    [inspection_id, as_of.isoformat()],
                ).fetchone()[0]
                if upto is None:
                    continue  # planned after the day
                inspection = get(con, inspection_id, upto_event=upto)
            else:
                inspection = get(con, inspection_id)
            rows.append(
                {
                    "inspection_id": inspection_id,
                    "title": inspection.row["title"],
                    "status": inspection.status,
                    "status_zh": inspection.status_zh,
                    "findings": len(inspection.findings),
                    "cases": len({f["suspect_id"] for f in inspection.findings if f["suspect_id"]}),
                    "period": f"{inspection.row['planned_start']} 至 {inspection.row['planned_end']}",
                    "schemes": "、".join(code_label("scheme", s) for s in inspection.row["schemes"]),
                }
            )
        done = sum(1 for r in rows if r["status"] in ("reported", "leader_signed", "signed"))
        signed = sum(1 for r in rows if r["status"] == "signed")
        result.append(HalfStatus(half, len(rows), done, signed, tuple(rows)))
    return result


def overview_line(statuses: list[HalfStatus]) -> str:
    """'上半年 已开展（已签发） / 下半年 未开展'."""
    return " / ".join(f"{s.label} {s.state_zh}" for s in statuses)


def report_blocks(statuses: list[HalfStatus], period_label: str) -> list[str | Table]:
    """The half-year report's lines on the special inspections of its half (or both halves of a year): a sentence,
    the inspections as a table, and a warning for a half without a signed one (policy §五)."""
    planned = sum(s.planned for s in statuses)
    signed = sum(s.signed for s in statuses)
    blocks: list[str | Table] = [
        f"专项检查：{period_label}计划专项检查 {planned} 次，已出具报告 {sum(s.done for s in statuses)} 次，"
        f"报告已签发 {signed} 次（{overview_line(statuses)}）。"
    ]
    rows = [
        [i["inspection_id"], i["title"], half_label(s.half), i["schemes"], i["period"], i["status_zh"], i["findings"]]
        for s in statuses
        for i in s.inspections
    ]
    if rows:
        blocks.append(
            Table(
                title="专项检查开展情况 special inspections",
                columns=[
                    Col("编号", "int"),
                    Col("检查名称"),
                    Col("半年"),
                    Col("险种 scheme"),
                    Col("计划时间"),
                    Col("状态"),
                    Col("发现问题", "int"),
                ],
                rows=rows,
            )
        )
    for s in statuses:
        if not s.has_inspection:
            blocks.append(
                f"注意：{half_label(s.half)}尚无已签发的专项检查报告（{s.state_zh}），"
                "不符合每半年至少开展一次专项检查的要求（政策第五条）。"
            )
    return blocks


# ---- changes ---------------------------------------------------------------------------------------------------


def _text(value: str | None, what: str) -> str:
    if value is None or not value.strip():
        raise InspectionError(f"{what}不能为空 is required")
    return value.strip()


def _not_future(day: dt.date, today: dt.date | None, what: str) -> None:
    today = today or dt.date.today()
    if day > today:
        raise InspectionError(f"{what} {day} 晚于今天 is in the future (today {today})")


def _append(
    con: sqlite3.Connection,
    inspection_id: int,
    action: str,
    actor: str,
    text: str | None = None,
    details: dict[str, object] | None = None,
) -> int:
    cursor = con.execute(
        "INSERT INTO inspection_events (inspection_id, action, actor, at, text, details) VALUES (?, ?, ?, ?, ?, ?)",
        [
            inspection_id,
            action,
            actor,
            reg._now(),
            text,
            json.dumps(details, ensure_ascii=False, default=str) if details else None,
        ],
    )
    return int(cursor.lastrowid)


def _team_member(con: sqlite3.Connection, staff_id: str, what: str) -> str:
    member = staff_register.get_active(con, staff_id, what)
    if member.role not in TEAM_ROLES:
        raise InspectionError(
            f"{what} {member.label}: 检查组成员须为科长或核查员 a team member is a chief or a verifier "
            "(审计人员只读，系统管理员不得经办业务)"
        )
    return member.staff_id


def plan(con: sqlite3.Connection, by: str | reg.Actor | staff_register.Staff, p: Plan) -> int:
    """A chief plans an inspection (制定检查计划); its id."""
    member = reg.member_of(con, by)
    if member.role != "chief":
        raise staff_register.NotAllowed(
            f"{member.label}: 只有科长可以制定专项检查计划 only a chief plans an inspection"
        )
    title = _text(p.title, "检查名称 title")
    known = code_sets().get("scheme", {})
    schemes = tuple(dict.fromkeys(s.strip() for s in p.schemes if s.strip()))
    if not schemes:
        raise InspectionError("须指定检查的险种 at least one scheme (--scheme)")
    for scheme in schemes:
        if scheme not in known:
            raise InspectionError(f"险种代码无效 unknown scheme code: {scheme!r} (one of {', '.join(known)})")
    regions = tuple(dict.fromkeys(r.strip() for r in p.regions if r.strip()))
    if not regions:
        raise InspectionError("须指定检查的统筹区 at least one region (--region)")
    for region in regions:
        if not REGION.fullmatch(region):
            raise InspectionError(f"统筹区须为6位数字 a region is six digits: {region!r}")
    texts = {
        "place": _text(p.place, "检查地点 place"),
        "content": _text(p.content, "检查内容 content"),
        "method": _text(p.method, "检查方式 method"),
        "objects": _text(p.objects, "检查对象 objects"),
        "materials": _text(p.materials, "检查资料 materials"),
    }
    if p.planned_end < p.planned_start:
        raise InspectionError(f"计划结束日期 {p.planned_end} 早于开始日期 {p.planned_start} ends before it starts")
    half = half_of(p.planned_start)
    if p.half is not None and p.half.strip() != half:
        raise InspectionError(
            f"半年 {p.half} 与计划开始日期 {p.planned_start} 不符 the half is that of the planned start: {half}"
        )
    leader_in_charge = _text(p.leader_in_charge, "分管领导姓名 leader in charge")
    in_charge_title = _text(p.leader_in_charge_title, "分管领导职务 title of the leader in charge")
    with reg.write_transaction(con):
        leader = _team_member(con, p.leader, "检查组组长 --leader")
        members = tuple(dict.fromkeys(_team_member(con, m, "检查组成员 --member") for m in p.members))
        if leader in members:
            raise InspectionError(f"组长 {leader} 不必重复列为成员 the leader is not listed again as a member")
        cursor = con.execute(
            "INSERT INTO inspections (title, half, schemes, regions, place, content, method, objects, materials,"
            " planned_start, planned_end, leader, members, leader_in_charge, leader_in_charge_title, created_by,"
            " created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                title,
                half,
                json.dumps(list(schemes)),
                json.dumps(list(regions)),
                *texts.values(),
                p.planned_start.isoformat(),
                p.planned_end.isoformat(),
                leader,
                json.dumps(list(members), ensure_ascii=False),
                leader_in_charge,
                in_charge_title,
                member.staff_id,
                reg._now(),
            ],
        )
        inspection_id = int(cursor.lastrowid)
        _append(con, inspection_id, "plan", member.staff_id, title, {"half": half})
    return inspection_id


def _open_for_work(con: sqlite3.Connection, member: staff_register.Staff, inspection_id: int, what: str) -> Inspection:
    """The inspection, if `member` may record on it (a chief or a team member) and it is not closed (签发)."""
    inspection = get(con, inspection_id)
    if member.role != "chief" and not (member.role in TEAM_ROLES and member.staff_id in inspection.team):
        raise staff_register.NotAllowed(
            f"{member.label}: 只有科长或检查组成员可以{what} only a chief or a member of the team may record this"
        )
    if inspection.status == "signed":
        raise InspectionError(
            f"专项检查 {inspection_id} 的报告已签发，不能再{what} the report is signed: the inspection is closed"
        )
    return inspection


def _started(inspection: Inspection) -> dt.date:
    start = next((e for e in inspection.events if e["action"] == "start"), None)
    if start is None:
        raise InspectionError(f"专项检查 {inspection.inspection_id} 尚未开始 not started yet (start first)")
    return dt.date.fromisoformat(start["details"]["on"])


def start(
    con: sqlite3.Connection,
    by: str | reg.Actor | staff_register.Staff,
    inspection_id: int,
    on: dt.date,
    today: dt.date | None = None,
) -> None:
    """The inspection begins (开始检查) on a day: not in the future; once."""
    member = reg.member_of(con, by)
    with reg.write_transaction(con):
        inspection = _open_for_work(con, member, inspection_id, "开始检查")
        if inspection.started:
            raise InspectionError(f"专项检查 {inspection_id} 已开始 already started")
        _not_future(on, today, "开始日期 start")
        _append(con, inspection_id, "start", member.staff_id, None, {"on": on.isoformat()})


def note(
    con: sqlite3.Connection,
    by: str | reg.Actor | staff_register.Staff,
    inspection_id: int,
    text: str,
    on: dt.date,
    today: dt.date | None = None,
) -> int:
    """A step of the inspection's process (检查过程) on a day, not before it started nor in the future."""
    member = reg.member_of(con, by)
    said = _text(text, "检查过程记录 note")
    with reg.write_transaction(con):
        inspection = _open_for_work(con, member, inspection_id, "记录检查过程")
        began = _started(inspection)
        _not_future(on, today, "记录日期")
        if on < began:
            raise InspectionError(f"记录日期 {on} 早于检查开始 {began} precedes the start")
        return _append(con, inspection_id, "note", member.staff_id, said, {"on": on.isoformat()})


def _case(con: sqlite3.Connection, member: staff_register.Staff, suspect_id: str | None) -> str | None:
    sid = (suspect_id or "").strip()
    if not sid:
        return None
    case = con.execute("SELECT * FROM cases WHERE suspect_id = ?", [sid]).fetchone()
    if case is None:
        raise InspectionError(f"没有这个疑点 no such case: {mask_text(sid)}")
    if not casework.may_see(member, dict(case)):
        raise staff_register.NotAllowed(f"{member.label}: 不能关联看不到的案件 may not link a case they cannot see")
    return sid


def _amount(text: str | Decimal | None) -> str | None:
    if text is None or (isinstance(text, str) and not text.strip()):
        return None
    try:
        value = text if isinstance(text, Decimal) else casework.parse_money(text)
    except ValueError as err:
        raise InspectionError(str(err)) from None
    if value <= 0:
        raise InspectionError(f"涉及金额须大于零 an amount is more than zero: {value}")
    return f"{value.quantize(reg.CENT)}"


def _finding_row(
    con: sqlite3.Connection, inspection_id: int, no: int, values: dict[str, object], event_id: int, actor: str
) -> None:
    con.execute(
        "INSERT INTO inspection_findings (inspection_id, finding_no, finding, amount, suspect_id, opinion, deadline,"
        " event_id, recorded_by, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            inspection_id,
            no,
            values["finding"],
            values["amount"],
            values["suspect_id"],
            values["opinion"],
            values["deadline"],
            event_id,
            actor,
            reg._now(),
        ],
    )


def add_finding(
    con: sqlite3.Connection,
    by: str | reg.Actor | staff_register.Staff,
    inspection_id: int,
    text: str,
    *,
    amount: str | Decimal | None = None,
    suspect_id: str | None = None,
    opinion: str | None = None,
    deadline: dt.date | None = None,
) -> int:
    """A problem found (所发现问题), with its amount, the case it concerns and the rectification opinion (整改意见,
    with its deadline) when known; its number within the inspection."""
    member = reg.member_of(con, by)
    said = _text(text, "发现问题 finding")
    value = _amount(amount)
    advice = (opinion or "").strip() or None
    if deadline is not None and advice is None:
        raise InspectionError("整改期限须随整改意见 a deadline goes with an opinion (--opinion)")
    with reg.write_transaction(con):
        inspection = _open_for_work(con, member, inspection_id, "登记发现问题")
        began = _started(inspection)
        if deadline is not None and deadline < began:
            raise InspectionError(f"整改期限 {deadline} 早于检查开始 {began}")
        sid = _case(con, member, suspect_id)
        no = 1 + int(
            con.execute(
                "SELECT coalesce(max(finding_no), 0) FROM inspection_findings WHERE inspection_id = ?", [inspection_id]
            ).fetchone()[0]
        )
        details = {"finding_no": no, "amount": value, "suspect_id": sid}
        event_id = _append(con, inspection_id, "finding", member.staff_id, said, details)
        if advice is not None:
            on = deadline.isoformat() if deadline else None
            event_id = _append(
                con, inspection_id, "opinion", member.staff_id, advice, {"finding_no": no, "deadline": on}
            )
        values = {
            "finding": said,
            "amount": value,
            "suspect_id": sid,
            "opinion": advice,
            "deadline": deadline.isoformat() if deadline else None,
        }
        _finding_row(con, inspection_id, no, values, event_id, member.staff_id)
    return no


def _finding(inspection: Inspection, finding_no: int) -> dict[str, Any]:
    found = next((f for f in inspection.findings if int(f["finding_no"]) == finding_no), None)
    if found is None:
        raise InspectionError(f"专项检查 {inspection.inspection_id} 没有第 {finding_no} 项问题 no such finding")
    return found


def link_case(
    con: sqlite3.Connection,
    by: str | reg.Actor | staff_register.Staff,
    inspection_id: int,
    finding_no: int,
    suspect_id: str,
) -> None:
    """Link a finding to a case of the register (关联案件): the case must exist."""
    member = reg.member_of(con, by)
    with reg.write_transaction(con):
        inspection = _open_for_work(con, member, inspection_id, "关联案件")
        current = _finding(inspection, finding_no)
        sid = _case(con, member, suspect_id)
        if sid is None:
            raise InspectionError("须指定案件 a case is required (--case)")
        event_id = _append(
            con, inspection_id, "link", member.staff_id, None, {"finding_no": finding_no, "suspect_id": sid}
        )
        _finding_row(con, inspection_id, finding_no, {**current, "suspect_id": sid}, event_id, member.staff_id)


def add_opinion(
    con: sqlite3.Connection,
    by: str | reg.Actor | staff_register.Staff,
    inspection_id: int,
    finding_no: int,
    opinion: str,
    deadline: dt.date | None = None,
) -> None:
    """The rectification opinion (整改意见) of a finding, with its deadline (整改期限): a new one replaces the last."""
    member = reg.member_of(con, by)
    advice = _text(opinion, "整改意见 opinion")
    with reg.write_transaction(con):
        inspection = _open_for_work(con, member, inspection_id, "提出整改意见")
        current = _finding(inspection, finding_no)
        began = _started(inspection)
        if deadline is not None and deadline < began:
            raise InspectionError(f"整改期限 {deadline} 早于检查开始 {began}")
        on = deadline.isoformat() if deadline else None
        details = {"finding_no": finding_no, "deadline": on}
        event_id = _append(con, inspection_id, "opinion", member.staff_id, advice, details)
        values = {**current, "opinion": advice, "deadline": on}
        _finding_row(con, inspection_id, finding_no, values, event_id, member.staff_id)


# ---- the report and its sign-off -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReportFile:
    version: int
    path: Path
    sha256: str


def file_name(inspection_id: int, version: int, stage: str = "") -> str:
    """专项检查报告_003_v1.docx; the signed copies end 组长已签 / 已签发."""
    return f"专项检查报告_{inspection_id:03d}_v{version}{'_' + stage if stage else ''}.docx"


def _staff_name(con: sqlite3.Connection, staff_id: str) -> str:
    member = staff_register.find(con, staff_id)
    return member.name if member is not None else staff_id


def report_content(con: sqlite3.Connection, inspection: Inspection, date: dt.date) -> ReportContent:
    """What the report of an inspection (as it stands in `inspection`) states, in words."""
    plan = inspection.row
    steps = [e for e in inspection.events if e["action"] in ("start", "note")]
    days = sorted(e["details"]["on"] for e in steps)
    period = (
        f"{chinese_date(dt.date.fromisoformat(days[0]))}至{chinese_date(dt.date.fromisoformat(days[-1]))}"
        if days
        else "尚未开始"
    )
    planned = (
        f"（计划 {chinese_date(dt.date.fromisoformat(plan['planned_start']))}至"
        f"{chinese_date(dt.date.fromisoformat(plan['planned_end']))}，{half_label(plan['half'])}）"
    )
    members = [f"{_staff_name(con, m)}（{m}）" for m in plan["members"]]
    team = [f"检查组组长：{_staff_name(con, plan['leader'])}（{plan['leader']}）"]
    team.append(f"检查组成员：{'、'.join(members)}" if members else "检查组成员：无")
    team.append(f"分管领导：{plan['leader_in_charge']}（{plan['leader_in_charge_title']}）")
    objects = [
        plan["objects"],
        "检查险种：" + "、".join(code_label("scheme", s) for s in plan["schemes"]),
        "检查统筹区：" + "、".join(region_label(r) for r in plan["regions"]),
    ]
    process = []
    for e in inspection.events:
        if e["action"] == "start":
            process.append(f"{chinese_date(dt.date.fromisoformat(e['details']['on']))}，检查组进驻，开始检查。")
        elif e["action"] == "note":
            process.append(f"{chinese_date(dt.date.fromisoformat(e['details']['on']))}，{e['text']}")
    rules = {
        r["suspect_id"]: r["rule"]
        for r in con.execute(
            "SELECT suspect_id, rule FROM cases WHERE suspect_id IN (SELECT value FROM json_each(?))",
            [json.dumps([f["suspect_id"] for f in inspection.findings if f["suspect_id"]])],
        )
    }
    findings = [
        Finding(
            number=int(f["finding_no"]),
            text=f["finding"],
            case=f"{f['suspect_id']}（{rule_name(rules[f['suspect_id']])}）" if f["suspect_id"] else None,
            amount=Decimal(f["amount"]) if f["amount"] else None,
            opinion=f["opinion"],
            deadline=dt.date.fromisoformat(f["deadline"]) if f["deadline"] else None,
        )
        for f in inspection.findings
    ]
    return ReportContent(
        title=plan["title"],
        number=f"专项检查第 {inspection.inspection_id} 号",
        period=period + planned,
        place=plan["place"],
        content=plan["content"],
        team=team,
        method=plan["method"],
        objects=objects,
        materials=plan["materials"],
        process=process,
        findings=findings,
        date=date,
        leader_name=_staff_name(con, plan["leader"]),
        in_charge_name=f"{plan['leader_in_charge']}（{plan['leader_in_charge_title']}）",
    )


def _signature(con: sqlite3.Connection, event: dict[str, Any] | None, in_charge: bool) -> Signature | None:
    if event is None:
        return None
    on = dt.date.fromisoformat(event["details"]["on"])
    if in_charge:
        name = f"{event['details']['name']}（{event['details']['title']}）"
        return Signature(name, on, f"由 {_staff_name(con, event['actor'])}（{event['actor']}）登记")
    return Signature(_staff_name(con, event["actor"]), on)


def _document(con: sqlite3.Connection, inspection: Inspection, date: dt.date, upto_event: int | None) -> bytes:
    """The report's bytes: the record as it stood after `upto_event` (None: as it stands), with the signatures of
    `inspection`'s latest version so far."""
    snapshot = get(con, inspection.inspection_id, upto_event=upto_event)
    content = report_content(con, snapshot, date)
    signatures = {
        "leader_signature": _signature(con, inspection.leader_signed, False),
        "in_charge_signature": _signature(con, inspection.in_charge_signed, True),
    }
    return render(replace(content, **signatures))


def generate_report(
    con: sqlite3.Connection,
    by: str | reg.Actor | staff_register.Staff,
    inspection_id: int,
    today: dt.date | None = None,
) -> ReportFile:
    """A new version of the 检查报告 (a chief or the team leader), dated today, written beside the register (0600)
    and recorded with its file name and sha256. Refused once signed by both (签发)."""
    member = reg.member_of(con, by)
    today = today or dt.date.today()
    with reg.write_transaction(con):
        inspection = _open_for_work(con, member, inspection_id, "生成检查报告")
        if member.role != "chief" and member.staff_id != inspection.row["leader"]:
            raise staff_register.NotAllowed(
                f"{member.label}: 只有科长或检查组组长可以生成报告 only a chief or the team leader makes the report"
            )
        began = _started(inspection)
        if today < began:
            raise InspectionError(f"报告日期 {today} 早于检查开始 {began}")
        version = inspection.version + 1
        unsigned = replace(inspection, leader_signed=None, in_charge_signed=None)
        data = _document(con, unsigned, today, None)
        path = folder_of(con) / file_name(inspection_id, version)
        sha = write_private(data, path)  # inside the transaction: the record cannot change meanwhile
        details = {"version": version, "on": today.isoformat(), "file": path.name, "sha256": sha}
        _append(con, inspection_id, "report", member.staff_id, None, details)
    return ReportFile(version, path, sha)


def _signable(inspection: Inspection) -> dict[str, Any]:
    if inspection.report_event is None:
        raise InspectionError(f"专项检查 {inspection.inspection_id} 尚未生成报告 no report to sign yet (report first)")
    if inspection.stale:
        raise InspectionError(
            f"专项检查 {inspection.inspection_id}: 第 {inspection.version} 版报告生成后检查记录有变化，请重新生成报告 "
            "the record changed after the report was generated: generate it again before signing"
        )
    return inspection.report_event


def sign_as_leader(
    con: sqlite3.Connection,
    by: str | reg.Actor | staff_register.Staff,
    inspection_id: int,
    on: dt.date | None = None,
    today: dt.date | None = None,
) -> ReportFile:
    """The team leader (检查组组长) signs the latest version, himself; the signed copy is written and recorded."""
    member = reg.member_of(con, by)
    today = today or dt.date.today()
    on = on or today
    with reg.write_transaction(con):
        inspection = get(con, inspection_id)
        if member.staff_id != inspection.row["leader"]:
            raise staff_register.NotAllowed(
                f"{member.label}: 只有检查组组长本人可以签字 only the team leader "
                f"({inspection.row['leader']}) signs as the leader"
            )
        report = _signable(inspection)
        if inspection.leader_signed is not None:
            raise InspectionError(
                f"第 {inspection.version} 版报告组长已签字 the leader has already signed this version"
            )
        _not_future(on, today, "签字日期")
        if on.isoformat() < report["details"]["on"]:
            raise InspectionError(f"签字日期 {on} 早于报告日期 {report['details']['on']}")
        event = {"action": "sign_leader", "actor": member.staff_id, "details": {"on": on.isoformat()}}
        signed = replace(inspection, leader_signed=event)
        return _signed_copy(con, signed, "sign_leader", member.staff_id, {"on": on.isoformat()}, "组长已签")


def sign_for_leader_in_charge(
    con: sqlite3.Connection,
    by: str | reg.Actor | staff_register.Staff,
    inspection_id: int,
    name: str,
    on: dt.date,
    today: dt.date | None = None,
) -> ReportFile:
    """A chief records the leader in charge's (分管领导) signature of the latest version: their name (as planned) and
    the day they signed, not before the leader's. The inspection is then signed (签发) and closed."""
    member = reg.member_of(con, by)
    if member.role != "chief":
        raise staff_register.NotAllowed(
            f"{member.label}: 只有科长可以登记分管领导签字 only a chief records the leader in charge's signature"
        )
    signer = _text(name, "分管领导姓名 --name")
    with reg.write_transaction(con):
        inspection = get(con, inspection_id)
        report = _signable(inspection)
        if inspection.in_charge_signed is not None:
            raise InspectionError(f"专项检查 {inspection_id} 的报告已签发 already signed by the leader in charge")
        if inspection.leader_signed is None:
            raise InspectionError("检查组组长尚未签字 the team leader signs first")
        if signer != inspection.row["leader_in_charge"]:
            raise InspectionError(
                f"签字人 {signer} 不是计划所列分管领导 {inspection.row['leader_in_charge']} "
                "is not the leader in charge named in the plan"
            )
        _not_future(on, today, "签字日期")
        leader_day = inspection.leader_signed["details"]["on"]
        if on.isoformat() < leader_day:
            raise InspectionError(f"签字日期 {on} 早于组长签字 {leader_day} precedes the leader's signature")
        assert report is not None
        details = {"on": on.isoformat(), "name": signer, "title": inspection.row["leader_in_charge_title"]}
        event = {"action": "sign_in_charge", "actor": member.staff_id, "details": details}
        signed = replace(inspection, in_charge_signed=event)
        return _signed_copy(con, signed, "sign_in_charge", member.staff_id, details, "已签发")


def _signed_copy(
    con: sqlite3.Connection,
    inspection: Inspection,
    action: str,
    actor: str,
    details: dict[str, object],
    stage: str,
) -> ReportFile:
    """Write the latest version with the signatures so far and record the signature with that file (in the caller's
    transaction)."""
    report = inspection.report_event
    assert report is not None
    data = _document(con, inspection, dt.date.fromisoformat(report["details"]["on"]), report["event_id"])
    path = folder_of(con) / file_name(inspection.inspection_id, inspection.version, stage)
    sha = write_private(data, path)
    recorded = {**details, "version": inspection.version, "file": path.name, "sha256": sha}
    _append(con, inspection.inspection_id, action, actor, None, recorded)
    return ReportFile(inspection.version, path, sha)


def report_file(con: sqlite3.Connection, inspection: Inspection) -> tuple[Path, bytes]:
    """The latest document of an inspection (the signed copy once signed) and its bytes, checked against the hash
    recorded; InspectionError when there is none, or the file is missing or not the one recorded."""
    latest = inspection.latest_file()
    if latest is None:
        raise InspectionError(f"专项检查 {inspection.inspection_id} 尚未生成报告 no report yet")
    name, sha = latest
    path = folder_of(con) / name
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InspectionError(f"报告文件缺失 the report file is missing: {name}") from None
    if hashlib.sha256(data).hexdigest() != sha:
        raise InspectionError(f"报告文件与登记的哈希不符 the report file is not the one recorded: {name}")
    return path, data


def statuses_for(register: Path, year: int, half: int | None, as_of: dt.date | None) -> list[HalfStatus]:
    """The half-year check for a report: the half (1, 2) or both halves of `year` (None), as recorded up to `as_of`
    (None: as it stands), read from the register read-only (a register without the inspection tables has none)."""
    with reg.reader(register) as con:
        return statuses_in(con, year, half, as_of)


def statuses_in(con: sqlite3.Connection, year: int, half: int | None, as_of: dt.date | None) -> list[HalfStatus]:
    """`statuses_for` on an open register connection (a report reads it inside its one read transaction)."""
    present = con.execute("SELECT 1 FROM sqlite_master WHERE name = 'inspections'").fetchone()
    if present is None:
        found = [HalfStatus(f"{year:04d}-H{n}", 0, 0, 0, ()) for n in (1, 2)]
    else:
        found = half_year_status(con, year, as_of)
    return [s for s in found if half is None or s.half.endswith(f"H{half}")]
