"""`fundwatch runs`: the run history an operator reads (运行记录), newest first.

One line per nightly run: when (in the office's time zone with its UTC offset, 2026-12-02 02:00:00+08:00;
a run recorded before times carried their zone is read as the machine's local time), with what outcome, how
long each phase took, what it did with the inbox and how many findings it left. It reads the DuckDB file
read-only and never waits for a lock: if a job holds the file for writing, it says so and exits with status 3.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb

from pipelines.app import console
from pipelines.app.console import Column
from pipelines.app.settings import Settings
from pipelines.present.labels import RUN_STATUSES, status_label
from pipelines.warehouse import runs
from pipelines.warehouse.session import WarehouseBusy, reader

NAME = "runs"
EXIT_LOCKED = 3
CARRIED = "沿用 carried"  # the rules' inputs had not changed: the findings were carried forward

# Chinese above, the English column names below.
COLUMNS = [
    Column("运行\nrun_id"),
    Column("数据日期\nas_of"),
    Column("开始\nstarted_at"),
    Column("状态\nstatus"),
    Column("总耗时\ntotal", numeric=True),
    Column("载入\ningest", numeric=True),
    Column("规则\nrules", numeric=True),
    Column("案件\ncases", numeric=True),
    Column("文件 载入/跳过/替换/拒收\nfiles l/s/r/x", numeric=True),
    Column("载入行\nrows_loaded", numeric=True),
    Column("隔离行\nquarantined", numeric=True),
    Column("疑点\nfindings", numeric=True),
]


def add_parser(sub: argparse._SubParsersAction, settings: Settings) -> None:
    p = sub.add_parser(NAME, help="run history, newest first (运行记录)")
    p.add_argument("--db", type=Path, default=settings.db, help=f"DuckDB file (default {settings.db})")
    p.add_argument("--limit", type=int, default=20, help="how many runs to show (default 20)")
    p.set_defaults(handler=run)


def format_duration(seconds: float | None) -> str:
    """8.8s, 2m05s, 1h02m; '-' when unknown (a run still going, or one that never finished)."""
    if seconds is None:
        return "-"
    if seconds < 60:
        return f"{seconds:.1f}s"
    whole = round(seconds)
    if whole < 3600:
        return f"{whole // 60}m{whole % 60:02d}s"
    return f"{whole // 3600}h{whole % 3600 // 60:02d}m"


def run_cells(r: dict[str, object], zone: ZoneInfo) -> list[str]:
    """The table cells of one run, as the operator reads them; times in `zone` (the office's)."""
    started, finished = r["started_at"], r["finished_at"]
    total = (finished - started).total_seconds() if finished and started else None
    files = "/".join(str(r.get(k) or 0) for k in ("files_loaded", "files_skipped", "files_replaced", "files_rejected"))
    return [
        str(r["run_id"]),
        str(r["as_of"]),
        runs.shown_time(started, zone),
        status_label(RUN_STATUSES, str(r["status"])),
        format_duration(total),
        format_duration(r.get("ingest_seconds")),
        format_duration(r.get("rules_seconds")) + (f" {CARRIED}" if r.get("rules_skipped") else ""),
        format_duration(r.get("cases_seconds")),
        files,
        f"{r.get('rows_loaded') or 0:,}",
        f"{r.get('rows_quarantined') or 0:,}",
        f"{r.get('findings') or 0:,}",
    ]


def run(args: argparse.Namespace, settings: Settings) -> int:
    db: Path = args.db
    if args.limit < 1:
        console.error("fundwatch runs: --limit 须为正整数 must be a positive number")
        return 2
    try:
        with reader(db, memory_limit=settings.duckdb_memory_limit) as con:
            total, history = runs.history(con, args.limit)
    except FileNotFoundError as err:
        console.error(f"fundwatch runs: {err}")
        return 2
    except WarehouseBusy as err:
        console.error(f"fundwatch runs: {err}")
        return EXIT_LOCKED
    except duckdb.CatalogException:
        console.error(f"fundwatch runs: 不是 fundwatch 数据库 not a fundwatch database (no runs table): {db}")
        return 2
    if not history:
        console.write([f"尚无运行记录 no runs yet in {db}"])
        return 0
    zone = settings.zone()
    failures = [f"  - {r['run_id']}: {r['error']}" for r in history if r.get("error")]
    console.write(
        [
            f"fundwatch 运行记录 run history  {db}  最近 newest {len(history)} / 共 {total} runs",
            "",
            console.table(COLUMNS, [run_cells(r, zone) for r in history]),
            *(["", "失败原因 why runs failed:", *failures] if failures else []),
        ]
    )
    return 0
