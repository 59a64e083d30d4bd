"""Ingestion of one inbox file: read, map headers, normalise, validate, load.

The steps, each a small function:

1. `discover`       inbox layout `INBOX/<dataset>/<file>` -> the files to consider
2. `map_headers`    English or Chinese headers, padded, any order -> canonical names
3. `stringify`      native Parquet/XLSX types -> the text forms the normalisers read
4. `normalise`      text -> canonical typed values plus a parse reason per cell
5. `validate`       pandera schema of the dataset -> failed checks per row
6. `ingest_files`   a dataset's files, committed in groups of whole files: per file
                    skip / replace / load rows, quarantine the invalid ones with file,
                    line, column and reason, record the file

A file that cannot be read at all is recorded as `rejected`; nothing of it stays
loaded, and the version in force before stays in force.
"""

from __future__ import annotations

import concurrent.futures
import datetime as dt
import hashlib
import queue
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl

from pipelines import store
from pipelines.normalize import POLARS_TYPES, clean_frame, normaliser_for
from pipelines.readers import SUPPORTED_SUFFIXES, RawBatch, UnreadableFile, open_file
from schemas.datasets import BY_NAME, Dataset
from schemas.validation import failures


@dataclass(frozen=True)
class InboxFile:
    dataset: str
    path: Path
    file: str  # relative to the inbox, "<dataset>/<name>", the file's identity across deliveries


@dataclass
class FileResult:
    dataset: str
    file: str
    status: str  # loaded | skipped | replaced | rejected
    rows_loaded: int = 0
    rows_quarantined: int = 0
    reason: str | None = None


