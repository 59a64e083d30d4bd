"""`fundwatch case …`: the analyst's commands on the case register (四定一限)."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from decimal import Decimal, InvalidOperation
from pathlib import Path

import polars as pl

from pipelines.cases import register as reg
from pipelines.cases.calendar import CalendarNotCovered
from pipelines.summary import display_width, pad

LIST_COLUMNS = (
    ("suspect_id", "疑点编号 id"),
    ("rule", "规则 rule"),
    ("region_code", "统筹区 region"),
    ("subject_id", "对象 subject"),
    ("amount_at_risk", "金额 amount"),
    ("status", "状态 status"),
    ("assignee", "核查人 assignee"),
    ("due_date", "期限 due"),
)


def _date(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def _money(text: str) -> Decimal:
    try:
        return Decimal(text.replace(",", ""))
    except InvalidOperation as err:
        raise argparse.ArgumentTypeError(f"not an amount: {text}") from err


def add_case_parser(sub: argparse._SubParsersAction, default_db: Path) -> None:
    case = sub.add_parser("case", help="核查案件 the case register: list, show, assign, verify, dismiss, rectify")
    case.add_argument(
        "--register",
        type=Path,
        default=reg.register_path_for(default_db),
        help="case register (SQLite) beside the DuckDB file",
    )
    commands = case.add_subparsers(dest="case_command", required=True)

    listing = commands.add_parser("list", help="列出案件 list cases")
    listing.add_argument("--rule")
    listing.add_argument("--region")
    listing.add_argument("--status", choices=sorted(reg.STATUS_ZH))
    listing.add_argument("--min-amount", type=_money)
    listing.add_argument("--max-amount", type=_money)
    listing.add_argument("--limit", type=int, default=50)
    listing.add_argument("--as-of", type=_date, default=dt.date.today())

    show = commands.add_parser("show", help="案件详情与记录 one case and its history")
    show.add_argument("suspect_id")
    show.add_argument("--as-of", type=_date, default=dt.date.today())

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
        p.add_argument("--on", type=_date, default=dt.date.today(), help="date, default today")
        p.add_argument("--reason", default=None, required=name == "dismiss")
        if name == "assign":
            p.add_argument("--assignee", required=True)
            p.add_argument("--region", default=None, help="pooling region, default the finding's (下查一级)")
        if name == "rectify":
            p.add_argument("--recovered", type=_money, required=True, help="追回金额 yuan")

    export = commands.add_parser("export", help="核查清单 XLSX of a region's open cases")
    export.add_argument("--region", required=True)
    export.add_argument("--out", type=Path, required=True, help="folder")
    export.add_argument("--no-mask", action="store_true", help="show full citizen IDs (默认脱敏)")
    export.add_argument("--as-of", type=_date, default=dt.date.today())


def _table(frame: pl.DataFrame) -> str:
    header = [label for _, label in LIST_COLUMNS]
    rows = [[("" if v is None else str(v)) for v in row] for row in frame.select(c for c, _ in LIST_COLUMNS).rows()]
    widths = [max(display_width(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(pad(c, w) for c, w in zip(r, widths, strict=True)) for r in [header, *rows]]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _shown_status(frame: pl.DataFrame) -> pl.DataFrame:
    status = pl.when(pl.col("overdue")).then(pl.lit("overdue")).otherwise(pl.col("status"))
    return frame.with_columns(
        pl.concat_str([status.replace_strict(reg.STATUS_ZH), pl.lit(" "), status]).alias("status")
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
    frame = _shown_status(frame.sort(amount, descending=True).head(args.limit))
    print(_table(frame))
    shown = f"（显示前 {args.limit} showing the first {args.limit}）" if total > args.limit else ""
    print(f"\n共 {total} 件 cases{shown}")
    return 0


def cmd_show(con, args: argparse.Namespace) -> int:
    frame = reg.cases_frame(con, args.as_of).filter(pl.col("suspect_id") == args.suspect_id)
    if frame.is_empty():
        raise reg.CaseError(f"没有这个疑点 no such case: {args.suspect_id}")
    case = _shown_status(frame).row(0, named=True)
    for key, value in case.items():
        if value is not None:
            print(f"{key:>18}: {value}")
    print("\n记录 history:")
    for e in reg.events(con, args.suspect_id):
        change = f"{e['from_status'] or '-'} -> {e['to_status'] or '-'}"
        print(f"  {e['at']}  {e['actor']:<28} {e['action']:<15} {change:<40} {e['reason'] or ''}")
    return 0


def cmd_change(con, args: argparse.Namespace) -> int:
    sid, by, on = args.suspect_id, args.by, args.on
    if args.case_command == "assign":
        due = reg.assign(con, sid, assignee=args.assignee, by=by, on=on, region_code=args.region, reason=args.reason)
        print(f"{sid}: 已交办 assigned to {args.assignee}; 整改期限 due {due}")
    elif args.case_command == "verify":
        severity = reg.verify(con, sid, by=by, on=on, reason=args.reason)
        print(f"{sid}: 确认违规 confirmed, {severity}; 须5个工作日内报告 report within 5 working days")
    elif args.case_command == "dismiss":
        reg.dismiss(con, sid, by=by, reason=args.reason)
        print(f"{sid}: 已排除 dismissed")
    elif args.case_command == "rectify":
        reg.rectify(con, sid, by=by, on=on, recovered=args.recovered, reason=args.reason)
        print(f"{sid}: 已整改 rectified, 追回 recovered {args.recovered:,.2f}")
    else:
        reg.mark_reported(con, sid, by=by, on=on)
        print(f"{sid}: 已报告 reported on {on}")
    return 0


def cmd_export(con, args: argparse.Namespace) -> int:
    from pipelines.cases.export import export_checklist

    target = args.out / f"核查清单_{args.region}_{args.as_of.isoformat()}.xlsx"
    cases = reg.cases_frame(con, args.as_of)
    path = export_checklist(cases, args.region, target, mask_ids=not args.no_mask, generated_on=args.as_of)
    print(f"核查清单 checklist: {path}")
    return 0


def run_case(args: argparse.Namespace) -> int:
    con = reg.open_register(args.register)
    try:
        handler = {"list": cmd_list, "show": cmd_show, "export": cmd_export}.get(args.case_command, cmd_change)
        return handler(con, args)
    except (reg.CaseError, CalendarNotCovered) as err:
        print(f"fundwatch case: {err}", file=sys.stderr)
        return 2
    finally:
        con.close()


def add_report_parser(sub: argparse._SubParsersAction, default_db: Path) -> None:
    report = sub.add_parser("report", help="定期报告 reports of the 四定一限 cycle (Markdown and XLSX)")
    report.add_argument("--db", type=Path, default=default_db, help="DuckDB file (read only)")
    report.add_argument("--register", type=Path, default=None, help="case register, default beside the DuckDB file")
    report.add_argument("--out", type=Path, default=Path("reports"), help="folder for the report files")
    kinds = report.add_subparsers(dest="report_kind", required=True)
    monthly = kinds.add_parser("monthly", help="定期自查 monthly self-check")
    monthly.add_argument("--month", required=True, help="YYYYMM")
    half = kinds.add_parser("half-year", help="半年监督报告 (due end of June)")
    half.add_argument("--year", type=int, required=True)
    half.add_argument("--half", type=int, choices=(1, 2), default=1)
    annual = kinds.add_parser("annual", help="年度监督报告 (due end of December)")
    annual.add_argument("--year", type=int, required=True)
    circulation = kinds.add_parser("circulation", help="定期通报 ranking of regions")
    circulation.add_argument("--as-of", type=_date, default=dt.date.today())
    yaoqing = kinds.add_parser("yaoqing", help="要情统计 half-year statistics, zero report included")
    yaoqing.add_argument("--year", type=int, required=True)
    yaoqing.add_argument("--half", type=int, choices=(1, 2), required=True)


def run_report(args: argparse.Namespace) -> int:
    from pipelines.cases import reports

    register = args.register or reg.register_path_for(args.db)
    if not register.exists():
        print(f"fundwatch report: 案件登记簿不存在 no case register at {register}", file=sys.stderr)
        return 2
    kind = args.report_kind
    if kind == "monthly":
        paths = reports.monthly_self_check(register, args.db, args.month, args.out)
    elif kind == "half-year":
        paths = reports.supervision_report(register, args.db, args.year, args.half, args.out)
    elif kind == "annual":
        paths = reports.supervision_report(register, args.db, args.year, None, args.out)
    elif kind == "circulation":
        paths = reports.circulation(register, args.as_of, args.out)
    else:
        paths = reports.yaoqing_statistics(register, args.year, args.half, args.out)
    for path in paths:
        print(f"报告 report: {path}")
    return 0
