"""`fundwatch case …`: the analyst's commands on the case register (四定一限).

Exit statuses: 0 done; 2 refused (a usage error, a request the register refuses, an output outside its
folder); 5 `case verify-log` found the case log broken (edited, missing or reordered events).
"""

from __future__ import annotations

import argparse
import datetime as dt
from decimal import Decimal, InvalidOperation
from pathlib import Path

import polars as pl

from pipelines.app import console
from pipelines.app.console import Column
from pipelines.app.settings import Settings
from pipelines.cases import audit, files
from pipelines.cases import register as reg
from pipelines.cases.calendar import CalendarNotCovered
from pipelines.present.labels import CASE_STATUS_ZH, case_status_label
from pipelines.present.money import fmt_money

NAME = "case"
EXIT_REFUSED = 2
EXIT_LOG_BROKEN = 5

LIST_COLUMNS = (
    ("suspect_id", Column("疑点编号 id")),
    ("rule", Column("规则 rule")),
    ("region_code", Column("统筹区 region")),
    ("subject_id", Column("对象 subject")),
    ("amount_at_risk", Column("金额 amount", numeric=True)),
    ("status", Column("状态 status")),
    ("assignee", Column("核查人 assignee")),
    ("due_date", Column("期限 due")),
)
HISTORY_COLUMNS = [
    Column("时间 at"),
    Column("经办 actor"),
    Column("动作 action"),
    Column("状态变化 from -> to"),
    Column("理由 reason"),
]


def _money(text: str) -> Decimal:
    try:
        return Decimal(text.replace(",", ""))
    except InvalidOperation as err:
        raise argparse.ArgumentTypeError(f"not an amount: {text}") from err


def _region(text: str) -> str:
    try:
        return files.region_code(text)
    except files.UnsafeOutput as err:
        raise argparse.ArgumentTypeError(str(err)) from err


def add_parser(sub: argparse._SubParsersAction, settings: Settings) -> None:
    today = settings.today()
    case = sub.add_parser(NAME, help="核查案件 the case register: list, show, assign, verify, dismiss, rectify")
    case.add_argument(
        "--register", type=Path, default=settings.register, help="case register (SQLite) beside the DuckDB file"
    )
    case.set_defaults(handler=run)
    commands = case.add_subparsers(dest="case_command", required=True)

    listing = commands.add_parser("list", help="列出案件 list cases")
    listing.add_argument("--rule")
    listing.add_argument("--region")
    listing.add_argument("--status", choices=sorted(CASE_STATUS_ZH))
    listing.add_argument("--min-amount", type=_money)
    listing.add_argument("--max-amount", type=_money)
    listing.add_argument("--limit", type=int, default=50)
    listing.add_argument("--as-of", type=dt.date.fromisoformat, default=today)

    show = commands.add_parser("show", help="案件详情与记录 one case and its history")
    show.add_argument("suspect_id")
    show.add_argument("--as-of", type=dt.date.fromisoformat, default=today)

    for name, text in (
        ("assign", "交办核查 assign to a verifier (限期30个工作日)"),
        ("verify", "核查确认违规 confirm the violation"),
        ("dismiss", "核查排除 dismiss, with a reason"),
        ("rectify", "整改完成 rectified, with the amount recovered"),
        ("report", "要情已上报 the confirmed case was reported"),
    ):
        p = commands.add_parser(name, help=text)
        p.add_argument("suspect_id")
        p.add_argument("--by", required=True, help="who records this (工号)")
        p.add_argument("--on", type=dt.date.fromisoformat, default=today, help="date, default today")
        p.add_argument("--reason", default=None, required=name == "dismiss")
        if name == "assign":
            p.add_argument("--assignee", required=True)
            p.add_argument("--region", default=None, help="pooling region, default the finding's (下查一级)")
        if name == "rectify":
            p.add_argument("--recovered", type=_money, required=True, help="追回金额 yuan")

    export = commands.add_parser("export", help="核查清单 XLSX of a region's open cases")
    export.add_argument("--region", type=_region, required=True, help="统筹区代码, six digits")
    export.add_argument("--out", type=Path, required=True, help="folder (the file is written inside it)")
    export.add_argument("--no-mask", action="store_true", help="show full citizen IDs (默认脱敏)")
    export.add_argument("--as-of", type=dt.date.fromisoformat, default=today)

    verify_log = commands.add_parser(
        "verify-log", help="核验案件记录 check the case log's hash chain (exit 5 if broken)"
    )
    # also accepted after the subcommand; without it, the value given to `case` (or its default) stands
    verify_log.add_argument("--register", type=Path, default=argparse.SUPPRESS, help="case register (SQLite)")


