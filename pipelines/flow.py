"""The nightly Prefect flow: ingest every dataset of the inbox into DuckDB, then detect.

`nightly_run` is the flow. Its tasks:

* `ingest_dataset`, one per dataset: that dataset's files, committed in groups of whole files
  (`pipelines.ingest`);
* `detect_rule`, one per rule of the registry: the rule over the staged datasets
  (`pipelines.detect`); rules share nothing, so a Dask task runner can spread them;
* `publish_findings`: the run's findings merged into `suspects`;
* `sync_cases`: the case register (SQLite, `pipelines.cases.register`) brought up to the
  findings, and its state mirrored back into the DuckDB file;

and at the end the building copy is swapped in for the published file (`pipelines.publish`).

Tasks run one after another here: DuckDB has one writer, and Polars already
uses both cores inside a task.
"""

from __future__ import annotations

import datetime as dt
import shutil
import time
import uuid
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import polars as pl
from prefect import flow, get_run_logger, task

from pipelines import detect, store
from pipelines.cases import nightly as cases
from pipelines.cases.register import register_path_for
from pipelines.ingest import FileResult, InboxFile, discover, ingest_files
from pipelines.publish import crash_drill, publish, publish_failed_run, start_building
from pipelines.rules import BY_CODE, RULES
from pipelines.views import create_views
from schemas.datasets import DATASETS

# Exit statuses of `fundwatch run`.
EXIT_OK = 0
EXIT_BAD_INPUT = 1  # rows quarantined or files rejected; everything else was done


@dataclass
class RunOutcome:
    run_id: str
    status: str  # succeeded | bad_input
    db: Path
    results: list[FileResult]

    @property
    def exit_code(self) -> int:
        return EXIT_OK if self.status == "succeeded" else EXIT_BAD_INPUT


def new_run_id(now: dt.datetime) -> str:
    return f"{now:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"


@task(name="ingest-dataset", task_run_name="ingest-{dataset}", retries=1, retry_delay_seconds=5)
def ingest_dataset(db: Path, dataset: str, files: list[InboxFile], run_id: str, as_of: dt.date) -> list[FileResult]:
    """Load every file of one dataset (committed in groups of files); a retry skips the groups committed."""
    logger = get_run_logger()
    con = store.connect(db)
    try:
        done = {
            f
            for (f,) in con.execute(
                "SELECT file FROM ingested_files WHERE run_id = ? AND dataset = ?", [run_id, dataset]
            ).fetchall()
        }
        # A retry of this task skips the files of the groups already committed.
        results = ingest_files(con, [f for f in files if f.file not in done], run_id, as_of)
    finally:
        con.close()
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
    found = detect.run_rule(BY_CODE[rule_code], stage, as_of, large_payment_threshold)
    get_run_logger().info("%s: %d findings", rule_code, found.height)
    return found


@task(name="publish-findings")
def publish_findings(db: Path, findings: list[pl.DataFrame], as_of: dt.date, run_id: str) -> int:
    con = store.connect(db)
    try:
        detect.publish_suspects(con, pl.concat([detect.empty_findings(), *findings]), as_of, run_id)
    finally:
        con.close()
    return sum(f.height for f in findings)


@task(name="sync-cases")
def sync_cases(db: Path, register: Path, as_of: dt.date, run_id: str) -> None:
    """The register follows the findings; then the DuckDB file shows each case's status and deadline."""
    con = store.connect(db)
    try:
        cases.sync_run(con, register, as_of, run_id)
    finally:
        con.close()


def detect_and_publish(db: Path, run_id: str, as_of: dt.date, large_payment_threshold: Decimal) -> tuple[str, bool]:
    """Detect and publish the findings, or carry them forward when nothing detection reads has changed.

    Returns (detect_key, skipped). Inputs unchanged means: the same files in force, as_of, threshold
    and rule code as the latest completed run (docs/adr/0009-ingest-throughput.md).
    """
    con = store.connect(db)
    try:
        key = store.detect_key(con, as_of, large_payment_threshold, detect.rules_code_version())
        last = store.last_detect_key(con)
        if last is not None and last[1] == key:
            detect.carry_forward(con, as_of, run_id)
            message = "规则输入未变 detection inputs unchanged since run %s: findings carried forward"
            get_run_logger().info(message, last[0])
            return key, True
    finally:
        con.close()
    stage = db.parent / f".stage-{run_id}"
    try:
        con = store.connect(db)
        try:
            detect.stage_datasets(con, stage)
        finally:
            con.close()
        findings = [detect_rule(rule.code, stage, as_of, large_payment_threshold) for rule in RULES]
        publish_findings(db, findings, as_of, run_id)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    return key, False


@flow(name="fundwatch-nightly", flow_run_name="nightly-{as_of}")
def nightly_run(
    inbox: Path,
    db: Path,
    as_of: dt.date,
    large_payment_threshold: Decimal = Decimal("100000.00"),
    register: Path | None = None,
) -> RunOutcome:
    """One nightly run: ingest and validate every delivered file of the inbox, detect, update the cases, publish.

    All work happens in a building copy of `db`; the published file is replaced only at the end, atomically
    (`pipelines.publish`). A run that fails publishes nothing but its own `failed` row in `runs`.
    """
    run_id = new_run_id(dt.datetime.now())
    started_at = dt.datetime.now()
    register = register or register_path_for(db)
    phase_started = time.monotonic()
    building = start_building(db)
    con = store.connect(building)
    store.start_run(con, run_id, as_of, str(inbox))
    con.close()

    timings: dict[str, float] = {"prepare": time.monotonic() - phase_started}
    results: list[FileResult] = []
    phase_started = time.monotonic()
    try:
        crash_drill("started")
        for dataset, files in group_by_dataset(discover(inbox)).items():
            results += ingest_dataset(building, dataset, files, run_id, as_of)
            crash_drill(f"ingested:{dataset}")
        timings["ingest"] = time.monotonic() - phase_started
        phase_started = time.monotonic()
        key, skipped = detect_and_publish(building, run_id, as_of, large_payment_threshold)
        timings["rules"] = time.monotonic() - phase_started
        crash_drill("detected")
        phase_started = time.monotonic()
        sync_cases(building, register, as_of, run_id)
        timings["cases"] = time.monotonic() - phase_started
        crash_drill("cases")

        phase_started = time.monotonic()
        bad = any(r.status == "rejected" or r.rows_quarantined for r in results)
        status = "bad_input" if bad else "succeeded"
        con = store.connect(building)
        create_views(con)
        timings["publish"] = time.monotonic() - phase_started
        store.finish_run(con, run_id, status, timings, key, skipped)
        con.close()
        crash_drill("before_publish")
        publish(building, db)
    except BaseException:
        publish_failed_run(db, run_id, as_of, str(inbox), started_at)
        raise
    return RunOutcome(run_id, status, db, results)
