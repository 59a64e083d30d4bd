"""The nightly run's side of the case register: sync it to the findings, mirror it into DuckDB (the cases, their
log, and the blacklist with the findings it hits)."""

from __future__ import annotations

import datetime as dt
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import duckdb
import polars as pl

from pipelines.cases import blacklist, deadlines
from pipelines.cases import register as reg
from pipelines.warehouse.session import transaction
from pipelines.warehouse.sql import execute_script, read_sql


def _frame(con: duckdb.DuckDBPyConnection, sql: str) -> pl.DataFrame:
    frame = pl.from_arrow(con.sql(sql).to_arrow_table())
    assert isinstance(frame, pl.DataFrame)
    return frame


# What the register's sync reads of each active finding (`register.sync_findings`).
SYNCED_COLUMNS = (
    "suspect_id",
    "rule",
    "subject_id",
    "person_id",
    "region_code",
    "period_from",
    "period_to",
    "amount_at_risk",
    "summary",
)


@dataclass(frozen=True)
class Synced:
    counts: reg.SyncCounts
    # How the copy's case log was brought up to the register's: "appended" (the events since the copy's last),
    # "first" (the copy had none), or "whole" (the register's log does not continue the copy's: a register
    # restored from a backup, or changed outside fundwatch; the flow warns).
    log_mirrored: Literal["first", "appended", "whole"]


LOG_NOT_CONTINUED = (
    "案件记录未接续上次镜像 the case register's log does not continue the copy the last run mirrored into the database "
    "(a register restored from a backup, or changed outside fundwatch): mirrored whole again; "
    "check it with `fundwatch case verify-log`"
)


def sync_run(con: duckdb.DuckDBPyConnection, register: Path, as_of: dt.date, run_id: str) -> Synced:
    """The register follows the run's findings and recomputes its provisional deadlines; then `con` (the
    building copy) mirrors the register: the cases and their log, then the blacklist (黑名单), each finding whose
    person, account or employer is listed in force saying so in its evidence (sql/cases/mirror_blacklist.sql)."""
    findings = _frame(con, f"SELECT {', '.join(SYNCED_COLUMNS)} FROM suspects WHERE active")
    payers = _frame(con, read_sql("cases/payers.sql"))
    mirrored = _mirrored_events(con)
    with reg.writer(register) as cases:
        counts = reg.sync_findings(cases, findings, as_of, run_id)
        deadlines.recompute_provisional(cases, f"fundwatch-run {run_id}")  # 暂定 deadlines, once a year is known
        reg.record_payers(cases, payers.select("suspect_id", "operator_id"))
        state = reg.cases_frame(cases, as_of)
        after = _continued_from(cases, mirrored)  # None: the copy's log is mirrored whole again
        history = reg.query_frame(cases, "SELECT * FROM case_events WHERE event_id > ? ORDER BY event_id", [after or 0])
        listed = blacklist.entries_frame(cases)
    with transaction(con):
        con.register("_register_cases", state.to_arrow())
        con.register("_register_events", history.to_arrow())
        con.register("_register_blacklist", listed.to_arrow())
        try:
            if after is not None:  # the log is append-only: only the events since the copy's last one
                con.execute("INSERT INTO case_events BY NAME SELECT * FROM _register_events")
            else:
                con.execute("CREATE OR REPLACE TABLE case_events AS SELECT * FROM _register_events")
            execute_script(con, read_sql("cases/mirror_to_duckdb.sql"))
            execute_script(con, read_sql("cases/mirror_blacklist.sql"))
        finally:
            con.unregister("_register_cases")
            con.unregister("_register_events")
            con.unregister("_register_blacklist")
    return Synced(counts, "first" if mirrored is None else "appended" if after is not None else "whole")


def _mirrored_events(con: duckdb.DuckDBPyConnection) -> tuple[int, int, str | None, list[str]] | None:
    """The DuckDB copy of the case log as the last run left it: (last event_id, events, last hash, columns), or
    None when it has none."""
    tables = con.execute("SELECT 1 FROM duckdb_tables() WHERE table_name = 'case_events'").fetchall()
    if not tables:
        return None
    columns = [c for (c,) in con.execute("SELECT column_name FROM (DESCRIBE case_events)").fetchall()]
    rows = con.execute("SELECT count(*), max(event_id), arg_max(hash, event_id) FROM case_events").fetchall()
    count, last, last_hash = rows[0]
    if last is None:
        return None
    return int(last), int(count), last_hash, columns


def _continued_from(cases: sqlite3.Connection, mirrored: tuple[int, int, str | None, list[str]] | None) -> int | None:
    """The copy's last event_id when the register's log continues the copy's: the same columns, as many events up
    to that one, and the same hash there; else None (a register restored or re-chained since, or no copy)."""
    if mirrored is None:
        return None
    last, count, last_hash, columns = mirrored
    described = cases.execute("SELECT * FROM case_events LIMIT 0").description
    if [d[0] for d in described] != columns:
        return None
    row = cases.execute(
        "SELECT count(*), (SELECT hash FROM case_events WHERE event_id = ?) FROM case_events WHERE event_id <= ?",
        [last, last],
    ).fetchone()
    return last if row is not None and int(row[0]) == count and row[1] == last_hash else None
