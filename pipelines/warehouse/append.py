"""Appending Polars frames to warehouse tables in large chunked inserts."""

from __future__ import annotations

import duckdb
import polars as pl
import pyarrow as pa

APPEND_ROWS = 1_000_000
APPEND_CHUNK_ROWS = 122_880  # a DuckDB row group: the Arrow scan splits the insert across threads by chunk


def append_frame(con: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame) -> None:
    """Insert `frame` into `table` by column name (table names come from the fixed spec, never from data)."""
    if frame.height == 0:
        return
    con.register("_fundwatch_batch", pa.Table.from_batches(frame.to_arrow().to_batches(APPEND_CHUNK_ROWS)))
    # The threads inserting the chunks need not keep their order (the rows carry source_file and source_line):
    # 1M persons, benefit_payments' 2.68M rows, 2.0 -> 1.4 s and a smaller file (docs/adr/0033).
    con.execute("SET preserve_insertion_order = false")
    try:
        con.execute(f'INSERT INTO "{table}" BY NAME SELECT * FROM _fundwatch_batch')
    finally:
        con.execute("RESET preserve_insertion_order")
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
