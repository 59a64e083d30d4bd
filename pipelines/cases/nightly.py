"""The nightly run's side of the case register: sync it to the findings, mirror it into DuckDB."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import polars as pl

from pipelines.cases import register as reg
from pipelines.store import execute_script

SQL_DIR = Path(__file__).resolve().parents[2] / "sql" / "cases"


def _frame(con: duckdb.DuckDBPyConnection, sql: str) -> pl.DataFrame:
    frame = pl.from_arrow(con.sql(sql).to_arrow_table())
    assert isinstance(frame, pl.DataFrame)
    return frame


def sync_run(con: duckdb.DuckDBPyConnection, register: Path, as_of: dt.date, run_id: str) -> reg.SyncCounts:
    findings = _frame(con, "SELECT * FROM suspects WHERE active")
    payers = _frame(con, (SQL_DIR / "payers.sql").read_text(encoding="utf-8"))
    cases = reg.open_register(register)
    try:
        counts = reg.sync_findings(cases, findings, as_of, run_id)
        reg.record_payers(cases, payers.select("suspect_id", "operator_id"))
        state = reg.cases_frame(cases, as_of)
        history = reg.query_frame(cases, "SELECT * FROM case_events ORDER BY event_id")
    finally:
        cases.close()
    con.execute("BEGIN TRANSACTION")
    try:
        con.register("_register_cases", state.to_arrow())
        con.register("_register_events", history.to_arrow())
        execute_script(con, (SQL_DIR / "mirror_to_duckdb.sql").read_text(encoding="utf-8"))
        con.unregister("_register_cases")
        con.unregister("_register_events")
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return counts
