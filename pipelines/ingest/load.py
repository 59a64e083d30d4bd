"""Loading a dataset's files into the warehouse: per file skip / replace / load / reject, committed in groups.

A file that cannot be read at all is recorded as `rejected`; nothing of it stays loaded, and the
version in force before stays in force. Reading and validating a batch (`pipelines.ingest.batch`)
runs in a worker thread one batch ahead of the DuckDB appends (docs/adr/0009-ingest-throughput.md).
"""

from __future__ import annotations

import concurrent.futures
import datetime as dt
import queue
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import duckdb

from pipelines.ingest import registry
from pipelines.ingest.batch import BatchOutcome, map_headers, process_batch
from pipelines.ingest.inbox import InboxFile, sha256_of
from pipelines.ingest.readers import SUPPORTED_SUFFIXES, UnreadableFile, open_file
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
    status: str  # loaded | skipped | replaced | rejected
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


def ingest_file(con: duckdb.DuckDBPyConnection, item: InboxFile, run_id: str, as_of: dt.date) -> FileResult:
    """Load one file in one transaction; see `ingest_files`."""
    return ingest_files(con, [item], run_id, as_of)[0]


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
) -> list[FileResult]:
    """Load files (one dataset's, as the flow calls it); one result per file, in order.

    Each file is decided on its own: skipped (same bytes already in force, or delivered twice
    in this call), rejected as a whole (unreadable, unknown dataset, unsupported type; a
    correction that is rejected leaves the earlier version in force), loaded, or a correction
    replacing the earlier version. Reading and validating (Polars, pyarrow) run in a worker
    thread one batch ahead of loading into DuckDB, so the two cores share the work. Files are
    committed in groups of about `COMMIT_ROWS` rows, never part of a file; any other error
    rolls back the group in progress (docs/adr/0009-ingest-throughput.md).
    """
    with transaction(con) as tx:
        return _ingest_in_transaction(tx, items, run_id, window or DateWindow(as_of), on_rows)


def _ingest_in_transaction(
    tx: Transaction,
    items: list[InboxFile],
    run_id: str,
    window: DateWindow,
    on_rows: RowsDone | None,
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
            reason=result.reason,
        )
        results[item.file] = result

    # Hashing releases the GIL: the files are hashed two at a time (the machine's two cores).
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        digests = list(pool.map(sha256_of, [item.path for item in items]))
    for item, sha256 in zip(items, digests, strict=True):
        size = item.path.stat().st_size
        spec = BY_NAME.get(item.dataset)
        if spec is None:
            reason = f"未知数据集 unknown dataset folder '{item.dataset}'"
            record(item, sha256, size, FileResult(item.dataset, item.file, "rejected", reason=reason), None)
            continue
        if item.path.suffix.lower() not in SUPPORTED_SUFFIXES:
            reason = f"不支持的文件类型 unsupported file type '{item.path.suffix}': expected .csv, .xlsx or .parquet"
            record(item, sha256, size, FileResult(item.dataset, item.file, "rejected", reason=reason), None)
            continue
        same = registry.file_with_same_bytes(con, item.dataset, sha256) or shas.get((item.dataset, sha256))
        if same is not None:
            note = None if same == item.file else f"与已载入文件相同 same bytes as {same}, already loaded"
            record(item, sha256, size, FileResult(item.dataset, item.file, "skipped", reason=note), None)
            continue
        shas[(item.dataset, sha256)] = item.file
        status = "replaced" if registry.file_in_force(con, item.dataset, item.file) else "loaded"
        planned.append(Planned(item, spec, sha256, size, status))

    appends = Appender(con)
    tally: dict[str, list[int]] = {}  # per file: rows loaded, rows quarantined
    pending = 0  # rows of the files settled since the last commit
    for event in _read_ahead(planned, run_id, window):
        plan, item = event.plan, event.plan.item
        counts = tally.setdefault(item.file, [0, 0])
        if event.outcome is not None:
            appends.add(item.dataset, event.outcome.valid)
            appends.add("quarantine", event.outcome.quarantine)
            counts[0] += event.outcome.valid.height
            counts[1] += event.outcome.quarantine.height
            if on_rows is not None:
                on_rows(item.dataset, event.outcome.valid.height + event.outcome.quarantine.height)
        elif event.rejected is not None:
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
            note = "更正替换 correction replaces the earlier version" if plan.status == "replaced" else None
            result = FileResult(item.dataset, item.file, plan.status, counts[0], counts[1], note)
            record(item, plan.sha256, plan.size, result, event.fmt)
            pending += counts[0] + counts[1]
            if pending >= COMMIT_ROWS:
                appends.flush()
                tx.commit()
                pending = 0
    appends.flush()
    return [results[item.file] for item in items]


@dataclass
class ReadEvent:
    """What the reader thread hands over: a processed batch, a rejection, or the end of a file."""

    plan: Planned
    fmt: str | None = None
    outcome: BatchOutcome | None = None
    rejected: UnreadableFile | None = None


_DONE = object()
READ_AHEAD_BATCHES = 2


def _read_ahead(planned: list[Planned], run_id: str, window: DateWindow) -> Iterator[ReadEvent]:
    """Read and validate the planned files in a worker thread, at most a few batches ahead of the caller.

    Yields, per file, its batches then one closing event (end or rejection). An unexpected
    error in the worker is raised here; if the caller stops early, the worker is stopped.
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

    def work() -> None:
        try:
            for plan in planned:
                try:
                    fmt, batches = open_file(plan.item.path)
                    mapping: dict[str, str] | None = None
                    for batch in batches:
                        if stop.is_set():
                            return
                        if mapping is None:
                            mapping = map_headers(batch.frame.columns, plan.spec)
                        outcome = process_batch(batch, mapping, plan.spec, window, plan.item.file, run_id)
                        put(ReadEvent(plan, fmt, outcome=outcome))
                    if mapping is None:
                        raise UnreadableFile("空文件 empty file: no header")
                    put(ReadEvent(plan, fmt))
                except UnreadableFile as err:
                    put(ReadEvent(plan, rejected=err))
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
