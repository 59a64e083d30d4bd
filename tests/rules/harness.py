"""Test harness for the rules: a handful of typed rows in, both engines run, their agreement checked.

`findings(rule, tables, ...)` builds the named datasets from plain rows (text
values as an extract would carry them after normalisation: periods 'YYYYMM',
money '1234.50', dates 'YYYY-MM-DD'), runs the Polars rule and its SQL twin,
asserts that they agree finding by finding and amount by amount, and returns
the Polars findings.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import duckdb
import polars as pl

from pipelines.detect.engine import COMPARED_COLUMNS, detect_polars, detect_sql
from pipelines.rules import BY_CODE
from pipelines.warehouse.append import append_frame
from pipelines.warehouse.session import dataset_ddl
from schemas.datasets import BY_NAME, DATASETS, POLARS_TYPES

AS_OF = dt.date(2025, 12, 31)
THRESHOLD = Decimal("100000.00")


def _value(kind: str, value: object) -> object:
    if value is None or not isinstance(value, str):
        return value
    if kind == "money":
        return Decimal(value)
    if kind == "date":
        return dt.date.fromisoformat(value)
    if kind == "timestamp":
        return dt.datetime.fromisoformat(value)
    if kind == "integer":
        return int(value)
    return value


def table(dataset: str, rows: list[dict[str, object]]) -> pl.DataFrame:
    """A dataset frame in its canonical types; columns a row does not name are null."""
    spec = BY_NAME[dataset]
    unknown = {k for r in rows for k in r} - {c.name for c in spec.columns}
    assert not unknown, f"{dataset} has no column(s) {unknown}"
    return pl.DataFrame(
        {c.name: [_value(c.kind, r.get(c.name)) for r in rows] for c in spec.columns},
        schema={c.name: POLARS_TYPES[c.kind] for c in spec.columns},
    )


def findings(
    rule_code: str,
    tables: dict[str, list[dict[str, object]]],
    *,
    as_of: dt.date = AS_OF,
    large_payment_threshold: Decimal = THRESHOLD,
) -> pl.DataFrame:
    rule = BY_CODE[rule_code]
    frames = {name: table(name, tables.get(name, [])) for name in (d.name for d in DATASETS)}
    by_polars = detect_polars(rule, {k: v.lazy() for k, v in frames.items()}, as_of, large_payment_threshold)

    con = duckdb.connect()
    try:
        for spec in DATASETS:
            con.execute(dataset_ddl(spec))
            append_frame(
                con,
                spec.name,
                frames[spec.name].with_columns(pl.lit("test.csv").alias("source_file"), pl.lit("t").alias("run_id")),
            )
        by_sql = detect_sql(con, rule, as_of, large_payment_threshold)
    finally:
        con.close()
    compared = by_polars.select(COMPARED_COLUMNS)
    assert compared.to_dicts() == by_sql.to_dicts(), f"engines disagree:\npolars\n{compared}\nsql\n{by_sql}"
    return by_polars


def subjects(found: pl.DataFrame) -> dict[str, Decimal]:
    """subject_id -> amount_at_risk, the core of what a rule found."""
    return dict(found.select("subject_id", "amount_at_risk").rows())
