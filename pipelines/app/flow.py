"""The nightly Prefect flow: ingest every dataset of the inbox into DuckDB, detect, update the cases, publish.

`nightly_run` is the flow. Its tasks:

* `ingest_dataset`, one per dataset: that dataset's files, committed in groups of whole files
  (`pipelines.ingest.load`);
* `detect_rule`, one per rule of the registry: the rule over the staged datasets
  (`pipelines.detect.engine`); rules share nothing, so a Dask task runner can spread them;
* `merge_findings`: the run's findings merged into `suspects` (`pipelines.detect.findings`);
* `sync_cases`: the case register (SQLite, `pipelines.cases.register`) brought up to the
  findings, and its state mirrored back into the DuckDB file;

and at the end the building copy is published: swapped in for the published file
(`pipelines.warehouse.publication`). Tasks run one after another here: DuckDB has one writer, and
Polars already uses both cores inside a task. Progress goes to the reporter the command set
(`pipelines.app.progress`).
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import signal
import time
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import polars as pl
from prefect import flow, get_run_logger, task

from pipelines.app import progress
from pipelines.app.cluster_run import detect_on_cluster
from pipelines.app.settings import Settings
from pipelines.cases import indicators, lookup
from pipelines.cases import nightly as cases
from pipelines.detect import findings as found
from pipelines.detect.engine import release_shards, run_rule
from pipelines.detect.stage import stage_datasets
from pipelines.ingest import registry
from pipelines.ingest.inbox import InboxFile, discover
from pipelines.ingest.load import FileResult, ingest_files
from pipelines.ingest.withdrawal import Withdrawal, apply_withdrawals
from pipelines.rules import BY_CODE, RULES
from pipelines.screen import facts as screen_facts
from pipelines.warehouse import publication, runs
from pipelines.warehouse.session import writer
from pipelines.warehouse.views import create_views
from schemas.datasets import DATASETS
from schemas.suspects import empty_findings
from schemas.validation import DateWindow

# Exit statuses of `fundwatch run`.
EXIT_OK = 0
EXIT_BAD_INPUT = 1  # rows quarantined or files rejected by this run (not a reject left standing); all else done


@dataclass
class RunOutcome:
    run_id: str
    status: str  # succeeded | bad_input (bad input this run is the first to report: `runs.bad_input`)
    db: Path
    results: list[FileResult]
    withdrawals: list[Withdrawal]

    @property
    def exit_code(self) -> int:
        return EXIT_OK if self.status == "succeeded" else EXIT_BAD_INPUT


def crash_drill(point: str, crash_at: str | None) -> None:
    """Fault injection for the crash-safety tests: die by SIGKILL at the named point of a run.

    Only when the setting `crash_at` (FUNDWATCH_CRASH_AT) names this point; never set in production.
    """
    if crash_at == point:
        os.kill(os.getpid(), signal.SIGKILL)


@task(name="ingest-dataset", task_run_name="ingest-{dataset}", retries=1, retry_delay_seconds=5)
def ingest_dataset(
    building: Path,
    dataset: str,
    files: list[InboxFile],
    run_id: str,
    window: DateWindow,
    memory_limit: str,
    scratch: Path,
) -> list[FileResult]:
    """Load every file of one dataset (committed in groups of files); a retry skips the groups committed.

    `scratch` is the run's folder for the readers' temporary files (beside the database, private)."""
    logger = get_run_logger()
    shown = progress.current()
    shown.dataset(dataset, len(files))
    with writer(building, memory_limit=memory_limit) as con:
        done = {
            f
            for (f,) in con.execute(
                "SELECT file FROM ingested_files WHERE run_id = ? AND dataset = ?", [run_id, dataset]
            ).fetchall()
        }
        # A retry of this task skips the files of the groups already committed.
        todo = [f for f in files if f.file not in done]
        results = ingest_files(con, todo, run_id, window.as_of, on_rows=shown.rows, window=window, scratch=scratch)
    for result in results:
        if result.status == "rejected":
            logger.error("拒收 rejected %s: %s", result.file, result.reason)
        elif result.rows_quarantined:
            loaded, quarantined = result.rows_loaded, result.rows_quarantined
            logger.warning("%s: %d rows loaded, %d quarantined", result.file, loaded, quarantined)
        else:
            logger.info("%s: %s, %d rows", result.file, result.status, result.rows_loaded)
    return results


def group_by_dataset(files: list[InboxFile]) -> dict[str, list[InboxFile]]:
    """Contract datasets first in contract order, then unknown folders (their files get rejected)."""
    order = [d.name for d in DATASETS]
    groups: dict[str, list[InboxFile]] = {}
    for f in files:
        groups.setdefault(f.dataset, []).append(f)
    return dict(sorted(groups.items(), key=lambda kv: (order.index(kv[0]) if kv[0] in order else len(order), kv[0])))


@task(name="detect-rule", task_run_name="detect-{rule_code}")
def detect_rule(rule_code: str, stage: Path, as_of: dt.date, large_payment_threshold: Decimal) -> pl.DataFrame:
    """One rule of the registry over the staged datasets."""
    started = time.monotonic()
    findings = run_rule(BY_CODE[rule_code], stage, as_of, large_payment_threshold)
    get_run_logger().info("%s: %d findings, %.1f s", rule_code, findings.height, time.monotonic() - started)
    progress.current().step(rule_code)
    return findings


@task(name="merge-findings")
def merge_findings(building: Path, findings: list[pl.DataFrame], as_of: dt.date, run_id: str, memory_limit: str) -> int:
    """The run's findings merged into `suspects`."""
    with writer(building, memory_limit=memory_limit) as con:
        found.merge_findings(con, pl.concat([empty_findings(), *findings]), as_of, run_id)
    return sum(f.height for f in findings)


