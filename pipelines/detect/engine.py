"""Running a rule: the Polars engine (the product) and the DuckDB SQL twin (the cross-check)."""

from __future__ import annotations

import datetime as dt
import importlib
import shutil
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import duckdb
import polars as pl
from polars.io.partition import FileProviderArgs

from pipelines.detect.stage import scan_staged, staged_files, staged_rows
from pipelines.rules import RULES, Rule
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
    """How many shards the rule runs in: 1 while its inputs hold at most SHARD_ROWS rows; above, the most any rule
    sharded by the same key needs, its own count or more (those inputs staged; tests and tools stage a few).

    Rules sharded by one key then share one split of a dataset they read (`split_shards`), where each count of its
    own wrote another (10M: benefit_payments split by person_id in 5 shards for four rules and in 22 for
    UNEMP_WHILE_EMPLOYED, enrollment read 7 times for DUP_ENROLL). A rule in more shards than it needs keeps its
    memory bound; a rule that fits in one pass keeps it (1M: only UNEMP_WHILE_EMPLOYED and DUP_IDENTITY shard).
    """
    own = _own_shard_count(rule, folder)
    if own == 1:
        return 1
    return max([own, *(_own_shard_count(other, folder) for other in _alike(rule, folder))])


def _alike(rule: Rule, folder: Path) -> list[Rule]:
    """The rules sharded by the same key as `rule` (itself included) whose inputs are staged (tests and tools stage
    a few)."""
    key = _partition_key(rule)
    return [
        other for other in RULES if other.shard_key and _partition_key(other) == key and _inputs_staged(folder, other)
    ]


def _own_shard_count(rule: Rule, folder: Path) -> int:
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
    return {name: lf.filter(shard_index(key, shards, value) == index) for name, lf in tables.items()}


def shard_index(key: str, shards: int, value: Callable[[pl.Expr], pl.Expr] | None = None) -> pl.Expr:
    """Which of `shards` a row belongs to: the hash of its key (or of `value` of it), modulo the count. The one
    definition `shard` filters by and `split_shards` partitions by."""
    hashed = pl.col(key) if value is None else value(pl.col(key))
    return hashed.hash(seed=0) % shards


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
    """One rule over the staged datasets: its validated findings (shard by shard when large).

    A shard's rows are read into memory whole (`collect_shard`, or from the files `split_shards` wrote when the
    staged inputs would otherwise be scanned `SPLIT_FROM_SCANS` times or more) and handed to the rule as frames: a
    rule's plan may hold operations the streaming engine runs in memory (list and string aggregations, `mode`), and
    a scan under them would be read whole before a shard's filter (10M: 12.9 GB within seconds, whatever the shard
    count). Reading the shard first bounds a shard by its own rows (docs/adr/0029).
    """
    tables = scan_staged(folder, rule.inputs)
    count = shards or shard_count(rule, folder)
    if count == 1 or rule.shard_key is None:
        return detect_polars(rule, tables, as_of, large_payment_threshold, engine)
    if _scans(rule, folder, count) >= SPLIT_FROM_SCANS:
        files = split_shards(folder, rule, count)
        shards_of = ({name: read_shard(paths[i]) for name, paths in files.items()} for i in range(count))
    else:
        shards_of = (collect_shard(shard(tables, rule.shard_key, count, i, shard_value(rule))) for i in range(count))
    parts = [detect_part(rule, rows, as_of, large_payment_threshold, engine) for rows in shards_of]
    return combine(rule, parts, tables, as_of, large_payment_threshold, engine)


# Filtering the staged files for each shard reads only the columns a rule's plan needs, but reads them once a shard
# (and once a shard of every rule split alike); splitting them reads and writes every column once (1M dense,
# UNEMP_WHILE_EMPLOYED, 4 shards: 4.1 s filtered, 4.6 s to split and 2.1 s over the split). Split when the filtered
# scans would be at least this many (docs/adr/0029).
SPLIT_FROM_SCANS = 8


def _scans(rule: Rule, folder: Path, shards: int) -> int:
    """How often the rule's inputs would be scanned, filtered per shard, by it and the rules split alike (sharded by
    the same key into as many shards)."""
    alike = {other.code for other in _alike(rule, folder) if shard_count(other, folder) == shards}
    return shards * len(alike | {rule.code})


def _inputs_staged(folder: Path, rule: Rule) -> bool:
    return all(path.exists() for name in rule.inputs for path in staged_files(folder, name))


def collect_shard(tables: dict[str, pl.LazyFrame]) -> dict[str, pl.LazyFrame]:
    """A shard's rows read into memory by a plain streamed scan and filter (see `run_rule`)."""
    return {name: lf.collect(engine="streaming").lazy() for name, lf in tables.items()}


