"""`fundwatch report …`: the reports of the 四定一限 cycle, in Markdown and XLSX."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from pipelines.app import console
from pipelines.app.arguments import date_arg, month_arg
from pipelines.app.settings import Settings
from pipelines.cases.files import UnsafeOutput
from pipelines.cases.register import register_path_for

NAME = "report"


def _year(text: str) -> int:
    """A year of four digits (it names the report's files): anything else is a usage error, exit status 2."""
    if not re.fullmatch(r"[1-9][0-9]{3}", text):
        raise argparse.ArgumentTypeError(f"年份须为4位数字 a year is four digits (e.g. 2026), got {text!r}")
    return int(text)


def add_parser(sub: argparse._SubParsersAction, settings: Settings) -> None:
    report = sub.add_parser(NAME, help="定期报告 reports of the 四定一限 cycle (Markdown and XLSX)")
    report.add_argument("--db", type=Path, default=settings.db, help="DuckDB file (read only)")
    report.add_argument("--register", type=Path, default=None, help="case register, default beside the DuckDB file")
    report.add_argument("--out", type=Path, default=Path("reports"), help="folder for the report files")
    report.set_defaults(handler=run)
    kinds = report.add_subparsers(dest="report_kind", required=True)
    monthly = kinds.add_parser("monthly", help="定期自查 monthly self-check")
    monthly.add_argument("--month", type=month_arg, required=True, help="YYYYMM")
    half = kinds.add_parser("half-year", help="半年监督报告 (due end of June)")
    half.add_argument("--year", type=_year, required=True)
    half.add_argument("--half", type=int, choices=(1, 2), default=1)
    annual = kinds.add_parser("annual", help="年度监督报告 (due end of December)")
    annual.add_argument("--year", type=_year, required=True)
    circulation = kinds.add_parser("circulation", help="定期通报 ranking of regions")
    circulation.add_argument("--as-of", type=date_arg, default=settings.today())
    yaoqing = kinds.add_parser("yaoqing", help="要情统计 half-year statistics, zero report included")
    yaoqing.add_argument("--year", type=_year, required=True)
    yaoqing.add_argument("--half", type=int, choices=(1, 2), required=True)


def run(args: argparse.Namespace, settings: Settings) -> int:
    register = args.register or register_path_for(args.db)
    if not args.db.is_file():  # every report reads it (the near-miss pairs, docs/adr/0019-report-time-base.md)
        console.error(f"fundwatch report: 数据库不存在 no database at {args.db.resolve()} (give --db)")
        return 2
    if not register.exists():
        console.error(f"fundwatch report: 案件登记簿不存在 no case register at {register}")
        return 2
    try:
        paths = _write(args, settings, register)
    except UnsafeOutput as err:
        console.error(f"fundwatch report: {err}")
        return 2
    console.write([f"报告 report: {path}" for path in paths])
    return 0


def _write(args: argparse.Namespace, settings: Settings, register: Path) -> list[Path]:
    from pipelines.cases import reports

    kind, today, memory_limit = args.report_kind, settings.today(), settings.duckdb_memory_limit
    if kind == "monthly":
        return reports.monthly_self_check(
            register, args.db, args.month, args.out, today=today, memory_limit=memory_limit
        )
    if kind == "half-year":
        return reports.supervision_report(
            register, args.db, args.year, args.half, args.out, today=today, memory_limit=memory_limit
        )
    if kind == "annual":
        return reports.supervision_report(
            register, args.db, args.year, None, args.out, today=today, memory_limit=memory_limit
        )
    if kind == "circulation":
        return reports.circulation(register, args.db, args.as_of, args.out, memory_limit=memory_limit)
    return reports.yaoqing_statistics(
        register, args.db, args.year, args.half, args.out, today=today, memory_limit=memory_limit
    )
