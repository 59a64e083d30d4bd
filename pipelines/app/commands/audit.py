"""`fundwatch audit …`: the agency's monthly internal audit sample (稽核, policy §四: every month the business
completed the month before, coverage at least 20%), kept in the case register beside the database (`--db`).

    fundwatch audit draw --month YYYYMM [--seed N] [--rate 0.20] [--out DIR]    chief: draw, write the 核查表
    fundwatch audit withdraw DRAW_ID --reason TEXT                               chief: withdraw a draw
    fundwatch audit result DRAW_ID BUSINESS_ID --ok | --problem FINDING [--open-case]   chief: record a result
    fundwatch audit report --month YYYYMM [--out DIR]                            chief, auditor: 稽核报告
    fundwatch audit verify DRAW_ID                                               chief, auditor: re-draw, compare
    fundwatch audit list                                                         chief, auditor: the draws

The sample is drawn from the published DuckDB file, read-only (a nightly run may be publishing meanwhile), and
recorded with its seed; `verify` draws it again from that seed and compares (`pipelines.cases.internal_audit`).
Who acts is the operating-system account running the command, mapped to its staff member. The 核查表 and the
report mask person IDs; the files are private (the umask of `fundwatch`).

Exit statuses: 0 done (verify: the sample is proven); 2 usage error (a bad argument, no database or register at
the path); 5 verify: the sample drawn again differs from the recorded one, or the data it was drawn from changed;
6 refused (the role, a month not over or already drawn, a withdrawn draw, a business not in the sample).
"""

from __future__ import annotations

import argparse
from decimal import Decimal
from pathlib import Path

from pipelines.app import console
from pipelines.app.console import Column
from pipelines.app.settings import Settings
from pipelines.cases import internal_audit as ia
from pipelines.cases import register as reg
from pipelines.cases import staff as staff_register
from pipelines.cases.files import UnsafeOutput
from pipelines.cases.reports import internal_audit as documents
from pipelines.present.masking import mask_text
from pipelines.present.money import fmt_pct, ratio
from pipelines.warehouse.session import WarehouseBusy, reader

NAME = "audit"
EXIT_USAGE = 2
EXIT_UNPROVEN = 5
EXIT_REFUSED = 6


def _month(text: str) -> str:
    try:
        ia.month_bounds(text.strip())
    except ia.AuditError as err:
        raise argparse.ArgumentTypeError(str(err)) from None
    return text.strip()


def _rate(text: str) -> Decimal:
    try:
        return ia.parse_rate(text.strip())
    except ia.AuditError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def add_parser(sub: argparse._SubParsersAction, settings: Settings) -> None:
    command = sub.add_parser(NAME, help="稽核 the monthly internal audit sample: draw, results, report, verify")
    command.add_argument("--db", type=Path, default=settings.db, help="the published DuckDB file")
    command.add_argument("--register", type=Path, default=None, help="case register (SQLite), default beside --db")
    command.set_defaults(handler=run)
    commands = command.add_subparsers(dest="audit_command", required=True)
    draw = commands.add_parser("draw", help="抽取稽核样本 draw the month's sample and write its 核查表 — chief")
    draw.add_argument("--month", required=True, type=_month, help="稽核月份 YYYYMM (the month the business completed)")
    draw.add_argument("--seed", type=int, default=None, help="随机种子 (default: a fresh random one, recorded)")
    draw.add_argument("--rate", type=_rate, default=ia.RATE, help="抽样比例, at least 0.20 (default 0.20)")
    draw.add_argument("--out", type=Path, default=Path("reports"), help="folder for the 核查表 XLSX")
    withdraw = commands.add_parser("withdraw", help="撤销抽样 withdraw a draw (it stays on record) — chief")
    withdraw.add_argument("draw_id", type=int, help="抽样编号 draw (audit list)")
    withdraw.add_argument("--reason", required=True, help="撤销理由 why")
    result = commands.add_parser("result", help="登记稽核结论 record a sampled business's result — chief")
    result.add_argument("draw_id", type=int, help="抽样编号 draw")
    result.add_argument("business_id", help="业务流水号 business")
    outcome = result.add_mutually_exclusive_group(required=True)
    outcome.add_argument("--ok", action="store_true", help="无问题 no problem found")
    outcome.add_argument("--problem", metavar="FINDING", default=None, help="有问题：问题描述 the problem found")
    result.add_argument("--open-case", action="store_true", help="立案 open a case (AUDIT_FINDING) for the problem")
    report = commands.add_parser("report", help="稽核报告 the month's audit report (Markdown and XLSX)")
    report.add_argument("--month", required=True, type=_month, help="稽核月份 YYYYMM")
    report.add_argument("--out", type=Path, default=Path("reports"), help="folder for the report files")
    verify = commands.add_parser("verify", help="验证抽样 draw again from the recorded seed and compare")
    verify.add_argument("draw_id", type=int, help="抽样编号 draw")
    commands.add_parser("list", help="稽核抽样 every draw")


