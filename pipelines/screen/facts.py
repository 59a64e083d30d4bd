"""What screening needs to know of the persons and accounts of a batch, read from a published file.

Screening a payment asks, for its person: the death notices, the custody spells, the payments already made, the
wage declarations, the enrollment spells; and for its bank account and month: who else is paid into it. Read
from the datasets themselves, each question scans a whole table (70-250 ms each at 1M persons: the rows are in
delivery order). So every run, just before it publishes, `build` writes the same questions' tables into the
schema `screening_lookup`, sorted by the key they are asked by: a lookup of a few persons reads a few row groups
(DuckDB skips the rest by their min/max), and a batch of 100,000 lines joins them once
(docs/adr/0023-pre-payment-screening.md). The sort key is `_probe`, DuckDB's 64-bit `hash()` of the key's first
column: DuckDB keeps only the first 8 bytes of a string's min/max, and the first 8 bytes of a bank account (the
bank's prefix) or of a citizen ID (region, century) are shared by many, so sorted by the key itself a lookup of one
account still read all 22 row groups of the table at 1M persons (11 ms); by its hash, a lookup reads one (1-2 ms).
`hash(?)` is folded before the scan, so the question and the table use one function. It was the key reversed (a
string sort: 1M persons, the four large tables 6.5 s, against about 4 s by the hash; ADR 0023, addendum). DuckDB
does not promise `hash()` the same across versions, so the lookup keeps the hashes of a few fixed texts
(`hash_mark`) and is read only by a DuckDB that hashes them alike (`has_lookup`); otherwise it is read from
the datasets, and the next run, whose signature includes the mark, rebuilds it. The lookup is rebuilt from
what each publication publishes, so it cannot go stale; a file published before it existed is read from its
datasets (`Facts.read` falls back).

`SOURCES` is the one statement of each table (its columns, rows and order): the lookup is built from it and the
fallback reads it, so the two cannot differ.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache

import duckdb
import polars as pl

from pipelines.warehouse.sql import read_sql
from schemas.datasets import BY_NAME, POLARS_TYPES

SCHEMA = "screening_lookup"
# Up to this many keys are asked for literally (`IN (...)`: DuckDB prunes row groups by them); more are joined.
LITERAL_KEYS = 64
_KEYS = "_fundwatch_screen_keys"
PROBE = "_probe"  # a lookup table's sort key: DuckDB's hash() of its key's first column (UBIGINT)
HASH_MARK = "_hash"  # the `_built` row of `hash_mark()` when the lookup was built
# Texts whose hashes stand for DuckDB's hash(): short (inlined) and long strings, an ID, an account
_MARK_TEXTS = ("", "x", "fundwatch", "11010519491231002X", "6217000010001234567890123")


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

    def build(self) -> str:
        """The lookup table's statement: the rows of `select`, `_probe` first, sorted by `_probe` and the rest of
        the key (see the module's docstring). Rows of one key are contiguous: equal keys have equal hashes."""
        order = ", ".join((PROBE, *self.key[1:]))
        return f"SELECT hash({self.key[0]}) AS {PROBE}, * FROM ({self.select()}) ORDER BY {order}"


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


def hash_mark(con: duckdb.DuckDBPyConnection) -> str:
    """DuckDB's `hash()` of a few fixed texts, as this connection's DuckDB computes it: a lookup built by a DuckDB
    whose hash differs is not read (see the module's docstring)."""
    placeholders = ", ".join("hash(?::VARCHAR)" for _ in _MARK_TEXTS)
    row = con.execute(f"SELECT {placeholders}", list(_MARK_TEXTS)).fetchall()[0]
    return ",".join(str(h) for h in row)


def _signature(con: duckdb.DuckDBPyConnection, source: Source, mark: str) -> str:
    """What a lookup table is made of: its statement, DuckDB's hash (`mark`, this DuckDB's `hash_mark`) and the
    files of its dataset in force (the definition of "in force" is the ingest's, `sql/ingest/in_force_files.sql`)."""
    digest = hashlib.sha256(f"{source.build()}\n{mark}\n".encode())
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
    mark = hash_mark(con)
    for name, source in SOURCES.items():
        signature = _signature(con, source, mark)
        if built.get(name) != signature or name not in present:
            con.execute(f"CREATE OR REPLACE TABLE {SCHEMA}.{name} AS {source.build()}")
            con.execute(f"INSERT OR REPLACE INTO {SCHEMA}._built VALUES (?, ?)", [name, signature])
            rebuilt.append(name)
        rows[name] = int(con.execute(f"SELECT count(*) FROM {SCHEMA}.{name}").fetchall()[0][0])
    con.execute(f"INSERT OR REPLACE INTO {SCHEMA}._built VALUES (?, ?)", [HASH_MARK, mark])
    return LookupBuilt(rows, tuple(rebuilt))


def has_lookup(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the file has every lookup table, in the form this code reads (`_probe` first, a UBIGINT hash) and
    hashed as this DuckDB hashes (`hash_mark`): a file published by an older fundwatch (before the lookup,
    before `_probe`, with the key reversed) or read by a DuckDB whose hash() changed is read from its datasets."""
    found = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE schema_name = ? AND database_name = current_database()",
        [SCHEMA],
    ).fetchall()
    if found[0][0] != len(SOURCES) + 1:  # and `_built`
        return False
    probed = con.execute(
        "SELECT count(*) FROM duckdb_columns() WHERE schema_name = ? AND database_name = current_database()"
        " AND column_name = ? AND column_index = 1 AND data_type = 'UBIGINT'",
        [SCHEMA, PROBE],
    ).fetchall()
    if probed[0][0] != len(SOURCES):
        return False
    built = con.execute(f"SELECT signature FROM {SCHEMA}._built WHERE name = ?", [HASH_MARK]).fetchall()
    return bool(built) and built[0][0] == hash_mark(con)


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
        if keys.height <= LITERAL_KEYS:
            sql, params = self._literal(name, _keys(keys, source))
            return self.con.sql(sql, params=params).pl()
        self.con.register(_KEYS, keys.select(source.key).unique().drop_nulls().to_arrow())
        try:
            columns = ", ".join(f"t.{c}" for c in source.columns)
            using = ", ".join(source.key)
            sql = f"SELECT {columns} FROM {self._relation(name)} AS t SEMI JOIN {_KEYS} AS k USING ({using})"
            return self.con.sql(sql).pl()
        finally:
            self.con.unregister(_KEYS)

    def _literal(self, name: str, wanted: list[tuple[object, ...]]) -> tuple[str, list[object]]:
        """The statement reading table `name` for a few keys, given literally: DuckDB prunes row groups by them
        (in the lookup, by `_probe` first: see the module's docstring)."""
        source = SOURCES[name]
        columns = ", ".join(f"t.{c}" for c in source.columns)
        if not wanted:
            return f"SELECT {columns} FROM {self._relation(name)} AS t WHERE FALSE", []
        probe = [f"t.{PROBE} = hash(?::VARCHAR)"] if self.lookup else []
        one = "(" + " AND ".join([*probe, *(f"t.{k} = ?" for k in source.key)]) + ")"
        params = [v for key in wanted for v in ([key[0]] if self.lookup else []) + list(key)]
        return f"SELECT {columns} FROM {self._relation(name)} AS t WHERE {' OR '.join([one] * len(wanted))}", params

    def read_all(self, asked: dict[str, pl.DataFrame]) -> dict[str, pl.DataFrame]:
        """`read` of several tables. For a few keys each (one payment: the service's case) in one statement, each
        table's rows a list in a column of its one row: one query and one result instead of one per table (12 ms
        for the five lookups of one payment at 1M persons, against 22 ms as five queries, run at once or not).
        Many keys are joined one table after the other."""
        if len(asked) < 2 or any(keys.height > LITERAL_KEYS for keys in asked.values()):
            return {name: self.read(name, keys) for name, keys in asked.items()}
        wanted = {name: _keys(keys, SOURCES[name]) for name, keys in asked.items()}
        lists, params = [], []
        for name, keys in wanted.items():
            sql, more = self._literal(name, keys)
            inner = ", ".join(f"r.{c}" for c in SOURCES[name].columns)
            lists.append(f"(SELECT list(row({inner})) FROM ({sql}) AS r) AS {name}")
            params += more
        (row,) = self.con.execute("SELECT " + ", ".join(lists), params).fetchall()
        return {
            name: pl.DataFrame(rows or [], schema=table_schema(name), orient="row")
            for name, rows in zip(wanted, row, strict=True)
        }


def _keys(keys: pl.DataFrame, source: Source) -> list[tuple[object, ...]]:
    """The distinct keys of a few rows `keys` (columns: the source's key, at least), none with a null in it, in a
    stable order."""
    columns = [keys.get_column(k).to_list() for k in source.key]  # no query: a batch of one payment is frequent
    rows = {row for row in zip(*columns, strict=True) if None not in row}
    return sorted(rows, key=lambda row: tuple(str(v) for v in row))


@cache
def table_schema(name: str) -> pl.Schema:
    """The Polars types of a lookup table's columns: those its dataset's columns have (`schemas.datasets`), the
    types DuckDB's own conversion gives them (tests/screen/test_reasons.py holds the two to the same frames)."""
    source = SOURCES[name]
    spec = BY_NAME[source.dataset]
    return pl.Schema({c: POLARS_TYPES[spec.column(c).kind] for c in source.columns})
