"""`fundwatch inspection …`: 专项检查 (policy §五), kept in the case register beside the database (`--db`).

    fundwatch inspection plan --title T --scheme 110 [--scheme …] --region 330100 [--region …] --leader STAFF
        [--member STAFF …] --place P --content C --method M --objects O --materials D --start DATE --end DATE
        --leader-in-charge "姓名 职务" [--half YYYY-H1]                                                  chief
    fundwatch inspection start ID [--on DATE]                                                 chief or team
    fundwatch inspection note ID --text T [--on DATE]                                         chief or team
    fundwatch inspection finding ID --text T [--amount A] [--case SUSPECT_ID] --opinion O [--deadline DATE]
    fundwatch inspection link ID FINDING_NO --case SUSPECT_ID                                 chief or team
    fundwatch inspection opinion ID FINDING_NO --text O [--deadline DATE]                     chief or team
    fundwatch inspection report ID [--out DIR]                                                chief or leader
    fundwatch inspection sign ID --as leader [--on DATE]                                      the team leader
    fundwatch inspection sign ID --as leader-in-charge --name 姓名 --on DATE                    chief records
    fundwatch inspection list [--year YYYY]
    fundwatch inspection show ID

Who acts is the operating-system account running the command, mapped to its staff member. The report is written
beside the register (inspections/专项检查报告_<id>_v<n>.docx, private) and copied to `--out` when given; a signature
writes the signed copy (docs/adr/0025-special-inspections.md). `list` shows each half's status (已开展/未开展).

Exit statuses: 0 done; 2 usage error (a bad argument, no register at the path); 6 refused (the role, the
inspection's state, a date or value the register does not accept).
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

from pipelines.app import console
from pipelines.app.arguments import date_arg
from pipelines.app.console import Column
from pipelines.app.settings import Settings
from pipelines.cases import inspections
from pipelines.cases import register as reg
from pipelines.cases import staff as staff_register
from pipelines.present.masking import mask_text

NAME = "inspection"
EXIT_USAGE = 2
EXIT_REFUSED = 6


def add_parser(sub: argparse._SubParsersAction, settings: Settings) -> None:
    today = settings.today()
    command = sub.add_parser(NAME, help="专项检查 special inspections: plan, record, report, sign, list")
    command.add_argument("--db", type=Path, default=settings.db, help="the DuckDB file; its register is beside it")
    command.add_argument("--register", type=Path, default=None, help="case register (SQLite), default beside --db")
    command.set_defaults(handler=run, today=today)
    commands = command.add_subparsers(dest="inspection_command", required=True)

    plan = commands.add_parser("plan", help="制定检查计划 plan an inspection — chief")
    plan.add_argument("--title", required=True, help="检查名称, e.g. 2026年上半年工伤保险待遇支付")
    plan.add_argument("--half", default=None, help="半年 YYYY-H1 | YYYY-H2 (default: that of --start; must agree)")
    plan.add_argument("--scheme", action="append", required=True, help="险种代码 scheme code (repeatable)")
    plan.add_argument("--region", action="append", required=True, help="统筹区 region code (repeatable)")
    plan.add_argument("--leader", required=True, help="检查组组长 staff id")
    plan.add_argument("--member", action="append", default=[], help="检查组成员 staff id (repeatable)")
    for name, zh in (
        ("place", "检查地点"),
        ("content", "检查内容"),
        ("method", "检查方式"),
        ("objects", "检查对象"),
        ("materials", "检查资料"),
    ):
        plan.add_argument(f"--{name}", required=True, help=zh)
    plan.add_argument("--start", type=date_arg, required=True, help="计划开始日期 YYYY-MM-DD")
    plan.add_argument("--end", type=date_arg, required=True, help="计划结束日期 YYYY-MM-DD")
    plan.add_argument("--leader-in-charge", required=True, help='分管领导 "姓名 职务"')

    start = commands.add_parser("start", help="开始检查 the inspection begins — chief or team")
    start.add_argument("inspection_id", type=int)
    start.add_argument("--on", type=date_arg, default=today, help="date, default today")

    note = commands.add_parser("note", help="检查过程记录 a step of the process — chief or team")
    note.add_argument("inspection_id", type=int)
    note.add_argument("--text", required=True)
    note.add_argument("--on", type=date_arg, default=today, help="date, default today")

    finding = commands.add_parser("finding", help="登记发现问题 a problem found — chief or team")
    finding.add_argument("inspection_id", type=int)
    finding.add_argument("--text", required=True, help="所发现问题")
    finding.add_argument("--amount", default=None, help="涉及金额（元）exact, e.g. 3210.00")
    finding.add_argument("--case", default=None, help="关联案件 suspect_id (must exist)")
    finding.add_argument("--opinion", required=True, help="整改意见")
    finding.add_argument("--deadline", type=date_arg, default=None, help="整改期限 YYYY-MM-DD")

    link = commands.add_parser("link", help="关联案件 link a finding to a case — chief or team")
    link.add_argument("inspection_id", type=int)
    link.add_argument("finding_no", type=int)
    link.add_argument("--case", required=True, help="suspect_id")

    opinion = commands.add_parser("opinion", help="整改意见 a finding's rectification opinion — chief or team")
    opinion.add_argument("inspection_id", type=int)
    opinion.add_argument("finding_no", type=int)
    opinion.add_argument("--text", required=True)
    opinion.add_argument("--deadline", type=date_arg, default=None, help="整改期限 YYYY-MM-DD")

    report = commands.add_parser("report", help="生成检查报告 (DOCX) — chief or the team leader")
    report.add_argument("inspection_id", type=int)
    report.add_argument("--out", type=Path, default=None, help="also copy the report into this folder")

    sign = commands.add_parser("sign", help="签字 the leader signs; a chief records the leader in charge's signature")
    sign.add_argument("inspection_id", type=int)
    sign.add_argument("--as", dest="signer", required=True, choices=("leader", "leader-in-charge"))
    sign.add_argument("--name", default=None, help="分管领导姓名 (with --as leader-in-charge)")
    sign.add_argument("--on", type=date_arg, default=None, help="签字日期 (required with --as leader-in-charge)")
    sign.add_argument("--out", type=Path, default=None, help="also copy the signed report into this folder")

    listing = commands.add_parser("list", help="专项检查 the inspections and each half's status")
    listing.add_argument("--year", type=int, default=today.year, help="year, default this year")

    show = commands.add_parser("show", help="一次专项检查 one inspection: plan, steps, findings")
    show.add_argument("inspection_id", type=int)


def run(args: argparse.Namespace, settings: Settings) -> int:
    register = args.register or reg.register_path_for(args.db)
    try:
        with reg.writer(register, create=False) as con:
            me = staff_register.actor_for(con, staff_register.os_user())
            return _HANDLERS[args.inspection_command](con, args, me)
    except reg.RegisterMissing as err:
        console.error(f"fundwatch inspection: {err}")
        return EXIT_USAGE
    except UsageError as err:
        console.error(f"fundwatch inspection: {err}")
        return EXIT_USAGE
    except (reg.CaseError, staff_register.StaffError) as err:
        console.error(f"fundwatch inspection: 拒绝 refused: {err}")
        return EXIT_REFUSED


class UsageError(ValueError):
    """An argument the command cannot use (exit 2)."""


def _plan(con, args: argparse.Namespace, me: staff_register.Staff) -> int:
    parts = args.leader_in_charge.split(maxsplit=1)
    if len(parts) != 2:
        raise UsageError('--leader-in-charge 须为"姓名 职务" name and title, e.g. "李明 副局长"')
    plan = inspections.Plan(
        title=args.title,
        schemes=tuple(args.scheme),
        regions=tuple(args.region),
        place=args.place,
        content=args.content,
        method=args.method,
        objects=args.objects,
        materials=args.materials,
        planned_start=args.start,
        planned_end=args.end,
        leader=args.leader,
        members=tuple(args.member),
        leader_in_charge=parts[0],
        leader_in_charge_title=parts[1],
        half=args.half,
    )
    inspection_id = inspections.plan(con, me, plan)
    half = inspections.half_label(inspections.half_of(args.start))
    console.write([f"已制定检查计划 planned: 专项检查 {inspection_id}（{half}）{args.title}"])
    return 0


def _start(con, args, me) -> int:
    inspections.start(con, me, args.inspection_id, args.on, today=args.today)
    console.write([f"已开始检查 started: 专项检查 {args.inspection_id}，{args.on}"])
    return 0


def _note(con, args, me) -> int:
    inspections.note(con, me, args.inspection_id, args.text, args.on, today=args.today)
    console.write([f"已记录检查过程 noted: 专项检查 {args.inspection_id}，{args.on}"])
    return 0


def _finding(con, args, me) -> int:
    no = inspections.add_finding(
        con,
        me,
        args.inspection_id,
        args.text,
        amount=args.amount,
        suspect_id=args.case,
        opinion=args.opinion,
        deadline=args.deadline,
    )
    case = f"，关联案件 case {args.case}" if args.case else ""
    console.write([f"已登记发现问题 finding {no}: 专项检查 {args.inspection_id}{case}"])
    return 0


def _link(con, args, me) -> int:
    inspections.link_case(con, me, args.inspection_id, args.finding_no, args.case)
    console.write([f"已关联案件 linked: 专项检查 {args.inspection_id} 第 {args.finding_no} 项 → {args.case}"])
    return 0


def _opinion(con, args, me) -> int:
    inspections.add_opinion(con, me, args.inspection_id, args.finding_no, args.text, args.deadline)
    console.write([f"已提出整改意见 opinion: 专项检查 {args.inspection_id} 第 {args.finding_no} 项"])
    return 0


def _copy(path: Path, out: Path | None) -> list[str]:
    if out is None:
        return []
    out.mkdir(parents=True, exist_ok=True)
    target = out / path.name
    shutil.copyfile(path, target)  # created under the command's umask: private
    return [f"已复制 copied to {target}"]


def _report(con, args, me) -> int:
    made = inspections.generate_report(con, me, args.inspection_id, today=args.today)
    lines = [f"已生成检查报告 report v{made.version}: {made.path}", f"sha256 {made.sha256}"]
    console.write(lines + _copy(made.path, args.out))
    return 0


def _sign(con, args, me) -> int:
    if args.signer == "leader":
        if args.name is not None:
            raise UsageError("--name 仅用于分管领导 only with --as leader-in-charge")
        made = inspections.sign_as_leader(con, me, args.inspection_id, args.on, today=args.today)
        said = "检查组组长已签字 signed by the team leader"
    else:
        if args.name is None or args.on is None:
            raise UsageError("--as leader-in-charge 须同时给出 --name 和 --on (the leader in charge's name and date)")
        made = inspections.sign_for_leader_in_charge(con, me, args.inspection_id, args.name, args.on, today=args.today)
        said = "已登记分管领导签字，报告签发 signed by the leader in charge: the report is issued"
    console.write([f"{said}: v{made.version} {made.path}", f"sha256 {made.sha256}", *_copy(made.path, args.out)])
    return 0


def _list(con, args, me) -> int:
    if me.role == "admin":
        raise staff_register.NotAllowed(f"{me.label}: 系统管理员不得查看专项检查 an admin sees no inspections")
    statuses = inspections.half_year_status(con, args.year)
    lines: list[object] = [
        f"{args.year}年专项检查 special inspections: {inspections.overview_line(statuses)}",
        *(
            f"注意 warning: {inspections.half_label(s.half)}尚无已签发的专项检查报告"
            for s in statuses
            if not s.has_inspection
        ),
        "",
    ]
    rows = [
        [
            i.inspection_id,
            inspections.half_label(i.row["half"]),
            mask_text(i.row["title"]),
            f"{i.row['planned_start']} – {i.row['planned_end']}",
            i.row["leader"],
            f"{i.status_zh} {i.status}",
            len(i.findings),
            f"v{i.version}" if i.version else "-",
        ]
        for i in inspections.listing(con, me, args.year)
    ]
    columns = [
        Column("编号\nid", numeric=True),
        Column("半年\nhalf"),
        Column("检查名称\ntitle"),
        Column("计划时间\nplanned"),
        Column("组长\nleader"),
        Column("状态\nstatus"),
        Column("发现问题\nfindings", numeric=True),
        Column("报告\nreport"),
    ]
    lines.append(console.table(columns, rows, title=f"{args.year}年专项检查"))
    console.write(lines)
    return 0


def _show(con, args, me) -> int:
    inspection = inspections.get(con, args.inspection_id)
    if not inspections.may_read(me, inspection):
        raise staff_register.NotAllowed(
            f"{me.label}: 不是检查组成员 not on the team of inspection {args.inspection_id}"
        )
    row = inspection.row
    lines: list[object] = [
        f"专项检查 {inspection.inspection_id}：{mask_text(row['title'])}（{inspections.half_label(row['half'])}）",
        f"状态 status：{inspection.status_zh} {inspection.status}"
        + ("（报告生成后记录有变化，需重新生成 stale）" if inspection.stale else ""),
        f"计划 planned：{row['planned_start']} – {row['planned_end']}；组长 {row['leader']}；"
        f"成员 {'、'.join(row['members']) or '无'}；分管领导 {row['leader_in_charge']} {row['leader_in_charge_title']}",
        "",
    ]
    for e in inspection.events:
        text = f" {mask_text(e['text'])}" if e["text"] else ""
        lines.append(f"{e['at']} {e['actor']} {inspections.ACTION_ZH[e['action']]} {e['action']}{text}")
    lines.append("")
    for f in inspection.findings:
        lines.append(
            f"第 {f['finding_no']} 项：{mask_text(f['finding'])}；金额 {f['amount'] or '-'}；"
            f"案件 {f['suspect_id'] or '-'}；整改意见 {mask_text(f['opinion'] or '-')}；期限 {f['deadline'] or '-'}"
        )
    console.write(lines)
    return 0


_HANDLERS = {
    "plan": _plan,
    "start": _start,
    "note": _note,
    "finding": _finding,
    "link": _link,
    "opinion": _opinion,
    "report": _report,
    "sign": _sign,
    "list": _list,
    "show": _show,
}
