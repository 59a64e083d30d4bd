"""`fundwatch screen` as the agency runs it: a dirty batch file (GB18030, Chinese headers, 15-digit IDs, bad rows),
the result file (CSV or XLSX, private), the exit statuses, the screening kept in the register — and a batch
screened while a nightly run is publishing."""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import stat
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import polars as pl
import pytest

from tests.sample_run import AS_OF, ROOT, SAMPLES, sample_database

pytestmark = pytest.mark.slow


def fundwatch(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pipelines", *args], capture_output=True, text=True, timeout=timeout, cwd=ROOT
    )


@pytest.fixture
def published(tmp_path_factory, tmp_path) -> Path:
    """A private copy of the sample's published file and its register."""
    db = sample_database(tmp_path_factory)
    for name in (db.name, "fundwatch.cases.sqlite"):
        shutil.copy(db.parent / name, tmp_path / name)
    return tmp_path / db.name


@pytest.fixture
def people(published) -> dict[str, str]:
    """Persons of the sample: a pensioner in good standing, and one who died."""
    with duckdb.connect(str(published), read_only=True) as con:
        good = con.execute(
            "SELECT e.person_id FROM enrollment e WHERE e.scheme = '110'"
            " AND e.person_id NOT IN (SELECT person_id FROM death_records)"
            " AND e.person_id NOT IN (SELECT person_id FROM custody_records)"
            " AND e.person_id IN (SELECT person_id FROM benefit_payments WHERE benefit_type = 'pension')"
            " ORDER BY e.person_id LIMIT 1"
        ).fetchall()[0][0]
        dead = con.execute(
            "SELECT d.person_id FROM death_records d JOIN enrollment e USING (person_id) ORDER BY 1 LIMIT 1"
        ).fetchall()[0][0]
    return {"good": good, "dead": dead}


def test_a_dirty_batch(published, people, tmp_path):
    good, dead = people["good"], people["dead"]
    legacy = good[:6] + good[8:17]  # the 15-digit form of the same ID
    wide = "".join(chr(ord(c) + 0xFEE0) if c.isdigit() else c for c in good)
    bad_digit = good[:17] + ("0" if good[17] != "0" else "1")
    lines = [
        " 发放流水号 ,公民身份号码,统筹区编码,险种类型,待遇类型,待遇所属期,发放金额,银行账号,extra",
        f'B1,{legacy},330100,110,基本养老金,2026年1月,"3,210.50",6217000000000001,x',  # line 2: valid
        f"B2,{wide},330100, 110 ,pension,202602,3210.50,6217000000000001,x",  # 3: valid, full-width digits
        f"B3,{dead},330100,110,pension,202601,100.00,6217000000000002,x",  # 4: DECEASED
        f"B4,{bad_digit},330100,110,pension,202601,100.00,6217000000000003,x",  # 5: INVALID (check digit)
        f"B5,{good},330100,110,pension,2026-13,100.00,6217000000000004,x",  # 6: INVALID (period)
        f"B6,{good},330100,110,pension,202603,-5.00,6217000000000005,x",  # 7: INVALID (negative)
        f",{good},330100,110,pension,202604,5.00,6217000000000006,x",  # 8: INVALID (no payment_id)
        f"B8,{good},330100,110,pension,202605,5.00,6217000000000007,x,one field too many",  # 9: malformed
        "",
        f"B9,{good},330100,110,pension,202606,5.00,6217000000000008,x",  # 11: valid after a blank line
    ]
    batch = tmp_path / "batch.csv"
    batch.write_bytes(("\n".join(lines) + "\n").encode("gb18030"))
    out = tmp_path / "screened.csv"
    done = fundwatch("screen", "--batch", str(batch), "--db", str(published), "--out", str(out), "--as-of", AS_OF)
    assert done.returncode == 1, done.stderr
    results = pl.read_csv(out, infer_schema_length=0)
    got = {int(r["line"]): (r["verdict"], r["reasons"]) for r in results.iter_rows(named=True)}
    assert got == {
        2: ("pass", None),
        3: ("pass", None),
        4: ("hold", "DECEASED"),
        5: ("hold", "INVALID"),
        6: ("hold", "INVALID"),
        7: ("hold", "INVALID"),
        8: ("hold", "INVALID"),
        9: ("hold", "INVALID"),
        11: ("pass", None),
    }
    by_line = {int(r["line"]): r for r in results.iter_rows(named=True)}
    assert by_line[2]["person_id"] == good and by_line[3]["person_id"] == good
    assert by_line[2]["amount"] == "3210.50" and by_line[2]["period"] == "202601"
    assert by_line[5]["person_id"] == bad_digit  # as it arrived
    assert "person_id" in by_line[5]["explanation"] and "校验位" in by_line[5]["explanation"]
    assert "period" in by_line[6]["explanation"]
    assert "amount" in by_line[7]["explanation"]
    assert "payment_id" in by_line[8]["explanation"]
    assert by_line[9]["explanation"].startswith("数据无效")
    # private, and the summary names no ID
    assert stat.S_IMODE(out.stat().st_mode) & 0o077 == 0
    assert good not in done.stderr and dead not in done.stderr
    assert "暂停发放 hold 6" in done.stderr and "INVALID 数据无效 5" in done.stderr

    with sqlite3.connect(published.with_name("fundwatch.cases.sqlite")) as con:
        screening = con.execute("SELECT batch_file, sha256, rows, held, channel FROM screenings").fetchall()
        holds = con.execute("SELECT line, reasons FROM screening_holds ORDER BY line").fetchall()
    assert screening == [(str(batch), hashlib.sha256(batch.read_bytes()).hexdigest(), 9, 6, "cli")]
    assert holds == [(4, "DECEASED"), (5, "INVALID"), (6, "INVALID"), (7, "INVALID"), (8, "INVALID"), (9, "INVALID")]


