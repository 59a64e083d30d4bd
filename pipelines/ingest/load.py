"""Loading a dataset's files into the warehouse: per file skip / replace / load / reject, committed in groups.

A file that cannot be read at all is recorded as `rejected`; nothing of it stays loaded, and the
version in force before stays in force. Reading and validating a batch (`pipelines.ingest.batch`)
runs in a worker thread one batch ahead of the DuckDB appends (docs/adr/0009-ingest-throughput.md).
Whatever goes wrong while one file is hashed, read or validated (an unreadable file, a full disk, a
library's error on odd content) rejects that file with the reason and the others go on; only what is
not the file's fault (MemoryError, KeyboardInterrupt, an error on the DuckDB side) fails the call.
A symbolic link or other non-regular entry of the inbox is rejected by name, never opened.

Mistyped citizen IDs (CONTRACT.md section 6) are looked up in enrollment at the end of each group of files,
before it is committed (`pipelines.ingest.resolve`); enrollment files are read first, so the lookup sees the
enrollment in force after them. A file's `rows_loaded` counts its rows valid as delivered, `rows_quarantined`
every invalid one: a resolved row is among the quarantined (loaded + quarantined = the rows of the file), and
is also in its dataset, `id_resolved = true`.
"""

from __future__ import annotations

import concurrent.futures
import datetime as dt
import hashlib
import queue
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb

from pipelines.ingest import registry
from pipelines.ingest.batch import BatchOutcome, check_twins, map_headers, process_batch, twin_headers
from pipelines.ingest.inbox import SPECIAL, SYMLINK, InboxFile, link_digest, sha256_of
from pipelines.ingest.readers import SUPPORTED_SUFFIXES, UnreadableFile, open_file
from pipelines.ingest.reasons import REASON_CHARS, excerpt, quoted
from pipelines.ingest.resolve import Resolver
from pipelines.warehouse.append import Appender
from pipelines.warehouse.session import Transaction, transaction
from schemas.datasets import BY_NAME, Dataset
from schemas.validation import DateWindow

# Told, after each batch, how many rows of a dataset were read (loaded or quarantined): a progress display.
RowsDone = Callable[[str, int], None]


@dataclass
class FileResult:
    dataset: str
    file: str
    status: str  # loaded | skipped | replaced | rejected (and, for a withdrawal, withdrawn)
    rows_loaded: int = 0
    rows_quarantined: int = 0
    reason: str | None = None


@dataclass
class Planned:
    """A file to read, decided before reading: new (`loaded`) or a correction (`replaced`)."""

    item: InboxFile
    spec: Dataset
    sha256: str
    size: int
    status: str


HEADER_ONLY = "仅有表头 header only: no rows"
SYMLINK_REASON = "符号链接 symbolic link: not followed"
SPECIAL_REASON = "非普通文件 not a regular file (a pipe, socket or device): not read"


def ingest_file(
    con: duckdb.DuckDBPyConnection, item: InboxFile, run_id: str, as_of: dt.date, *, scratch: Path | None = None
) -> FileResult:
    """Load one file in one transaction; see `ingest_files`."""
    return ingest_files(con, [item], run_id, as_of, scratch=scratch)[0]


def unexpected_reason(err: BaseException) -> str:
    """The reason of a file rejected for an error no reader anticipated: its type and a short excerpt."""
    return f"读取出错 error while reading the file ({type(err).__name__}): {excerpt(err)}"


def _identify(item: InboxFile) -> tuple[str, int, str | None]:
    """(sha256, size, the reason to reject it unread, if any). A link's target is never opened: its digest
    is that of the link's text."""
    try:
        if item.kind == SYMLINK:
            return link_digest(item.path), item.path.lstat().st_size, SYMLINK_REASON
        if item.kind == SPECIAL:
            return hashlib.sha256(b"").hexdigest(), 0, SPECIAL_REASON
        return sha256_of(item.path), item.path.lstat().st_size, None
    except OSError as err:  # gone since it was listed, not readable, swapped for a link
        return hashlib.sha256(b"").hexdigest(), 0, f"文件无法打开 the file cannot be opened: {excerpt(err)}"


# Files are committed together until this many rows are pending: few commits (small files cost
# most in commits), and a bounded transaction (DuckDB holds a transaction's appends in memory).
COMMIT_ROWS = 4_000_000


