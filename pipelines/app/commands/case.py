"""`fundwatch case …`: the analyst's commands on the case register (四定一限).

Who acts is the operating-system account running the command, mapped to its staff member (`fundwatch staff`);
`--by STAFF` lets a chief record an action on a colleague's behalf, recorded as such (docs/adr/0015-case-work.md).
Personal data is masked unless `--reveal` / `--no-mask` with a `--reason`, which the register's access log keeps.

Exit statuses: 0 done; 2 usage error (a bad argument, no database or register at the path given, an output
outside its folder); 5 `case verify-log` found the case log broken; 6 refused by the register (not allowed for the
staff member's role, the case's state does not allow it, a date or amount it cannot accept).
"""

from __future__ import annotations

import argparse
from decimal import Decimal
from pathlib import Path

import polars as pl

from pipelines.app import console
from pipelines.app.arguments import date_arg
from pipelines.app.commands import case_closing
from pipelines.app.console import Column
from pipelines.app.settings import Settings
from pipelines.cases import audit, casework, files
from pipelines.cases import register as reg
from pipelines.cases import staff as staff_register
from pipelines.cases.calendar import CalendarError
from pipelines.present.labels import CASE_STATUS_ZH, case_status_label, rule_label
from pipelines.present.masking import mask_id, mask_text, shown_subject
from pipelines.present.money import fmt_money
from pipelines.rules import BY_CODE

NAME = "case"
EXIT_USAGE = 2
EXIT_LOG_BROKEN = 5
EXIT_REFUSED = 6
REFUSALS = (reg.CaseError, staff_register.StaffError)

LIST_COLUMNS = (
    ("suspect_id", Column("疑点编号 id")),
    ("rule", Column("规则 rule")),
    ("region_code", Column("统筹区 region")),
    ("subject_id", Column("对象 subject")),
    ("amount_at_risk", Column("金额 amount", numeric=True)),
    ("outstanding", Column("待追回 outstanding", numeric=True)),
    ("status", Column("状态 status")),
    ("assignee", Column("核查人 assignee")),
    ("due_date", Column("期限 due")),
)
HISTORY_COLUMNS = [
    Column("编号 event"),
    Column("时间 at"),
    Column("经办 actor"),
    Column("动作 action"),
    Column("状态变化 from -> to"),
    Column("理由 reason"),
]


