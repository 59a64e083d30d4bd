"""POST /api/screen: the screening service for the agency's payment system (CONTRACT.md section 7, issue 15 item 3).

A machine route: JSON lines in (one `benefit_payments` record per line, English or Chinese keys, as a file's
headers would be), JSON lines out (one result row per data row, the columns of `fundwatch screen`'s result file,
amounts as exact decimal text). It is authenticated by the calling system's API token (`Authorization: Bearer`,
checked by `pipelines.cases.tokens`), never by a session or a CSRF token; every call, accepted or refused, is a
row of `api_calls`, and an accepted one is a recorded screening (`service.record`, channel 'api', by
'token:<name>') whose held rows are adjudicated like any other.

Speed (p95 ≤ 100 ms for one payment on a 1M-person file): opening the published file costs 30-50 ms a time, a
third of the budget, so the service keeps one read-only connection per published file version (`PublishedFile`),
not one per request as the pages do. A version is the file's inode, size and modification time: a nightly run
publishes by an atomic rename (ADR 0008), so the first call after a swap opens the new file, and the connection to
the replaced one is closed as soon as the last call still reading it has finished. Each call reads through a
cursor of its own (DuckDB connections are not shared between threads).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import polars as pl

from pipelines.screen import batch, service
from pipelines.warehouse.session import catalog_name, open_published

# The columns of a result row: those of `fundwatch screen`'s result file.
RESULT_COLUMNS = service.RESULT_FILE_COLUMNS
MAX_BODY_BYTES = 64 * 1024 * 1024  # a batch of some 200,000 payments; more is refused (413), not read
MEDIA_TYPE = "application/x-ndjson"


class BadRequest(ValueError):
    """A request body that cannot be screened (400): the message names the line or the column."""


def bearer_token(header: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header; None when there is none or it is another scheme."""
    if not header:
        return None
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


def batch_of(body: bytes, as_of: dt.date) -> batch.Batch:
    """The batch a request body holds (`batch.records_of`, `batch.from_records`); BadRequest naming the line (not
    UTF-8, not a JSON object) or the column (a required one missing from every record) when it cannot be read."""
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = body[: err.start].count(b"\n") + 1
        raise BadRequest(f"第{line}行不是UTF-8文本 line {line} is not UTF-8 text") from err
    try:
        numbered = batch.records_of(text.split("\n"))  # not splitlines(): JSON may hold U+2028
    except ValueError as err:
        raise BadRequest(str(err)) from err
    if not numbered:
        raise BadRequest("请求体为空 the body holds no record: one JSON object per line")
    try:
        return batch.from_records(numbered, as_of, hashlib.sha256(body).hexdigest())
    except batch.UnreadableFile as err:
        raise BadRequest(str(err)) from err


def result_lines(results: pl.DataFrame) -> bytes:
    """The result rows as JSON lines: `RESULT_COLUMNS` in order, the amount as exact decimal text ("3210.00")."""
    shown = results.select(RESULT_COLUMNS).with_columns(pl.col("amount").cast(pl.String))
    return shown.write_ndjson().encode("utf-8")


# ---- one read-only connection per published file version -------------------------------------------------------


def _version(path: Path) -> tuple[int, int, int, int]:
    """What tells one published file from the next: a swap is a rename, so a new inode (and size, mtime)."""
    st = os.stat(path)
    return st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns


@dataclass(eq=False)
class _Open:
    version: tuple[int, int, int, int]
    con: duckdb.DuckDBPyConnection
    known: service.Published  # asked of this version once: its run, whether it has the screening lookup
    users: int = 0
    replaced: bool = False
    closed: bool = field(default=False)

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.con.close()


class PublishedFile:
    """The published DuckDB file, read-only, kept open between calls and reopened when the file is swapped.

    `session()` yields a cursor of the connection to the file as it is now; the connection to a replaced file is
    closed once no call reads it any more. `open_published` is the pages' own way of opening it (a DuckDB instance
    of its own, the file attached read-only): a missing file raises FileNotFoundError, one held for writing
    `WarehouseBusy`, as for the pages.
    """

    def __init__(self, path: Path, memory_limit: str) -> None:
        self.path = Path(path)
        self.memory_limit = memory_limit
        self._lock = threading.Lock()
        self._current: _Open | None = None
        self.opened = 0  # how many times the file was opened (tests: once per version, not per call)

    def _acquire(self) -> tuple[_Open, duckdb.DuckDBPyConnection]:
        version = _version(self.path)
        with self._lock:
            current = self._current
            if current is None or current.version != version:
                if current is not None:
                    current.replaced = True
                    if current.users == 0:
                        current.close()
                self._current = None
                con = open_published(self.path, memory_limit=self.memory_limit)
                try:
                    current = _Open(version, con, service.Published.of(con))
                except BaseException:
                    con.close()
                    raise
                self._current = current
                self.opened += 1
            current.users += 1
            try:
                cursor = current.con.cursor()
            except BaseException:
                current.users -= 1
                raise
        return current, cursor

    def _release(self, used: _Open) -> None:
        with self._lock:
            used.users -= 1
            if used.replaced and used.users == 0:
                used.close()

    @contextlib.contextmanager
    def session(self) -> Iterator[duckdb.DuckDBPyConnection]:
        with self.screening() as (cursor, _):
            yield cursor

    @contextlib.contextmanager
    def screening(self) -> Iterator[tuple[duckdb.DuckDBPyConnection, service.Published]]:
        """A cursor as `session()` gives it, and what is known of that file version (`service.Published`)."""
        used, cursor = self._acquire()
        try:
            # a cursor starts in DuckDB's own catalog: read the attached file as a direct open would
            cursor.execute('USE "' + catalog_name(self.path).replace('"', '""') + '"')
            yield cursor, used.known
        finally:
            cursor.close()
            self._release(used)

    def close(self) -> None:
        """Close the connection (the server stops); a call still reading keeps it until it has finished."""
        with self._lock:
            current, self._current = self._current, None
            if current is not None:
                current.replaced = True
                if current.users == 0:
                    current.close()
