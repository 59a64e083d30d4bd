"""`fundwatch report …`: the reports of the 四定一限 cycle, in Markdown and XLSX.

    fundwatch report monthly --month YYYYMM
    fundwatch report half-year --year YYYY [--half 1|2]
    fundwatch report annual --year YYYY
    fundwatch report circulation [--as-of DATE]
    fundwatch report yaoqing --year YYYY --half 1|2
    fundwatch report adjudication --month YYYY-MM [--as-of DATE]
    fundwatch report indicators [--from YYYYMM] [--to YYYYMM]

Every kind reads the case register (default beside the DuckDB file); every kind but `adjudication` (the monthly
adjudication of screened payments, whose figures are all in the register) reads the DuckDB file too.
"""

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
    adjudication = kinds.add_parser(
        "adjudication", help="事前筛查核实认定月报 monthly adjudication of screened payments (held, released, stopped)"
    )
    adjudication.add_argument("--month", type=month_arg, required=True, help="YYYY-MM (or YYYYMM): screened that month")
    adjudication.add_argument(
        "--as-of", type=date_arg, default=None, help="decisions in force at the end of this day (default: today)"
    )
    indicators = kinds.add_parser("indicators", help="监测指标 indicator history per region, with early warnings")
    indicators.add_argument("--from", dest="month_from", type=month_arg, default=None, help="YYYYMM, first month")
    indicators.add_argument("--to", dest="month_to", type=month_arg, default=None, help="YYYYMM, last month")


def run(args: argparse.Namespace, settings: Settings) -> int:
    register = args.register or register_path_for(args.db)
    # every report of cases reads it (the near-miss pairs, docs/adr/0019-report-time-base.md); screening's does not
    if args.report_kind != "adjudication" and not args.db.is_file():
        console.error(f"fundwatch report: 数据库不存在 no database at {args.db.resolve()} (give --db)")
        return 2
    if args.report_kind == "indicators":  # the DuckDB file's history alone: no register needed
        if args.month_from and args.month_to and args.month_from > args.month_to:
            console.error(f"fundwatch report: --from {args.month_from} 晚于 is after --to {args.month_to}")
            return 2
    elif not register.exists():
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
    zone = settings.zone()
    if kind == "adjudication":
        return reports.adjudication_report(register, args.month, args.out, today=today, zone=zone, as_of=args.as_of)
    if kind == "monthly":
        return reports.monthly_self_check(
            register, args.db, args.month, args.out, today=today, memory_limit=memory_limit
        )
    if kind == "half-year":
        return reports.supervision_report(
            register, args.db, args.year, args.half, args.out, today=today, memory_limit=memory_limit, zone=zone
        )
    if kind == "annual":
        return reports.supervision_report(
            register, args.db, args.year, None, args.out, today=today, memory_limit=memory_limit, zone=zone
        )
    if kind == "indicators":
        from pipelines.cases.reports.indicators import indicators_report

        months = {"month_from": args.month_from, "month_to": args.month_to}
        return indicators_report(args.db, args.out, **months, today=today, memory_limit=memory_limit)
    if kind == "circulation":
        return reports.circulation(register, args.db, args.as_of, args.out, memory_limit=memory_limit)
    return reports.yaoqing_statistics(
        register, args.db, args.year, args.half, args.out, today=today, memory_limit=memory_limit
    )
