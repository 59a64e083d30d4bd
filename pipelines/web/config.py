"""What the workbench is given by the command that serves it, and the private secret its cookies are signed with."""

from __future__ import annotations

import datetime as dt
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

IDLE_MINUTES = 30
LOCKOUT_FAILURES = 5
LOCKOUT_MINUTES = 15
SESSION_HOURS = 12  # a session ends this long after login, however busy


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class WebConfig:
    db: Path  # the published DuckDB file (read-only, per request)
    register: Path  # the case register beside it
    secret: bytes  # signs the session cookies (`load_secret`)
    memory_limit: str
    timezone: str = "Asia/Shanghai"
    idle_minutes: int = IDLE_MINUTES
    lockout_failures: int = LOCKOUT_FAILURES
    lockout_minutes: int = LOCKOUT_MINUTES
    secure_cookies: bool = False  # set the Secure flag (behind TLS); the loopback default serves plain HTTP
    clock: Callable[[], dt.datetime] = field(default=_utc_now)  # tests move time

    def now(self) -> dt.datetime:
        """Now in the office's time zone, aware."""
        return self.clock().astimezone(ZoneInfo(self.timezone))

    def today(self) -> dt.date:
        return self.now().date()


def secret_path_for(db: Path) -> Path:
    """The private file of the cookie secret, beside the database: var/fundwatch.duckdb -> var/fundwatch.web-secret."""
    return db.with_suffix(".web-secret")


def load_secret(path: Path) -> bytes:
    """The secret in `path`, created on first start (32 random bytes, hex, mode 0600, never overwritten).
    A secret file that others may read is refused: whoever reads it can forge a session."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(fd, "w", encoding="ascii") as out:
            out.write(secrets.token_hex(32) + "\n")
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        raise PermissionError(
            f"会话密钥文件权限过宽 the session secret {path} is readable by others (mode {mode:04o}): chmod 600 it"
        )
    text = path.read_text(encoding="ascii").strip()
    if len(text) < 32:
        raise ValueError(f"会话密钥文件无效 the session secret {path} is too short: delete it to make a new one")
    return text.encode("ascii")