@task(name="sync-cases")
def sync_cases(building: Path, register: Path, as_of: dt.date, run_id: str, memory_limit: str) -> None:
    """The register follows the findings; then the DuckDB file shows each case's status and deadline."""
    with writer(building, memory_limit=memory_limit) as con:
        synced = cases.sync_run(con, register, as_of, run_id)
    if synced.log_mirrored == "whole":
        get_run_logger().warning(cases.LOG_NOT_CONTINUED)


def detect(settings: Settings, building: Path, run_id: str, as_of: dt.date) -> tuple[str, bool]:
    """Detect and merge the findings, or carry them forward when nothing detection reads has changed.

    Returns (detect_key, skipped). Inputs unchanged means: the same files in force, as_of, threshold
    and rule code as the latest completed run (docs/adr/0009-ingest-throughput.md).
    """
    memory_limit, threshold = settings.duckdb_memory_limit, settings.large_payment_threshold
    with writer(building, memory_limit=memory_limit) as con:
        key = found.detect_key(con, as_of, threshold)
        last = found.last_detect_key(con)
        if last is not None and last[1] == key:
            found.carry_forward(con, as_of, run_id)
            message = "规则输入未变 detection inputs unchanged since run %s: findings carried forward"
            get_run_logger().info(message, last[0])
            return key, True
    stage = publication.work_path(settings.db, "stage", run_id)
    try:
        started = time.monotonic()
        with writer(building, memory_limit=memory_limit) as con:
            stage_datasets(con, stage)
        get_run_logger().info("暂存 staged for detection: %.1f s", time.monotonic() - started)
        crash_drill("staged", settings.crash_at)
        if settings.dask_address:  # each (rule, shard) a task on the Dask cluster (docs/scale-out.md)
            findings = detect_on_cluster(settings, stage, run_id, as_of, threshold)
        else:
            findings = []
            for at, rule in enumerate(RULES):
                findings.append(detect_rule(rule.code, stage, as_of, threshold))
                release_shards(stage, RULES[at + 1 :])  # a split of the inputs no later rule reads
        merge_findings(building, findings, as_of, run_id, memory_limit)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    return key, False


