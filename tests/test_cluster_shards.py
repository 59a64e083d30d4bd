"""The shards a Dask cluster reads (pipelines.detect.cluster): on disk exactly `engine.shard`'s rows, and the
(rule, shard) tasks' files read back give exactly `engine.run_rule`'s findings. In process, no cluster (the
cluster itself: tests/test_dask.py)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from pipelines.detect import cluster
from pipelines.detect.engine import run_rule, shard, shard_value
from pipelines.detect.stage import scan_staged, stage_datasets, staged_rows
from pipelines.rules import BY_CODE, RULES
from pipelines.warehouse.session import connect

ROOT = Path(__file__).resolve().parents[1]
AS_OF = dt.date(2026, 11, 27)
THRESHOLD = Decimal("100000")
SHARDS = 3


@pytest.fixture(scope="module")
def stage(tmp_path_factory) -> Path:
    """The sample inbox ingested and staged as a run stages it (Arrow IPC per dataset)."""
    from pipelines.ingest.inbox import discover
    from pipelines.ingest.load import ingest_files

    folder = tmp_path_factory.mktemp("cluster")
    con = connect(folder / "fw.duckdb")
    try:
        ingest_files(con, discover(ROOT / "data_samples"), "r1", AS_OF)
        stage_datasets(con, folder / "stage")
    finally:
        con.close()
    return folder / "stage"


@pytest.fixture(scope="module")
def planned(stage) -> list[cluster.ShardTask]:
    # one row per task at least: every keyed rule spread over all 3 "threads"
    return cluster.plan(stage, stage.parent / "shared", SHARDS, task_rows=1)


def sorted_rows(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.sort(frame.columns, nulls_last=True)


def test_every_rule_is_planned_in_registry_order_one_task_per_shard(planned):
    assert list(dict.fromkeys(t.rule for t in planned)) == [r.code for r in RULES]
    for rule in RULES:
        tasks = [t for t in planned if t.rule == rule.code]
        expected = 1 if rule.shard_key is None else SHARDS
        assert [t.index for t in tasks] == list(range(expected)), rule.code
        assert all(t.shards == expected and set(t.inputs) == set(rule.inputs) for t in tasks), rule.code


def test_parquet_shards_hold_exactly_the_engines_shard_rows(stage, planned):
    """For every rule and shard, each input file on disk has exactly the rows `engine.shard` gives that shard:
    the same hash, the same key (or the rule's shard_value), nothing lost or doubled across shards."""
    checked = 0
    for task in planned:
        rule = BY_CODE[task.rule]
        tables = scan_staged(stage, rule.inputs)
        if task.shards > 1:
            tables = shard(tables, rule.shard_key, task.shards, task.index, shard_value(rule))
        for dataset, path in task.inputs.items():
            on_disk = pl.read_parquet(path)
            expected = tables[dataset].collect()
            assert_frame_equal(sorted_rows(on_disk), sorted_rows(expected))
            checked += on_disk.height
    assert checked > 0
    # the shards of one partition are disjoint and together the whole dataset
    parts = [pl.read_parquet(t.inputs["benefit_payments"]) for t in planned if t.rule == "DUP_BENEFIT"]
    whole = scan_staged(stage, ("benefit_payments",))["benefit_payments"].collect()
    assert all(p.height < whole.height for p in parts)
    assert_frame_equal(sorted_rows(pl.concat(parts)), sorted_rows(whole))


def test_the_tasks_files_give_exactly_the_findings_of_one_machine(stage, planned):
    for task in planned:
        cluster.run_shard(task, AS_OF, THRESHOLD)
    found = cluster.read_findings(planned, stage, AS_OF, THRESHOLD)
    total = 0
    for rule, frame in zip(RULES, found, strict=True):
        assert_frame_equal(frame, run_rule(rule, stage, AS_OF, THRESHOLD), check_row_order=False)
        total += frame.height
    assert total > 0


def test_a_rule_staged_twice_shares_the_files_already_written(stage, tmp_path):
    rule = BY_CODE["DUP_BENEFIT"]
    first = cluster.stage_rule(stage, tmp_path, rule, 2)
    written = {p: Path(p).stat().st_mtime_ns for t in first for p in t.inputs.values()}
    again = cluster.stage_rule(stage, tmp_path, BY_CODE["DECEASED_PAID"], 2)
    shared = [p for t in again for d, p in t.inputs.items() if d == "benefit_payments"]
    assert shared and all(Path(p).stat().st_mtime_ns == written[p] for p in shared)
    assert not list(tmp_path.rglob("*.part"))


def test_a_rule_is_spread_over_the_threads_only_while_its_tasks_keep_enough_rows(stage):
    rule = BY_CODE["DUP_BENEFIT"]
    rows = staged_rows(stage, ("benefit_payments",))
    assert cluster.shards_for(rule, stage, threads=8) == 1  # the sample is far below TASK_ROWS
    assert cluster.shards_for(rule, stage, threads=8, task_rows=-(-rows // 2)) == 2
    assert cluster.shards_for(rule, stage, threads=3, task_rows=1) == 3
    assert cluster.shards_for(BY_CODE["SOD_BREACH"], stage, threads=8, task_rows=1) == 1  # no shard key
