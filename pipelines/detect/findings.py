"""A run's findings into `suspects`: merged when detected, carried forward when nothing changed.

`suspects` keeps one row per finding ever made (sql/ddl/004_suspects.sql). A run that detects merges
its findings in (sql/detect/merge_findings.sql): refreshed facts for the known ones, new ones `open`,
the ones that did not fire `active = false`; what analysts recorded is never touched. A run whose
detection inputs are those of the last completed run (`detect_key`: the same files in force, as_of,
threshold and rule code) would find exactly the same, so it carries the active findings forward
(docs/adr/0009-ingest-throughput.md).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal
from pathlib import Path

import duckdb
import polars as pl

from pipelines.rules import RULES
from pipelines.warehouse.session import transaction
from pipelines.warehouse.sql import execute_script, read_sql
from schemas.suspects import SUSPECT_SCHEMA


def merge_findings(con: duckdb.DuckDBPyConnection, findings: pl.DataFrame, as_of: dt.date, run_id: str) -> None:
    """Merge the run's findings (any number of rules, `SUSPECT_SCHEMA`) into `suspects`, in one transaction."""
    names = {r.code: r.name_zh for r in RULES}
    frame = findings.select(list(SUSPECT_SCHEMA)).with_columns(
        pl.col("rule").replace_strict(names, return_dtype=pl.String).alias("rule_name_zh")
    )
    with transaction(con):
        con.register("_run_findings", frame.to_arrow())
        try:
            execute_script(con, read_sql("detect/merge_findings.sql"), {"as_of": as_of, "run_id": run_id})
        finally:
            con.unregister("_run_findings")


def carry_forward(con: duckdb.DuckDBPyConnection, as_of: dt.date, run_id: str) -> None:
    """The active findings become this run's (see sql/detect/carry_forward.sql)."""
    execute_script(con, read_sql("detect/carry_forward.sql"), {"as_of": as_of, "run_id": run_id})


_PIPELINES = Path(__file__).resolve().parents[1]
CODE_FILES = (
    *sorted((_PIPELINES / "rules").glob("*.py")),
    *sorted((_PIPELINES / "detect").glob("*.py")),
    _PIPELINES.parent / "schemas" / "suspects.py",
)


def rules_code_version() -> str:
    """sha256 of the rule code: an upgraded rule makes the next run detect again."""
    digest = hashlib.sha256()
    for path in CODE_FILES:
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def detect_key(con: duckdb.DuckDBPyConnection, as_of: dt.date, large_payment_threshold: Decimal) -> str:
    """Fingerprint of everything detection reads: the files in force, the options, the rule code."""
    digest = hashlib.sha256()
    in_force = read_sql("ingest/in_force_files.sql")  # one definition of "in force" (ADR 0003, 0011)
    query = f"SELECT dataset, file, sha256 FROM ({in_force}) ORDER BY dataset, file"
    for dataset, file, sha256 in con.execute(query).fetchall():
        digest.update(f"{dataset}\t{file}\t{sha256}\n".encode())
    digest.update(f"as_of={as_of}\nthreshold={large_payment_threshold}\ncode={rules_code_version()}\n".encode())
    return digest.hexdigest()


def last_detect_key(con: duckdb.DuckDBPyConnection) -> tuple[str, str] | None:
    """(run_id, detect_key) of the latest completed run, if any."""
    rows = con.execute(
        "SELECT run_id, detect_key FROM runs WHERE status IN ('succeeded', 'bad_input') AND detect_key IS NOT NULL "
        "ORDER BY started_at DESC LIMIT 1"
    ).fetchall()
    return (rows[0][0], rows[0][1]) if rows else None
