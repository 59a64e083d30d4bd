"""Runs as an operator and an adversary meet them: two at once, a kill, a failure, a full disk, no network.

Every scenario runs `fundwatch run` as a real process (its own process group, as a scheduler starts it) on
a small generated province, and checks what an analyst would see afterwards: the published state whole
and converging, every run accounted for in `runs`, nothing left behind, the exit status telling "done",
"done with bad input", "failed" and "another run holds the database" apart.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import sqlite3
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import pytest

from pipelines.synth import generate
from pipelines.warehouse.lock import is_locked

pytestmark = pytest.mark.slow  # real runs through Prefect

AS_OF = "2026-03-02"
EXIT_OK, EXIT_FAILED, EXIT_BUSY = 0, 3, 4
SUSPECT_FACTS = (
    "SELECT rule, subject_id, person_id, region_code, period_from, period_to, amount_at_risk "
    "FROM suspects WHERE active ORDER BY rule, subject_id"
)


SERVER: dict[str, str] = {}  # PREFECT_API_URL of the session's Prefect server (fixture `server`)


def environment(overrides: dict[str, str] | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("FUNDWATCH_CRASH_AT", "PREFECT_API_URL")}
    return env | SERVER | (overrides or {})


@pytest.fixture(autouse=True, scope="module")
def server(prefect_api):
    """Runs go to one running Prefect server (saves its start-up on every run); the network test does not."""
    SERVER.update(prefect_api)
    yield
    SERVER.clear()


def start(inbox: Path, db: Path, *extra: str, env: dict[str, str] | None = None) -> subprocess.Popen:
    """`fundwatch run` as its own process group; output to files (an orphaned child would hold a pipe)."""
    out, err = tempfile.TemporaryFile("w+"), tempfile.TemporaryFile("w+")
    process = subprocess.Popen(
        [sys.executable, "-m", "pipelines", "run", "--inbox", str(inbox), "--db", str(db), "--as-of", AS_OF, *extra],
        stdout=out,
        stderr=err,
        text=True,
        env=environment(env),
        start_new_session=True,
    )
    process.outputs = (out, err)  # type: ignore[attr-defined]
    return process


def finish(process: subprocess.Popen, timeout: float = 600) -> subprocess.CompletedProcess:
    try:
        process.wait(timeout=timeout)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
    out, err = process.outputs  # type: ignore[attr-defined]
    out.seek(0)
    err.seek(0)
    return subprocess.CompletedProcess(process.args, process.returncode, out.read(), err.read())


def run(inbox: Path, db: Path, *extra: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return finish(start(inbox, db, *extra, env=env))


def query(db: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def wait_until(check, timeout: float = 120, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)


def leftovers(db: Path) -> list[str]:
    return sorted(
        p.name for p in db.parent.iterdir() if p.name.startswith(db.name + ".") and p.name != db.name + ".lock"
    )


@pytest.fixture(scope="module")
def province(tmp_path_factory):
    """An inbox (day 2) and the day before (day 1), and the reference state of day 2 run alone."""
    root = tmp_path_factory.mktemp("safety")
    full = root / "full"
    generate(600, full, seed=11, dirty=False)
    day1 = root / "day1"
    shutil.copytree(full, day1)
    for dataset in ("benefit_payments", "death_records"):
        for path in sorted((day1 / dataset).iterdir())[1:]:
            path.unlink()
    reference = root / "reference.duckdb"
    assert run(full, reference).returncode == EXIT_OK
    return full, day1, query(reference, SUSPECT_FACTS)


@pytest.mark.parametrize("first", ["day1", "full"])
def test_two_runs_started_together_one_runs_the_other_is_refused_and_touches_nothing(province, tmp_path, first):
    full, day1, _ = province
    inboxes = {"day1": day1, "full": full}
    db = tmp_path / "fw.duckdb"
    a = start(inboxes[first], db)
    b = start(inboxes["full" if first == "day1" else "day1"], db)
    done = sorted([finish(a), finish(b)], key=lambda r: r.returncode)
    assert [r.returncode for r in done] == [EXIT_OK, EXIT_BUSY], [r.stderr[-1500:] for r in done]
    assert "another run is writing" in done[1].stderr and "did nothing" in done[1].stderr
    runs = query(db, "SELECT status FROM runs")
    assert runs == [("succeeded",)]  # the refused run left no row, the winner its own
    assert query(db, "SELECT count(*) FROM suspects WHERE active")[0][0] > 0
    assert leftovers(db) == [] and not is_locked(db)


def test_a_second_run_told_to_wait_runs_after_the_first(province, tmp_path):
    full, day1, reference = province
    db = tmp_path / "var" / "fw.duckdb"
    db.parent.mkdir()
    a = start(day1, db)
    wait_until(lambda: is_locked(db), what="the first run to hold the lock")
    b = start(full, db, "--wait", "600")
    first, second = finish(a), finish(b)
    assert (first.returncode, second.returncode) == (EXIT_OK, EXIT_OK), second.stderr[-2000:]
    assert [s for (s,) in query(db, "SELECT status FROM runs ORDER BY started_at")] == ["succeeded", "succeeded"]
    assert query(db, SUSPECT_FACTS) == reference
    # every file that holds IDs is private, and so is the folder fundwatch made
    for path in (db, db.with_suffix(".cases.sqlite"), db.with_name(db.name + ".lock")):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert stat.S_IMODE(db.parent.stat().st_mode) == 0o700


def test_a_run_waiting_while_the_holder_is_killed_takes_over_and_converges(province, tmp_path):
    full, day1, reference = province
    db = tmp_path / "fw.duckdb"
    a = start(full, db)
    wait_until(lambda: (db.parent / (db.name + ".building")).exists(), what="the first run to build")
    b = start(full, db, "--wait", "600")
    time.sleep(1)
    os.killpg(a.pid, signal.SIGKILL)  # as a scheduler or the OOM killer would
    killed, second = finish(a), finish(b)
    assert killed.returncode == -signal.SIGKILL
    assert second.returncode == EXIT_OK, second.stderr[-2000:]
    assert query(db, "SELECT count(*) FROM runs")[0][0] == 1  # the killed run published nothing
    assert query(db, SUSPECT_FACTS) == reference
    assert leftovers(db) == []


def test_a_run_killed_while_detecting_leaves_nothing_the_next_run_keeps(province, tmp_path):
    full, _, reference = province
    db = tmp_path / "fw.duckdb"
    killed = run(full, db, env={"FUNDWATCH_CRASH_AT": "staged"})
    assert killed.returncode == -signal.SIGKILL
    assert [n for n in leftovers(db) if ".stage-" in n], leftovers(db)  # every dataset as Arrow files, left
    assert run(full, db).returncode == EXIT_OK
    assert leftovers(db) == []
    assert query(db, SUSPECT_FACTS) == reference


def test_a_failing_run_exits_3_records_its_cause_and_publishes_nothing_else(province, tmp_path):
    full, day1, _ = province
    db = tmp_path / "fw.duckdb"
    assert run(day1, db, env={"FUNDWATCH_FILE_MODE": "0640"}).returncode == EXIT_OK
    assert stat.S_IMODE(db.stat().st_mode) == 0o640  # shared with the group, as configured
    group = next(g for g in (4, 100, 1000, 65534) if g != db.stat().st_gid and _group_exists(g))
    os.chown(db, -1, group)  # an operator hands the file to a group
    before = query(db, "SELECT count(*) FROM benefit_payments")
    register = db.with_suffix(".cases.sqlite")
    shutil.move(register, tmp_path / "register.kept")
    register.mkdir()  # the case register cannot be opened: the run fails in its cases phase
    failed = run(full, db)
    assert failed.returncode == EXIT_FAILED, failed.stderr[-2000:]
    assert "运行失败 run" in failed.stderr and "recorded in table `runs`" in failed.stderr
    status, error = query(db, "SELECT status, error FROM runs ORDER BY started_at DESC LIMIT 1")[0]
    assert status == "failed" and "unable to open database file" in error.lower()
    assert query(db, "SELECT count(*) FROM benefit_payments") == before  # nothing of the failed run published
    assert leftovers(db) == []
    # the swap that published the failed row kept the operator's mode and group (this run's umask is 0600)
    assert stat.S_IMODE(db.stat().st_mode) == 0o640 and db.stat().st_gid == group


def _can(command: list[str]) -> bool:
    return shutil.which(command[0]) is not None and subprocess.run(command, capture_output=True).returncode == 0


NEEDS_ROOT_NAMESPACES = pytest.mark.skipif(
    not _can(["unshare", "-m", "-n", "true"]), reason="needs unshare -m -n (root): CI runs as root"
)


@NEEDS_ROOT_NAMESPACES
def test_a_run_without_any_network_fails_with_its_own_status_and_says_why(province, tmp_path):
    """No loopback at all: Prefect cannot start its server. Failure (3), not "done with bad input" (1)."""
    full, _, _ = province
    db = tmp_path / "fw.duckdb"
    command = [sys.executable, "-m", "pipelines", "run", "--inbox", str(full), "--db", str(db), "--as-of", AS_OF]
    env = environment({"PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "20"})
    env.pop("PREFECT_API_URL")  # Prefect's own temporary server, which cannot start without a loopback
    result = subprocess.run(["unshare", "-n", *command], capture_output=True, text=True, timeout=600, env=env)
    assert result.returncode == EXIT_FAILED, result.stdout[-1000:] + result.stderr[-2000:]
    assert "运行失败 run" in result.stderr
    assert query(db, "SELECT status FROM runs") == [("failed",)]
    assert query(db, "SELECT error FROM runs")[0][0]


@NEEDS_ROOT_NAMESPACES
def test_a_full_disk_fails_cleanly_with_the_first_error_and_the_state_intact(province, tmp_path):
    full, day1, _ = province
    db = tmp_path / "fw.duckdb"
    assert run(day1, db).returncode == EXIT_OK
    size = db.stat().st_size
    small = tmp_path / "small"
    small.mkdir()
    # A filesystem with room for the published file and the register, not for a second copy of the file.
    kib = (size + (db.with_suffix(".cases.sqlite")).stat().st_size) // 1024 + size // 2048 + 64
    script = (
        f"mount -t tmpfs -o size={kib}k tmpfs {small} && cp -p {db} {db.with_suffix('.cases.sqlite')} {small}/ && "
        f"{sys.executable} -m pipelines run --inbox {full} --db {small}/fw.duckdb --as-of {AS_OF}; "
        f"echo exit=$? >&2; ls -a {small} >&2; "
        f"{sys.executable} -c \"import duckdb; c = duckdb.connect('{small}/fw.duckdb', read_only=True); "
        f"print('runs', c.execute('SELECT count(*) FROM runs').fetchall()[0][0]); "
        f"print('payments', c.execute('SELECT count(*) FROM benefit_payments').fetchall()[0][0])\""
    )
    result = subprocess.run(["unshare", "-m", "sh", "-c", script], capture_output=True, text=True, timeout=600)
    assert "exit=3" in result.stderr, result.stderr[-3000:]
    assert "No space left on device" in result.stderr
    assert "could not be recorded" in result.stderr  # even the failed row: said, with the first error
    assert ".building" not in result.stderr.split("exit=3")[1]  # no partial copy left
    before_runs = query(db, "SELECT count(*) FROM runs")[0][0]
    before_payments = query(db, "SELECT count(*) FROM benefit_payments")[0][0]
    assert f"runs {before_runs}" in result.stdout and f"payments {before_payments}" in result.stdout


def _group_exists(gid: int) -> bool:
    import grp

    try:
        grp.getgrgid(gid)
    except KeyError:
        return False
    return True


def test_a_register_swapped_between_runs_is_mirrored_whole_and_the_run_warns(province, tmp_path):
    """The DuckDB file keeps a copy of the case log; a register whose log does not continue that copy (restored
    from a backup, or changed outside fundwatch) is said in the run's log, then mirrored whole."""
    full, _, _ = province
    db = tmp_path / "fw.duckdb"
    first = run(full, db)
    assert first.returncode == EXIT_OK and "案件记录未接续" not in first.stderr
    again = run(full, db)  # the register continues the copy: appended, no warning
    assert again.returncode == EXIT_OK and "案件记录未接续" not in again.stderr
    register = db.with_suffix(".cases.sqlite")
    for path in register.parent.glob(register.name + "*"):  # a register started afresh: its log is another one
        path.unlink()
    swapped = run(full, db)
    assert swapped.returncode == EXIT_OK
    assert "案件记录未接续上次镜像" in swapped.stderr and "fundwatch case verify-log" in swapped.stderr
    with contextlib.closing(sqlite3.connect(register)) as con:
        in_register = con.execute("SELECT event_id, hash FROM case_events ORDER BY event_id").fetchall()
    assert query(db, "SELECT event_id, hash FROM case_events ORDER BY event_id") == in_register
