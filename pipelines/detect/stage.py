"""Staging: each dataset in force as Arrow IPC files, scanned lazily by the rules.

Datasets leave DuckDB as Arrow IPC files in a staging folder and come back as lazy scans, so each
rule reads only the columns and rows its plan needs.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl
import pyarrow.ipc as pa_ipc

from pipelines.rules import RULES
from pipelines.warehouse.session import LINEAGE_COLUMNS

STAGED_DATASETS = sorted({name for rule in RULES for name in rule.inputs})
STAGE_BATCH_ROWS = 1_000_000
PART_ROWS = 1_000_000  # rows of a staged part file (a dataset with none: one empty part)
ROWS = "rows"  # beside a dataset's parts: how many rows they hold, written once they are whole


def stage_datasets(con: duckdb.DuckDBPyConnection, folder: Path, datasets: list[str] = STAGED_DATASETS) -> None:
    """Each dataset in force as `<folder>/<dataset>/part-NNNNN.arrow`, Arrow IPC (lineage columns dropped), parts of
    about `PART_ROWS` rows (an empty dataset: one empty part).

    Arrow IPC, uncompressed, streamed in batches: DuckDB's Arrow export is nearly a copy, where
    Parquet encoding took three times as long (1M persons: 5 s against 14 s); Polars scans it
    lazily, reading only the columns a rule's plan needs (docs/adr/0009-ingest-throughput.md).
    In parts, because Polars maps a scanned IPC file into memory: a scan of one file of a whole dataset kept every
    page it had read resident to its end (about 4 GB of a rule's 10M peak), a scan of parts lets each go
    (docs/adr/0029-bounded-detection-memory.md).
    """
    folder.mkdir(parents=True, exist_ok=True)
    lineage = ", ".join(LINEAGE_COLUMNS)
    for name in datasets:
        # Table and column names come from the fixed registry and spec, never from input data.
        relation = con.sql(f'SELECT * EXCLUDE ({lineage}) FROM "{name}"')
        reader = relation.to_arrow_reader(STAGE_BATCH_ROWS)
        parts = folder / name
        parts.mkdir(exist_ok=True)
        index, rows, total, writer = 0, 0, 0, pa_ipc.new_file(str(parts / "part-00000.arrow"), reader.schema)
        try:
            for batch in reader:  # DuckDB hands over row groups (122,880 rows): a part holds several
                if rows >= PART_ROWS:
                    writer.close()
                    index, rows = index + 1, 0
                    writer = pa_ipc.new_file(str(parts / f"part-{index:05d}.arrow"), reader.schema)
                writer.write_batch(batch)
                rows += batch.num_rows
                total += batch.num_rows
        finally:
            writer.close()
        (parts / ROWS).write_text(f"{total}\n")


def staged_files(folder: Path, name: str) -> list[Path]:
    """The files of staged dataset `name`: its parts in order, or `<name>.arrow` staged whole (tests, tools)."""
    parts = folder / name
    if parts.is_dir():
        return sorted(parts.glob("part-*.arrow"))
    return [folder / f"{name}.arrow"]


def scan_staged(folder: Path, datasets: tuple[str, ...]) -> dict[str, pl.LazyFrame]:
    return {name: pl.scan_ipc(staged_files(folder, name)) for name in datasets}


def staged_rows(folder: Path, datasets: tuple[str, ...]) -> int:
    """The rows of the staged datasets: as counted while staging (`ROWS`), or counted from the files (a dataset
    staged whole by a test or a tool). Asked for every rule's shard count, many times a run (`engine.shard_count`):
    at 10M counting the files takes ~1 ms a part."""
    return sum(_rows(folder, name) for name in datasets)


def _rows(folder: Path, name: str) -> int:
    counted = folder / name / ROWS
    if counted.is_file():
        return int(counted.read_text())
    return scan_staged(folder, (name,))[name].select(pl.len()).collect().item()
