"""DuckDB storage: schema, the file registry, and loading one file's rows.

SQL lives in `sql/` as files, loaded by path; values go in as bound
parameters. The dataset tables are derived from `schemas.datasets` (one
definition of the contract's columns, see docs/adr/0002-dataset-spec.md), each
with three lineage columns: the file a row came from, its line there, and the
run that loaded it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from pathlib import Path

import duckdb
import polars as pl
import pyarrow as pa

from schemas.datasets import DATASETS, Dataset

SQL_DIR = Path(__file__).resolve().parents[1] / "sql"

DUCKDB_TYPES = {
    "id": "VARCHAR",
    "key": "VARCHAR",
    "text": "VARCHAR",
    "region": "VARCHAR",
    "code": "VARCHAR",
    "date": "DATE",
    "timestamp": "TIMESTAMP",
    "period": "VARCHAR",
    "money": "DECIMAL(18, 2)",
    "integer": "BIGINT",
}
LINEAGE_COLUMNS = ("source_file", "source_line", "run_id")


def read_sql(name: str) -> str:
    return (SQL_DIR / name).read_text(encoding="utf-8")


def execute_script(con: duckdb.DuckDBPyConnection, text: str, params: dict[str, object] | None = None) -> None:
    """Run a SQL file of several statements; each gets the named parameters it mentions."""
    params = params or {}
    for statement in text.split(";\n"):
        code = "\n".join(line for line in statement.splitlines() if not line.strip().startswith("--"))
        if code.strip():
            con.execute(statement, {k: v for k, v in params.items() if f"${k}" in code})


def dataset_ddl(spec: Dataset) -> str:
    # Identifiers come from the fixed contract spec, never from input data.
    cols = [f'    "{c.name}" {DUCKDB_TYPES[c.kind]}' for c in spec.columns]
    cols += ['    "source_file" VARCHAR NOT NULL', '    "source_line" BIGINT', '    "run_id" VARCHAR NOT NULL']
    return f'CREATE TABLE IF NOT EXISTS "{spec.name}" (\n' + ",\n".join(cols) + "\n);"


# DuckDB's buffer pool may otherwise grow to 80% of the machine; the rest is Polars' to use.
# Every connection of the process must ask for the same configuration.
DUCKDB_CONFIG = {"memory_limit": os.environ.get("FUNDWATCH_DUCKDB_MEMORY_LIMIT", "4GB")}


def connect(db_path: Path) -> duckdb.DuckDBPyConnection:
    db_path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(db_path), config=DUCKDB_CONFIG)
    ensure_schema(con)
    return con


def connect_readonly(db_path: Path) -> duckdb.DuckDBPyConnection:
    """A reader's connection to a published file: never takes the writer's lock (ADR 0008)."""
    return duckdb.connect(str(db_path), read_only=True, config=DUCKDB_CONFIG)


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    for ddl in sorted((SQL_DIR / "ddl").glob("*.sql")):
        con.execute(ddl.read_text(encoding="utf-8"))
    for spec in DATASETS:
        con.execute(dataset_ddl(spec))


def file_in_force(con: duckdb.DuckDBPyConnection, dataset: str, file: str) -> str | None:
    """sha256 of the version of (dataset, file) whose rows are in force, if any."""
    rows = con.execute(
        """
        SELECT sha256 FROM ingested_files
        WHERE dataset = ? AND file = ? AND status IN ('loaded', 'replaced')
        ORDER BY ingested_at DESC LIMIT 1
        """,
        [dataset, file],
    ).fetchall()
    return rows[0][0] if rows else None


def file_with_same_bytes(con: duckdb.DuckDBPyConnection, dataset: str, sha256: str) -> str | None:
    """A file of the dataset whose version in force has these exact bytes."""
    rows = con.execute(
        """
        WITH in_force AS (
            SELECT file, sha256, row_number() OVER (PARTITION BY file ORDER BY ingested_at DESC) AS rn
            FROM ingested_files
            WHERE dataset = ? AND status IN ('loaded', 'replaced')
        )
        SELECT file FROM in_force WHERE rn = 1 AND sha256 = ? ORDER BY file LIMIT 1
        """,
        [dataset, sha256],
    ).fetchall()
    return rows[0][0] if rows else None


def remove_file_rows(con: duckdb.DuckDBPyConnection, dataset: str, file: str, run_id: str, this_run: bool) -> int:
    """Delete the rows and quarantine of a file loaded by run `run_id` (`this_run`) or by any other run.

    Within a run's transaction a correction first loads its rows, then removes the earlier
    version's (other runs); a file found unreadable half-way removes what this run loaded of it.
    """
    op = "=" if this_run else "<>"
    removed = con.execute(f'DELETE FROM "{dataset}" WHERE source_file = ? AND run_id {op} ?', [file, run_id]).fetchall()
    con.execute(
        f"DELETE FROM quarantine WHERE dataset = ? AND file = ? AND run_id {op} ?", [dataset, file, run_id]
    ).fetchall()
    return int(removed[0][0]) if removed else 0


APPEND_ROWS = 1_000_000
APPEND_CHUNK_ROWS = 122_880  # a DuckDB row group: the Arrow scan splits the insert across threads by chunk


def append_frame(con: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame) -> None:
    if frame.height == 0:
        return
    con.register("_fundwatch_batch", pa.Table.from_batches(frame.to_arrow().to_batches(APPEND_CHUNK_ROWS)))
    try:
        con.execute(f'INSERT INTO "{table}" BY NAME SELECT * FROM _fundwatch_batch')
    finally:
        con.unregister("_fundwatch_batch")


class Appender:
    """Collects frames per table and appends them in large inserts (many small ones cost DuckDB dearly).

    Rows reach the table at `flush()` (called when a table has `APPEND_ROWS` rows waiting, and by the
    caller before anything that reads or deletes them, and before a commit).
    """

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con
        self.waiting: dict[str, list[pl.DataFrame]] = {}
        self.rows: dict[str, int] = {}

    def add(self, table: str, frame: pl.DataFrame) -> None:
        if frame.height == 0:
            return
        self.waiting.setdefault(table, []).append(frame)
        self.rows[table] = self.rows.get(table, 0) + frame.height
        if self.rows[table] >= APPEND_ROWS:
            self._append(table)

    def flush(self) -> None:
        for table in list(self.waiting):
            self._append(table)

    def _append(self, table: str) -> None:
        frames = self.waiting.pop(table, [])
        self.rows.pop(table, None)
        if frames:
            append_frame(self.con, table, pl.concat(frames, how="vertical_relaxed"))


def record_file(
    con: duckdb.DuckDBPyConnection,
    *,
    run_id: str,
    dataset: str,
    file: str,
    sha256: str,
    size_bytes: int,
    file_format: str | None,
    status: str,
    rows_loaded: int,
    rows_quarantined: int,
    reason: str | None,
) -> None:
    con.execute(
        """
        INSERT INTO ingested_files (run_id, dataset, file, sha256, size_bytes, format, status,
                                    rows_loaded, rows_quarantined, reason, ingested_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        """,
        [
            run_id,
            dataset,
            file,
            sha256,
            size_bytes,
            file_format,
            status,
            rows_loaded,
            rows_quarantined,
            reason,
            dt.datetime.now(),
        ],
    )


def start_run(con: duckdb.DuckDBPyConnection, run_id: str, as_of: dt.date, inbox: str) -> None:
    con.execute(
        "INSERT INTO runs (run_id, as_of, inbox, started_at, status) VALUES (?, ?, ?, ?, 'running')",
        [run_id, as_of, inbox, dt.datetime.now()],
    )


def finish_run(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    status: str,
    timings: dict[str, float],
    detect_key: str | None = None,
    rules_skipped: bool = False,
) -> None:
    con.execute(
        read_sql("finish_run.sql"),
        {
            "run_id": run_id,
            "status": status,
            "ingest_secs": timings.get("ingest"),
            "rules_secs": timings.get("rules"),
            "cases_secs": timings.get("cases"),
            "prepare_secs": timings.get("prepare"),
            "publish_secs": timings.get("publish"),
            "detect_key": detect_key,
            "rules_skipped": rules_skipped,
            "finished_at": dt.datetime.now(),
        },
    )


def detect_key(con: duckdb.DuckDBPyConnection, as_of: dt.date, large_payment_threshold: object, code: str) -> str:
    """Fingerprint of everything detection reads: the files in force, the options, the rule code."""
    digest = hashlib.sha256()
    for dataset, file, sha256 in con.execute(read_sql("in_force_files.sql")).fetchall():
        digest.update(f"{dataset}\t{file}\t{sha256}\n".encode())
    digest.update(f"as_of={as_of}\nthreshold={large_payment_threshold}\ncode={code}\n".encode())
    return digest.hexdigest()


def last_detect_key(con: duckdb.DuckDBPyConnection) -> tuple[str, str] | None:
    """(run_id, detect_key) of the latest completed run, if any."""
    rows = con.execute(
        "SELECT run_id, detect_key FROM runs WHERE status IN ('succeeded', 'bad_input') AND detect_key IS NOT NULL "
        "ORDER BY started_at DESC LIMIT 1"
    ).fetchall()
    return (rows[0][0], rows[0][1]) if rows else None
