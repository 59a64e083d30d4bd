"""One writer at a time: an OS file lock per database, held for the whole of a run.

`<db>.lock` beside the DuckDB file is locked with `flock` (exclusive) by the run that builds the next
state — ingestion, detection, the case register's sync and the swap all happen under it. The kernel
releases the lock when the holder dies, even by SIGKILL, so a crashed run never leaves a stale lock: the
file itself may stay, it means nothing unlocked. A second run on the same database waits for the lock
(`wait` seconds) or is refused with `RunInProgress`, and never touches the first run's building copy.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import os
import time
from collections.abc import Iterator
from pathlib import Path

POLL_SECONDS = 0.5


class RunInProgress(RuntimeError):
    """Another run holds the database's writer lock."""

    def __init__(self, db: Path, holder: str, waited: float) -> None:
        self.db = db
        self.holder = holder
        waited_text = f" after waiting {waited:.0f} s" if waited else ""
        super().__init__(
            f"另一次运行正在写入该数据库 another run is writing {db}{waited_text} ({holder or 'holder unknown'}); "
            f"this run did nothing. Try again when it has finished, or give --wait SECONDS."
        )


def lock_path(db: Path) -> Path:
    return db.with_name(db.name + ".lock")


def _holder(fd: int) -> str:
    os.lseek(fd, 0, os.SEEK_SET)
    return os.read(fd, 200).decode("utf-8", errors="replace").strip()


@contextlib.contextmanager
def writer_lock(db: Path, *, wait: float = 0.0, run_id: str = "") -> Iterator[None]:
    """Hold the writer lock of `db` inside the block; wait up to `wait` seconds for it, else `RunInProgress`."""
    db.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock_path(db), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        started = time.monotonic()
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                waited = time.monotonic() - started
                if waited >= wait:
                    raise RunInProgress(db, _holder(fd), waited) from None
                time.sleep(min(POLL_SECONDS, max(wait - waited, 0.01)))
        try:
            os.ftruncate(fd, 0)
            os.lseek(fd, 0, os.SEEK_SET)
            since = dt.datetime.now().isoformat(timespec="seconds")
            os.write(fd, f"run {run_id} pid {os.getpid()} since {since}\n".encode())
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def is_locked(db: Path) -> bool:
    """Whether some process holds the writer lock of `db` now (for tests and `fundwatch runs`)."""
    path = lock_path(db)
    if not path.exists():
        return False
    fd = os.open(path, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    finally:
        os.close(fd)
