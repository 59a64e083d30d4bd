"""A local Prefect server on the loopback: started as a child process, waited for, stopped.

`fundwatch serve` starts one (PREFECT_HOME in `var/prefect`: its SQLite database and `server.log`)
unless told to use another; the tests start one the same way.
"""

from __future__ import annotations

import contextlib
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from pipelines.app.settings import child_environment

HOST = "127.0.0.1"  # loopback only
SERVER_START_TIMEOUT = 90.0
SERVER_STOP_TIMEOUT = 20.0


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


def wait_for_health(api_url: str, proc: subprocess.Popen | None = None, timeout: float = SERVER_START_TIMEOUT) -> None:
    """Poll `<api_url>/health` until it answers 200; fail early if `proc` (the server) exits."""
    deadline = time.monotonic() + timeout
    health = api_url.rstrip("/") + "/health"
    while True:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"Prefect server exited with status {proc.returncode} before it was healthy")
        try:
            with urllib.request.urlopen(health, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
            pass
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