def test_exit_statuses_and_outputs(published, people, tmp_path):
    good = people["good"]
    header = "payment_id,person_id,region_code,scheme,benefit_type,period,amount,bank_account\n"
    clean = tmp_path / "clean.csv"
    clean.write_text(header + f"C1,{good},330100,110,pension,202601,10.00,6217000000000101\n", encoding="utf-8")
    done = fundwatch("screen", "--batch", str(clean), "--db", str(published), "--as-of", AS_OF)
    assert done.returncode == 0, done.stderr
    assert pl.read_csv(done.stdout.encode(), infer_schema_length=0)["verdict"].to_list() == ["pass"]

    xlsx = tmp_path / "out.xlsx"
    done = fundwatch("screen", "--batch", str(clean), "--db", str(published), "--out", str(xlsx), "--as-of", AS_OF)
    assert done.returncode == 0 and stat.S_IMODE(xlsx.stat().st_mode) & 0o077 == 0
    sheet = pl.read_excel(xlsx)
    assert sheet.columns[:6] == ["line", "payment_id", "person_id", "verdict", "reasons", "explanation"]

    missing = tmp_path / "missing.csv"
    missing.write_text("payment_id,person_id\nC1,x\n", encoding="utf-8")
    done = fundwatch("screen", "--batch", str(missing), "--db", str(published))
    assert done.returncode == 2 and "missing.csv" in done.stderr and "缺少必填列" in done.stderr
    done = fundwatch("screen", "--batch", str(clean), "--db", str(tmp_path / "nowhere.duckdb"))
    assert done.returncode == 2 and "nowhere.duckdb" in done.stderr
    done = fundwatch("screen", "--batch", str(clean), "--db", str(published), "--out", str(clean))
    assert done.returncode == 2


