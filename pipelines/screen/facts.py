"""What screening needs to know of the persons and accounts of a batch, read from a published file.

Screening a payment asks, for its person: the death notices, the custody spells, the payments already made, the
wage declarations, the enrollment spells; and for its bank account and month: who else is paid into it. Read
from the datasets themselves, each question scans a whole table (70-250 ms each at 1M persons: the rows are in
delivery order). So every run, just before it publishes, `build` writes the same questions' tables into the
schema `screening_lookup`, sorted by the key they are asked by: a lookup of a few persons reads a few row groups
(DuckDB skips the rest by their min/max), and a batch of 100,000 lines joins them once
(docs/adr/0023-pre-payment-screening.md). The lookup is rebuilt from what each publication publishes, so it
cannot go stale; a file published before it existed is read from its datasets (`Facts.read` falls back).

`SOURCES` is the one statement of each table (its columns, rows and order): the lookup is built from it and the
fallback reads it, so the two cannot differ.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import duckdb
import polars as pl

SCHEMA = "screening_lookup"
# Up to this many keys are asked for literally (`IN (...)`: DuckDB prunes row groups by them); more are joined.
LITERAL_KEYS = 64
_KEYS = "_fundwatch_screen_keys"


@dataclass(frozen=True)
class Source:
    """One lookup table: `columns` of `dataset` where `where`, keyed (and sorted) by `key`."""

    dataset: str
    key: tuple[str, ...]
    columns: tuple[str, ...]
    where: str = "TRUE"
    distinct: bool = False

    def select(self) -> str:
        distinct = "DISTINCT " if self.distinct else ""
        return f"SELECT {distinct}{', '.join(self.columns)} FROM {self.dataset} WHERE {self.where}"


SOURCES: dict[str, Source] = {
    # the payments already made to a person (ALREADY_PAID, PENSIONER)
    "payments": Source(
        "benefit_payments",
        ("person_id",),
        ("person_id", "payment_id", "benefit_type", "scheme", "period", "amount", "bank_account", "region_code"),
    ),
    # who is paid into an account in a month (SHARED_ACCOUNT)
    "account_payments": Source(
        "benefit_payments", ("bank_account", "period"), ("bank_account", "period", "person_id"), distinct=True
    ),
    # a wage declared for a month (EMPLOYED): a zero wage proves no wage
    "wages": Source(
        "payroll_withholding",
        ("person_id",),
        ("person_id", "period", "employer_id", "wage_income"),
        where="wage_income > 0",
    ),
    # enrollment spells (EMPLOYED: a job; UNKNOWN_PERSON: none at all)
    "enrollment": Source(
        "enrollment", ("person_id",), ("person_id", "enrollment_id", "scheme", "employer_id", "start_date", "end_date")
    ),
    "deaths": Source("death_records", ("person_id",), ("person_id", "death_date", "source")),
    "custody": Source("custody_records", ("person_id",), ("person_id", "sentence_type", "start_date", "end_date")),
}


@dataclass(frozen=True)
class LookupBuilt:
    rows: dict[str, int]


def build(con: duckdb.DuckDBPyConnection) -> LookupBuilt:
    """(Re)write the lookup into the file `con` builds, from its datasets in force. Call just before publishing."""
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
    rows: dict[str, int] = {}
    for name, source in SOURCES.items():
        order = ", ".join(source.key)
        con.execute(f"CREATE OR REPLACE TABLE {SCHEMA}.{name} AS {source.select()} ORDER BY {order}")
        rows[name] = int(con.execute(f"SELECT count(*) FROM {SCHEMA}.{name}").fetchall()[0][0])
    return LookupBuilt(rows)


def has_lookup(con: duckdb.DuckDBPyConnection) -> bool:
    found = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE schema_name = ? AND database_name = current_database()",
        [SCHEMA],
    ).fetchall()
    return found[0][0] == len(SOURCES)


class Facts:
    """Reads the lookup tables (or, without a lookup, the same rows from the datasets) for the keys asked."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con
        self.lookup = has_lookup(con)

    def _relation(self, name: str) -> str:
        return f"{SCHEMA}.{name}" if self.lookup else f"({SOURCES[name].select()})"

    def read(self, name: str, keys: pl.DataFrame) -> pl.DataFrame:
        """The rows of lookup table `name` whose key is among the rows of `keys` (columns: the table's key)."""
        source = SOURCES[name]
        keys = keys.select(source.key).unique().drop_nulls()
        columns = ", ".join(f"t.{c}" for c in source.columns)
        if keys.height == 0:
            sql, params = f"SELECT {columns} FROM {self._relation(name)} AS t WHERE FALSE", []
            return self._frame(sql, params)
        if keys.height <= LITERAL_KEYS:
            conditions = " OR ".join(
                "(" + " AND ".join(f"t.{k} = ?" for k in source.key) + ")" for _ in range(keys.height)
            )
            params = [value for row in keys.iter_rows() for value in row]
            return self._frame(f"SELECT {columns} FROM {self._relation(name)} AS t WHERE {conditions}", params)
        self.con.register(_KEYS, keys.to_arrow())
        try:
            using = ", ".join(source.key)
            sql = f"SELECT {columns} FROM {self._relation(name)} AS t SEMI JOIN {_KEYS} AS k USING ({using})"
            return self._frame(sql, [])
        finally:
            self.con.unregister(_KEYS)

    def _frame(self, sql: str, params: Iterable[object]) -> pl.DataFrame:
        return self.con.sql(sql, params=list(params)).pl()
