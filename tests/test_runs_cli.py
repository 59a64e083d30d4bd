"""`fundwatch runs`: the operator's run history, newest first; a locked file is said so, exit status 3."""

from __future__ import annotations

import argparse
import datetime as dt
import subprocess
import sys
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pytest

from pipelines.app.commands.runs import EXIT_LOCKED, add_parser, format_duration
from pipelines.app.commands.runs import run as run_runs_command
from pipelines.app.settings import Settings
from pipelines.warehouse import runs
from pipelines.warehouse.session import connect, ensure_schema

SHANGHAI = ZoneInfo("Asia/Shanghai")
RUNS = [
    # run_id, as_of, started_at, finished_at, status, ingest, rules, cases, files l/s/r/x, rows, quarantined, findings
    (
        "20261125T220000-aaaaaa",
        dt.date(2026, 11, 25),
        dt.datetime(2026, 11, 25, 22, 0, 0, tzinfo=SHANGHAI),
        dt.datetime(2026, 11, 25, 22, 1, 5, tzinfo=SHANGHAI),
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
        dt.datetime(2026, 11, 26, 22, 0, 0, tzinfo=SHANGHAI),
        dt.datetime(2026, 11, 26, 23, 2, 10, tzinfo=SHANGHAI),
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
        dt.datetime(2026, 11, 27, 22, 0, 0, tzinfo=SHANGHAI),
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
    runs.zone_timestamps(con)  # as every run does first: times with their zone
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
    # run_id, as_of, started (date, time+offset), status (zh, en), total, ingest, rules, cases, files, rows, q,
    # findings
    assert rows[0].split() == [
        "20261127T220000-cccccc",
        "2026-11-27",
        "2026-11-27",
        "22:00:00+08:00",
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


def test_times_are_shown_in_the_office_zone_with_their_offset(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The same instant, shown for an office in Urumqi (UTC+6): two hours earlier, and says so."""
    args = _args(db)
    assert run_runs_command(args, Settings(inbox=db.parent, db=db, timezone="Asia/Urumqi")) == 0
    rows = capsys.readouterr().out.splitlines()[5:]
    assert rows[0].split()[2:4] == ["2026-11-27", "20:00:00+06:00"]


@pytest.fixture
def machine_in_utc(monkeypatch: pytest.MonkeyPatch):
    """The machine's local time zone is UTC (the zone naive times of older files were written in)."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def old_file(tmp_path: Path) -> Path:
    """A file written before runs had zones: naive TIMESTAMP columns, the machine's local time (UTC here)."""
    path = tmp_path / "old.duckdb"
    con = connect(path)
    assert con.execute(
        "SELECT data_type FROM information_schema.columns WHERE column_name = 'started_at'"
    ).fetchall() == [("TIMESTAMP",)]
    con.execute(
        "INSERT INTO runs (run_id, as_of, started_at, finished_at, status) VALUES "
        "('20261201T180000-old000', DATE '2026-12-02', TIMESTAMP '2026-12-01 18:00:00', "
        "TIMESTAMP '2026-12-01 18:01:05', 'succeeded')"
    )
    con.close()
    return path


def test_an_old_file_with_naive_times_is_still_read_in_the_office_zone(
    machine_in_utc, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = old_file(tmp_path)
    assert run_runs(_args(path)) == 0
    row = capsys.readouterr().out.splitlines()[5]
    assert row.split()[2:4] == ["2026-12-02", "02:00:00+08:00"] and "1m05s" in row


def test_a_run_converts_an_old_file_keeping_every_instant(machine_in_utc, tmp_path: Path) -> None:
    path = old_file(tmp_path)
    con = connect(path)
    try:
        runs.zone_timestamps(con)
        runs.zone_timestamps(con)  # once converted, nothing more to do
        types = con.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_name = 'runs' AND column_name IN ('started_at', 'finished_at') ORDER BY column_name"
        ).fetchall()
        started, finished = con.execute("SELECT started_at, finished_at FROM runs").fetchone()
    finally:
        con.close()
    assert types == [("finished_at", "TIMESTAMP WITH TIME ZONE"), ("started_at", "TIMESTAMP WITH TIME ZONE")]
    assert started == dt.datetime(2026, 12, 2, 2, 0, tzinfo=SHANGHAI)
    assert finished - started == dt.timedelta(seconds=65)


def test_a_run_records_aware_times_only() -> None:
    con = connect_memory()
    try:
        with pytest.raises(ValueError, match="zone"):
            runs.start_run(con, "r1", dt.date(2026, 12, 2), "inbox", dt.datetime(2026, 12, 2, 10, 0))
        runs.start_run(con, "r1", dt.date(2026, 12, 2), "inbox", dt.datetime(2026, 12, 2, 10, 0, tzinfo=SHANGHAI))
        runs.finish_run(con, "r1", "succeeded", {}, finished_at=dt.datetime(2026, 12, 2, 2, 5, tzinfo=dt.UTC))
        con.execute("SET TimeZone = 'Asia/Shanghai'")
        assert con.execute("SELECT started_at::VARCHAR, finished_at::VARCHAR FROM runs").fetchall() == [
            ("2026-12-02 10:00:00+08", "2026-12-02 10:05:00+08")
        ]
    finally:
        con.close()


def connect_memory() -> duckdb.DuckDBPyConnection:
    """An in-memory warehouse with the schema of a new file."""
    con = duckdb.connect()
    ensure_schema(con)
    return con
