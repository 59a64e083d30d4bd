"""`fundwatch` command line: the nightly run, the analysts' case commands, synthetic extracts."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from decimal import Decimal
from pathlib import Path

from pipelines.cases.cli import add_case_parser, add_report_parser, run_case, run_report
from pipelines.runs_cli import add_runs_parser, run_runs
from pipelines.serve import add_serve_parser, run_serve
from pipelines.settings import Settings


def _date(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def build_parser(settings: Settings) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="fundwatch", description="社保基金监督 nightly cross-checks")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="one nightly run: ingest, validate, detect, publish (每晚运行)")
    run.add_argument("--inbox", type=Path, default=settings.inbox, help=f"inbox folder (default {settings.inbox})")
    run.add_argument("--db", type=Path, default=settings.db, help=f"DuckDB file (default {settings.db})")
    run.add_argument("--as-of", type=_date, default=dt.date.today(), help="data date, YYYY-MM-DD (default today)")
    run.add_argument(
        "--large-payment-threshold",
        type=Decimal,
        default=settings.large_payment_threshold,
        help=f"大额支付审批限额 yuan (default {settings.large_payment_threshold})",
    )

    add_case_parser(sub, settings.db)
    add_report_parser(sub, settings.db)
    add_runs_parser(sub, settings.db)
    add_serve_parser(sub, settings)

    synth = sub.add_parser("synth", help="write a synthetic inbox with planted findings (合成数据)")
    synth.add_argument("--persons", type=int, required=True)
    synth.add_argument("--out", type=Path, required=True)
    synth.add_argument("--seed", type=int, default=0)
    synth.add_argument("--clean", action="store_true", help="no dirt: UTF-8 CSV, canonical values, no bad rows")
    return parser


def cmd_run(args: argparse.Namespace) -> int:
    from pipelines import store
    from pipelines.flow import nightly_run
    from pipelines.summary import findings_summary, run_summary

    if not args.inbox.is_dir():
        print(f"fundwatch: 收件目录不存在 inbox folder not found: {args.inbox}", file=sys.stderr)
        return 2
    outcome = nightly_run(args.inbox, args.db, args.as_of, args.large_payment_threshold)
    con = store.connect_readonly(args.db)  # the published file: analysts may be reading it
    try:
        print(run_summary(con, outcome.run_id))
        print()
        print(findings_summary(con, outcome.run_id))
    finally:
        con.close()
    return outcome.exit_code


def cmd_synth(args: argparse.Namespace) -> int:
    from pipelines.synth import generate

    summary = generate(args.persons, args.out, seed=args.seed, dirty=not args.clean)
    for key, value in summary.items():
        print(f"{key}: {value}")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser(Settings.from_env()).parse_args(argv)
    handlers = {
        "run": cmd_run,
        "synth": cmd_synth,
        "case": run_case,
        "report": run_report,
        "runs": run_runs,
        "serve": run_serve,
    }
    return handlers[args.command](args)


if __name__ == "__main__":
    sys.exit(main())


def console() -> None:
    """Console-script entry point: the exit status is the run's."""
    sys.exit(main())
