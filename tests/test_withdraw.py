"""Withdrawing a delivered file (ADR 0011): requested by `fundwatch withdraw`, applied by the next run.

The request waits beside the database; `apply_withdrawals` (what a run calls before it ingests) removes the
file's rows and quarantine rows, records a `withdrawn` event and the request's outcome; re-delivering the
same bytes loads them again. A request whose file is still delivered in the inbox, or that names a version
no longer in force, is refused and recorded.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from pathlib import Path

import pytest

from pipelines.app.cli import main
from pipelines.ingest.inbox import discover
from pipelines.ingest.load import ingest_files
from pipelines.ingest.registry import file_in_force
from pipelines.ingest.withdrawal import apply_withdrawals, pending_requests, queue_path, request_withdrawal
from pipelines.warehouse.session import connect

AS_OF = dt.date(2026, 11, 27)
ID_X = "11010519491231002X"
HEADER = "payment_id,person_id,region_code,scheme,benefit_type,period,amount,bank_account,pay_date\n"
ROWS = (
    f"P1,{ID_X},330100,110,pension,202403,100.00,6222001,2024-03-05\n"
    f"P2,{ID_X},330100,110,pension,202404,100.00,6222001,2024-04-05\n"
    "P3,bad-id,330100,110,pension,202405,100.00,6222001,2024-05-05\n"  # quarantined
)
FILE = "benefit_payments/a.csv"


@pytest.fixture
def inbox(tmp_path: Path) -> Path:
    path = tmp_path / "inbox" / "benefit_payments"
    path.mkdir(parents=True)
    (path / "a.csv").write_text(HEADER + ROWS, encoding="utf-8")
    (path / "b.csv").write_text(HEADER + ROWS.replace("P", "B"), encoding="utf-8")
    return tmp_path / "inbox"


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "fw.duckdb"


def ingest(inbox: Path, db: Path, run_id: str) -> dict[str, tuple[str, str | None]]:
    con = connect(db)
    try:
        return {r.file: (r.status, r.reason) for r in ingest_files(con, discover(inbox), run_id, AS_OF)}
    finally:
        con.close()


def apply(inbox: Path, db: Path, run_id: str, queue_of: Path | None = None):
    con = connect(db)
    try:
        return apply_withdrawals(con, run_id, queue_of or db, discover(inbox))
    finally:
        con.close()


def query(db: Path, sql: str, params=None):
    con = connect(db)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def in_force(db: Path, file: str = FILE) -> str | None:
    con = connect(db)
    try:
        return file_in_force(con, "benefit_payments", file)
    finally:
        con.close()


def withdraw(db: Path, inbox: Path, *args: str) -> int:
    return main(["withdraw", "benefit_payments", *args, "--db", str(db), "--inbox", str(inbox)])


def test_a_withdrawal_is_queued_then_applied_by_the_next_run_and_reversed_by_redelivery(inbox, db, capsys):
    ingest(inbox, db, "r1")
    sha = in_force(db)
    moved = inbox.parent / "a.csv"
    shutil.move(inbox / FILE, moved)  # removed from the inbox: by itself, nothing happens
    assert ingest(inbox, db, "r2") == {"benefit_payments/b.csv": ("skipped", None)}
    assert query(db, "SELECT count(*) FROM benefit_payments WHERE source_file = ?", [FILE]) == [(2,)]

    assert withdraw(db, inbox, "a.csv", "--reason", "经办机构通知: 数据有误", "--by", "V01") == 0
    assert "withdrawal requested: benefit_payments/a.csv" in capsys.readouterr().out
    ((request_file, request),) = pending_requests(db)
    assert (request.file, request.sha256, request.requested_by) == (FILE, sha, "V01")
    assert queue_path(db).stat().st_mode & 0o777 == 0o700 and request_file.stat().st_mode & 0o777 == 0o600
    assert query(db, "SELECT count(*) FROM benefit_payments WHERE source_file = ?", [FILE]) == [(2,)]  # not yet

    (done,) = apply(inbox, db, "r3")
    assert (done.outcome, done.file, done.rows_removed, done.quarantine_removed) == ("withdrawn", FILE, 2, 1)
    assert query(db, "SELECT count(*) FROM benefit_payments WHERE source_file = ?", [FILE]) == [(0,)]
    assert query(db, "SELECT count(*) FROM quarantine WHERE file = ?", [FILE]) == [(0,)]
    assert query(db, "SELECT count(*) FROM benefit_payments") == [(2,)]  # b.csv untouched
    ((status, reason, sha256),) = query(
        db, "SELECT status, reason, sha256 FROM ingested_files WHERE run_id = 'r3' AND file = ?", [FILE]
    )
    assert (status, sha256) == ("withdrawn", sha)
    assert "撤回 withdrawn at the request of V01" in reason and "经办机构通知: 数据有误" in reason
    assert "2 rows and 1 quarantined rows removed" in reason
    assert in_force(db) is None
    assert query(db, "SELECT outcome, run_id, rows_removed FROM withdrawals") == [("withdrawn", "r3", 2)]

    assert apply(inbox, db, "r3") == []  # the same run again: nothing twice, the request kept
    assert len(pending_requests(db)) == 1
    assert apply(inbox, db, "r4") == []  # a later run: r3 was published, the request leaves the queue
    assert pending_requests(db) == []

    shutil.move(moved, inbox / FILE)  # delivered again: the same bytes load again
    assert ingest(inbox, db, "r5")[FILE] == ("loaded", None)
    assert in_force(db) == sha
    assert query(db, "SELECT count(*) FROM benefit_payments WHERE source_file = ?", [FILE]) == [(2,)]


def test_a_request_applied_by_a_run_that_was_not_published_is_applied_again(inbox, db, tmp_path):
    ingest(inbox, db, "r1")
    (inbox / FILE).unlink()
    request_withdrawal(db, "benefit_payments", FILE, in_force(db), "wrong", "V01")
    building = tmp_path / "fw.duckdb.building"
    shutil.copyfile(db, building)
    assert [w.outcome for w in apply(inbox, building, "r2", queue_of=db)] == ["withdrawn"]
    building.unlink()  # the run failed: its building copy is thrown away
    assert len(pending_requests(db)) == 1 and in_force(db) is not None
    assert [w.outcome for w in apply(inbox, db, "r3")] == ["withdrawn"]
    assert in_force(db) is None


def test_a_request_is_refused_while_the_file_or_its_bytes_are_still_in_the_inbox(inbox, db):
    ingest(inbox, db, "r1")
    sha = in_force(db)
    request_withdrawal(db, "benefit_payments", FILE, sha, "wrong", "V01")
    (refused,) = apply(inbox, db, "r2")
    assert refused.outcome == "refused" and "still delivered in the inbox (benefit_payments/a.csv)" in refused.reason
    assert in_force(db) == sha and query(db, "SELECT count(*) FROM benefit_payments") == [(4,)]

    (inbox / FILE).rename(inbox / "benefit_payments" / "renamed.csv")  # the same bytes under another name
    request_withdrawal(db, "benefit_payments", FILE, sha, "wrong", "V01")
    (refused,) = apply(inbox, db, "r3")
    assert refused.outcome == "refused" and "benefit_payments/renamed.csv" in refused.reason
    assert query(db, "SELECT outcome, note IS NOT NULL FROM withdrawals ORDER BY run_id") == [
        ("refused", True),
        ("refused", True),
    ]
    assert not query(db, "SELECT * FROM ingested_files WHERE status = 'withdrawn'")


def test_a_request_naming_a_version_no_longer_in_force_is_refused(inbox, db):
    ingest(inbox, db, "r1")
    old = in_force(db)
    request_withdrawal(db, "benefit_payments", FILE, old, "wrong", "V01")
    (inbox / FILE).write_text(HEADER + ROWS.replace("100.00", "120.00"), encoding="utf-8")
    assert ingest(inbox, db, "r2")[FILE][0] == "replaced"  # a correction came in between
    (inbox / FILE).unlink()
    (refused,) = apply(inbox, db, "r3")
    assert refused.outcome == "refused" and "another version is in force" in refused.reason
    assert in_force(db) not in (None, old)
    request_withdrawal(db, "benefit_payments", "benefit_payments/never.csv", old, "wrong", "V01")
    (refused,) = apply(inbox, db, "r4")
    assert refused.outcome == "refused" and "no version of the file is in force" in refused.reason


def test_an_unreadable_request_file_is_set_aside_not_retried(inbox, db):
    ingest(inbox, db, "r1")
    queue_path(db).mkdir()
    (queue_path(db) / "20260101T000000-x.json").write_text("{not json", encoding="utf-8")
    (refused,) = apply(inbox, db, "r2")
    assert refused.outcome == "refused" and "unreadable request file" in refused.reason
    assert [p.name for p in queue_path(db).iterdir()] == ["20260101T000000-x.invalid"]
    assert apply(inbox, db, "r3") == []


def test_the_command_refuses_what_cannot_be_withdrawn(inbox, db, capsys):
    ingest(inbox, db, "r1")
    assert withdraw(db, inbox, "a.csv", "--reason", "wrong") == 2  # still in the inbox
    assert "still delivered" in capsys.readouterr().err
    (inbox / FILE).unlink()
    assert withdraw(db, inbox, "nothing.csv", "--reason", "wrong") == 2
    assert "no version of benefit_payments/nothing.csv is in force" in capsys.readouterr().err
    assert withdraw(db, inbox, "../b.csv", "--reason", "wrong") == 2
    assert main(["withdraw", "deaths", "a.csv", "--reason", "x", "--db", str(db), "--inbox", str(inbox)]) == 2
    assert withdraw(db, inbox, "a.csv", "--reason", "  ") == 2
    assert pending_requests(db) == []
    assert withdraw(db, inbox, "benefit_payments/a.csv", "--reason", "wrong", "--by", "V01") == 0
    assert withdraw(db, inbox, "a.csv", "--reason", "wrong again", "--by", "V02") == 0
    assert "already requested" in capsys.readouterr().out
    assert len(pending_requests(db)) == 1


def test_the_command_refuses_a_database_that_is_not_fundwatch_s(inbox, tmp_path, capsys):
    import duckdb

    other = tmp_path / "other.duckdb"
    duckdb.connect(str(other)).close()
    assert withdraw(other, inbox, "a.csv", "--reason", "wrong") == 2
    assert "not a fundwatch database" in capsys.readouterr().err
    assert withdraw(tmp_path / "missing.duckdb", inbox, "a.csv", "--reason", "wrong") == 2


@pytest.mark.slow
def test_through_real_runs_a_withdrawal_and_a_renamed_copy_are_said_in_the_summary(inbox, tmp_path, prefect_api):
    """`fundwatch run`, `fundwatch withdraw`, `fundwatch run` as processes: the summary says what happened."""
    import subprocess
    import sys

    import duckdb

    db = tmp_path / "fw.duckdb"

    def fundwatch(*args: str) -> subprocess.CompletedProcess:
        command = [sys.executable, "-m", "pipelines", *args]
        env = dict(os.environ) | prefect_api  # a running Prefect server: no start-up per run
        return subprocess.run(command, capture_output=True, text=True, timeout=600, env=env)

    def run() -> subprocess.CompletedProcess:
        return fundwatch("run", "--inbox", str(inbox), "--db", str(db), "--as-of", str(AS_OF))

    # a renamed copy of a.csv, corrected in one amount: a new file whose rows repeat a.csv's
    copy = (HEADER + ROWS).replace("202404,100.00", "202404,101.00")
    (inbox / "benefit_payments" / "a_copy.csv").write_text(copy, encoding="utf-8")
    first = run()
    assert first.returncode == 1, first.stderr[-2000:]  # P3 is quarantined
    assert "注意 warning" in first.stdout and "benefit_payments/a_copy.csv: 1/2 行 rows (50%)" in first.stdout

    (inbox / "benefit_payments" / "a_copy.csv").unlink()  # the office removes the copy and withdraws it
    asked = fundwatch(
        "withdraw", "benefit_payments", "a_copy.csv", "--reason", "重复报送", "--by", "chief", "--db", str(db)
    )
    assert asked.returncode == 0, asked.stderr
    second = run()
    assert "撤回请求 withdrawal requests (1):" in second.stdout
    assert "benefit_payments/a_copy.csv: 已撤回 withdrawn, 2 行 rows out of force (重复报送)" in second.stdout
    con = duckdb.connect(str(db), read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM benefit_payments WHERE source_file LIKE '%a_copy%'").fetchall() == [
            (0,)
        ]
        assert con.execute("SELECT files_withdrawn FROM runs ORDER BY started_at DESC LIMIT 1").fetchall() == [(1,)]
    finally:
        con.close()
    run()  # the next run finds the request done in the published file and clears the queue
    assert not pending_requests(db)
