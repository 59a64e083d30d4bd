"""`fundwatch run` end to end through the Prefect flow: summary, exit status, runs table; its arguments."""

from __future__ import annotations

import argparse
import datetime as dt
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from pipelines.app import cli
from pipelines.app.arguments import date_arg, month_arg

ID_X = "11010519491231002X"


def fundwatch(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pipelines", *args], capture_output=True, text=True, timeout=300)


@pytest.mark.slow  # `fundwatch run` through Prefect as a subprocess
def test_run_reports_rejected_files_and_exits_non_zero_then_a_rerun_changes_nothing(tmp_path: Path):
    inbox, db = tmp_path / "inbox", tmp_path / "fw.duckdb"
    (inbox / "death_records").mkdir(parents=True)
    (inbox / "death_records" / "d.csv").write_bytes(
        f"公民身份号码,死亡日期,信息来源\n{ID_X},2024年3月5日,公安户籍注销\n".encode("gb18030")
    )
    (inbox / "death_records" / "broken.csv").write_text("person_id,source\nx,police\n", encoding="utf-8")

    first = fundwatch("run", "--inbox", str(inbox), "--db", str(db), "--as-of", "2026-11-27")
    assert first.returncode == 1, first.stderr[-2000:]
    assert "死亡信息 death_records" in first.stdout
    assert "拒收文件 rejected files (1)" in first.stdout
    assert "death_records/broken.csv" in first.stdout and "death_date" in first.stdout
    # not a terminal: the progress of the run as plain lines on stderr, a line per phase and dataset
    assert "-- 载入 ingest" in first.stderr and "death_records: 2 个文件 files" in first.stderr
    assert "-- 规则 rules" in first.stderr and "-- 发布 publish" in first.stderr
    assert "shadows" not in first.stderr and "Warning:" not in first.stderr  # no library warning on stderr

    # The broken file is left in the inbox: named again, as already reported, but the night is not failed again.
    second = fundwatch("run", "--inbox", str(inbox), "--db", str(db), "--as-of", "2026-11-28")
    assert second.returncode == 0, second.stdout[-2000:] + second.stderr[-2000:]
    assert "拒收文件 rejected files (" not in second.stdout
    assert "rejected files still in the inbox, already reported (1):" in second.stdout
    assert "death_records/broken.csv" in second.stdout and "数据日期 as of 2026-11-27" in second.stdout
    assert "shadows" not in second.stderr
    con = duckdb.connect(str(db), read_only=True)
    try:
        assert con.execute("SELECT person_id, death_date::VARCHAR, source FROM death_records").fetchall() == [
            (ID_X, "2024-03-05", "police")
        ]
        runs = con.execute(
            "SELECT as_of::VARCHAR, status, files_loaded, files_skipped, files_rejected, rows_loaded, "
            "finished_at IS NOT NULL FROM runs ORDER BY started_at"
        ).fetchall()
        assert runs == [("2026-11-27", "bad_input", 1, 0, 1, 1, True), ("2026-11-28", "succeeded", 0, 1, 1, 0, True)]
        assert con.execute("SELECT typeof(started_at), typeof(finished_at) FROM runs LIMIT 1").fetchall() == [
            ("TIMESTAMP WITH TIME ZONE", "TIMESTAMP WITH TIME ZONE")
        ]
    finally:
        con.close()
    history = fundwatch("runs", "--db", str(db))
    assert history.returncode == 0 and "+08:00" in history.stdout, history.stdout

    # A new broken file beside the standing one fails the night; both are listed, each where it belongs.
    (inbox / "death_records" / "late.csv").write_text("person_id\nx\n", encoding="utf-8")
    third = fundwatch("run", "--inbox", str(inbox), "--db", str(db), "--as-of", "2026-11-29")
    assert third.returncode == 1
    assert "拒收文件 rejected files (1):\n  - death_records/late.csv" in third.stdout
    assert "rejected files still in the inbox, already reported (1):\n  - death_records/broken.csv" in third.stdout


@pytest.mark.slow  # a subprocess
def test_missing_inbox_is_a_usage_error(tmp_path: Path):
    result = fundwatch("run", "--inbox", str(tmp_path / "nope"), "--db", str(tmp_path / "x.duckdb"))
    assert result.returncode == 2 and "inbox folder not found" in result.stderr


def test_a_db_in_a_folder_that_does_not_exist_is_refused_unless_asked_to_create_it(tmp_path: Path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    db = tmp_path / "typo" / "fw.duckdb"
    result = fundwatch("run", "--inbox", str(inbox), "--db", str(db))
    assert result.returncode == 2 and "--create-folder" in result.stderr and str(db.parent) in result.stderr
    assert not db.parent.exists()


def _can_unshare_network() -> bool:
    probe = subprocess.run(["unshare", "-n", "true"], capture_output=True)
    return probe.returncode == 0


@pytest.mark.slow
@pytest.mark.skipif(not shutil.which("unshare") or not _can_unshare_network(), reason="needs unshare -n (root)")
def test_a_run_needs_no_network(tmp_path: Path):
    """In a network namespace with nothing but loopback, the nightly run (with Prefect) still completes."""
    inbox, db = tmp_path / "inbox", tmp_path / "fw.duckdb"
    (inbox / "death_records").mkdir(parents=True)
    (inbox / "death_records" / "d.csv").write_text(f"person_id,death_date,source\n{ID_X},2024-03-05,civil\n")
    command = (
        f"ip link set lo up && {shlex.quote(sys.executable)} -m pipelines run "
        f"--inbox {shlex.quote(str(inbox))} --db {shlex.quote(str(db))} --as-of 2026-11-27"
    )
    result = subprocess.run(["unshare", "-n", "sh", "-c", command], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "成功 succeeded" in result.stdout


@pytest.mark.slow
def test_a_rerun_with_nothing_new_carries_the_findings_forward_and_a_new_file_detects_again(tmp_path: Path):
    from pipelines.synth import generate

    inbox, db = tmp_path / "inbox", tmp_path / "fw.duckdb"
    generate(600, inbox, seed=21, dirty=False)
    runs, outputs = [], []
    for _ in range(2):
        done = fundwatch("run", "--inbox", str(inbox), "--db", str(db), "--as-of", "2026-11-27")
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
        outputs.append(done.stdout)
        con = duckdb.connect(str(db), read_only=True)
        runs.append(
            (
                con.execute("SELECT rules_skipped, findings, detect_key FROM runs ORDER BY started_at DESC").fetchall()[
                    0
                ],
                con.execute(
                    "SELECT suspect_id, amount_at_risk, first_run_id = last_run_id FROM suspects WHERE active "
                    "ORDER BY suspect_id"
                ).fetchall(),
            )
        )
        con.close()
    (first, first_suspects), (second, second_suspects) = runs
    assert first[0] is False and second[0] is True
    assert first[1] == second[1] > 0 and first[2] == second[2]
    assert [s[:2] for s in first_suspects] == [s[:2] for s in second_suspects]
    assert all(new for *_, new in first_suspects) and not any(new for *_, new in second_suspects)
    history = fundwatch("runs", "--db", str(db)).stdout
    assert history.count("沿用 carried") == 1, history
    # the second run's summary says so: how many, from which run, per rule, on which datasets
    first_run_id = history.splitlines()[-1].split()[0]
    assert "沿用 carried forward" not in outputs[0]
    assert f"{first[1]:,} 条疑点沿用自运行 run {first_run_id} (数据日期 as of 2026-11-27)" in outputs[1], outputs[1]
    assert "  规则 rules: 重复参保 DUP_ENROLL" in outputs[1]
    assert "  数据集 datasets (在用文件均未变 no file in force changed): 代发回盘 bank_disbursements, " in outputs[1]

    (inbox / "death_records" / "dr_late_notice.csv").write_text(
        "person_id,death_date,source\n11010519491231002X,2025-01-05,police\n", encoding="utf-8"
    )
    third = fundwatch("run", "--inbox", str(inbox), "--db", str(db), "--as-of", "2026-11-27")
    assert third.returncode == 0, third.stderr[-2000:]
    con = duckdb.connect(str(db), read_only=True)
    skipped, key = con.execute("SELECT rules_skipped, detect_key FROM runs ORDER BY started_at DESC").fetchall()[0]
    con.close()
    assert skipped is False and key != first[2]


# ---- date and month arguments --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("2025-13-01", "month 13 is out of range (1-12)"),
        ("2025-00-10", "month 0 is out of range (1-12)"),
        ("2025-02-29", "day 29 is out of range for 2025-02 (1-28)"),
        ("2025-04-31", "day 31 is out of range for 2025-04 (1-30)"),
        ("20250301", "not in the form"),
        ("2025/3/1", "not in the form"),
        ("2025-3-1", "not in the form"),
        ("２０２５-03-01", "not in the form"),  # full-width digits
        ("", "not in the form"),
    ],
)
def test_a_bad_date_says_the_value_the_form_and_why(value: str, why: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError) as err:
        date_arg(value)
    message = str(err.value)
    assert f"日期无效 invalid date {value!r}" in message and why in message and "YYYY-MM-DD" in message


def test_a_good_date() -> None:
    assert date_arg("2024-02-29") == dt.date(2024, 2, 29)
    assert date_arg(" 2026-12-01 ") == dt.date(2026, 12, 1)


def test_months_in_either_form_and_bad_ones_with_a_reason() -> None:
    assert month_arg("202603") == month_arg("2026-03") == "202603"
    for value, why in [("202613", "month 13 is out of range"), ("2026-3", "not in the form"), ("2026年3月", "form")]:
        with pytest.raises(argparse.ArgumentTypeError, match=why) as err:
            month_arg(value)
        assert value in str(err.value) and "YYYYMM" in str(err.value)


def test_run_as_of_an_impossible_date_is_a_usage_error_that_says_why(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        cli.main(["run", "--as-of", "2025-13-01"])
    assert done.value.code == 2
    err = capsys.readouterr().err
    assert "argument --as-of: 日期无效 invalid date '2025-13-01'" in err
    assert "month 13 is out of range" in err and "YYYY-MM-DD" in err and "invalid _date value" not in err
