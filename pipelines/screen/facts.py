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

import hashlib
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import duckdb
import polars as pl

from pipelines.warehouse.sql import read_sql

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
    rows: dict[str, int]  # every table's rows
    rebuilt: tuple[str, ...]  # the tables written by this build (the others' inputs had not changed)


def _signature(con: duckdb.DuckDBPyConnection, source: Source) -> str:
    """What a lookup table is made of: its statement and the files of its dataset in force (the definition of
    "in force" is the ingest's, `sql/ingest/in_force_files.sql`)."""
    digest = hashlib.sha256(f"{source.select()} ORDER BY {source.key}\n".encode())
    query = f"SELECT file, sha256 FROM ({read_sql('ingest/in_force_files.sql')}) WHERE dataset = ? ORDER BY file"
    for file, sha256 in con.execute(query, [source.dataset]).fetchall():
        digest.update(f"{file}\t{sha256}\n".encode())
    return digest.hexdigest()


def build(con: duckdb.DuckDBPyConnection) -> LookupBuilt:
    """Bring the lookup of the file `con` builds up to its datasets in force. Call just before publishing.

    A table whose dataset has the same files in force as when it was written is kept: a night with nothing new,
    or nothing new for that dataset, does not pay for it again (`_built` keeps each table's `_signature`).
    """
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
    con.execute(f"CREATE TABLE IF NOT EXISTS {SCHEMA}._built (name VARCHAR PRIMARY KEY, signature VARCHAR NOT NULL)")
    built = dict(con.execute(f"SELECT name, signature FROM {SCHEMA}._built").fetchall())
    present = {
        r[0]
        for r in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE schema_name = ? AND database_name = current_database()",
            [SCHEMA],
        ).fetchall()
    }
    rows: dict[str, int] = {}
    rebuilt: list[str] = []
    for name, source in SOURCES.items():
        signature = _signature(con, source)
        if built.get(name) != signature or name not in present:
            order = ", ".join(source.key)
            con.execute(f"CREATE OR REPLACE TABLE {SCHEMA}.{name} AS {source.select()} ORDER BY {order}")
            con.execute(f"INSERT OR REPLACE INTO {SCHEMA}._built VALUES (?, ?)", [name, signature])
            rebuilt.append(name)
        rows[name] = int(con.execute(f"SELECT count(*) FROM {SCHEMA}.{name}").fetchall()[0][0])
    return LookupBuilt(rows, tuple(rebuilt))


def has_lookup(con: duckdb.DuckDBPyConnection) -> bool:
    found = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE schema_name = ? AND database_name = current_database()",
        [SCHEMA],
    ).fetchall()
    return found[0][0] == len(SOURCES) + 1  # and `_built`


class Facts:
    """Reads the lookup tables (or, without a lookup, the same rows from the datasets) for the keys asked."""

    def __init__(self, con: duckdb.DuckDBPyConnection, lookup: bool | None = None) -> None:
        """`lookup`: whether the file has the lookup, if the caller knows it already (a server asks once per file)."""
        self.con = con
        self.lookup = has_lookup(con) if lookup is None else lookup

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

    def read_all(self, asked: dict[str, pl.DataFrame]) -> dict[str, pl.DataFrame]:
        """`read` of several tables. For a few keys each (one payment, the service's case) the queries run at once,
        each on a cursor of its own (DuckDB releases the GIL while it works): one payment pays for the slowest of
        its lookups, not their sum. Many keys are joined one table after the other."""
        if len(asked) < 2 or any(keys.height > LITERAL_KEYS for keys in asked.values()):
            return {name: self.read(name, keys) for name, keys in asked.items()}
        catalog = self.con.execute("SELECT current_database()").fetchall()[0][0]

        def one(name: str) -> pl.DataFrame:
            cursor = self.con.cursor()
            try:
                cursor.execute('USE "' + str(catalog).replace('"', '""') + '"')  # a cursor starts in its own catalog
                return Facts(cursor, self.lookup).read(name, asked[name])
            finally:
                cursor.close()

        with ThreadPoolExecutor(max_workers=len(asked)) as pool:
            return dict(zip(asked, pool.map(one, asked), strict=True))
