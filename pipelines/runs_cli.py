"""`fundwatch runs`: the run history an operator reads (运行记录), newest first.

One line per nightly run: when, with what outcome, how long each phase took, what it did with the
inbox and how many findings it left. It reads the DuckDB file read-only and never waits for a lock:
if a job holds the file for writing, it says so and exits with status 3.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

import duckdb

from pipelines.store import DUCKDB_CONFIG
from pipelines.summary import display_width, pad

EXIT_LOCKED = 3

RUN_STATUS_ZH = {
    "succeeded": "成功",
    "bad_input": "有隔离/拒收",
    "failed": "失败",
    "running": "运行中",
}

# Newest first. LIMIT is a bound value; the columns are those of sql/ddl/001_runs.sql and 005 (a file
# last written before 005 existed shows its rules as computed).
RUNS_QUERY = """
SELECT run_id, as_of, started_at, finished_at, status,
       ingest_seconds, rules_seconds, cases_seconds,
       files_loaded, files_skipped, files_replaced, files_rejected,
       rows_loaded, rows_quarantined, findings, {rules_skipped}
FROM runs
ORDER BY started_at DESC, run_id DESC
LIMIT ?
"""
CARRIED = "沿用 carried"  # the rules' inputs had not changed: the findings were carried forward

# Two header lines: Chinese above, the English column names below.
HEADER_ZH = [
    "运行",
    "数据日期",
    "开始",
    "状态",
    "总耗时",
    "载入",
    "规则",
    "案件",
    "文件 载入/跳过/替换/拒收",
    "载入行",
    "隔离行",
    "疑点",
]
HEADER_EN = [
    "run_id",
    "as_of",
    "started_at",
    "status",
    "total",
    "ingest",
    "rules",
    "cases",
    "files l/s/r/x",
    "rows_loaded",
    "quarantined",
    "findings",
]
LEFT_ALIGNED = {0, 1, 2, 3}


def add_runs_parser(sub: argparse._SubParsersAction, default_db: Path) -> None:
    runs = sub.add_parser("runs", help="run history, newest first (运行记录)")
    runs.add_argument("--db", type=Path, default=default_db, help=f"DuckDB file (default {default_db})")
    runs.add_argument("--limit", type=int, default=20, help="how many runs to show (default 20)")


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


def status_text(status: str) -> str:
    zh = RUN_STATUS_ZH.get(status)
    return f"{zh} {status}" if zh else status


def run_rows(runs: list[tuple]) -> list[list[str]]:
    """The table cells of each run, as the operator reads them."""
    table = []
    for (
        run_id,
        as_of,
        started_at,
        finished_at,
        status,
        ingest_s,
        rules_s,
        cases_s,
        files_loaded,
        files_skipped,
        files_replaced,
        files_rejected,
        rows_loaded,
        rows_quarantined,
        findings,
        rules_skipped,
    ) in runs:
        total = (finished_at - started_at).total_seconds() if finished_at and started_at else None
        table.append(
            [
                str(run_id),
                str(as_of),
                started_at.strftime("%Y-%m-%d %H:%M:%S") if isinstance(started_at, dt.datetime) else str(started_at),
                status_text(status),
                format_duration(total),
                format_duration(ingest_s),
                format_duration(rules_s) + (f" {CARRIED}" if rules_skipped else ""),
                format_duration(cases_s),
                f"{files_loaded or 0}/{files_skipped or 0}/{files_replaced or 0}/{files_rejected or 0}",
                f"{rows_loaded or 0:,}",
                f"{rows_quarantined or 0:,}",
                f"{findings or 0:,}",
            ]
        )
    return table


def render_table(headers: list[list[str]], rows: list[list[str]]) -> str:
    widths = [max(display_width(r[i]) for r in [*headers, *rows]) for i in range(len(headers[0]))]

    def line(cells: list[str]) -> str:
        return "  ".join(
            pad(c, w, right=i not in LEFT_ALIGNED) for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    return "\n".join([*(line(h) for h in headers), "  ".join("-" * w for w in widths), *(line(r) for r in rows)])


def run_runs(args: argparse.Namespace) -> int:
    db: Path = args.db
    if args.limit < 1:
        print("fundwatch runs: --limit 须为正整数 must be a positive number", file=sys.stderr)
        return 2
    if not db.exists():
        print(f"fundwatch runs: 数据库文件不存在 database file not found: {db}", file=sys.stderr)
        return 2
    try:
        con = duckdb.connect(str(db), read_only=True, config=DUCKDB_CONFIG)
    except duckdb.IOException as err:
        if "lock" not in str(err).lower():
            raise
        print(
            f"fundwatch runs: 数据库文件正被其他进程写入（可能是正在运行的夜间任务），请稍后再试。\n"
            f"The database file {db} is locked by another process (probably a running nightly job); "
            f"try again when it has finished.\n({err})",
            file=sys.stderr,
        )
        return EXIT_LOCKED
    try:
        total_runs = con.execute("SELECT count(*) FROM runs").fetchone()[0]
        columns = {
            name
            for (name,) in con.execute("SELECT column_name FROM duckdb_columns() WHERE table_name = 'runs'").fetchall()
        }
        skipped = "rules_skipped" if "rules_skipped" in columns else "false"
        runs = con.execute(RUNS_QUERY.format(rules_skipped=skipped), [args.limit]).fetchall()
    except duckdb.CatalogException:
        print(f"fundwatch runs: 不是 fundwatch 数据库 not a fundwatch database (no runs table): {db}", file=sys.stderr)
        return 2
    finally:
        con.close()

    if not runs:
        print(f"尚无运行记录 no runs yet in {db}")
        return 0
    print(f"fundwatch 运行记录 run history  {db}  最近 newest {len(runs)} / 共 {total_runs} runs")
    print()
    print(render_table([HEADER_ZH, HEADER_EN], run_rows(runs)))
    return 0
