"""Publication and crash safety: readers always see a whole state; a killed run leaves the last one intact."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import duckdb
import pytest

from pipelines.synth import generate

pytestmark = pytest.mark.slow  # real runs through Prefect, SIGKILLed and rerun

AS_OF = "2026-03-02"
SUSPECT_FACTS = (
    "SELECT rule, subject_id, person_id, region_code, period_from, period_to, amount_at_risk, status "
    "FROM suspects WHERE active ORDER BY rule, subject_id"
)


def run(inbox: Path, db: Path, crash_at: str | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env.pop("FUNDWATCH_CRASH_AT", None)
    if crash_at:
        env["FUNDWATCH_CRASH_AT"] = crash_at
    # Its own process group: when the run is killed, so are the children it started (Prefect's temporary
    # server), as a scheduler or systemd would kill the whole job. Output goes to files, not pipes: an
    # orphaned child would hold a pipe open forever.
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        process = subprocess.Popen(
            [sys.executable, "-m", "pipelines", "run", "--inbox", str(inbox), "--db", str(db), "--as-of", AS_OF],
            stdout=out,
            stderr=err,
            text=True,
            env=env,
            start_new_session=True,
        )
        try:
            process.wait(timeout=600)
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
        out.seek(0)
        err.seek(0)
        return subprocess.CompletedProcess(process.args, process.returncode, out.read(), err.read())


def snapshot(db: Path) -> dict[str, list]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return {
            "suspects": con.sql(SUSPECT_FACTS).fetchall(),
            "runs": con.sql("SELECT run_id, status FROM runs ORDER BY started_at").fetchall(),
            "benefit_payments": con.sql("SELECT count(*) FROM benefit_payments").fetchall(),
            "files": con.sql("SELECT file, status FROM ingested_files ORDER BY ALL").fetchall(),
        }
    finally:
        con.close()


@pytest.fixture(scope="module")
def inboxes(tmp_path_factory):
    """Day 1 delivers most files; day 2 adds the rest (a realistic nightly increment)."""
    root = tmp_path_factory.mktemp("publication")
    full = root / "full"
    generate(2000, full, seed=9, dirty=False)
    day1 = root / "day1"
    shutil.copytree(full, day1)
    for dataset in ("benefit_payments", "bank_disbursements", "death_records"):
        for path in sorted((day1 / dataset).iterdir())[1:]:
            path.unlink()
    return root, day1, full


@pytest.mark.parametrize("crash_at", ["ingested:benefit_payments", "detected", "before_publish"])
def test_a_killed_run_leaves_the_published_state_and_the_rerun_converges(inboxes, tmp_path, crash_at):
    root, day1, full = inboxes
    reference = tmp_path / "reference.duckdb"
    assert run(full, reference).returncode == 0

    db = tmp_path / "fw.duckdb"
    assert run(day1, db).returncode == 0
    before = snapshot(db)

    killed = run(full, db, crash_at=crash_at)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    assert snapshot(db) == before  # intact and readable

    assert run(full, db).returncode == 0
    assert snapshot(db)["suspects"] == snapshot(reference)["suspects"]


def test_a_reader_polling_during_a_run_always_sees_a_whole_state(inboxes, tmp_path):
    _, day1, full = inboxes
    db = tmp_path / "fw.duckdb"
    assert run(day1, db).returncode == 0
    old = snapshot(db)

    seen: list[tuple] = []
    errors: list[BaseException] = []
    stop = threading.Event()

    def poll():
        while not stop.is_set():
            try:
                con = duckdb.connect(str(db), read_only=True)
                try:
                    seen.append(
                        (
                            con.sql("SELECT count(*) FROM runs").fetchall()[0][0],
                            con.sql("SELECT count(*) FROM benefit_payments").fetchall()[0][0],
                            con.sql("SELECT count(*) FROM suspects WHERE active").fetchall()[0][0],
                        )
                    )
                finally:
                    con.close()
            except BaseException as err:  # any lock error or torn state fails the test
                errors.append(err)
            time.sleep(0.05)

    reader = threading.Thread(target=poll)
    reader.start()
    try:
        second = run(full, db)
    finally:
        stop.set()
        reader.join(10)
    assert second.returncode == 0
    assert not errors, errors[:3]
    new = snapshot(db)
    states = set(seen)
    whole = {
        (len(old["runs"]), old["benefit_payments"][0][0], len(old["suspects"])),
        (len(new["runs"]), new["benefit_payments"][0][0], len(new["suspects"])),
    }
    assert len(seen) > 20 and states <= whole and len(states) == 2
