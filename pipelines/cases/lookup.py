"""The evidence lookup of a published file: what a case page reads instead of whole datasets.

A case page (`pipelines.web.casepages`, `fundwatch case show`) shows a finding's evidence rows with the inbox file
and line of each row in force and the name of every person in them (`pipelines.cases.evidence`). Searched in the
datasets themselves, every dataset a finding draws on and `enrollment` (for the names) is scanned whole: 150-250
ms each on a 1M-person file, and proportionally more at a province's size. DuckDB's keyed access path, an ART
index, would cost the nightly run 17 s and 0.8 GB of file at 1M and must be built in memory
(docs/adr/0021-evidence-lookup.md). The findings, though, are few and known at publication.

So every run, just before it publishes, `build` writes into the building file, in the schema
`evidence.LOOKUP_SCHEMA`:

* one table per dataset, with the dataset's columns: its rows (in force at this publication) whose key the evidence
  of some finding of `suspects` names, active or not; sorted by the key, so that a lookup reads a few row groups;
* `person_names` (person_id, name, dataset): the name `evidence_view` shows for each person a finding names.

The keys and persons come from `evidence.lookup_keys`, the function the view itself routes its rows with, so
whatever a view of any finding of this file looks up is in the lookup. The published file is never written
between publications, and each publication rebuilds the lookup from what it publishes: it cannot go stale.
A file published before the lookup existed has none, and is searched whole.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import duckdb
import pyarrow as pa

from pipelines.cases import evidence
from schemas.datasets import BY_NAME, DATASETS

# Suspects read per batch (their evidence JSON is parsed in Python by the view's own routing).
BATCH_ROWS = 20_000
# The widest key a source looks a row up by (a contribution: employer, scheme, period).
KEY_WIDTH = 3
_KEYS = "_fundwatch_lookup_keys"
_PERSONS = "_fundwatch_lookup_persons"


@dataclass(frozen=True)
class LookupBuilt:
    findings: int
    rows: dict[str, int]  # table of the lookup -> rows


def build(con: duckdb.DuckDBPyConnection, *, batch_rows: int = BATCH_ROWS) -> LookupBuilt:
    """(Re)build the evidence lookup in the file of `con` (a run's building copy, with its final `suspects`)."""
    schema = evidence.LOOKUP_SCHEMA
    con.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    con.execute(f'CREATE SCHEMA "{schema}"')
    key_columns = ", ".join(f"k{i} VARCHAR" for i in range(KEY_WIDTH))
    con.execute(f"CREATE OR REPLACE TEMP TABLE {_KEYS} (dataset VARCHAR, key_columns VARCHAR, {key_columns})")
    con.execute(f"CREATE OR REPLACE TEMP TABLE {_PERSONS} (k VARCHAR)")
    try:
        findings = 0
        for keys, persons, read in _wanted(con, batch_rows):
            findings += read
            _append(con, _KEYS, keys)
            _append(con, _PERSONS, persons)
        rows = {spec.name: _dataset_rows(con, spec.name) for spec in DATASETS}
        rows[evidence.LOOKUP_NAMES] = _person_names(con)
    finally:
        con.execute(f"DROP TABLE IF EXISTS {_KEYS}")
        con.execute(f"DROP TABLE IF EXISTS {_PERSONS}")
    return LookupBuilt(findings, rows)


def _wanted(con: duckdb.DuckDBPyConnection, batch_rows: int) -> Iterator[tuple[pa.Table, pa.Table, int]]:
    """Per batch of findings: the keys their evidence names, the persons they name, and how many were read."""
    reader = con.cursor()  # its own result stream while `con` inserts what it yields
    try:
        result = reader.execute("SELECT rule, subject_id, person_id, evidence_rows FROM suspects")
        names = [d[0] for d in result.description]
        while batch := result.fetchmany(batch_rows):
            keys: dict[str, list[str | None]] = {"dataset": [], "key_columns": []}
            keys |= {f"k{i}": [] for i in range(KEY_WIDTH)}
            persons: list[str] = []
            for values in batch:
                found, named = evidence.lookup_keys(dict(zip(names, values, strict=True)))
                for dataset, columns, key in found:
                    if len(key) > KEY_WIDTH:
                        raise ValueError(f"a key of {len(key)} columns for {dataset}: KEY_WIDTH is {KEY_WIDTH}")
                    keys["dataset"].append(dataset)
                    keys["key_columns"].append(",".join(columns))
                    for i in range(KEY_WIDTH):
                        keys[f"k{i}"].append(key[i] if i < len(key) else None)
                persons += named
            yield pa.table(keys, schema=_keys_schema()), pa.table({"k": pa.array(persons, pa.string())}), len(batch)
    finally:
        reader.close()


def _keys_schema() -> pa.Schema:
    return pa.schema(
        [("dataset", pa.string()), ("key_columns", pa.string())] + [(f"k{i}", pa.string()) for i in range(KEY_WIDTH)]
    )


def _append(con: duckdb.DuckDBPyConnection, table: str, rows: pa.Table) -> None:
    if rows.num_rows == 0:
        return
    con.register("_fundwatch_lookup_batch", rows)
    try:
        con.execute(f"INSERT INTO {table} SELECT * FROM _fundwatch_lookup_batch")
    finally:
        con.unregister("_fundwatch_lookup_batch")


def _dataset_rows(con: duckdb.DuckDBPyConnection, dataset: str) -> int:
    """Copy the rows of `dataset` whose key a finding names into the lookup, sorted by key; their number."""
    target = f'"{evidence.LOOKUP_SCHEMA}"."{dataset}"'
    first = BY_NAME[dataset].columns[0].name
    # identifiers come from the fixed spec; the dataset's name is a bound value
    shapes = [
        c for (c,) in con.execute(f"SELECT DISTINCT key_columns FROM {_KEYS} WHERE dataset = ?", [dataset]).fetchall()
    ]
    if not shapes:
        con.execute(f'CREATE TABLE {target} AS SELECT * FROM "{dataset}" LIMIT 0')
        return 0
    chosen = []
    for shape in sorted(shapes):
        columns = shape.split(",")
        on = " AND ".join(f't."{c}" = w.k{i}' for i, c in enumerate(columns))
        keys = ", ".join(f"k{i}" for i in range(len(columns)))
        chosen.append(
            f'SELECT t.rowid AS row_id FROM "{dataset}" AS t SEMI JOIN '
            f"(SELECT DISTINCT {keys} FROM {_KEYS} WHERE dataset = ? AND key_columns = ?) AS w ON {on}"
        )
    params = [v for shape in sorted(shapes) for v in (dataset, shape)]
    # rows named under two key shapes (a rule without a route looks a row up by its first column) are kept once
    con.execute(
        f'CREATE TABLE {target} AS SELECT * FROM "{dataset}" WHERE rowid IN ({" UNION ".join(chosen)}) '
        f'ORDER BY "{first}", source_file, source_line',
        params,
    )
    (rows,) = con.execute(f"SELECT count(*) FROM {target}").fetchone()
    return int(rows)


def _person_names(con: duckdb.DuckDBPyConnection) -> int:
    """The name of every person a finding names, as `evidence._names` finds it; the number of persons named."""
    target = f'"{evidence.LOOKUP_SCHEMA}"."{evidence.LOOKUP_NAMES}"'
    wanted = f"(SELECT DISTINCT k FROM {_PERSONS}) AS w"
    con.execute(
        f"CREATE TEMP TABLE _fundwatch_lookup_names AS SELECT person_id, name, 'enrollment' AS dataset "
        f"FROM ({evidence.enrollment_names_sql(wanted)})"
    )
    try:
        for dataset, order in evidence.NOTICES:
            named = "SELECT person_id FROM _fundwatch_lookup_names"
            unnamed = f"(SELECT DISTINCT k FROM {_PERSONS} WHERE k NOT IN ({named})) AS w"
            con.execute(
                f"INSERT INTO _fundwatch_lookup_names SELECT person_id, name, ? FROM "
                f"({evidence.notice_names_sql(dataset, order, unnamed)})",
                [dataset],
            )
        con.execute(f"CREATE TABLE {target} AS SELECT * FROM _fundwatch_lookup_names ORDER BY person_id")
    finally:
        con.execute("DROP TABLE IF EXISTS _fundwatch_lookup_names")
    (rows,) = con.execute(f"SELECT count(*) FROM {target}").fetchone()
    return int(rows)
