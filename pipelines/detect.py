"""The detection phase: stage the datasets, run every rule, publish the findings into `suspects`.

I/O lives here, at the edge: datasets leave DuckDB as Arrow IPC files in a
staging folder and come back as lazy scans, so each rule reads only the
columns and rows its plan needs; rules themselves stay pure functions of
LazyFrames (`pipelines.rules`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal
from pathlib import Path

import duckdb
import polars as pl
import pyarrow.ipc as pa_ipc

from pipelines.rules import RULES, Rule
from pipelines.rules.common import SUSPECT_SCHEMA
from pipelines.rules.engine import detect_polars
from pipelines.store import execute_script, read_sql

STAGED_DATASETS = sorted({name for rule in RULES for name in rule.inputs})


STAGE_BATCH_ROWS = 1_000_000


def stage_datasets(con: duckdb.DuckDBPyConnection, folder: Path, datasets: list[str] = STAGED_DATASETS) -> None:
    """Each dataset in force as `<folder>/<dataset>.arrow`, Arrow IPC (lineage columns dropped).

    Arrow IPC, uncompressed, streamed in batches: DuckDB's Arrow export is nearly a copy, where
    Parquet encoding took three times as long (1M persons: 5 s against 14 s); Polars scans it
    lazily, reading only the columns a rule's plan needs (docs/adr/0009-ingest-throughput.md).
    """
    folder.mkdir(parents=True, exist_ok=True)
    for name in datasets:
        # Table names come from the fixed registry, never from input data.
        relation = con.sql(f'SELECT * EXCLUDE (source_file, source_line, run_id) FROM "{name}"')
        reader = relation.to_arrow_reader(STAGE_BATCH_ROWS)
        with pa_ipc.new_file(str(folder / f"{name}.arrow"), reader.schema) as writer:
            for batch in reader:
                writer.write_batch(batch)


def scan_staged(folder: Path, datasets: tuple[str, ...]) -> dict[str, pl.LazyFrame]:
    return {name: pl.scan_ipc(folder / f"{name}.arrow") for name in datasets}


# A person-keyed rule whose inputs hold more rows than this runs shard by shard (persons split by a
# hash of person_id), so its joins never hold a whole province at once (10M persons: 40M enrollment
# spells self-joined). Below it, one pass.
SHARD_ROWS = 12_000_000


def shard_count(rule: Rule, folder: Path) -> int:
    if rule.shard_key is None:
        return 1
    rows = sum(pl.scan_ipc(folder / f"{name}.arrow").select(pl.len()).collect().item() for name in rule.inputs)
    return max(1, -(-rows // SHARD_ROWS))


def shard(tables: dict[str, pl.LazyFrame], key: str, shards: int, index: int) -> dict[str, pl.LazyFrame]:
    """The rows of shard `index` of `shards`: the same persons in every table (free of global state)."""
    return {name: lf.filter(pl.col(key).hash(seed=0) % shards == index) for name, lf in tables.items()}


def run_rule(
    rule: Rule, folder: Path, as_of: dt.date, large_payment_threshold: Decimal, shards: int | None = None
) -> pl.DataFrame:
    """One rule over the staged datasets: its validated findings (shard by shard when large)."""
    tables = scan_staged(folder, rule.inputs)
    count = shards or shard_count(rule, folder)
    if count == 1 or rule.shard_key is None:
        return detect_polars(rule, tables, as_of, large_payment_threshold)
    parts = [
        detect_polars(rule, shard(tables, rule.shard_key, count, i), as_of, large_payment_threshold)
        for i in range(count)
    ]
    return pl.concat(parts).sort("subject_id")


def publish_suspects(con: duckdb.DuckDBPyConnection, findings: pl.DataFrame, as_of: dt.date, run_id: str) -> None:
    """Merge the run's findings into `suspects` in one transaction (see sql/publish_suspects.sql)."""
    names = {r.code: r.name_zh for r in RULES}
    frame = findings.select(list(SUSPECT_SCHEMA)).with_columns(
        pl.col("rule").replace_strict(names, return_dtype=pl.String).alias("rule_name_zh")
    )
    con.execute("BEGIN TRANSACTION")
    try:
        con.register("_run_findings", frame.to_arrow())
        execute_script(con, read_sql("publish_suspects.sql"), {"as_of": as_of, "run_id": run_id})
        con.unregister("_run_findings")
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def empty_findings() -> pl.DataFrame:
    return pl.DataFrame(schema=SUSPECT_SCHEMA)


CODE_FILES = (
    *sorted((Path(__file__).parent / "rules").glob("*.py")),
    Path(__file__),
    Path(__file__).resolve().parents[1] / "schemas" / "suspects.py",
)


def rules_code_version() -> str:
    """sha256 of the rule code: an upgraded rule makes the next run detect again."""
    digest = hashlib.sha256()
    for path in CODE_FILES:
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def carry_forward(con: duckdb.DuckDBPyConnection, as_of: dt.date, run_id: str) -> None:
    """The active findings become this run's (see sql/carry_forward_suspects.sql)."""
    execute_script(con, read_sql("carry_forward_suspects.sql"), {"as_of": as_of, "run_id": run_id})
