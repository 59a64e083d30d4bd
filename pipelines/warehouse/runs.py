"""The `runs` table: one row per nightly run (CONTRACT.md section 4).

A run is opened `running` in its building copy, and closed there with its status, the duration of each
phase and the counts of what it did (sql/runs/finish_run.sql). A run that fails records only its `failed`
row in the published file (`pipelines.warehouse.publication.publish_failed_run`).
"""

from __future__ import annotations

import datetime as dt
import uuid

import duckdb

from pipelines.warehouse.sql import read_sql


def new_run_id(now: dt.datetime) -> str:
    return f"{now:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"


def start_run(con: duckdb.DuckDBPyConnection, run_id: str, as_of: dt.date, inbox: str) -> None:
    con.execute(
        "INSERT INTO runs (run_id, as_of, inbox, started_at, status) VALUES (?, ?, ?, ?, 'running')",
        [run_id, as_of, inbox, dt.datetime.now()],
    )


def record_failed_run(
    con: duckdb.DuckDBPyConnection, run_id: str, as_of: dt.date, inbox: str, started_at: dt.datetime, error: str
) -> None:
    con.execute(
        "INSERT INTO runs (run_id, as_of, inbox, started_at, finished_at, status, error) "
        "VALUES (?, ?, ?, ?, ?, 'failed', ?)",
        [run_id, as_of, inbox, started_at, dt.datetime.now(), error],
    )


def finish_run(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    status: str,
    timings: dict[str, float],
    detect_key: str | None = None,
    rules_skipped: bool = False,
) -> None:
    """Close a run: status, phase seconds (prepare, ingest, rules, cases, publish) and counts."""
    con.execute(
        read_sql("runs/finish_run.sql"),
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


def history(con: duckdb.DuckDBPyConnection, limit: int) -> tuple[int, list[dict[str, object]]]:
    """(how many runs there are, the newest `limit` of them as dicts by column name).

    Every column of `runs` as the file has it: a file last written before a column was added
    (sql/ddl/005) simply lacks it, and the caller reads it with `.get`.
    """
    total = con.execute("SELECT count(*) FROM runs").fetchone()[0]
    relation = con.execute(read_sql("runs/history.sql"), {"limit": limit})
    columns = [d[0] for d in relation.description]
    return total, [dict(zip(columns, row, strict=True)) for row in relation.fetchall()]
