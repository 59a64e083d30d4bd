"""The one way to open the warehouse: a writer on the building copy, a reader on the published file.

* `writer(path)`  read-write session; creates the schema (sql/ddl/ and one table per dataset of
                  `schemas.datasets`) if missing. Only a run opens one, and only on its building copy
                  (`pipelines.warehouse.publication`): the published file is never opened for writing.
* `reader(path)`  read-only session on the published file; never takes the writer's lock, so it opens
                  while a run builds its next state (ADR 0008). A file held for writing by another
                  process raises `WarehouseBusy`; a missing file, `FileNotFoundError`. Each session opens
                  the file afresh, in a DuckDB instance of its own (`open_published`): one opened after a
                  run's swap reads the new file even while sessions opened before it, in the same process
                  (the workbench's other requests), still read the earlier one.
* `transaction(con)`  BEGIN … COMMIT, rolled back on any error; `Transaction.commit()` commits what is
                  done and goes on in a new transaction (ingestion commits in groups of files).

Every session is closed when its block ends, also on error. DuckDB's buffer pool may otherwise grow to
80% of the machine; the rest is Polars'. Every connection of a process to one file must ask for the same
configuration, so the memory limit comes from the one `Settings` object and is passed down (a `reader`'s
instance has its own buffer pool, up to that limit).

A file created here is written in the storage format `STORAGE_VERSION` (v1.5.0), the newest one the
DuckDB command line of requirements.lock (`duckdb-cli` 1.5.x, `.venv/bin/duckdb`) reads, so that analysts
open the published file with it; a file keeps the format it was created in, and `publication` rewrites a
file of another format once (docs/adr/0018-analyst-sql-shell.md).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import duckdb

from pipelines.warehouse.sql import SQL_DIR
from schemas.datasets import DATASETS, DUCKDB_TYPES, Dataset

DEFAULT_MEMORY_LIMIT = "4GB"

# The storage format of every DuckDB file fundwatch writes: readable by the DuckDB command line 1.5.x (a file
# of DuckDB 2.0's own format, v2.0.0, is refused by it: "version number 69 … can only read 64–68").
STORAGE_VERSION = "v1.5.0"

# Every dataset row carries where it came from: the file, its line there, and the run that loaded it.
LINEAGE_COLUMNS = ("source_file", "source_line", "run_id")

# The datasets whose mistyped citizen IDs are resolved against enrollment (CONTRACT.md section 6,
# `pipelines.ingest.resolve`). Their rows also carry `person_id_raw` (the ID as it arrived, for a resolved
# row; NULL for every other row) and `id_resolved` (true for a row loaded with a resolved ID). The columns
# come after the lineage columns, where `ALTER TABLE … ADD COLUMN` also puts them in a file created before.
RESOLVED_ID_DATASETS = (
    "benefit_payments",
    "medical_claims",
    "payroll_withholding",
    "death_records",
    "custody_records",
    "business_log",
)
RESOLUTION_COLUMNS = (("person_id_raw", "VARCHAR"), ("id_resolved", "BOOLEAN DEFAULT false"))


class WarehouseBusy(RuntimeError):
    """The file is held for writing by another process (DuckDB's file lock)."""

    def __init__(self, path: Path, cause: Exception) -> None:
        self.path = path
        super().__init__(
            f"数据库文件正被其他进程写入（可能是正在运行的夜间任务），请稍后再试。The database file {path} is locked "
            f"by another process (probably a running nightly job); try again when it has finished. ({cause})"
        )


def dataset_ddl(spec: Dataset) -> str:
    # Identifiers come from the fixed contract spec, never from input data.
    cols = [f'    "{c.name}" {DUCKDB_TYPES[c.kind]}' for c in spec.columns]
    cols += ['    "source_file" VARCHAR NOT NULL', '    "source_line" BIGINT', '    "run_id" VARCHAR NOT NULL']
    if spec.name in RESOLVED_ID_DATASETS:
        cols += [f'    "{name}" {sql_type}' for name, sql_type in RESOLUTION_COLUMNS]
    return f'CREATE TABLE IF NOT EXISTS "{spec.name}" (\n' + ",\n".join(cols) + "\n);"


def migration_ddl(spec: Dataset) -> list[str]:
    """What a dataset table of a file created before needs to have today's columns (none, when it has them).

    `id_resolved` is nullable with a default (DuckDB adds no NOT NULL column with IF NOT EXISTS): the rows
    already there read false, and an insert that leaves it out writes false.
    """
    if spec.name not in RESOLVED_ID_DATASETS:
        return []
    return [
        f'ALTER TABLE "{spec.name}" ADD COLUMN IF NOT EXISTS "{name}" {sql_type};'
        for name, sql_type in RESOLUTION_COLUMNS
    ]


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    for ddl in sorted((SQL_DIR / "ddl").glob("*.sql")):
        con.execute(ddl.read_text(encoding="utf-8"))
    for spec in DATASETS:
        con.execute(dataset_ddl(spec))
        for statement in migration_ddl(spec):
            con.execute(statement)


def connect(
    path: Path, *, read_only: bool = False, memory_limit: str = DEFAULT_MEMORY_LIMIT
) -> duckdb.DuckDBPyConnection:
    """A connection the caller closes (tests, tools); the product uses `writer()` / `reader()`, which close it
    for you and take the memory limit from the settings, never from a default."""
    config = {"memory_limit": memory_limit, "storage_compatibility_version": STORAGE_VERSION}
    # Beyond the limit DuckDB spills to disk: beside the file (what DuckDB picks for a file, said once here so it
    # holds), never a working directory (docs/adr/0029).
    config["temp_directory"] = str(path) + ".tmp"
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
        con = duckdb.connect(str(path), config=config)
        try:
            ensure_schema(con)
        except BaseException:
            con.close()
            raise
        return con
    if not path.exists():
        raise FileNotFoundError(f"数据库文件不存在 database file not found: {path}")
    try:
        return duckdb.connect(str(path), read_only=True, config=config)
    except duckdb.IOException as err:
        if "lock" in str(err).lower():
            raise WarehouseBusy(path, err) from err
        raise


def catalog_name(path: Path) -> str:
    """The name DuckDB gives a file opened directly (fundwatch.duckdb -> fundwatch), `<name>_db` for one it keeps
    for itself (memory, system, temp, main)."""
    name = path.name.split(".")[0]
    return f"{name}_db" if name.lower() in ("memory", "system", "temp", "main") else name


def open_published(path: Path, *, memory_limit: str) -> duckdb.DuckDBPyConnection:
    """The file read-only in a DuckDB instance of its own (`reader`; a connection the caller closes).

    `duckdb.connect(file)` hands a process the instance it already has open on that path: after a swap, a
    connection made while an earlier one is still open would read the replaced file, and a server whose requests
    overlap could serve it indefinitely. So the file is attached, read-only, to a new in-memory instance, under
    the name a direct open gives it (`catalog_name`), and made the default catalog: queries, views and macros
    read as they do on a direct open.
    """
    if not path.exists():
        raise FileNotFoundError(f"数据库文件不存在 database file not found: {path}")
    config = {"memory_limit": memory_limit, "storage_compatibility_version": STORAGE_VERSION}
    con = duckdb.connect(":memory:", config=config)
    name = '"' + catalog_name(path).replace('"', '""') + '"'
    try:
        con.execute(f"ATTACH '{str(path).replace(chr(39), chr(39) * 2)}' AS {name} (READ_ONLY)")
        con.execute(f"USE {name}")
    except duckdb.IOException as err:
        con.close()
        if "lock" in str(err).lower():
            raise WarehouseBusy(path, err) from err
        raise
    except BaseException:
        con.close()
        raise
    return con


def storage_version(con: duckdb.DuckDBPyConnection, database: str | None = None) -> str:
    """The storage format of an open database file (its default one, or the attached `database`), e.g.
    'v1.5.0' or 'v2.0.0' (DuckDB's tag says 'v1.5.0+': the oldest DuckDB that reads it)."""
    row = con.execute(
        "SELECT tags['storage_version'] FROM duckdb_databases() WHERE database_name = coalesce(?, current_database())",
        [database],
    ).fetchone()
    if row is None or row[0] is None:
        raise ValueError(f"no storage version known for database {database or 'current'}")
    return str(row[0]).rstrip("+")


@contextlib.contextmanager
def writer(path: Path, *, memory_limit: str) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-write session (schema ensured) on a building copy; closed when the block ends."""
    con = connect(path, memory_limit=memory_limit)
    try:
        yield con
    finally:
        con.close()


@contextlib.contextmanager
def reader(path: Path, *, memory_limit: str) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only session on a published file, opened afresh (`open_published`); closed when the block ends."""
    con = open_published(path, memory_limit=memory_limit)
    try:
        yield con
    finally:
        con.close()


class Transaction:
    """An open transaction of `transaction()`."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con

    def commit(self) -> None:
        """Commit what is done so far and go on in a new transaction."""
        self.con.execute("COMMIT")
        self.con.execute("BEGIN TRANSACTION")


@contextlib.contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[Transaction]:
    """BEGIN; COMMIT when the block ends, ROLLBACK if it raises (anything, KeyboardInterrupt included)."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield Transaction(con)
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")