def partition_name(rule: Rule, shards: int) -> str:
    """How a rule's inputs are split: `all` (whole), or its key, the rule module whose `shard_value` is hashed
    instead (if any) and the shard count, e.g. `person_id-4`, `person_id~dup_identity-4`. Rules split alike share
    one split of a dataset."""
    if rule.shard_key is None or shards == 1:
        return "all"
    return f"{_partition_key(rule)}-{shards}"


def _partition_key(rule: Rule) -> str:
    """What a rule's shards are made by: its key, and the module whose `shard_value` is hashed instead (if any)."""
    return str(rule.shard_key) if shard_value(rule) is None else f"{rule.shard_key}~{rule.module}"


SHARDS = "_shards"  # beside the staged datasets: <stage>/_shards/<partition>/<dataset>/shard-NNNNN-MMM.arrow
_SPLIT = "complete"  # written last into a dataset's split folder: the split is whole
_SHARD = "_fundwatch_shard"


def split_shards(folder: Path, rule: Rule, shards: int) -> dict[str, list[list[Path]]]:
    """The rule's staged inputs split into `shards` shards each, in one streamed pass over each dataset: per
    dataset, the files of shards 0 .. shards-1 (written once per partition and dataset, kept for the rules split
    alike).

    Shard i holds exactly the rows `shard(tables, rule.shard_key, shards, i, shard_value(rule))` gives, in the same
    order. Read once and written once, where filtering the staged files for each shard read them `shards` times
    (10M persons: UNEMP_WHILE_EMPLOYED's 127M input rows 22 times; docs/adr/0029). Written by Polars' partitioned
    sink (a streamed pass on every core; 10M benefit_payments in 22 shards: 11.4 s, where appending each staged
    part's rows shard by shard from Python took 18.9 s; docs/adr/0029). LZ4-compressed: a split is a second copy of
    the staged rows on the run's disk, for as long as a later rule needs it (`release_shards`).
    """
    assert rule.shard_key is not None
    index = shard_index(rule.shard_key, shards, shard_value(rule)).cast(pl.UInt32).alias(_SHARD)
    files: dict[str, list[list[Path]]] = {}
    for name in rule.inputs:
        target = folder / SHARDS / partition_name(rule, shards) / name
        if not (target / _SPLIT).exists():
            _split(scan_staged(folder, (name,))[name], index, target, shards)
            (target / _SPLIT).touch()
        files[name] = _shard_files(target, shards)
    return files


def _shard_files(target: Path, shards: int) -> list[list[Path]]:
    """The files of each shard of a split folder, in order (`shard-<shard>-<file>.arrow`)."""
    files: list[list[Path]] = [[] for _ in range(shards)]
    for path in sorted(target.glob("shard-*.arrow")):
        files[int(path.name.split("-")[1])].append(path)
    return files


def _split(rows: pl.LazyFrame, index: pl.Expr, target: Path, shards: int) -> None:
    """`rows` partitioned by `index` into `target`: each shard's rows in their staged order, in files
    `shard-<shard>-<file>.arrow` (one file a shard; a shard without rows an empty file of the same schema)."""
    shutil.rmtree(target, ignore_errors=True)  # what an interrupted split left
    target.mkdir(parents=True)

    def path(args: FileProviderArgs) -> str:
        return f"shard-{args.partition_keys.item():05d}-{args.index_in_partition:03d}.arrow"

    by_shard = pl.PartitionBy(
        target, key=index, include_key=False, file_path_provider=path, approximate_bytes_per_file=None
    )
    rows.sink_ipc(by_shard, compression="lz4", maintain_order=True)
    empty = pl.DataFrame(schema=rows.collect_schema())
    for i, written in enumerate(_shard_files(target, shards)):
        if not written:
            empty.write_ipc(target / f"shard-{i:05d}-000.arrow", compression="lz4")


def read_shard(files: list[Path]) -> pl.LazyFrame:
    """One shard of a split dataset (`split_shards`), read into memory (see `run_rule`)."""
    return pl.concat([pl.read_ipc(path) for path in files]).lazy()


def release_shards(folder: Path, later: tuple[Rule, ...]) -> None:
    """Remove the splits no rule of `later` reads (`split_shards` writes them; the rules run in registry order)."""
    root = folder / SHARDS
    if not root.is_dir():
        return
    needed = {partition_name(rule, shard_count(rule, folder)) for rule in later}
    for split in root.iterdir():
        if split.name not in needed:
            shutil.rmtree(split)


def _module(rule: Rule):
    return importlib.import_module(f"pipelines.rules.{rule.module}")
