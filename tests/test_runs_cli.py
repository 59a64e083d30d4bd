"""`fundwatch runs`: the operator's run history, newest first; a locked file is said so, exit status 3."""

from __future__ import annotations

import argparse
import datetime as dt
import subprocess
import sys
from pathlib import Path

import pytest

from pipelines.app.commands.runs import EXIT_LOCKED, add_parser, format_duration
from pipelines.app.commands.runs import run as run_runs_command
from pipelines.app.settings import Settings
from pipelines.warehouse.session import connect

RUNS = [
    # run_id, as_of, started_at, finished_at, status, ingest, rules, cases, files l/s/r/x, rows, quarantined, findings
    (
        "20261125T220000-aaaaaa",
        dt.date(2026, 11, 25),
        dt.datetime(2026, 11, 25, 22, 0, 0),
        dt.datetime(2026, 11, 25, 22, 1, 5),
        "succeeded",
        40.3,
        20.0,
        4.5,
        (12, 0, 0, 0),
        12345,
        0,
        7,
    ),
    (
        "20261126T220000-bbbbbb",
        dt.date(2026, 11, 26),
        dt.datetime(2026, 11, 26, 22, 0, 0),
        dt.datetime(2026, 11, 26, 23, 2, 10),
        "bad_input",
        3725.0,
        5.0,
        None,
        (3, 1, 2, 1),
        1000,
        37,
        51,
    ),
    (
        "20261127T220000-cccccc",
        dt.date(2026, 11, 27),
        dt.datetime(2026, 11, 27, 22, 0, 0),
        None,
        "failed",
        None,
        None,
        None,
        (0, 0, 0, 0),
        0,
        0,
        0,
    ),
]


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "fundwatch.duckdb"
    con = connect(path)
    for run_id, as_of, started, finished, status, ingest, rules, cases, files, rows, quarantined, findings in RUNS:
        con.execute(
            """
            INSERT INTO runs (run_id, as_of, started_at, finished_at, status, ingest_seconds, rules_seconds,
                              cases_seconds, files_loaded, files_skipped, files_replaced, files_rejected,
                              rows_loaded, rows_quarantined, findings)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            [run_id, as_of, started, finished, status, ingest, rules, cases, *files, rows, quarantined, findings],
        )
    con.close()
    return path


def _args(db: Path, limit: int = 20) -> argparse.Namespace:
    return argparse.Namespace(command="runs", db=db, limit=limit)


def run_runs(args: argparse.Namespace) -> int:
    return run_runs_command(args, Settings(inbox=args.db.parent, db=args.db))


def test_parser_defaults(tmp_path: Path) -> None:
    parser = argparse.ArgumentParser(prog="fundwatch")
    add_parser(parser.add_subparsers(dest="command"), Settings(inbox=tmp_path, db=tmp_path / "default.duckdb"))
    args = parser.parse_args(["runs"])
    assert (args.command, args.db, args.limit) == ("runs", tmp_path / "default.duckdb", 20)
    assert parser.parse_args(["runs", "--db", "x.duckdb", "--limit", "5"]).limit == 5


def test_durations() -> None:
    assert [format_duration(s) for s in (None, 8.84, 65, 3725)] == ["-", "8.8s", "1m05s", "1h02m"]


def test_history_newest_first(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_runs(_args(db)) == 0
    out = capsys.readouterr().out.splitlines()
    assert "最近 newest 3 / 共 3 runs" in out[0]
    header_zh, header_en, rule, *rows = out[2:]
    assert header_zh.split()[:4] == ["运行", "数据日期", "开始", "状态"]
    assert header_en.split() == [
        "run_id",
        "as_of",
        "started_at",
        "status",
        "total",
        "ingest",
        "rules",
        "cases",
        "files",
        "l/s/r/x",
        "rows_loaded",
        "quarantined",
        "findings",
    ]
    assert set(rule) == {"-", " "}
    assert [r.split()[0] for r in rows] == [
        "20261127T220000-cccccc",
        "20261126T220000-bbbbbb",
        "20261125T220000-aaaaaa",
    ]
    # run_id, as_of, started (date, time), status (zh, en), total, ingest, rules, cases, files, rows, q, findings
    assert rows[0].split() == [
        "20261127T220000-cccccc",
        "2026-11-27",
        "2026-11-27",
        "22:00:00",
        "失败",
        "failed",
        "-",
        "-",
        "-",
        "-",
        "0/0/0/0",
        "0",
        "0",
        "0",
    ]
    assert rows[1].split()[4:] == [
        "有隔离/拒收",
        "bad_input",
        "1h02m",
        "1h02m",
        "5.0s",
        "-",
        "3/1/2/1",
        "1,000",
        "37",
        "51",
    ]
    assert rows[2].split()[4:] == [
        "成功",
        "succeeded",
        "1m05s",
        "40.3s",
        "20.0s",
        "4.5s",
        "12/0/0/0",
        "12,345",
        "0",
        "7",
    ]


def display_width(s: str) -> int:
    """Display width in a terminal: CJK characters take two columns."""
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in s)


def test_columns_line_up_with_chinese_text(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run_runs(_args(db))
    table = capsys.readouterr().out.splitlines()[2:]
    # right-aligned numbers end in the same terminal column on every line (CJK counts two columns)
    assert len({display_width(line) for line in table}) == 1


def test_limit(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_runs(_args(db, limit=1)) == 0
    out = capsys.readouterr().out.splitlines()
    assert "最近 newest 1 / 共 3 runs" in out[0]
    assert len(out) == 2 + 3 + 1
    assert out[-1].startswith("20261127T220000-cccccc")


def test_no_runs_yet(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "empty.duckdb"
    connect(path).close()
    assert run_runs(_args(path)) == 0
    assert "no runs yet" in capsys.readouterr().out


def test_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_runs(_args(tmp_path / "nowhere.duckdb")) == 2
    assert "database file not found" in capsys.readouterr().err


def test_locked_by_a_running_job(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys, time; con = duckdb.connect(sys.argv[1]); print('ready', flush=True); time.sleep(60)",
            str(db),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
        assert run_runs(_args(db)) == EXIT_LOCKED
    finally:
        holder.kill()
        holder.wait()
    err = capsys.readouterr().err
    assert "数据库文件正被其他进程写入" in err
    assert "is locked by another process" in err
    # once the job has let go, the history reads again
    assert run_runs(_args(db)) == 0


def test_why_a_run_failed_is_shown_under_the_table(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    con = connect(db)
    con.execute("UPDATE runs SET error = 'OSError: [Errno 28] No space left on device' WHERE status = 'failed'")
    con.close()
    assert run_runs(_args(db)) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[-2:] == [
        "失败原因 why runs failed:",
        "  - 20261127T220000-cccccc: OSError: [Errno 28] No space left on device",
    ]