def ingest_files(
    con: duckdb.DuckDBPyConnection,
    items: list[InboxFile],
    run_id: str,
    as_of: dt.date,
    on_rows: RowsDone | None = None,
    *,
    window: DateWindow | None = None,
    scratch: Path | None = None,
) -> list[FileResult]:
    """Load files (one dataset's, as the flow calls it); one result per file, in order.

    Each file is decided on its own: skipped (same bytes already in force, or delivered twice
    in this call), rejected as a whole (unreadable, unknown dataset, unsupported type; a
    correction that is rejected leaves the earlier version in force), loaded, or a correction
    replacing the earlier version. Reading and validating (Polars, pyarrow) run in a worker
    thread one batch ahead of loading into DuckDB, so the two cores share the work. Files are
    committed in groups of about `COMMIT_ROWS` rows, never part of a file; any other error
    rolls back the group in progress (docs/adr/0009-ingest-throughput.md).

    `scratch`: the folder for the readers' temporary files (the flow gives the run's private
    `<db>.scratch-<run>`); None: a private temporary folder per file.
    """
    with transaction(con) as tx:
        return _ingest_in_transaction(tx, items, run_id, window or DateWindow(as_of), on_rows, scratch)


def _ingest_in_transaction(
    tx: Transaction,
    items: list[InboxFile],
    run_id: str,
    window: DateWindow,
    on_rows: RowsDone | None,
    scratch: Path | None,
) -> list[FileResult]:
    """The body of `ingest_files`, inside its open transaction (which it commits group by group)."""
    con = tx.con
    results: dict[str, FileResult] = {}
    planned: list[Planned] = []
    shas: dict[tuple[str, str], str] = {}  # (dataset, sha256) -> the file of this call that will load them

    def record(item: InboxFile, sha256: str, size: int, result: FileResult, fmt: str | None) -> None:
        registry.record_file(
            con,
            run_id=run_id,
            dataset=item.dataset,
            file=item.file,
            sha256=sha256,
            size_bytes=size,
            file_format=fmt,
            status=result.status,
            rows_loaded=result.rows_loaded,
            rows_quarantined=result.rows_quarantined,
            reason=excerpt(result.reason, REASON_CHARS) if result.reason is not None else None,
        )
        results[item.file] = result

    def reject(item: InboxFile, sha256: str, size: int, reason: str) -> None:
        record(item, sha256, size, FileResult(item.dataset, item.file, "rejected", reason=reason), None)

    # Hashing releases the GIL: the files are hashed two at a time (the machine's two cores).
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        identities = list(pool.map(_identify, items))
    # Planning writes no rows: what is in force is read once for the call's files
    known = registry.in_force(con, {item.dataset for item in items})
    for item, (sha256, size, refused) in zip(items, identities, strict=True):
        spec = BY_NAME.get(item.dataset)
        if refused is not None:
            reject(item, sha256, size, refused)
            continue
        if spec is None:
            reject(item, sha256, size, f"未知数据集 unknown dataset folder {quoted(item.dataset)}")
            continue
        if item.path.suffix.lower() not in SUPPORTED_SUFFIXES:
            expected = "expected .csv, .xlsx or .parquet"
            reject(item, sha256, size, f"不支持的文件类型 unsupported file type {quoted(item.path.suffix)}: {expected}")
            continue
        same = known.file_with_same_bytes(item.dataset, sha256) or shas.get((item.dataset, sha256))
        if same is not None:
            note = None if same == item.file else f"与已载入文件相同 same bytes as {same}, already loaded"
            record(item, sha256, size, FileResult(item.dataset, item.file, "skipped", reason=note), None)
            continue
        shas[(item.dataset, sha256)] = item.file
        status = "replaced" if known.has(item.dataset, item.file) else "loaded"
        planned.append(Planned(item, spec, sha256, size, status))

    # Enrollment first: the mistyped IDs of the other datasets are looked up in the enrollment in force after
    # this run's enrollment files (CONTRACT.md section 6). The flow loads each dataset in a call of its own,
    # enrollment first; a call with several datasets (tests, tools) gets the same order here.
    planned.sort(key=lambda plan: plan.spec.name != "enrollment")
    appends = Appender(con)
    resolver = Resolver(con)
    tally: dict[str, list[int]] = {}  # per file: rows loaded, rows quarantined
    pending = 0  # rows of the files settled since the last commit
    for event in _read_ahead(planned, run_id, window, scratch):
        plan, item = event.plan, event.plan.item
        counts = tally.setdefault(item.file, [0, 0])
        if event.outcome is not None:
            appends.add(item.dataset, event.outcome.valid)
            appends.add("quarantine", event.outcome.quarantine)
            resolver.add(item.dataset, item.file, event.outcome.mistyped)
            counts[0] += event.outcome.valid.height
            counts[1] += event.outcome.rows_quarantined
            if on_rows is not None:
                on_rows(item.dataset, event.outcome.valid.height + event.outcome.rows_quarantined)
        elif event.rejected is not None:
            resolver.discard(item.file)
            appends.flush()
            registry.remove_file_rows(con, item.dataset, item.file, run_id, this_run=True)
            kept = "; the earlier version stays in force" if plan.status == "replaced" else ""
            reason = " ".join(str(event.rejected).split())  # one line: library messages carry newlines
            result = FileResult(item.dataset, item.file, "rejected", reason=f"{reason}{kept}")
            record(item, plan.sha256, plan.size, result, None)
        else:  # the file was read to its end
            if plan.status == "replaced":
                appends.flush()
                registry.remove_file_rows(con, item.dataset, item.file, run_id, this_run=False)
            notes = ["更正替换 correction replaces the earlier version"] if plan.status == "replaced" else []
            if counts == [0, 0]:
                notes.append(HEADER_ONLY)
            note = "; ".join(notes) or None
            result = FileResult(item.dataset, item.file, plan.status, counts[0], counts[1], note)
            record(item, plan.sha256, plan.size, result, event.fmt)
            pending += counts[0] + counts[1]
            if pending >= COMMIT_ROWS:
                resolver.settle(appends)
                appends.flush()
                tx.commit()
                pending = 0
    resolver.settle(appends)
    appends.flush()
    return [results[item.file] for item in items]


