"""The analyst views (`sql/views/`): one file per view, created in file-name order.

Each file is one `CREATE OR REPLACE VIEW <name> AS …` statement opening with a comment that
states its grain ("one row per …") and its use; `docs/analyst.md` shows one query per view.
Views hold no data, so creating them again on every run is cheap and keeps them in step with the
SQL files; a later file may build on an earlier view.
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb

from pipelines.warehouse.sql import SQL_DIR

VIEWS_DIR = SQL_DIR / "views"

_CREATE_VIEW = re.compile(r"^\s*CREATE\s+OR\s+REPLACE\s+VIEW\s+(\w+)\s+AS\b", re.IGNORECASE | re.MULTILINE)


def view_files() -> list[Path]:
    """The view files in the order they are created (their names start with 010_, 020_, …)."""
    return sorted(VIEWS_DIR.glob("*.sql"))


def view_name(sql: str, path: Path) -> str:
    """The name a view file creates; it must be the file name without its order prefix."""
    match = _CREATE_VIEW.search(sql)
    if match is None:
        raise ValueError(f"{path.name}: expected one 'CREATE OR REPLACE VIEW <name> AS' statement")
    name = match.group(1)
    if path.stem.split("_", 1)[-1] != name:
        raise ValueError(f"{path.name}: creates view {name}, expected the file to be named <order>_{name}.sql")
    return name


def create_views(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Create (or replace) every analyst view on `con`; returns the view names in creation order."""
    names = []
    for path in view_files():
        sql = path.read_text(encoding="utf-8")
        name = view_name(sql, path)
        con.execute(sql)
        names.append(name)
    return names