def test_screening_while_a_nightly_run_publishes(published, people, tmp_path):
    """The run holds its writer lock and swaps the file in; screening reads whichever file is published, never
    waits for the lock, never writes the published file."""
    good = people["good"]
    clean = tmp_path / "clean.csv"
    clean.write_text(
        "payment_id,person_id,region_code,scheme,benefit_type,period,amount,bank_account\n"
        f"C1,{good},330100,110,pension,202601,10.00,6217000000000101\n",
        encoding="utf-8",
    )
    before = hashlib.sha256(published.read_bytes()).hexdigest()
    done = fundwatch("screen", "--batch", str(clean), "--db", str(published), "--as-of", AS_OF)
    assert done.returncode == 0 and hashlib.sha256(published.read_bytes()).hexdigest() == before

    env = dict(os.environ, PREFECT_SERVER_ANALYTICS_ENABLED="false", DO_NOT_TRACK="1")
    run = subprocess.Popen(
        [sys.executable, "-m", "pipelines", "run", "--inbox", str(SAMPLES), "--db", str(published), "--as-of", AS_OF],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        lock = published.with_name(published.name + ".lock")
        deadline = time.monotonic() + 120
        while not published.with_name(published.name + ".building").exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert run.poll() is None and lock.exists(), "the run should be building"
        screened = 0
        while run.poll() is None:
            done = fundwatch("screen", "--batch", str(clean), "--db", str(published), "--as-of", AS_OF)
            assert done.returncode == 0, done.stderr
            screened += 1
        assert screened >= 1
    finally:
        run.wait(timeout=600)
    assert run.returncode == 0  # the same inbox again: nothing new, no bad input first seen tonight


def test_held_rows_are_adjudicated_from_the_command_line(published, people, tmp_path):
    """A verifier of another region is refused (exit 6); a chief decides; `holds` shows the decision, masked."""
    from pipelines.cases import register as reg
    from pipelines.cases import staff

    me = staff.os_user()
    register = published.with_name("fundwatch.cases.sqlite")
    with reg.writer(register, create=False) as con, reg.write_transaction(con):
        staff.add(con, staff_id="ADM", name="管理员", role="admin", regions=(), user="adm-x", by_user="adm-x", at=AS_OF)
        staff.add(
            con,
            staff_id="V9",
            name="外区核查员",
            role="verifier",
            regions=("330200",),
            user=me,
            by_user="adm-x",
            at=AS_OF,
        )
    dead = people["dead"]
    batch = tmp_path / "b.csv"
    batch.write_text(
        "payment_id,person_id,region_code,scheme,benefit_type,period,amount,bank_account\n"
        f"D1,{dead},330100,110,pension,202601,100.00,6217000000000201\n",
        encoding="utf-8",
    )
    assert fundwatch("screen", "--batch", str(batch), "--db", str(published), "--as-of", AS_OF).returncode == 1
    where = ("--db", str(published))
    refused = fundwatch("screen", *where, "adjudicate", "1", "2", "--decision", "improper", "--reason", "核实已死亡")
    assert refused.returncode == 6, refused.stderr
    with reg.writer(register, create=False) as con, reg.write_transaction(con):
        staff.add(
            con,
            staff_id="V9",
            name="外区核查员",
            role="verifier",
            regions=("330200",),
            user=None,
            by_user="adm-x",
            at=AS_OF,
        )
        staff.add(con, staff_id="C1", name="王科长", role="chief", regions=(), user=me, by_user="adm-x", at=AS_OF)
    done = fundwatch("screen", *where, "adjudicate", "1", "2", "--decision", "improper", "--reason", "核实已死亡，停发")
    assert done.returncode == 0, done.stderr
    shown = fundwatch("screen", *where, "holds", "--decision", "improper")
    assert shown.returncode == 0 and "D1" in shown.stdout and "improper" in shown.stdout
    assert dead not in shown.stdout and dead[:6] in shown.stdout  # masked
    missing = fundwatch("screen", *where, "adjudicate", "1", "9", "--decision", "proper", "--reason", "x")
    assert missing.returncode == 6 and "第9行" in missing.stderr
