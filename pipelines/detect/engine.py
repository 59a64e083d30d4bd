"""Running a rule: the Polars engine (the product) and the DuckDB SQL twin (the cross-check)."""

from __future__ import annotations

import datetime as dt
import importlib
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import duckdb
import polars as pl

from pipelines.detect.stage import scan_staged, staged_rows
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
    """Collect one rule and check it is in the suspects shape, every finding made by this rule."""
    found = detect_lazy(rule, tables, as_of, large_payment_threshold).collect()
    return validate_findings(found.sort("subject_id"), [rule.code])


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


# A person-keyed rule whose inputs hold more rows than this runs shard by shard (persons split by a
# hash of person_id), so its joins never hold a whole province at once (10M persons: 40M enrollment
# spells self-joined). Below it, one pass.
SHARD_ROWS = 12_000_000


def shard_count(rule: Rule, folder: Path) -> int:
    if rule.shard_key is None:
        return 1
    return max(1, -(-staged_rows(folder, rule.inputs) // SHARD_ROWS))


def shard(
    tables: dict[str, pl.LazyFrame],
    key: str,
    shards: int,
    index: int,
    value: Callable[[pl.Expr], pl.Expr] | None = None,
) -> dict[str, pl.LazyFrame]:
    """The rows of shard `index` of `shards`: the same persons in every table (free of global state).

    `value` (a rule module's `shard_value`) derives what is hashed from the key column, for a rule whose findings
    span several keys: the IDs of one DUP_IDENTITY identity share the birth date and gender they encode.
    """
    hashed = pl.col(key) if value is None else value(pl.col(key))
    return {name: lf.filter(hashed.hash(seed=0) % shards == index) for name, lf in tables.items()}


def run_rule(
    rule: Rule, folder: Path, as_of: dt.date, large_payment_threshold: Decimal, shards: int | None = None
) -> pl.DataFrame:
    """One rule over the staged datasets: its validated findings (shard by shard when large)."""
    tables = scan_staged(folder, rule.inputs)
    count = shards or shard_count(rule, folder)
    if count == 1 or rule.shard_key is None:
        return detect_polars(rule, tables, as_of, large_payment_threshold)
    value = getattr(importlib.import_module(f"pipelines.rules.{rule.module}"), "shard_value", None)
    parts = [
        detect_polars(rule, shard(tables, rule.shard_key, count, i, value), as_of, large_payment_threshold)
        for i in range(count)
    ]
    return pl.concat(parts).sort("subject_id")