def run(args: argparse.Namespace, settings: Settings) -> int:
    register = args.register or reg.register_path_for(args.db)
    try:
        with reg.writer(register, create=False) as con:
            me = staff_register.actor_for(con, staff_register.os_user())
            if args.audit_command == "draw":
                return _draw(con, args, settings, me, register)
            if args.audit_command == "withdraw":
                ia.withdraw(con, me, args.draw_id, args.reason)
                console.write([f"已撤销抽样 withdrawn: draw {args.draw_id}（记录保留 kept on record；该月可重新抽样）"])
                return 0
            if args.audit_command == "result":
                return _result(con, args, settings, me)
            ia.may_read(me)
            if args.audit_command == "report":
                paths = documents.audit_report(register, args.month, args.out, today=settings.today())
                console.write([f"稽核报告 written: {p}" for p in paths])
                return 0
            if args.audit_command == "verify":
                return _verify(con, args, settings)
            return _list(con)
    except reg.RegisterMissing as err:
        console.error(f"fundwatch audit: {err}")
        return EXIT_USAGE
    except (FileNotFoundError, UnsafeOutput, WarehouseBusy) as err:
        console.error(f"fundwatch audit: {err}")
        return EXIT_USAGE
    except (reg.CaseError, staff_register.StaffError) as err:
        console.error(f"fundwatch audit: 拒绝 refused: {err}")
        return EXIT_REFUSED


def _draw(con, args: argparse.Namespace, settings: Settings, me: staff_register.Staff, register: Path) -> int:
    if not args.db.is_file():
        console.error(f"fundwatch audit: 数据库文件不存在 no published database at {args.db.resolve()}")
        return EXIT_USAGE
    with reader(args.db, memory_limit=settings.duckdb_memory_limit) as duck:
        drawn = ia.draw(con, duck, args.month, me, seed=args.seed, rate=args.rate, today=settings.today())
    path = documents.write_checklist(register, drawn.draw_id, args.out, today=settings.today())
    console.write(
        [
            f"稽核抽样 draw {drawn.draw_id}：{documents.month_zh(drawn.month)}办结业务 {drawn.population:,} 笔，"
            f"抽取 {drawn.sampled:,} 笔，覆盖率 {fmt_pct(ratio(drawn.sampled, drawn.population))}"
            f"（不低于 {fmt_pct(drawn.rate)}）；",
            f"经办人 {drawn.operators} 人（每人均有抽取 every operator sampled），"
            f"规则疑点业务 {drawn.flagged:,} 笔全部纳入；",
            f"随机种子 seed {drawn.seed}（数据批次 run {drawn.run_id or '—'}；"
            f"fundwatch audit verify {drawn.draw_id} 可复核）",
            f"核查表 checklist: {path}",
        ]
    )
    return 0


def _result(con, args: argparse.Namespace, settings: Settings, me: staff_register.Staff) -> int:
    outcome = "ok" if args.ok else "problem"
    result_id, suspect_id = ia.record_result(
        con, me, args.draw_id, args.business_id, outcome, args.problem, args.open_case, today=settings.today()
    )
    case = f"，已立案 case {suspect_id}" if suspect_id else ""
    shown = f"{ia.RESULT_ZH[outcome]} {outcome}"
    console.write([f"已登记稽核结论 recorded: result {result_id} 业务 {args.business_id} → {shown}{case}"])
    return 0


def _verify(con, args: argparse.Namespace, settings: Settings) -> int:
    with reader(args.db, memory_limit=settings.duckdb_memory_limit) as duck:
        check = ia.verify_draw(con, duck, args.draw_id)
    lines = [f"抽样 draw {check.draw_id}：数据批次 run 抽样时 {check.run_id_then or '—'}，现 {check.run_id_now or '—'}"]
    if check.proven:
        lines.append("验证通过 proven：以记录的随机种子重新抽取，样本与记录完全一致 the same sample")
    else:
        if not check.same_population:
            lines.append("办结业务总体已变化 the population differs from the one drawn from (data changed since)")
        if not check.same_sample:
            lines.append(
                f"样本不一致 the sample differs: "
                f"记录有而重抽无 {len(check.missing)} 笔 {', '.join(check.missing[:10])}；"
                f"重抽有而记录无 {len(check.extra)} 笔 {', '.join(check.extra[:10])}"
            )
    console.write(lines)
    return 0 if check.proven else EXIT_UNPROVEN


def _list(con) -> int:
    rows = []
    for d in ia.draws(con):
        status = "有效 in force" if d["in_force"] else f"已撤销 withdrawn（{mask_text(d['withdrawal_reason'] or '')}）"
        rows.append(
            [
                d["draw_id"],
                d["month"],
                d["population"],
                d["sampled"],
                fmt_pct(ratio(d["sampled"], d["population"])),
                d["flagged"],
                d["recorded"],
                d["seed"],
                d["drawn_by"],
                documents.at_text(d["drawn_at"]),
                status,
            ]
        )
    headers = [
        ("抽样\ndraw", True),
        ("月份\nmonth", False),
        ("办结\npopulation", True),
        ("抽取\nsampled", True),
        ("覆盖率\ncoverage", True),
        ("规则疑点\nflagged", True),
        ("已录入\nrecorded", True),
        ("随机种子\nseed", True),
        ("抽样人\nby", False),
        ("抽样时间\nat", False),
        ("状态\nstatus", False),
    ]
    columns = [Column(h, numeric=n) for h, n in headers]
    console.write([console.table(columns, rows, title="稽核抽样 internal audit draws"), "", f"共 {len(rows)} 次 draws"])
    return 0
