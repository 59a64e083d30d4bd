"""The analyst's loop end to end: nightly run, `fundwatch case …` from open to rectified, reruns that never
undo it, and case commands recorded while a nightly run is in progress."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import duckdb
import fastexcel
import pytest

from pipelines.cases import register as reg
from pipelines.cases.staff import os_user
from pipelines.synth import generate
from tests.cases.staffing import staff_up

pytestmark = pytest.mark.slow  # real runs through Prefect, case commands as subprocesses

AS_OF = "2026-03-02"


def fundwatch(*args: str, wait: bool = True):
    command = [sys.executable, "-m", "pipelines", *args]
    if not wait:
        return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return subprocess.run(command, capture_output=True, text=True, timeout=600)


def query(db: Path, sql: str):
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.sql(sql).fetchall()
    finally:
        con.close()


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    root = tmp_path_factory.mktemp("cases")
    inbox, db, register = root / "inbox", root / "fw.duckdb", root / "fw.cases.sqlite"
    generate(2000, inbox, seed=5, dirty=False)
    first = fundwatch("run", "--inbox", str(inbox), "--db", str(db), "--as-of", AS_OF)
    assert first.returncode == 0, first.stdout[-2000:] + first.stderr[-2000:]
    assert register.exists()
    regions = tuple(r[0] for r in query(db, "SELECT DISTINCT region_code FROM suspects WHERE region_code IS NOT NULL"))
    con = reg.open_register(register)
    # whoever runs the tests is the chief; the verifiers work every region of the sample
    staff_up(
        con,
        [
            ("ADM", "管理员", "admin", (), "adm-user"),
            ("chief", "王科长", "chief", (), os_user()),
            ("V01", "核查员一", "verifier", regions, None),
            ("V09", "核查员九", "verifier", regions, None),
        ],
    )
    con.close()
    return inbox, db, register


def case(register: Path, *args: str) -> subprocess.CompletedProcess:
    return fundwatch("case", "--register", str(register), *args)


def test_every_active_suspect_is_an_open_case_listed_for_analysts(world):
    _, db, register = world
    expected = query(db, "SELECT count(*) FROM suspects WHERE active AND rule = 'DECEASED_PAID'")[0][0]
    listed = case(register, "list", "--rule", "DECEASED_PAID", "--as-of", AS_OF)
    assert listed.returncode == 0, listed.stderr
    assert f"共 {expected} 件" in listed.stdout and "待核查 open" in listed.stdout
    assert query(db, "SELECT DISTINCT status FROM suspects") == [("open",)]


def test_open_to_rectified_with_the_cli_survives_reruns_and_shows_in_duckdb(world):
    inbox, db, register = world
    sid, region = query(db, "SELECT suspect_id, region_code FROM suspects WHERE rule = 'DECEASED_PAID' LIMIT 1")[0]
    steps = [
        ("assign", sid, "--assignee", "V01", "--on", "2026-03-02"),
        ("verify", sid, "--by", "V01", "--on", "2026-03-05", "--reason", "公安户籍注销属实"),
        ("rectify", sid, "--by", "V01", "--on", "2026-03-20", "--recovered", "1,000.00"),
        ("write-off", sid, "--on", "2026-03-21", "--reason", "余额无法追回 nothing left to recover"),
    ]
    for step in steps:
        result = case(register, *step)
        assert result.returncode == 0, result.stderr
    assert "V01" in result.stdout or "核销" in result.stdout
    refused = case(register, "verify", sid, "--by", "V01")
    assert refused.returncode == 6 and "rectified" in refused.stderr

    rerun = fundwatch("run", "--inbox", str(inbox), "--db", str(db), "--as-of", "2026-03-23")
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    assert query(db, f"SELECT status FROM suspects WHERE suspect_id = '{sid}'") == [("rectified",)]
    assert query(db, f"SELECT status, recovered_amount FROM cases WHERE suspect_id = '{sid}'") == [
        ("rectified", "1000.00")
    ]
    actions = [r[0] for r in query(db, f"SELECT action FROM case_events WHERE suspect_id = '{sid}' ORDER BY event_id")]
    assert actions == ["found", "assign", "verify", "rectify", "write_off"]
    shown = case(register, "show", sid)
    assert "已整改 rectified" in shown.stdout and "公安户籍注销属实" in shown.stdout

    out = register.parent / "exports"
    exported = case(register, "export", "--region", region, "--out", str(out), "--as-of", "2026-03-23")
    assert exported.returncode == 0, exported.stderr
    sheet = fastexcel.read_excel(next(out.glob("核查清单_*.xlsx"))).load_sheet(0, header_row=None).to_polars()
    cells = " ".join(str(v) for row in sheet.rows() for v in row if v is not None)
    assert "********" in cells and sid not in cells  # the rectified case is no longer on the checklist


def test_case_commands_during_a_running_nightly_job_lose_nothing(world):
    inbox, db, register = world
    ids = [r[0] for r in query(db, "SELECT suspect_id FROM suspects WHERE rule = 'SOD_BREACH' ORDER BY 1 LIMIT 2")]
    run = fundwatch("run", "--inbox", str(inbox), "--db", str(db), "--as-of", "2026-03-24", wait=False)
    recorded = []
    try:
        time.sleep(2)
        for sid in ids:
            assert run.poll() is None, "the nightly run ended before the analyst could act"
            result = case(register, "assign", sid, "--assignee", "V09", "--on", "2026-03-24")
            assert result.returncode == 0, result.stderr
            recorded.append(sid)
        assert run.poll() is None, "the nightly run ended before the analyst could verify"
        verified = case(register, "verify", ids[0], "--by", "V09", "--on", "2026-03-24")
        assert verified.returncode == 0, verified.stderr
    finally:
        stdout, stderr = run.communicate(timeout=600)
    assert run.returncode == 0, stdout[-2000:] + stderr[-2000:]
    assert recorded == ids
    shown = [case(register, "show", sid, "--as-of", "2026-03-25").stdout for sid in ids]
    assert "确认违规 confirmed" in shown[0] and "V09" in shown[0]
    assert "核查中 under_verification" in shown[1] and "V09" in shown[1]
    # and the next run mirrors them into the DuckDB file
    again = fundwatch("run", "--inbox", str(inbox), "--db", str(db), "--as-of", "2026-03-25")
    assert again.returncode == 0
    statuses = query(db, f"SELECT suspect_id, status FROM suspects WHERE suspect_id IN ('{ids[0]}', '{ids[1]}')")
    assert dict(statuses) == {ids[0]: "confirmed", ids[1]: "under_verification"}


def test_reports_from_the_command_line(world):
    _, db, register = world
    out = register.parent / "reports"
    runs = [
        ("monthly", "--month", "202603"),
        ("half-year", "--year", "2026", "--half", "1"),
        ("circulation", "--as-of", "2026-03-25"),
        ("yaoqing", "--year", "2026", "--half", "1"),
    ]
    for args in runs:
        result = fundwatch("report", "--db", str(db), "--register", str(register), "--out", str(out), *args)
        assert result.returncode == 0, result.stderr[-2000:]
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted(
        f"{stem}.{ext}"
        for stem in ("自查报告_202603", "监督报告_2026H1", "通报_2026-03-25", "要情统计_2026H1")
        for ext in ("md", "xlsx")
    )
    supervision = (out / "监督报告_2026H1.md").read_text(encoding="utf-8")
    for heading in (
        "基金运行基本情况",
        "监管工作情况",
        "基金案件发生及处置情况",
        "基金安全评估情况",
        "主要问题和下一步措施",
    ):
        assert heading in supervision
    yaoqing = (out / "要情统计_2026H1.md").read_text(encoding="utf-8")
    assert "要情" in yaoqing and "零报告" not in yaoqing  # the confirmed DECEASED_PAID case is a 要情


def test_a_deadline_beyond_the_official_calendar_is_provisional_never_refused(world):
    _, db, register = world
    sid = query(db, "SELECT suspect_id FROM suspects WHERE rule = 'DUP_CLAIM' ORDER BY 1 LIMIT 1")[0][0]
    result = case(register, "assign", sid, "--assignee", "V01", "--on", "2026-12-01")
    assert result.returncode == 0, result.stderr
    assert "2027-" in result.stdout and "暂定" in result.stdout
    shown = case(register, "show", sid, "--as-of", "2026-12-01").stdout
    assert "核查中 under_verification" in shown and "暂定 provisional" in shown


def test_the_case_log_holds_after_runs_and_analysts_wrote_it_at_once(world):
    _, db, register = world
    checked = case(register, "verify-log")
    assert checked.returncode == 0, checked.stderr
    # the head printed is the register's own: its last event's hash (the DuckDB mirror may be a run behind)
    con = reg.open_register(register)
    count, head = con.execute("SELECT count(*), max(event_id) FROM case_events").fetchone()
    head_hash = con.execute("SELECT hash FROM case_events WHERE event_id = ?", [head]).fetchone()[0]
    con.close()
    assert f"case log intact: {count} 条记录 events" in checked.stdout and head_hash in checked.stdout
    mirrored = query(db, "SELECT count(*) FROM case_events")[0][0]
    assert 0 < mirrored <= count
