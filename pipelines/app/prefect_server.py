"""A local Prefect server on the loopback: started as a child process, waited for, stopped.

`fundwatch serve` starts one (PREFECT_HOME in `var/prefect`: its SQLite database and `server.log`)
unless told to use another; the tests start one the same way.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

# Nothing of fundwatch is imported here: the `fundwatch` launcher (pipelines.app.launch) starts the temporary server
# before it imports the rest (ADR 0031).

HOST = "127.0.0.1"  # loopback only
SERVER_START_TIMEOUT = 90.0
SERVER_STOP_TIMEOUT = 20.0


def child_environment(**overrides: str) -> dict[str, str]:
    """This process's environment with some variables set: for a child process (a Prefect server)."""
    return {**os.environ, **overrides}


def prefect_executable() -> str:
    """The `prefect` of this virtualenv (beside the running python), else the one on PATH."""
    beside = Path(sys.executable).parent / "prefect"
    if beside.exists():
        return str(beside)
    found = shutil.which("prefect")
    if not found:
        raise FileNotFoundError("no `prefect` executable beside the python or on PATH")
    return found


def port_is_free(port: int, host: str = HOST) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def free_port(host: str = HOST) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def api_url_for(port: int, host: str = HOST) -> str:
    return f"http://{host}:{port}/api"


def start_server(port: int, home: Path, log_path: Path | None = None) -> subprocess.Popen:
    """`prefect server start` on the loopback as a child process; PREFECT_HOME (SQLite DB) is `home`.

    The child gets its own session, so a Ctrl-C in the terminal reaches only the serving process, which
    pauses the schedule through the still running server and then stops the server (`stop_process`).
    """
    home.mkdir(parents=True, exist_ok=True)
    log_path = log_path or home / "server.log"
    env = child_environment(
        PREFECT_HOME=str(home),
        PREFECT_API_URL=api_url_for(port),
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        DO_NOT_TRACK="1",
    )
    with open(log_path, "ab") as log:
        return subprocess.Popen(
            [prefect_executable(), "server", "start", "--host", HOST, "--port", str(port)],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def answers(health: str) -> bool:
    """Whether a server's health URL answers 200 now."""
    try:
        with urllib.request.urlopen(health, timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
        return False


def wait_for_health(api_url: str, proc: subprocess.Popen | None = None, timeout: float = SERVER_START_TIMEOUT) -> None:
    """Poll `<api_url>/health` until it answers 200; fail early if `proc` (the server) exits."""
    deadline = time.monotonic() + timeout
    health = api_url.rstrip("/") + "/health"
    while True:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"Prefect server exited with status {proc.returncode} before it was healthy")
        if answers(health):
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"Prefect server not healthy at {health} after {timeout:.0f} s")
        time.sleep(0.5)


