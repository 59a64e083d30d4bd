"""The nightly Prefect flow: ingest every dataset of the inbox into DuckDB.

`nightly_run` is the flow; `ingest_dataset` is its task, one per dataset,
which loads that dataset's files one transaction per file (see
`pipelines.ingest`). Tasks run one after another: DuckDB has one writer, and
Polars already uses both cores inside a task.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from prefect import flow, get_run_logger, task

from pipelines import store
from pipelines.ingest import FileResult, InboxFile, discover, ingest_file
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
    """Load every file of one dataset; already-loaded files are skipped, so a retry is safe."""
    logger = get_run_logger()
    results = []
    con = store.connect(db)
    try:
        done = {
            f
            for (f,) in con.execute(
                "SELECT file FROM ingested_files WHERE run_id = ? AND dataset = ?", [run_id, dataset]
            ).fetchall()
        }
        for item in files:
            if item.file in done:  # a retry of this task: the file was settled before the failure
                continue
            result = ingest_file(con, item, run_id, as_of)
            results.append(result)
            if result.status == "rejected":
                logger.error("拒收 rejected %s: %s", item.file, result.reason)
            elif result.rows_quarantined:
                logger.warning(
                    "%s: %d rows loaded, %d quarantined", item.file, result.rows_loaded, result.rows_quarantined
                )
            else:
                logger.info("%s: %s, %d rows", item.file, result.status, result.rows_loaded)
    finally:
        con.close()
    return results


def group_by_dataset(files: list[InboxFile]) -> dict[str, list[InboxFile]]:
    """Contract datasets first in contract order, then unknown folders (their files get rejected)."""
    order = [d.name for d in DATASETS]
    groups: dict[str, list[InboxFile]] = {}
    for f in files:
        groups.setdefault(f.dataset, []).append(f)
    return dict(sorted(groups.items(), key=lambda kv: (order.index(kv[0]) if kv[0] in order else len(order), kv[0])))


@flow(name="fundwatch-nightly", flow_run_name="nightly-{as_of}")
def nightly_run(inbox: Path, db: Path, as_of: dt.date) -> RunOutcome:
    """One nightly run: ingest and validate every delivered file of the inbox."""
    run_id = new_run_id(dt.datetime.now())
    con = store.connect(db)
    store.start_run(con, run_id, as_of, str(inbox))
    con.close()

    started = time.monotonic()
    results: list[FileResult] = []
    try:
        for dataset, files in group_by_dataset(discover(inbox)).items():
            results += ingest_dataset(db, dataset, files, run_id, as_of)
    except BaseException:
        con = store.connect(db)
        store.finish_run(con, run_id, "failed", time.monotonic() - started)
        con.close()
        raise
    ingest_seconds = time.monotonic() - started

    bad = any(r.status == "rejected" or r.rows_quarantined for r in results)
    status = "bad_input" if bad else "succeeded"
    con = store.connect(db)
    store.finish_run(con, run_id, status, ingest_seconds)
    con.close()
    return RunOutcome(run_id, status, db, results)
