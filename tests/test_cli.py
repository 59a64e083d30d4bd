"""`fundwatch run` end to end through the Prefect flow: summary, exit status, runs table."""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

pytestmark = pytest.mark.slow  # `fundwatch run` through Prefect as a subprocess

ID_X = "11010519491231002X"


def fundwatch(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pipelines", *args], capture_output=True, text=True, timeout=300)


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

    second = fundwatch("run", "--inbox", str(inbox), "--db", str(db), "--as-of", "2026-11-28")
    assert second.returncode == 1  # the broken file is still broken, and still named
    con = duckdb.connect(str(db), read_only=True)
    try:
        assert con.execute("SELECT person_id, death_date::VARCHAR, source FROM death_records").fetchall() == [
            (ID_X, "2024-03-05", "police")
        ]
        runs = con.execute(
            "SELECT as_of::VARCHAR, status, files_loaded, files_skipped, files_rejected, rows_loaded, "
            "finished_at IS NOT NULL FROM runs ORDER BY started_at"
        ).fetchall()
        assert runs == [("2026-11-27", "bad_input", 1, 0, 1, 1, True), ("2026-11-28", "bad_input", 0, 1, 1, 0, True)]
    finally:
        con.close()


def test_missing_inbox_is_a_usage_error(tmp_path: Path):
    result = fundwatch("run", "--inbox", str(tmp_path / "nope"), "--db", str(tmp_path / "x.duckdb"))
    assert result.returncode == 2 and "inbox folder not found" in result.stderr


def _can_unshare_network() -> bool:
    probe = subprocess.run(["unshare", "-n", "true"], capture_output=True)
    return probe.returncode == 0


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


def test_a_rerun_with_nothing_new_carries_the_findings_forward_and_a_new_file_detects_again(tmp_path: Path):
    from pipelines.synth import generate

    inbox, db = tmp_path / "inbox", tmp_path / "fw.duckdb"
    generate(600, inbox, seed=21, dirty=False)
    runs = []
    for _ in range(2):
        done = fundwatch("run", "--inbox", str(inbox), "--db", str(db), "--as-of", "2026-11-27")
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
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

    (inbox / "death_records" / "dr_late_notice.csv").write_text(
        "person_id,death_date,source\n11010519491231002X,2025-01-05,police\n", encoding="utf-8"
    )
    third = fundwatch("run", "--inbox", str(inbox), "--db", str(db), "--as-of", "2026-11-27")
    assert third.returncode == 0, third.stderr[-2000:]
    con = duckdb.connect(str(db), read_only=True)
    skipped, key = con.execute("SELECT rules_skipped, detect_key FROM runs ORDER BY started_at DESC").fetchall()[0]
    con.close()
    assert skipped is False and key != first[2]
