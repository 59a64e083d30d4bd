"""The served deployment end to end, against a real `prefect server start` on the loopback.

Starts the server (PREFECT_HOME in tmp_path) and the serving process (`python -m pipelines serve
--no-server`), checks the deployment's schedule (cron 0 2 * * *, Asia/Shanghai), triggers one run, waits for
it to complete and finds its `runs` row in the DuckDB file; then stops serving with SIGINT (Ctrl-C) and
checks the deployment was paused. Both processes are always stopped. Select or skip with `-m server`.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import duckdb
import pytest

from pipelines.app.prefect_server import api_url_for, free_port, stop_process, wait_for_health
from pipelines.app.schedule import CRON, DEPLOYMENT_NAME, FLOW_NAME, TIMEZONE
from pipelines.app.settings import PROJECT_ROOT, Settings

SERVER_HEALTH_TIMEOUT = 90
DEPLOYMENT_TIMEOUT = 60
RUN_TIMEOUT = 120
SHUTDOWN_TIMEOUT = 30

DEATH_RECORDS = (
    "person_id,name,death_date,source\n33030219730910544X,徐海丹,2025-08-19,health\n"
    "330305194012214448,潘春瑶,2025-05-27,health\n"
)


LATE_DEATH_NOTICE = "person_id,name,death_date,source\n330302193402163427,陈雅琴,2025-09-30,police\n"
POLL_SECONDS = 0.01


class Poller:
    """Opens the published file read-only again and again, as an analyst's tool would, noting what it saw."""

    def __init__(self, db: Path) -> None:
        self.db = db
        self.seen: list[tuple[int, int]] = []  # (runs, death_records)
        self.errors: list[BaseException] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def _poll(self) -> None:
        while not self._stop.is_set():
            try:
                con = duckdb.connect(str(self.db), read_only=True)
                try:
                    runs = con.sql("SELECT count(*) FROM runs").fetchall()[0][0]
                    deaths = con.sql("SELECT count(*) FROM death_records").fetchall()[0][0]
                    self.seen.append((runs, deaths))
                finally:
                    con.close()
            except BaseException as err:  # a lock error or a torn state fails the test
                self.errors.append(err)
            time.sleep(POLL_SECONDS)

    def __enter__(self) -> Poller:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(10)


def tail(path: Path, chars: int = 4000) -> str:
    return path.read_text(encoding="utf-8", errors="replace")[-chars:] if path.exists() else ""


def wait_for(what: str, check, timeout: float, alive: list[subprocess.Popen], logs: list[Path]):
    """Poll `check()` until it returns something truthy; fail if it times out or a process dies."""
    deadline = time.monotonic() + timeout
    while True:
        for proc in alive:
            if proc.poll() is not None:
                pytest.fail(f"{proc.args} exited ({proc.returncode}) waiting for {what}\n" + "\n".join(map(tail, logs)))
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}\n" + "\n".join(map(tail, logs)))
        time.sleep(1)