def _money(text: str) -> Decimal:
    """An amount in yuan as typed (separators allowed): finite, at most two decimals; else a usage error."""
    try:
        return casework.parse_money(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from err


def _region(text: str) -> str:
    try:
        return files.region_code(text)
    except files.UnsafeOutput as err:
        raise argparse.ArgumentTypeError(str(err)) from err


def _rule(text: str) -> str:
    if text not in BY_CODE:
        raise argparse.ArgumentTypeError(f"没有这条规则 no rule {text!r}; the rules are: {', '.join(BY_CODE)}")
    return text


def add_parser(sub: argparse._SubParsersAction, settings: Settings) -> None:
    today = settings.today()
    case = sub.add_parser(NAME, help="核查案件 the case register: list, show, assign, verify, rectify …")
    case.add_argument("--db", type=Path, default=settings.db, help="the DuckDB file; its register is beside it")
    case.add_argument("--register", type=Path, default=None, help="case register (SQLite), default beside --db")
    case.set_defaults(handler=run, today=today)
    commands = case.add_subparsers(dest="case_command", required=True)

    def reveal(p: argparse.ArgumentParser, flag: str = "--reveal") -> None:
        p.add_argument(flag, action="store_true", help="show IDs and accounts in full (recorded; needs --reason)")
        p.add_argument("--reason", default=None, help="why (required with " + flag + ")")

    listing = commands.add_parser("list", help="列出案件 list cases")
    listing.add_argument("--rule", type=_rule)
    listing.add_argument("--region", type=_region)
    listing.add_argument("--person", help="公民身份号码: every case about one person")
    listing.add_argument("--status", choices=sorted(CASE_STATUS_ZH))
    listing.add_argument("--min-amount", type=_money)
    listing.add_argument("--max-amount", type=_money)
    listing.add_argument("--limit", type=int, default=50)
    listing.add_argument("--as-of", type=date_arg, default=today)
    reveal(listing)

    show = commands.add_parser("show", help="案件详情、证据与记录 one case, its evidence and history")
    show.add_argument("suspect_id")
    show.add_argument("--as-of", type=date_arg, default=today)
    reveal(show)

    for name, text in (
        ("assign", "交办核查 assign to a verifier (限期30个工作日) — chief"),
        ("verify", "核查确认违规 confirm the violation — assignee or chief"),
        ("dismiss", "核查排除 dismiss, with a reason — assignee or chief"),
        ("rectify", "追回 record money recovered (部分追回 until nothing is outstanding) — assignee or chief"),
        ("write-off", "核销 write off what cannot be recovered, with a reason — chief"),
        ("report", "要情报告/续报 the confirmed case was reported — assignee or chief"),
        ("reopen", "重新打开 reopen a closed case, with a reason — chief"),
        ("correct", "更正 void the latest step of a case, with a reason — chief"),
    ):
        p = commands.add_parser(name, help=text)
        p.add_argument("suspect_id")
        p.add_argument("--by", default=None, help="chief only: record on behalf of this staff member (工号)")
        p.add_argument("--on", type=date_arg, default=today, help="date it happened, default today")
        required = name in ("dismiss", "write-off", "reopen", "correct")
        p.add_argument("--reason", default=None, required=required)
        if name == "assign":
            p.add_argument("--assignee", required=True, help="工号 of a verifier of the case's region")
            p.add_argument("--region", type=_region, default=None, help="pooling region (下查一级)")
        if name == "rectify":
            p.add_argument("--recovered", type=_money, required=True, help="追回金额 yuan, this time")
            p.add_argument("--excess-reason", default=None, help="when more than is outstanding: 罚没 …")
        if name == "write-off":
            p.add_argument("--amount", type=_money, default=None, help="核销金额, default all outstanding")
        if name == "correct":
            p.add_argument("--event", type=int, required=True, help="the event to void (case show lists them)")

    export = commands.add_parser("export", help="核查清单 XLSX of a region's open cases")
    export.add_argument("--region", type=_region, required=True, help="统筹区代码, six digits")
    export.add_argument("--out", type=Path, required=True, help="folder (the file is written inside it)")
    export.add_argument("--as-of", type=date_arg, default=today)
    reveal(export, "--no-mask")

    commands.add_parser("access-log", help="查阅记录 who was shown unmasked data, when and why")
    case_closing.add_parsers(commands, today)  # closing-report, closing-due: 要情结案报告 (issue 16)

    verify_log = commands.add_parser(
        "verify-log", help="核验案件记录 check the case log's hash chain (exit 5 if broken)"
    )
    # also accepted after the subcommand; without it, the value given to `case` (or its default) stands
    verify_log.add_argument("--register", type=Path, default=argparse.SUPPRESS, help="case register (SQLite)")


# ---- reading ---------------------------------------------------------------------------------------------


def _reveal(con, args: argparse.Namespace, me: staff_register.Staff, action: str, target: str) -> bool:
    """Whether to show data unmasked: only on request, with a reason, recorded in the access log."""
    wanted = getattr(args, "reveal", False) or getattr(args, "no_mask", False)
    if wanted:
        reg.record_access(con, me, action, target, args.reason or "", staff_register.os_user())
    return wanted


_shown_status = casework.shown_status
_due = casework.due_label


def cmd_list(con, args: argparse.Namespace, me: staff_register.Staff) -> int:
    wanted = casework.CaseFilter(
        rule=args.rule,
        region=args.region,
        person=args.person,
        status=args.status,
        min_amount=args.min_amount,
        max_amount=args.max_amount,
    )
    frame = casework.filter_cases(reg.cases_frame(con, args.as_of), wanted)
    amount = casework.amount_column()
    total = frame.height
    target = "list " + " ".join(f"--{k} {v}" for k, v in (("rule", args.rule), ("region", args.region)) if v)
    revealed = _reveal(con, args, me, "list_unmasked", target.strip() or "list")
    rows = []
    for case in _shown_status(frame.sort(amount, descending=True).head(args.limit)).iter_rows(named=True):
        case["subject_id"] = case["subject_id"] if revealed else shown_subject(case)
        case["outstanding"] = fmt_money(reg.outstanding(case)) if case["severity"] else ""
        case["amount_at_risk"] = fmt_money(Decimal(case["amount_at_risk"]))
        case["due_date"] = _due(case["due_date"], case["due_provisional"])
        rows.append([case[c] for c, _ in LIST_COLUMNS])
    shown = f"（显示前 {args.limit} showing the first {args.limit}）" if total > args.limit else ""
    head = _person_head(args, revealed) if args.person else []
    console.write([*head, console.table([c for _, c in LIST_COLUMNS], rows), "", f"共 {total} 件 cases{shown}"])
    return 0


def _person_head(args: argparse.Namespace, revealed: bool) -> list[str]:
    """Who the person is (name, regions, the datasets they appear in), from the published database."""
    import duckdb

    from pipelines.cases import evidence
    from pipelines.warehouse.session import WarehouseBusy, reader

    shown = args.person if revealed else mask_id(args.person)
    if not args.db.is_file():
        return [f"人员 person {shown}"]
    try:
        with reader(args.db, memory_limit=args.memory_limit) as duck:
            who = evidence.person_summary(duck, args.person, reveal=revealed)
    except (WarehouseBusy, duckdb.Error) as err:  # the listing stands without the header
        return [f"人员 person {shown}（人员信息不可用 details unavailable: {type(err).__name__}）"]
    datasets = "，".join(f"{d['zh']} {d['dataset']} {d['rows']} 行" for d in who.get("datasets", []))
    regions = "，".join(who.get("regions") or []) or "-"
    return [f"人员 person {shown} {who.get('name') or ''}", f"统筹区 regions: {regions}", f"数据 in: {datasets or '-'}"]


_money_lines = casework.money_lines
FACTS = casework.FACTS
ACTION_ZH = casework.ACTION_ZH


def cmd_show(con, args: argparse.Namespace, me: staff_register.Staff) -> int:
    frame = reg.cases_frame(con, args.as_of).filter(pl.col("suspect_id") == args.suspect_id)
    if frame.is_empty():
        raise reg.CaseError(f"没有这个疑点 no such case: {args.suspect_id}")
    revealed = _reveal(con, args, me, "show_unmasked", args.suspect_id)
    case = _shown_status(frame).row(0, named=True)
    shown = dict(case)
    shown["rule"] = rule_label(case["rule"])
    shown["due_date"] = _due(case["due_date"], case["due_provisional"])
    shown["report_due"] = _due(case["report_due"], case["report_due_provisional"])
    if not revealed:
        shown["subject_id"] = shown_subject(case)
        shown["person_id"] = mask_id(case["person_id"]) if case["person_id"] else None
        shown["summary"] = mask_text(case["summary"]) if case["summary"] else None
    lines: list = [f"{label:>16}: {shown[key]}" for key, label in FACTS if shown.get(key) is not None]
    lines += _money_lines(case)
    lines += _evidence(args, case["suspect_id"], revealed)
    history = [
        [
            e["event_id"],
            e["at"],
            e["actor"],
            f"{ACTION_ZH.get(e['action'], e['action'])} {e['action']}",
            f"{e['from_status'] or '-'} -> {e['to_status'] or '-'}",
            e["reason"] if revealed or not e["reason"] else mask_text(e["reason"]),
        ]
        for e in reg.events(con, args.suspect_id)
    ]
    console.write([*lines, "", "记录 history:", console.table(HISTORY_COLUMNS, history)])
    return 0


def _evidence(args: argparse.Namespace, suspect_id: str, revealed: bool) -> list:
    """The proving rows from the published database, as tables (nothing when there is no database)."""
    import duckdb

    from pipelines.cases import evidence
    from pipelines.warehouse.session import WarehouseBusy, reader

    if not args.db.is_file():
        return ["", f"（证据不可用：没有数据库 evidence unavailable: no database at {args.db}）"]
    try:
        with reader(args.db, memory_limit=args.memory_limit) as duck:
            view = evidence.evidence_view(duck, suspect_id, reveal=revealed)
    except WarehouseBusy:
        return ["", "（证据暂不可用：数据库正被占用 evidence unavailable: the database is busy）"]
    except (duckdb.Error, evidence.EvidenceNotFound) as err:
        why = mask_text(" ".join(str(err).split()))[:200]
        return ["", f"（证据不可用 evidence unavailable: {why}）"]
    blocks: list = ["", "证据 evidence:", *view.header_lines()]
    for t in view.tables:
        columns = [Column(c.header, c.numeric) for c in t.columns]
        blocks += ["", console.table(columns, t.rows, title=t.title)]
    return [*blocks, *view.notes]


# ---- changing ----------------------------------------------------------------------------------------------


def cmd_change(con, args: argparse.Namespace, me: staff_register.Staff) -> int:
    who = reg.actor(con, staff_register.os_user(), args.by)
    sid, on, today = args.suspect_id, args.on, args.today
    command = args.case_command
    if command == "assign":
        due = reg.assign(
            con, sid, assignee=args.assignee, by=who, on=on, today=today, region_code=args.region, reason=args.reason
        )
        shown_due = _due(due.date.isoformat(), due.provisional)
        message = f"{sid}: 已交办 assigned to {args.assignee}; 整改期限 due {shown_due}"
    elif command == "verify":
        severity = reg.verify(con, sid, by=who, on=on, today=today, reason=args.reason)
        message = f"{sid}: 确认违规 confirmed, {severity}; 须5个工作日内报告 report within 5 working days"
    elif command == "dismiss":
        reg.dismiss(con, sid, by=who, on=on, today=today, reason=args.reason)
        message = f"{sid}: 已排除 dismissed"
    elif command == "rectify":
        status = reg.rectify(
            con,
            sid,
            by=who,
            on=on,
            today=today,
            recovered=args.recovered,
            reason=args.reason,
            excess_reason=args.excess_reason,
        )
        rest = reg.outstanding(reg.get_case(con, sid))
        message = (
            f"{sid}: 追回 recovered {fmt_money(args.recovered)}; {case_status_label(status)}; 待追回 {fmt_money(rest)}"
        )
    elif command == "write-off":
        amount = reg.write_off(con, sid, by=who, on=on, today=today, reason=args.reason, amount=args.amount)
        status = reg.get_case(con, sid)["status"]
        message = f"{sid}: 核销 written off {fmt_money(amount)}; {case_status_label(status)}"
    elif command == "report":
        action = reg.mark_reported(con, sid, by=who, on=on, today=today)
        message = f"{sid}: {'已报告 reported' if action == 'report' else '已续报 reported again'} on {on}"
    elif command == "reopen":
        status = reg.reopen(con, sid, by=who, on=on, today=today, reason=args.reason)
        message = f"{sid}: 已重新打开 reopened, {case_status_label(status)}"
    else:
        changes = reg.correct(con, sid, by=who, event_id=args.event, reason=args.reason, today=today)
        shown = ", ".join(f"{k}={v}" for k, v in changes.items()) or "无字段变化 no field changed"
        message = f"{sid}: 已更正 event {args.event} voided; {shown}"
    on_behalf = f"（由 {who.recorded_by.staff_id} 代为登记 recorded on {who.id}'s behalf）" if who.recorded_by else ""
    console.write([message + on_behalf])
    return 0


def cmd_export(con, args: argparse.Namespace, me: staff_register.Staff) -> int:
    from pipelines.cases.export import NothingToExport, checklist_path, export_checklist

    if not me.covers(args.region):
        raise staff_register.NotAllowed(f"{me.label}: 不负责统筹区 {args.region} does not work this region")
    masked = not args.no_mask
    if not masked and not (args.reason or "").strip():
        raise reg.CaseError("导出未脱敏清单须说明理由 an unmasked export needs a reason (--reason)")
    target = checklist_path(args.out, args.region, args.as_of, masked=masked)
    cases = reg.cases_frame(con, args.as_of)
    try:
        path = export_checklist(cases, args.region, target, mask_ids=masked, generated_on=args.as_of)
    except NothingToExport:
        region = args.region
        console.write([f"统筹区 {region} 没有待核查案件 no cases to work for region {region}: 未生成文件 no file"])
        return 0
    if not masked:
        _reveal(con, args, me, "export_unmasked", path.name)
    console.write([f"核查清单 checklist: {path}" + ("" if masked else "（未脱敏，注意保密 unmasked）")])
    return 0


def cmd_access_log(con, args: argparse.Namespace, me: staff_register.Staff) -> int:
    if me.role not in ("chief", "auditor"):
        raise staff_register.NotAllowed(f"{me.label}: 只有科长和审计可查阅 only chiefs and auditors read it")
    rows = con.execute("SELECT access_id, at, actor, os_user, action, target, reason FROM access_log ORDER BY 1")
    headers = ("编号 id", "时间 at", "人员 staff", "账号 os user", "动作 action", "对象 target", "理由 reason")
    columns = [Column(h) for h in headers]
    console.write([console.table(columns, [tuple(r) for r in rows])])
    return 0


def cmd_verify_log(con, args: argparse.Namespace) -> int:
    check = audit.verify_log(con)
    migrated = [
        f"其中第 1–{c.last_event_id} 条（{c.events} 条）于 {c.chained_at} 升级时补建哈希链，此前的改动无从发现 "
        f"events up to {c.last_event_id} ({c.events}) were chained at migration on {c.chained_at}: "
        "changes made to them before then cannot be detected"
        + (f"; 当时已缺 already missing then: {_ids(c.absent_ids)}" if c.absent_ids else "")
        for c in check.chainings
    ]
    if check.broken is None:
        console.write(
            [
                f"案件记录完整 case log intact: {check.events} 条记录 events, 哈希链无断点 the chain holds; "
                f"末条哈希 head {check.head}",
                *migrated,
            ]
        )
        return 0
    b = check.broken
    case = f" ({b.suspect_id})" if b.suspect_id else ""
    console.error(
        f"fundwatch case verify-log: 案件记录{audit.KIND_ZH[b.kind]} case log broken at event {b.event_id}{case}: "
        f"{b.kind} — {b.detail}"
    )
    return EXIT_LOG_BROKEN


def _ids(ids: tuple[int, ...]) -> str:
    shown = ", ".join(str(i) for i in ids[:10])
    return shown + (f" … ({len(ids)})" if len(ids) > 10 else "")


HANDLERS = {"list": cmd_list, "show": cmd_show, "export": cmd_export, "access-log": cmd_access_log}
HANDLERS.update(case_closing.HANDLERS)


def run(args: argparse.Namespace, settings: Settings) -> int:
    register = args.register or reg.register_path_for(args.db)
    args.memory_limit = settings.duckdb_memory_limit
    try:
        with reg.writer(register, create=False) as con:
            if args.case_command == "verify-log":
                return cmd_verify_log(con, args)
            me = staff_register.actor_for(con, staff_register.os_user())
            if me.role == "admin":
                raise staff_register.NotAllowed(
                    f"{me.label}: 系统管理员不得经办或查看案件 a system administrator may not touch cases"
                )
            return HANDLERS.get(args.case_command, cmd_change)(con, args, me)
    except reg.RegisterMissing as err:
        console.error(f"fundwatch case: {err}")
        return EXIT_USAGE
    except (files.UnsafeOutput, CalendarError) as err:
        console.error(f"fundwatch case: {err}")
        return EXIT_USAGE
    except REFUSALS as err:
        console.error(f"fundwatch case: 拒绝 refused: {err}")
        return EXIT_REFUSED
