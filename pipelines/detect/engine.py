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

# Every rule's plan is collected by Polars' streaming engine: it processes its inputs in morsels and keeps only
# what its joins and group_bys hold, where the in-memory engine materialises every intermediate frame whole (10M
# persons: RECON_PAYMENT's 53M lines peaked at 16-17 GB). Finding for finding the same (tests/detect/test_sharding.py;
# measurements in docs/adr/0029-bounded-detection-memory.md). "in-memory" is the old engine, for comparison.
ENGINE = "streaming"


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
    rule: Rule,
    tables: dict[str, pl.LazyFrame],
    as_of: dt.date,
    large_payment_threshold: Decimal,
    engine: str | None = None,
) -> pl.DataFrame:
    """Collect one rule and check it is in the suspects shape, every finding made by this rule."""
    found = detect_lazy(rule, tables, as_of, large_payment_threshold).collect(engine=engine or ENGINE)
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


# A rule with a shard_key whose inputs hold more rows than this runs shard by shard (its key's values split by a
# hash), so that no shard holds more than about this many input rows (10M persons: RECON_PAYMENT's 53M payment and
# bank lines in 10 shards, 7.5 GB peak, where 5 shards of 10.6M rows peaked at 9.0 GB; docs/adr/0029). Below it,
# one pass.
SHARD_ROWS = 6_000_000


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
    """The rows of shard `index` of `shards`: the same key values in every table (free of global state).

    `value` (a rule module's `shard_value`) derives what is hashed from the key column, for a rule whose findings
    span several keys: the IDs of one DUP_IDENTITY identity share the birth date and gender they encode.
    """
    hashed = pl.col(key) if value is None else value(pl.col(key))
    return {name: lf.filter(hashed.hash(seed=0) % shards == index) for name, lf in tables.items()}


def shard_value(rule: Rule) -> Callable[[pl.Expr], pl.Expr] | None:
    """What `shard` hashes for this rule: its module's `shard_value`, or None (the key itself)."""
    return getattr(_module(rule), "shard_value", None)


def detect_part(
    rule: Rule,
    tables: dict[str, pl.LazyFrame],
    as_of: dt.date,
    large_payment_threshold: Decimal,
    engine: str | None = None,
) -> pl.DataFrame:
    """One shard's part of a rule's findings (the tables: one `shard` of its inputs); `combine` joins the parts.

    For most rules a part is the shard's findings (`detect_polars`). A rule whose findings need more than one shard
    (RECON_PAYMENT: an orphan's region comes from the payments of every shard) exports `detect_shard` (the part,
    with the columns its finish needs) and `finish_shards`, which `combine` applies once to all the parts.
    """
    part = getattr(_module(rule), "detect_shard", None)
    if part is None:
        return detect_polars(rule, tables, as_of, large_payment_threshold, engine)
    inputs = {name: tables[name] for name in rule.inputs}
    return part(**inputs, **rule_options(rule, as_of, large_payment_threshold)).collect(engine=engine or ENGINE)


def combine(
    rule: Rule,
    parts: list[pl.DataFrame],
    tables: dict[str, pl.LazyFrame],
    as_of: dt.date,
    large_payment_threshold: Decimal,
    engine: str | None = None,
) -> pl.DataFrame:
    """The rule's validated findings from the parts of all its shards (`detect_part`); `tables` are the whole
    inputs (unsharded), read only by a rule's `finish_shards`."""
    finish = getattr(_module(rule), "finish_shards", None)
    found = pl.concat(parts)
    if finish is not None:
        inputs = {name: tables[name] for name in rule.inputs}
        found = finish(found.lazy(), **inputs).collect(engine=engine or ENGINE)
    return validate_findings(found.sort("subject_id"), [rule.code])


def run_rule(
    rule: Rule,
    folder: Path,
    as_of: dt.date,
    large_payment_threshold: Decimal,
    shards: int | None = None,
    engine: str | None = None,
) -> pl.DataFrame:
    """One rule over the staged datasets: its validated findings (shard by shard when large)."""
    tables = scan_staged(folder, rule.inputs)
    count = shards or shard_count(rule, folder)
    if count == 1 or rule.shard_key is None:
        return detect_polars(rule, tables, as_of, large_payment_threshold, engine)
    parts = [
        detect_part(
            rule,
            collect_shard(shard(tables, rule.shard_key, count, i, shard_value(rule))),
            as_of,
            large_payment_threshold,
            engine,
        )
        for i in range(count)
    ]
    return combine(rule, parts, tables, as_of, large_payment_threshold, engine)


def collect_shard(tables: dict[str, pl.LazyFrame]) -> dict[str, pl.LazyFrame]:
    """A shard's rows read into memory first, by a plain streamed scan and filter, and handed to the rule as frames.

    A rule's plan may hold operations the streaming engine runs in memory (list and string aggregations, `mode`);
    the scan under them would then be read whole, before the shard's filter (10M: 12.9 GB within seconds, whatever
    the shard count). Reading the shard first bounds a shard by its own rows (docs/adr/0029).
    """
    return {name: lf.collect(engine="streaming").lazy() for name, lf in tables.items()}


def _module(rule: Rule):
    return importlib.import_module(f"pipelines.rules.{rule.module}")
