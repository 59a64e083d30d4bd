"""Detection on a Dask cluster, the part free of Prefect and Dask: shards on shared storage, one task's work.

The flow (`pipelines.app.cluster_run`) stages the datasets as usual (`pipelines.detect.stage`, Arrow IPC on
this machine), then `plan` writes each rule's inputs to a folder every worker can read, as Parquet shards
split by the same hash `pipelines.detect.engine.shard` uses, and lists one `ShardTask` per (rule, shard).
A worker runs `run_shard`: its own Polars scans of its shard files, the rule (`engine.detect_polars`), the
findings written as one Parquet file beside them. The flow reads them back (`read_findings`), one frame per
rule as `engine.run_rule` returns it, and merges them as a single-machine run does (docs/adr/0028).

Layout of a run's shared folder:

    <root>/<dataset>/all.parquet                     the whole dataset (a rule without a shard key)
    <root>/<dataset>/<partition>/shard-<i>.parquet   shard i: rows whose key hashes to i (mod the shard count)
    <root>/findings/<RULE>-<i>.parquet               the findings of (rule, shard i)

`<partition>` names the key, the rule module whose `shard_value` is hashed instead (if any) and the shard
count, e.g. `person_id-4` or `person_id~dup_identity-4`: rules partitioned alike share one copy of a dataset.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import polars as pl

from pipelines.detect.engine import combine, detect_part, detect_polars, partition_name, shard, shard_count, shard_value
from pipelines.detect.stage import scan_staged, staged_rows
from pipelines.rules import BY_CODE, RULES, Rule

FINDINGS = "findings"


@dataclass(frozen=True)
class ShardTask:
    """One (rule, shard) unit of work: the rule's input files for that shard and where its findings go."""

    rule: str
    index: int
    shards: int
    inputs: dict[str, str]  # dataset -> Parquet file (str: what a worker on another machine is handed)
    out: str


# A rule with a shard key is spread over the cluster's threads, but no task gets fewer input rows than this
# (unless the engine's own bound asks for more shards): each task costs about a second of Prefect's bookkeeping
# on the worker, which a shard must be worth (docs/scale-out.md).
TASK_ROWS = 1_000_000


def shards_for(rule: Rule, stage: Path, threads: int, task_rows: int = TASK_ROWS) -> int:
    """How many tasks a rule is split into: at least the engine's own count (its memory bound per shard, the
    same as on one machine); more, up to the cluster's `threads`, while each keeps `task_rows` input rows."""
    if rule.shard_key is None:
        return 1
    spread = min(threads, -(-staged_rows(stage, rule.inputs) // task_rows))
    return max(shard_count(rule, stage), spread, 1)


def _sink(frame: pl.LazyFrame, path: Path) -> None:
    """Write `frame` to `path` whole or not at all (a partial file never looks like a shard)."""
    part = path.with_name(path.name + ".part")
    frame.sink_parquet(part)
    part.replace(path)


def stage_rule(stage: Path, root: Path, rule: Rule, shards: int) -> list[ShardTask]:
    """The rule's inputs under `root` as `shards` Parquet shards (written once per partition), and its tasks.

    Shard i holds exactly the rows `engine.shard(tables, rule.shard_key, shards, i, shard_value)` gives: the
    filter is the engine's own, applied to the staged datasets."""
    name = partition_name(rule, shards)
    tables = scan_staged(stage, rule.inputs)
    files = {
        dataset: [
            root / dataset / "all.parquet" if name == "all" else root / dataset / name / f"shard-{i}.parquet"
            for i in range(shards)
        ]
        for dataset in rule.inputs
    }
    for i in range(shards):
        rows = tables if name == "all" else shard(tables, rule.shard_key, shards, i, shard_value(rule))
        for dataset, frame in rows.items():
            path = files[dataset][i]
            if not path.exists():
                path.parent.mkdir(parents=True, exist_ok=True)
                _sink(frame, path)
    (root / FINDINGS).mkdir(parents=True, exist_ok=True)
    return [
        ShardTask(
            rule.code,
            i,
            shards,
            {dataset: str(files[dataset][i]) for dataset in rule.inputs},
            str(root / FINDINGS / f"{rule.code}-{i}.parquet"),
        )
        for i in range(shards)
    ]


def plan(
    stage: Path, root: Path, threads: int, task_rows: int = TASK_ROWS, rules: tuple[Rule, ...] = RULES
) -> list[ShardTask]:
    """Every rule's shards staged under `root` (the shared folder), and its tasks, in registry order."""
    return [
        task for rule in rules for task in stage_rule(stage, root, rule, shards_for(rule, stage, threads, task_rows))
    ]


def run_shard(task: ShardTask, as_of: dt.date, large_payment_threshold: Decimal) -> int:
    """On a worker: the rule over its shard files, written to `task.out`; returns the rows written.

    A rule in one shard gives its validated findings (`engine.detect_polars`); a shard of several its part
    (`engine.detect_part`: the findings, or for a rule with `finish_shards` what its finish needs)."""
    rule = BY_CODE[task.rule]
    tables = {dataset: pl.scan_parquet(path) for dataset, path in task.inputs.items()}
    if task.shards == 1:
        found = detect_polars(rule, tables, as_of, large_payment_threshold)
    else:
        found = detect_part(rule, tables, as_of, large_payment_threshold)
    _sink(found.lazy(), Path(task.out))
    return found.height


def read_findings(
    tasks: list[ShardTask], stage: Path, as_of: dt.date, large_payment_threshold: Decimal
) -> list[pl.DataFrame]:
    """The tasks' files read back: one frame of findings per rule, in the order the tasks name the rules, as
    `engine.run_rule` returns it (a rule in several shards: its parts joined by `engine.combine`, which reads
    the staged datasets of this machine for a rule's `finish_shards`)."""
    by_rule: dict[str, list[ShardTask]] = {}
    for task in tasks:
        by_rule.setdefault(task.rule, []).append(task)
    found = []
    for code, shards in by_rule.items():
        parts = [pl.read_parquet(task.out) for task in sorted(shards, key=lambda task: task.index)]
        if len(parts) == 1:
            found.append(parts[0])
        else:
            rule = BY_CODE[code]
            found.append(combine(rule, parts, scan_staged(stage, rule.inputs), as_of, large_payment_threshold))
    return found