@dataclass
class ReadEvent:
    """What the reader thread hands over: a processed batch, a rejection, or the end of a file."""

    plan: Planned
    fmt: str | None = None
    outcome: BatchOutcome | None = None
    rejected: str | None = None  # the reason


_DONE = object()
READ_AHEAD_BATCHES = 2


def _read_ahead(planned: list[Planned], run_id: str, window: DateWindow, scratch: Path | None) -> Iterator[ReadEvent]:
    """Read and validate the planned files in a worker thread, at most a few batches ahead of the caller.

    Yields, per file, its batches then one closing event (end or rejection). Any error reading one file
    (an Exception) rejects that file; a MemoryError or any other BaseException in the worker is raised
    here. If the caller stops early, the worker is stopped.
    """
    handoff: queue.Queue = queue.Queue(maxsize=READ_AHEAD_BATCHES)
    stop = threading.Event()

    def put(obj: object) -> None:
        while not stop.is_set():
            try:
                handoff.put(obj, timeout=0.2)
                return
            except queue.Full:
                continue

    def read(plan: Planned) -> None:
        """Hand over the batches of one file, then its end or its rejection."""
        batches: Iterator | None = None
        try:
            fmt, batches = open_file(plan.item.path, scratch=scratch)
            mapping: dict[str, str] | None = None
            twins: dict[str, list[str]] = {}
            for batch in batches:
                if stop.is_set():
                    return
                if mapping is None:
                    mapping = map_headers(batch.frame.columns, plan.spec)
                    twins = twin_headers(batch.frame.columns, plan.spec)
                check_twins(batch, twins, plan.spec)
                outcome = process_batch(batch, mapping, plan.spec, window, plan.item.file, run_id)
                put(ReadEvent(plan, fmt, outcome=outcome))
            if mapping is None:
                raise UnreadableFile("空文件 empty file: no header")
            put(ReadEvent(plan, fmt))
        except UnreadableFile as err:
            put(ReadEvent(plan, rejected=str(err)))
        except MemoryError:
            raise
        except Exception as err:  # whatever the file did to a reader, a library or a normaliser: this file only
            put(ReadEvent(plan, rejected=unexpected_reason(err)))
        finally:
            close = getattr(batches, "close", None)
            if close is not None:
                close()  # a reader's temporary copy goes now, also when stopped half-way

    def work() -> None:
        try:
            for plan in planned:
                if stop.is_set():
                    return
                read(plan)
            put(_DONE)
        except BaseException as err:  # handed to the caller's thread, raised there
            put(err)

    worker = threading.Thread(target=work, name="fundwatch-read-ahead", daemon=True)
    worker.start()
    try:
        while True:
            event = handoff.get()
            if event is _DONE:
                return
            if isinstance(event, BaseException):
                raise event
            yield event
    finally:
        stop.set()
        worker.join()