def stop_process(proc: subprocess.Popen, sig: int = signal.SIGTERM, timeout: float = SERVER_STOP_TIMEOUT) -> int:
    """Signal one child process, wait for it (bounded), kill it if it does not go."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(sig)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
    return proc.returncode


# What Prefect's own temporary server (prefect.server.api.server.SubprocessASGIServer) is started with.
TEMPORARY_SERVER_ENV = {
    "PREFECT_UI_ENABLED": "0",
    "PREFECT__SERVER_EPHEMERAL": "1",
    "PREFECT__SERVER_FINAL": "1",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "DO_NOT_TRACK": "1",
}
TEMPORARY_SERVER_TIMEOUT = 60.0
EXIT_ADDRESS_IN_USE = 3  # uvicorn's status when the port was taken in the meantime
HEALTH_POLL_SECONDS = 0.05
PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    """Linux: the child gets SIGTERM when the run that started it dies, even by SIGKILL (no orphan server)."""
    import ctypes

    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


class TemporaryServer:
    """Prefect's temporary server for one `fundwatch run` with no PREFECT_API_URL, started before the run imports
    Prefect (ADR 0031).

    Prefect starts the same server itself (uvicorn over `prefect.server.api.server:create_app`, the user's
    PREFECT_HOME) when its first client call finds no API URL, and waits for it: about 5 s of importing its server
    on a core the run is not using. Started first, it comes up while the run imports Polars, DuckDB and Prefect;
    `wait` is called just before the flow. The run then points Prefect at it (`prefect.settings.temporary_settings`)
    and stops it at the end. The child dies with the run (PR_SET_PDEATHSIG), so a killed run leaves no server.
    """

    proc: subprocess.Popen | None
    error: OSError | None

    def __init__(self) -> None:
        self.port, self.proc, self.error = 0, None, None
        try:
            self.port = free_port()
            self.proc = self._spawn()
        except OSError as err:  # no loopback, no python: said by `wait`, where the run records its failure
            self.error = err

    @property
    def api_url(self) -> str:
        return api_url_for(self.port)

    def _spawn(self) -> subprocess.Popen:
        command = [sys.executable, "-m", "uvicorn", "--factory", "prefect.server.api.server:create_app"]
        options = ["--host", HOST, "--port", str(self.port), "--log-level", "error", "--lifespan", "on"]
        return subprocess.Popen(
            [*command, *options],
            env=child_environment(**TEMPORARY_SERVER_ENV),
            stdin=subprocess.DEVNULL,
            preexec_fn=_die_with_parent,
        )

    def wait(self, timeout: float = TEMPORARY_SERVER_TIMEOUT) -> None:
        """Until the server answers its health check; a port taken meanwhile is retried on another (as Prefect)."""
        if self.proc is None:
            raise RuntimeError(f"Prefect 临时服务器未能启动 Prefect's temporary server could not start: {self.error}")
        deadline = time.monotonic() + timeout
        health = self.api_url + "/health"
        while True:
            status = self.proc.poll()
            if status == EXIT_ADDRESS_IN_USE and time.monotonic() < deadline:
                self.port = free_port()
                self.proc = self._spawn()
                health = self.api_url + "/health"
            elif status is not None:
                raise RuntimeError(
                    f"Prefect 临时服务器未能启动 Prefect's temporary server exited with status {status} before it "
                    f"answered on {HOST}:{self.port}"
                )
            if answers(health):
                return
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"Prefect 临时服务器未就绪 Prefect's temporary server did not answer on {HOST}:{self.port} "
                    f"within {timeout:.0f} s"
                )
            time.sleep(HEALTH_POLL_SECONDS)

    def stop(self) -> None:
        """Stop the server once this process's Prefect log and event workers have sent what they hold (they would
        otherwise retry against a stopped server at exit, for minutes)."""
        drain_prefect_workers()
        if self.proc is not None:
            stop_process(self.proc, signal.SIGTERM, timeout=5)


def drain_prefect_workers(timeout: float = 10.0) -> None:
    """Wait (bounded) until Prefect's background workers of this process have delivered their logs and events."""
    if "prefect" not in sys.modules:
        return
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker

    for worker in (APILogWorker, EventsWorker):
        with contextlib.suppress(Exception):  # a worker that cannot deliver must not fail a finished run
            worker.drain_all(timeout=timeout, at_exit=False)


# The temporary server the `fundwatch` launcher started before importing the command line, for `fundwatch run`.
_early: TemporaryServer | None = None


def start_early() -> None:
    """Start the temporary server now, for the `fundwatch run` about to be parsed (pipelines.app.launch)."""
    global _early
    _early = TemporaryServer()


def take_early() -> TemporaryServer | None:
    """The server `start_early` started, now the caller's to wait for and stop (None: none was started)."""
    global _early
    server, _early = _early, None
    return server


def stop_early() -> None:
    """Stop a server `start_early` started that no run took (a usage error, `--help`)."""
    server = take_early()
    if server is not None:
        server.stop()