def discover(inbox: Path) -> list[InboxFile]:
    """Files of the inbox, sorted. Hidden entries and folders starting with '_' are not deliveries.

    Files in a folder that is not a contract dataset are returned with that
    folder as dataset: they will be rejected with a clear reason rather than
    silently ignored.
    """
    found: list[InboxFile] = []
    for folder in sorted(p for p in inbox.iterdir() if p.is_dir()):
        if folder.name.startswith((".", "_")):
            continue
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            if any(part.startswith(".") for part in path.relative_to(folder).parts):
                continue
            found.append(InboxFile(folder.name, path, path.relative_to(inbox).as_posix()))
    return found


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(8 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def header_aliases(spec: Dataset) -> dict[str, str]:
    """Every accepted header spelling (case-folded English, Chinese) -> canonical column name."""
    aliases: dict[str, str] = {}
    for c in spec.columns:
        aliases[c.name.lower()] = c.name
        aliases[c.zh] = c.name
    return aliases


def map_headers(headers: Iterable[str], spec: Dataset) -> dict[str, str]:
    """File header -> canonical column, for the headers that are contract columns.

    Unknown headers are left out (kept only in the raw row of quarantine).
    Raises UnreadableFile when a required column is missing.
    """
    aliases = header_aliases(spec)
    mapping: dict[str, str] = {}
    for h in headers:
        canonical = aliases.get(h.strip().lower()) or aliases.get(h.strip())
        if canonical and canonical not in mapping.values():
            mapping[h] = canonical
    missing = [c for c in spec.required if c not in mapping.values()]
    if missing:
        names = ", ".join(f"{c} ({spec.column(c).zh})" for c in missing)
        raise UnreadableFile(f"缺少必填列 missing required column(s): {names}")
    return mapping


def stringify(frame: pl.DataFrame, mapping: dict[str, str], spec: Dataset) -> pl.DataFrame:
    """Every column as text. Native types (Parquet, XLSX) become the forms the normalisers read.

    Floats in money columns become exact 2-decimal text via integer fen, so a
    binary float like 0.30000000000000004 arrives as '0.30'; integral floats
    (a period 202403.0, a code 110.0) lose the '.0'.
    """
    exprs = []
    for name, dtype in frame.schema.items():
        c = pl.col(name)
        kind = spec.column(mapping[name]).kind if name in mapping else "text"
        if dtype == pl.String:
            exprs.append(c)
        elif dtype == pl.Date:
            exprs.append(c.dt.strftime("%Y-%m-%d"))
        elif isinstance(dtype, pl.Datetime):
            exprs.append(c.dt.strftime("%Y-%m-%d %H:%M:%S"))
        elif dtype.is_float() and kind == "money":
            fen = (c * 100).round(0).cast(pl.Int64)
            sign = pl.when(fen < 0).then(pl.lit("-")).otherwise(pl.lit(""))
            exprs.append(
                pl.concat_str(
                    [
                        sign,
                        (fen.abs() // 100).cast(pl.String),
                        pl.lit("."),
                        (fen.abs() % 100).cast(pl.String).str.zfill(2),
                    ]
                )
            )
        elif dtype.is_float():
            exprs.append(
                pl.when(c == c.round(0))
                .then(c.cast(pl.Int64, strict=False).cast(pl.String))
                .otherwise(c.cast(pl.String))
            )
        else:
            exprs.append(c.cast(pl.String))
    return frame.select(e.alias(n) for e, n in zip(exprs, frame.columns, strict=True))


def normalise(cleaned: pl.DataFrame, mapping: dict[str, str], spec: Dataset) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(canonical typed values, parse reasons).

    `cleaned` is the file's text after `clean_frame`, with the file's headers.
    `values` has one column per contract column. `reasons` has an `index`
    column (row position in `cleaned`) and one column per contract column, for
    the rows where some non-empty cell did not parse; it is computed on those
    rows only, as reasons are rare and their texts costly.
    Each stage is materialised: Polars does not share sub-expressions in eager
    mode, and the normalisers refer to their cleaned input many times.
    """
    source = {canonical: header for header, canonical in mapping.items()}
    present = [c for c in spec.columns if c.name in source]
    cleaned = cleaned.select(pl.col(source[c.name]).alias(c.name) for c in present)
    values = cleaned.select(
        [normaliser_for(c)(pl.col(c.name))[0].cast(POLARS_TYPES[c.kind]).alias(c.name) for c in present]
    )
    values = values.with_columns(
        pl.lit(None, POLARS_TYPES[c.kind]).alias(c.name) for c in spec.columns if c.name not in source
    ).select(c.name for c in spec.columns)
    failed_to_parse = pl.any_horizontal(
        [cleaned[c.name].is_not_null() & values[c.name].is_null() for c in present] or [pl.lit(False)]
    )
    suspects = cleaned.with_row_index("index").filter(failed_to_parse)
    reasons = suspects.select(
        pl.col("index").cast(pl.Int64),
        *[normaliser_for(c)(pl.col(c.name))[1].cast(pl.String).alias(c.name) for c in present],
    )
    return values, reasons


def row_problems(reasons: pl.DataFrame, checks: pl.DataFrame, spec: Dataset) -> pl.DataFrame:
    """One row per invalid row: index, first failing column, and every reason of the row.

    A parse reason ("unparseable date: '2024-13-45'") is more telling than the
    check it then fails ("missing required value"), so it wins for that cell.
    """
    order = {c.name: i for i, c in enumerate(spec.columns)}
    parsed = (
        reasons.unpivot(index="index", variable_name="column", value_name="reason")
        .drop_nulls("reason")
        .with_columns(pl.lit(0).alias("priority"))
    )
    checked = checks.with_columns(pl.lit(1).alias("priority"))
    cells = (
        pl.concat([parsed, checked.select(parsed.columns)])
        .sort("index", "priority")
        .unique(["index", "column"], keep="first", maintain_order=True)
        .with_columns(pl.col("column").replace_strict(order, return_dtype=pl.Int32).alias("order"))
        .sort("index", "order")
    )
    return cells.group_by("index", maintain_order=True).agg(
        pl.col("column").first(),
        pl.format("{}: {}", "column", "reason").str.join("; ").alias("reason"),
    )


@dataclass
class BatchOutcome:
    valid: pl.DataFrame
    quarantine: pl.DataFrame


def process_batch(
    batch: RawBatch, mapping: dict[str, str], spec: Dataset, as_of: dt.date, file: str, run_id: str
) -> BatchOutcome:
    text = stringify(batch.frame, mapping, spec)
    cleaned = clean_frame(text)
    # A fully empty line carries nothing: not a row, not a quarantine.
    keep = cleaned.select(pl.any_horizontal(pl.all().is_not_null())).to_series()
    text, cleaned, lines = text.filter(keep), cleaned.filter(keep), batch.lines.filter(keep)

    values, reasons = normalise(cleaned, mapping, spec)
    problems = row_problems(reasons, failures(spec.name, as_of, values), spec)
    bad = pl.repeat(False, values.height, eager=True)
    if problems.height:
        bad = pl.int_range(values.height, eager=True).is_in(problems["index"].implode())

    quarantined = (
        text.with_row_index("index")
        .with_columns(pl.col("index").cast(pl.Int64), lines.alias("line"))
        .join(problems, on="index", how="inner")
        .select(
            pl.lit(run_id).alias("run_id"),
            pl.lit(spec.name).alias("dataset"),
            pl.lit(file).alias("file"),
            pl.col("line"),
            pl.col("column"),
            pl.col("reason"),
            pl.struct(text.columns).struct.json_encode().alias("raw"),
        )
    )
    malformed = pl.DataFrame(
        {
            "run_id": [run_id] * len(batch.malformed),
            "dataset": [spec.name] * len(batch.malformed),
            "file": [file] * len(batch.malformed),
            "line": [m.line for m in batch.malformed],
            "column": [None] * len(batch.malformed),
            "reason": [m.reason for m in batch.malformed],
            "raw": [m.text for m in batch.malformed],
        },
        schema=quarantined.schema,
    )
    valid = values.filter(~bad).with_columns(
        pl.lit(file).alias("source_file"), lines.filter(~bad).alias("source_line"), pl.lit(run_id).alias("run_id")
    )
    return BatchOutcome(valid, pl.concat([quarantined, malformed]))


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
    con: duckdb.DuckDBPyConnection, items: list[InboxFile], run_id: str, as_of: dt.date
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
    con.execute("BEGIN TRANSACTION")
    try:
        results = _ingest_in_transaction(con, items, run_id, as_of)
        con.execute("COMMIT")
        return results
    except BaseException:
        con.execute("ROLLBACK")
        raise


def _ingest_in_transaction(
    con: duckdb.DuckDBPyConnection,
    items: list[InboxFile],
    run_id: str,
    as_of: dt.date,
) -> list[FileResult]:
    """The body of `ingest_files`, inside its open transaction (which it commits group by group)."""
    results: dict[str, FileResult] = {}
    planned: list[Planned] = []
    shas: dict[tuple[str, str], str] = {}  # (dataset, sha256) -> the file of this call that will load them

    def record(item: InboxFile, sha256: str, size: int, result: FileResult, fmt: str | None) -> None:
        store.record_file(
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
        same = store.file_with_same_bytes(con, item.dataset, sha256) or shas.get((item.dataset, sha256))
        if same is not None:
            note = None if same == item.file else f"与已载入文件相同 same bytes as {same}, already loaded"
            record(item, sha256, size, FileResult(item.dataset, item.file, "skipped", reason=note), None)
            continue
        shas[(item.dataset, sha256)] = item.file
        status = "replaced" if store.file_in_force(con, item.dataset, item.file) else "loaded"
        planned.append(Planned(item, spec, sha256, size, status))

    appends = store.Appender(con)
    tally: dict[str, list[int]] = {}  # per file: rows loaded, rows quarantined
    pending = 0  # rows of the files settled since the last commit
    for event in _read_ahead(planned, run_id, as_of):
        plan, item = event.plan, event.plan.item
        counts = tally.setdefault(item.file, [0, 0])
        if event.outcome is not None:
            appends.add(item.dataset, event.outcome.valid)
            appends.add("quarantine", event.outcome.quarantine)
            counts[0] += event.outcome.valid.height
            counts[1] += event.outcome.quarantine.height
        elif event.rejected is not None:
            appends.flush()
            store.remove_file_rows(con, item.dataset, item.file, run_id, this_run=True)
            kept = "; the earlier version stays in force" if plan.status == "replaced" else ""
            reason = " ".join(str(event.rejected).split())  # one line: library messages carry newlines
            result = FileResult(item.dataset, item.file, "rejected", reason=f"{reason}{kept}")
            record(item, plan.sha256, plan.size, result, None)
        else:  # the file was read to its end
            if plan.status == "replaced":
                appends.flush()
                store.remove_file_rows(con, item.dataset, item.file, run_id, this_run=False)
            note = "更正替换 correction replaces the earlier version" if plan.status == "replaced" else None
            result = FileResult(item.dataset, item.file, plan.status, counts[0], counts[1], note)
            record(item, plan.sha256, plan.size, result, event.fmt)
            pending += counts[0] + counts[1]
            if pending >= COMMIT_ROWS:
                appends.flush()
                con.execute("COMMIT")
                con.execute("BEGIN TRANSACTION")
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


def _read_ahead(planned: list[Planned], run_id: str, as_of: dt.date) -> Iterator[ReadEvent]:
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
                        outcome = process_batch(batch, mapping, plan.spec, as_of, plan.item.file, run_id)
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