@pytest.mark.server
@pytest.mark.slow
def test_served_deployment_runs_on_a_real_server(tmp_path):
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL, temporary_settings

    inbox, db = tmp_path / "inbox", tmp_path / "fw.duckdb"
    (inbox / "death_records").mkdir(parents=True)
    (inbox / "death_records" / "dr.csv").write_text(DEATH_RECORDS, encoding="utf-8")

    port = free_port()
    api_url = api_url_for(port)
    env = {
        **os.environ,
        "PREFECT_API_URL": api_url,
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",
        "FUNDWATCH_INBOX": str(inbox),
        "FUNDWATCH_DB": str(db),
    }
    server_log, serve_log = tmp_path / "server.log", tmp_path / "serve.log"
    logs = [server_log, serve_log]
    prefect = Path(sys.executable).parent / "prefect"
    server = serving = None
    try:
        with open(server_log, "wb") as out:
            server = subprocess.Popen(
                [str(prefect), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
                env={**env, "PREFECT_HOME": str(tmp_path / "server-home")},
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            wait_for_health(api_url, server, timeout=SERVER_HEALTH_TIMEOUT)
        except (RuntimeError, TimeoutError) as exc:
            pytest.fail(f"{exc}\n{tail(server_log)}")

        with open(serve_log, "wb") as out:
            serving = subprocess.Popen(
                [sys.executable, "-m", "pipelines", "serve", "--no-server"],
                env={**env, "PREFECT_HOME": str(tmp_path / "serve-home")},
                cwd=PROJECT_ROOT,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # signals from the test only
            )

        with temporary_settings(updates={PREFECT_API_URL: api_url}), get_client(sync_client=True) as client:

            def deployment():
                try:
                    return client.read_deployment_by_name(f"{FLOW_NAME}/{DEPLOYMENT_NAME}")
                except Exception:  # not registered yet
                    return None

            dep = wait_for("the deployment", deployment, DEPLOYMENT_TIMEOUT, [server, serving], logs)
            assert dep.entrypoint == "pipelines.app.schedule.scheduled_nightly"
            assert not dep.paused
            assert len(dep.schedules) == 1
            schedule = dep.schedules[0]
            assert schedule.active
            assert schedule.schedule.cron == CRON == "0 2 * * *"
            assert schedule.schedule.timezone == TIMEZONE == "Asia/Shanghai"

            def finished(flow_run_id):
                def check():
                    run = client.read_flow_run(flow_run_id)
                    return run if run.state is not None and run.state.is_final() else None

                return check

            day_before = Settings(inbox=inbox, db=db).today()
            flow_run = client.create_flow_run_from_deployment(dep.id)
            run = wait_for("the flow run to finish", finished(flow_run.id), RUN_TIMEOUT, [server, serving], logs)
            day_after = Settings(inbox=inbox, db=db).today()
            assert run.state.is_completed(), f"{run.state}\n{tail(serve_log)}"
            assert run.name in {f"scheduled-{day_before}", f"scheduled-{day_after}"}

            con = duckdb.connect(str(db), read_only=True)
            try:
                rows = con.execute("SELECT as_of, status, rows_loaded FROM runs").fetchall()
            finally:
                con.close()
            assert len(rows) == 1, rows
            as_of, status, rows_loaded = rows[0]
            assert status == "succeeded"
            assert as_of in {day_before, day_after}
            assert rows_loaded == 2

            # A reader polling the published file during a scheduled run never fails: not while the run
            # builds its copy, not at the swap, not while the run reads its summary (ADR 0008).
            (inbox / "death_records" / "dr_late.csv").write_text(LATE_DEATH_NOTICE, encoding="utf-8")
            with Poller(db) as poller:
                second = client.create_flow_run_from_deployment(dep.id)
                run = wait_for("the second run to finish", finished(second.id), RUN_TIMEOUT, [server, serving], logs)
            assert run.state.is_completed(), f"{run.state}\n{tail(serve_log)}"
            assert not poller.errors, poller.errors[:3]
            assert len(poller.seen) > 20 and set(poller.seen) == {(1, 2), (2, 3)}, set(poller.seen)

            # Ctrl-C: the runner pauses the deployment through the server, then the process exits 0.
            serving.send_signal(signal.SIGINT)
            try:
                assert serving.wait(timeout=SHUTDOWN_TIMEOUT) == 0, tail(serve_log)
            except subprocess.TimeoutExpired:
                pytest.fail(f"serving did not stop on SIGINT within {SHUTDOWN_TIMEOUT} s\n{tail(serve_log)}")
            assert client.read_deployment(dep.id).paused
    finally:
        if serving is not None:
            stop_process(serving, signal.SIGINT, timeout=SHUTDOWN_TIMEOUT)
        if server is not None:
            stop_process(server, signal.SIGTERM, timeout=20)
