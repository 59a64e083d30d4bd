"""Running the rules: the Polars engine (the product) and the DuckDB SQL twin (the cross-check)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import duckdb
import polars as pl

from pipelines.rules import Rule
from schemas.suspects import validate_findings

# The columns both engines must agree on, finding by finding.
COMPARED_COLUMNS = ("rule", "subject_id", "person_id", "region_code", "period_from", "period_to", "amount_at_risk")


def rule_options(rule: Rule, as_of: dt.date, large_payment_threshold: Decimal) -> dict[str, object]:
    available = {"as_of": as_of, "large_payment_threshold": large_payment_threshold}
    return {name: available[name] for name in rule.options}


def detect_lazy(
    rule: Rule, tables: dict[str, pl.LazyFrame], as_of: dt.date, large_payment_threshold: Decimal
) -> pl.LazyFrame:
    """The rule's plan over the given tables; nothing is computed yet."""
    return rule.detect(
        **{name: tables[name] for name in rule.inputs}, **rule_options(rule, as_of, large_payment_threshold)
    )


def detect_polars(
    rule: Rule, tables: dict[str, pl.LazyFrame], as_of: dt.date, large_payment_threshold: Decimal
) -> pl.DataFrame:
    """Collect one rule and check it is in the suspects shape."""
    found = detect_lazy(rule, tables, as_of, large_payment_threshold).collect()
    return validate_findings(found.sort("subject_id"))


def detect_sql(
    con: duckdb.DuckDBPyConnection, rule: Rule, as_of: dt.date, large_payment_threshold: Decimal
) -> pl.DataFrame:
    """The rule's SQL twin over the dataset tables of `con`, in the compared columns."""
    sql = rule.sql_file.read_text(encoding="utf-8")
    params = rule_options(rule, as_of, large_payment_threshold)
    frame = pl.from_arrow(con.sql(sql, params=params).to_arrow_table())
    assert isinstance(frame, pl.DataFrame)
    return frame.select(
        pl.col(c).cast(pl.Decimal(18, 2) if c == "amount_at_risk" else pl.String) for c in COMPARED_COLUMNS
    ).sort("subject_id")
