"""Starting the real workbench in a test: a free loopback port, and waiting until `/login` answers."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Callable

import httpx


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
