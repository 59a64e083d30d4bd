"""Prefect's temporary server as `fundwatch run` starts it when no server is configured (ADR 0031).

Started before the run imports Prefect, waited for just before the flow, stopped after Prefect's log and event
workers have delivered; it dies with a killed run.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import duckdb
import pytest

from pipelines.app import prefect_server
from pipelines.app.prefect_server import TemporaryServer

ROOT = Path(__file__).resolve().parents[1]
ID_X = "11010519491231002X"


def gone(pid: int) -> bool:
    """The process has exited (a zombie nobody reaped counts: it runs nothing and holds no port)."""
    try:
        state = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return True
    return "\nState:\tZ" in state


def wait_until(check, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.1)
    return check()


@pytest.mark.slow  # a real Prefect server (about 5 s to start)
def test_started_it_answers_then_stops_and_nothing_listens_on_its_port():
    server = TemporaryServer()
    try:
        server.wait()
        with urllib.request.urlopen(server.api_url + "/health", timeout=5) as response:
            assert response.status == 200
    finally:
        server.stop()
    assert server.proc is not None and server.proc.poll() is not None
    with pytest.raises(ConnectionRefusedError):  # nothing listens on its port any more
        socket.create_connection((prefect_server.HOST, server.port), timeout=5)


@pytest.mark.slow
def test_a_run_killed_by_sigkill_takes_its_temporary_server_with_it(tmp_path):
    script = (
        "import time\n"
        "from pipelines.app.prefect_server import TemporaryServer\n"
        "s = TemporaryServer(); s.wait(); print(s.proc.pid, flush=True); time.sleep(600)\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        child = int(parent.stdout.readline())
        assert not gone(child)
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait(timeout=10)
        assert wait_until(lambda: gone(child), 30), "the temporary server outlived the run that started it"
    finally:
        parent.kill()


def test_a_server_that_does_not_come_up_fails_with_its_status(monkeypatch):
    def exits(self):
        return subprocess.Popen([sys.executable, "-c", "raise SystemExit(1)"])

    monkeypatch.setattr(TemporaryServer, "_spawn", exits)
    server = TemporaryServer()
    with pytest.raises(RuntimeError, match="exited with status 1"):
        server.wait(timeout=30)
    server.stop()


def test_no_loopback_is_said_when_waited_for(monkeypatch):
    def no_port(host: str = prefect_server.HOST) -> int:
        raise OSError("Cannot assign requested address")

    monkeypatch.setattr(prefect_server, "free_port", no_port)
    server = TemporaryServer()
    with pytest.raises(RuntimeError, match="could not start: Cannot assign requested address"):
        server.wait()
    server.stop()  # nothing to stop: no error


@pytest.mark.slow  # `fundwatch run` through Prefect as a subprocess
def test_a_run_with_no_server_configured_starts_its_own_and_ends_without_api_errors(tmp_path):
    inbox, db = tmp_path / "inbox", tmp_path / "fw.duckdb"
    (inbox / "death_records").mkdir(parents=True)
    (inbox / "death_records" / "d.csv").write_text(
        f"person_id,death_date,source\n{ID_X},2024-03-05,police\n", encoding="utf-8"
    )
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    command = [sys.executable, "-m", "pipelines", "run", "--inbox", str(inbox), "--db", str(db)]
    command += ["--as-of", "2026-11-27"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, env=env, cwd=ROOT)
    assert result.returncode == 0, result.stderr[-2000:]
    # the flow's logs and events reached the server before it stopped (else Prefect retries at exit, for minutes)
    assert "Error logging to API" not in result.stderr and "All connection attempts failed" not in result.stderr
    assert "Finished in state Completed" in result.stderr
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT status FROM runs").fetchall() == [("succeeded",)]


def test_a_flow_run_on_the_temporary_server_sends_no_heartbeats_and_shows_no_ui_link():
    """The server dies with the run, so nothing could watch heartbeats; Prefect's heartbeat thread would hold up the
    run's end by up to a second. A lasting server (PREFECT_API_URL, `fundwatch serve`) keeps them."""
    from prefect import flow
    from prefect.flow_engine import FlowRunEngine
    from prefect.settings import get_current_settings

    from pipelines.app.summary import temporary_server_settings

    engine = FlowRunEngine(flow=flow(name="probe")(lambda: None))
    assert engine.heartbeat_seconds is not None
    with temporary_server_settings("http://127.0.0.1:4999/api"):
        settings = get_current_settings()
        assert (settings.api.url, settings.ui_url) == ("http://127.0.0.1:4999/api", "")
        assert engine.heartbeat_seconds is None
    assert engine.heartbeat_seconds is not None
