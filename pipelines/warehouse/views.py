"""The analyst views (`sql/views/`): the masking macros first, then one file per view, in file-name order.

* `000_masking.sql` creates the DuckDB macros of the masking policy (`mask_id`, `mask_account`,
  `mask_text`, `shown_subject`, …; `pipelines.present.masking` in SQL). Every view shows citizen IDs,
  personal bank accounts and free text through them, so an analyst who reads the views reads what the CLI,
  the exports and the reports show. The tables stay unmasked: the file is private (0600) and the one who
  holds it may read them; the views are what `docs/analyst.md` points analysts to.
* Every other file is one `CREATE OR REPLACE VIEW <name> AS …` statement opening with a comment that
  states its grain ("one row per …") and its use; `docs/analyst.md` shows one query per view.

Views and macros hold no data, so creating them again on every run is cheap and keeps them in step with
the SQL files; a later file may build on an earlier view. They are stored in the published file and bound
again by whoever opens it, also the DuckDB command line of an older storage version
(docs/adr/0018-analyst-sql-shell.md): they use only SQL that it reads.
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb

from pipelines.warehouse.sql import SQL_DIR

VIEWS_DIR = SQL_DIR / "views"
MACROS_FILE = VIEWS_DIR / "000_masking.sql"

_CREATE_VIEW = re.compile(r"^\s*CREATE\s+OR\s+REPLACE\s+VIEW\s+(\w+)\s+AS\b", re.IGNORECASE | re.MULTILINE)
_CREATE_MACRO = re.compile(r"^\s*CREATE\s+OR\s+REPLACE\s+MACRO\s+(\w+)\s*\(", re.IGNORECASE | re.MULTILINE)


def view_files() -> list[Path]:
    """The view files in the order they are created (their names start with 010_, 020_, …)."""
    return [path for path in sorted(VIEWS_DIR.glob("*.sql")) if path != MACROS_FILE]


def view_name(sql: str, path: Path) -> str:
    """The name a view file creates; it must be the file name without its order prefix."""
    match = _CREATE_VIEW.search(sql)
    if match is None:
        raise ValueError(f"{path.name}: expected one 'CREATE OR REPLACE VIEW <name> AS' statement")
    name = match.group(1)
    if path.stem.split("_", 1)[-1] != name:
        raise ValueError(f"{path.name}: creates view {name}, expected the file to be named <order>_{name}.sql")
    return name


def macro_names() -> list[str]:
    """The masking macros `000_masking.sql` creates, in its order."""
    return _CREATE_MACRO.findall(MACROS_FILE.read_text(encoding="utf-8"))


def create_macros(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Create (or replace) the masking macros on `con`; returns their names."""
    con.execute(MACROS_FILE.read_text(encoding="utf-8"))
    return macro_names()


def create_views(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Create (or replace) the masking macros and every analyst view on `con`; returns the view names in
    creation order."""
    create_macros(con)
    names = []
    for path in view_files():
        sql = path.read_text(encoding="utf-8")
        name = view_name(sql, path)
        con.execute(sql)
        names.append(name)
    return names
