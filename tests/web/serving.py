"""Starting the real workbench in a test: a free loopback port, and waiting until `/login` answers."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
SERVER_ENV = {"FUNDWATCH_DUCKDB_MEMORY_LIMIT": "256MB"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_serving(server: subprocess.Popen, base: str, said: Callable[[], str], seconds: float = 60) -> None:
    """Poll `base`/login until it answers; fail with what the server said (`said()`) if it exits or is too slow."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            httpx.get(f"{base}/login", timeout=2)
            return
        except httpx.TransportError:
            assert server.poll() is None, "the workbench exited: " + said()
            assert time.monotonic() < deadline, "the workbench did not start: " + said()
            time.sleep(0.2)


@contextmanager
def workbench(db: Path, log: Path) -> Iterator[str]:
    """`fundwatch web` over `db` on a free loopback port until the block ends (Ctrl-C, as a person stops it), its
    output in `log`; yields its base URL."""
    port = free_port()
    with log.open("w") as err:
        server = subprocess.Popen(
            [sys.executable, "-m", "pipelines", "web", "--db", str(db), "--port", str(port)],
            cwd=ROOT,
            stdout=err,
            stderr=subprocess.STDOUT,
            env={**os.environ, **SERVER_ENV},
        )
        try:
            base = f"http://127.0.0.1:{port}"
            wait_until_serving(server, base, log.read_text)
            yield base
        finally:
            server.send_signal(signal.SIGINT)
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