class Phases:
    """Seconds spent in each phase of a run, and the phase shown."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._name: str | None = None
        self._started = time.monotonic()

    def begin(self, name: str, total: int | None = None) -> None:
        """Phase `name` starts (the one before ends), of `total` steps if known."""
        self.end()
        self._name, self._started = name, time.monotonic()
        progress.current().phase(name, total)

    def end(self) -> None:
        if self._name is not None:
            self.seconds[self._name] = time.monotonic() - self._started
            self._name = None


@flow(name="fundwatch-nightly", flow_run_name="nightly-{as_of}")
def nightly_run(settings: Settings, as_of: dt.date, run_id: str) -> RunOutcome:
    """One nightly run: ingest and validate every delivered file of the inbox, detect, update the cases, publish.

    All work happens in a building copy of the DuckDB file; the published file is replaced only at the end,
    atomically (`pipelines.warehouse.publication`). The caller holds the database's writer lock and records
    a failure (`pipelines.app.summary.run_and_summarise`): a run that fails publishes nothing but its own
    `failed` row in `runs`.
    """
    db, inbox, memory_limit = settings.db, settings.inbox, settings.duckdb_memory_limit
    phases = Phases()
    phases.begin("prepare")
    building = publication.start_building(db)
    scratch = publication.work_path(db, "scratch", run_id)
    delivered = discover(inbox)
    with writer(building, memory_limit=memory_limit) as con:
        runs.start_run(con, run_id, as_of, str(inbox), settings.now())
        withdrawals = apply_withdrawals(con, run_id, db, delivered)  # requests of `fundwatch withdraw`
    results: list[FileResult] = []
    try:
        crash_drill("started", settings.crash_at)
        phases.begin("ingest")
        window = settings.date_window(as_of)
        for dataset, files in group_by_dataset(delivered).items():
            results += ingest_dataset(building, dataset, files, run_id, window, memory_limit, scratch)
            crash_drill(f"ingested:{dataset}", settings.crash_at)
        shutil.rmtree(scratch, ignore_errors=True)
        with writer(building, memory_limit=memory_limit) as con:
            # files repeating another file in force (a renamed copy): found once, read by the summary
            registry.record_overlaps(con, run_id)
        phases.begin("rules", total=len(RULES))
        key, skipped = detect(settings, building, run_id, as_of)
        phases.end()
        crash_drill("detected", settings.crash_at)
        phases.begin("cases")
        sync_cases(building, settings.register, as_of, run_id, memory_limit)
        crash_drill("cases", settings.crash_at)
        phases.begin("publish")
        with writer(building, memory_limit=memory_limit) as con:
            # Bad input first seen tonight fails the night (exit 1); a rejected file left standing in the inbox
            # is listed again in the summary, but was reported (and failed a night) when it arrived.
            status = "bad_input" if runs.bad_input(con, run_id) else "succeeded"
            create_views(con)
            built = lookup.build(con)  # what a case page reads: the rows and names the findings name
            get_run_logger().info(
                "证据索引 evidence lookup: %d findings, %d rows", built.findings, sum(built.rows.values())
            )
            screening = screen_facts.build(con)  # what pre-payment screening reads, sorted by person and account
            get_run_logger().info(
                "筛查索引 screening lookup: %d rows, rebuilt %s",
                sum(screening.rows.values()),
                ", ".join(screening.rebuilt) or "none (inputs unchanged)",
            )
            # 统计分析、监测预警: the run's indicators per region and the early warnings they raise (kept as history)
            measured = indicators.build(
                con, run_id, as_of, indicators.load_thresholds(settings.thresholds), settings.now()
            )
            get_run_logger().info(
                "监测指标 indicators: %d values, %d early warnings", len(measured.values), len(measured.warnings)
            )
            # The tables built above are still in the write-ahead log: written into the file here, inside the
            # phase, instead of when the session closes (at 10M seconds of work that would count as fixed cost).
            con.execute("CHECKPOINT")
            phases.end()
            runs.finish_run(con, run_id, status, phases.seconds, key, skipped, finished_at=settings.now())
        crash_drill("before_publish", settings.crash_at)
        publication.publish(building, db, memory_limit=memory_limit)
    finally:
        progress.current().close()  # before Prefect logs the end of the flow run
    return RunOutcome(run_id, status, db, results, withdrawals)
