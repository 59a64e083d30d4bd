"""`fundwatch run`: one nightly run (ingest, validate, detect, update the cases, publish), then its summary."""

from __future__ import annotations

import argparse
import datetime as dt
from decimal import Decimal
from pathlib import Path

from pipelines.app import console, progress
from pipelines.app.settings import Settings

NAME = "run"


def add_parser(sub: argparse._SubParsersAction, settings: Settings) -> None:
    p = sub.add_parser(NAME, help="one nightly run: ingest, validate, detect, publish (每晚运行)")
    p.add_argument("--inbox", type=Path, default=settings.inbox, help=f"inbox folder (default {settings.inbox})")
    p.add_argument("--db", type=Path, default=settings.db, help=f"DuckDB file (default {settings.db})")
    p.add_argument(
        "--as-of",
        type=dt.date.fromisoformat,
        default=settings.today(),
        help=f"data date, YYYY-MM-DD (default today in {settings.timezone})",
    )
    p.add_argument(
        "--large-payment-threshold",
        type=Decimal,
        default=settings.large_payment_threshold,
        help=f"大额支付审批限额 yuan (default {settings.large_payment_threshold})",
    )
    p.set_defaults(handler=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    from pipelines.app.summary import run_and_summarise  # imports Prefect: only when a run is asked for

    if not args.inbox.is_dir():
        console.error(f"fundwatch: 收件目录不存在 inbox folder not found: {args.inbox}")
        return 2
    settings = settings.replace(inbox=args.inbox, db=args.db, large_payment_threshold=args.large_payment_threshold)
    with progress.using(progress.for_terminal()):
        outcome, summary = run_and_summarise(settings, args.as_of)
    console.write(summary)
    return outcome.exit_code
