"""The nightly run's side of the case register: sync it to the findings, mirror it into DuckDB (the cases, their
log, and the blacklist with the findings it hits)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

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


def sync_run(con: duckdb.DuckDBPyConnection, register: Path, as_of: dt.date, run_id: str) -> reg.SyncCounts:
    """The register follows the run's findings and recomputes its provisional deadlines; then `con` (the
    building copy) mirrors the register: the cases and their log, then the blacklist (黑名单), each finding whose
    person, account or employer is listed in force saying so in its evidence (sql/cases/mirror_blacklist.sql)."""
    findings = _frame(con, "SELECT * FROM suspects WHERE active")
    payers = _frame(con, read_sql("cases/payers.sql"))
    with reg.writer(register) as cases:
        counts = reg.sync_findings(cases, findings, as_of, run_id)
        deadlines.recompute_provisional(cases, f"fundwatch-run {run_id}")  # 暂定 deadlines, once a year is known
        reg.record_payers(cases, payers.select("suspect_id", "operator_id"))
        state = reg.cases_frame(cases, as_of)
        history = reg.query_frame(cases, "SELECT * FROM case_events ORDER BY event_id")
        listed = blacklist.entries_frame(cases)
    with transaction(con):
        con.register("_register_cases", state.to_arrow())
        con.register("_register_events", history.to_arrow())
        con.register("_register_blacklist", listed.to_arrow())
        try:
            execute_script(con, read_sql("cases/mirror_to_duckdb.sql"))
            execute_script(con, read_sql("cases/mirror_blacklist.sql"))
        finally:
            con.unregister("_register_cases")
            con.unregister("_register_events")
            con.unregister("_register_blacklist")
    return counts