def _shown_status(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_columns(
        pl.struct("status", "overdue")
        .map_elements(lambda c: case_status_label(c["status"], bool(c["overdue"])), return_dtype=pl.String)
        .alias("status")
    )


def cmd_list(con, args: argparse.Namespace) -> int:
    frame = reg.cases_frame(con, args.as_of)
    if args.rule:
        frame = frame.filter(pl.col("rule") == args.rule)
    if args.region:
        frame = frame.filter(pl.coalesce("assigned_region", "region_code") == args.region)
    if args.status == "overdue":
        frame = frame.filter(pl.col("overdue"))
    elif args.status:
        frame = frame.filter(pl.col("status") == args.status)
    amount = pl.col("amount_at_risk").cast(pl.Decimal(18, 2))
    if args.min_amount is not None:
        frame = frame.filter(amount >= args.min_amount)
    if args.max_amount is not None:
        frame = frame.filter(amount <= args.max_amount)
    total = frame.height
    frame = _shown_status(frame.sort(amount, descending=True).head(args.limit)).with_columns(
        pl.col("amount_at_risk").map_elements(lambda v: fmt_money(Decimal(v)), return_dtype=pl.String)
    )
    rows = frame.select(c for c, _ in LIST_COLUMNS).rows()
    shown = f"（显示前 {args.limit} showing the first {args.limit}）" if total > args.limit else ""
    console.write([console.table([c for _, c in LIST_COLUMNS], rows), "", f"共 {total} 件 cases{shown}"])
    return 0


def cmd_show(con, args: argparse.Namespace) -> int:
    frame = reg.cases_frame(con, args.as_of).filter(pl.col("suspect_id") == args.suspect_id)
    if frame.is_empty():
        raise reg.CaseError(f"没有这个疑点 no such case: {args.suspect_id}")
    case = _shown_status(frame).row(0, named=True)
    for money in ("amount_at_risk", "recovered_amount"):
        if case[money] is not None:
            case[money] = fmt_money(Decimal(case[money]))
    lines: list = [f"{key:>18}: {value}" for key, value in case.items() if value is not None]
    history = [
        [e["at"], e["actor"], e["action"], f"{e['from_status'] or '-'} -> {e['to_status'] or '-'}", e["reason"]]
        for e in reg.events(con, args.suspect_id)
    ]
    console.write([*lines, "", "记录 history:", console.table(HISTORY_COLUMNS, history)])
    return 0


def cmd_change(con, args: argparse.Namespace) -> int:
    sid, by, on = args.suspect_id, args.by, args.on
    if args.case_command == "assign":
        due = reg.assign(con, sid, assignee=args.assignee, by=by, on=on, region_code=args.region, reason=args.reason)
        message = f"{sid}: 已交办 assigned to {args.assignee}; 整改期限 due {due}"
    elif args.case_command == "verify":
        severity = reg.verify(con, sid, by=by, on=on, reason=args.reason)
        message = f"{sid}: 确认违规 confirmed, {severity}; 须5个工作日内报告 report within 5 working days"
    elif args.case_command == "dismiss":
        reg.dismiss(con, sid, by=by, reason=args.reason)
        message = f"{sid}: 已排除 dismissed"
    elif args.case_command == "rectify":
        reg.rectify(con, sid, by=by, on=on, recovered=args.recovered, reason=args.reason)
        message = f"{sid}: 已整改 rectified, 追回 recovered {fmt_money(args.recovered)}"
    else:
        reg.mark_reported(con, sid, by=by, on=on)
        message = f"{sid}: 已报告 reported on {on}"
    console.write([message])
    return 0


def cmd_export(con, args: argparse.Namespace) -> int:
    from pipelines.cases.export import checklist_path, export_checklist

    target = checklist_path(args.out, args.region, args.as_of)
    cases = reg.cases_frame(con, args.as_of)
    path = export_checklist(cases, args.region, target, mask_ids=not args.no_mask, generated_on=args.as_of)
    console.write([f"核查清单 checklist: {path}"])
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


def run(args: argparse.Namespace, settings: Settings) -> int:
    handler = {"list": cmd_list, "show": cmd_show, "export": cmd_export, "verify-log": cmd_verify_log}.get(
        args.case_command, cmd_change
    )
    if args.case_command == "verify-log" and not args.register.exists():
        console.error(f"fundwatch case verify-log: 案件登记簿不存在 no case register at {args.register}")
        return EXIT_REFUSED
    try:
        with reg.writer(args.register) as con:
            return handler(con, args)
    except (reg.CaseError, CalendarNotCovered, files.UnsafeOutput) as err:
        console.error(f"fundwatch case: {err}")
        return EXIT_REFUSED
