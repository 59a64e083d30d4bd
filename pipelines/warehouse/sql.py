"""SQL is a file, not a string: every query and DDL lives under `sql/`, found here by its path.

Values go in as bound parameters (`$name`), never formatted into the text.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

SQL_DIR = Path(__file__).resolve().parents[2] / "sql"


def sql_path(name: str) -> Path:
    """The file `sql/<name>` (e.g. "runs/finish_run.sql", "cases/payers.sql"); it must exist."""
    path = SQL_DIR / name
    if not path.is_file():
        raise FileNotFoundError(f"no SQL file {path}")
    return path


def read_sql(name: str) -> str:
    return sql_path(name).read_text(encoding="utf-8")


def execute_script(con: duckdb.DuckDBPyConnection, text: str, params: dict[str, object] | None = None) -> None:
    """Run a SQL text of several statements; each gets the named parameters it mentions."""
    params = params or {}
    for statement in text.split(";\n"):
        code = "\n".join(line for line in statement.splitlines() if not line.strip().startswith("--"))
        if code.strip():
            con.execute(statement, {k: v for k, v in params.items() if f"${k}" in code})
