"""The data-quality page (数据质量): quarantined rows by reason and by file, rejected files, missing deliveries and
the run history, read from the published file (read-only, per request).

What is shown comes from the masked views (`v_quarantine_reasons`, `v_quality_by_file`, `v_missing_deliveries`,
sql/views/) and from `runs` / `quarantine` by counts only: no quarantined row's raw text is shown. Recorded times
are shown in the office's zone with their UTC offset (`runs.shown_time`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb

from pipelines.present.masking import mask_text
from pipelines.warehouse.runs import shown_time
from pipelines.warehouse.session import WarehouseBusy, reader
from schemas.datasets import BY_NAME

RUNS_SHOWN = 30
REJECTED_SHOWN = 200
RUN_STATUS_ZH = {"running": "运行中", "succeeded": "成功", "bad_input": "输入有误", "failed": "失败"}


def run_status_label(status: object) -> str:
    """A run's status as a page shows it: "输入有误 bad_input"."""
    return f"{RUN_STATUS_ZH.get(str(status), '')} {status}".strip()


@dataclass(frozen=True)
class Quality:
    reasons: list[dict[str, object]]
    by_file: list[dict[str, object]]
    quarantined: int
    rejected: list[dict[str, object]]
    missing: list[dict[str, object]]
    runs: list[dict[str, object]]


def _rows(duck: duckdb.DuckDBPyConnection, sql: str) -> list[dict[str, object]]:
    cursor = duck.execute(sql)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def dataset_label(name: object) -> str:
    spec = BY_NAME.get(str(name))
    return f"{spec.zh} {name}" if spec else str(name)


def quality(duck: duckdb.DuckDBPyConnection, zone: ZoneInfo) -> Quality:
    reasons = _rows(
        duck,
        'SELECT dataset, "column", reason_kind, reason_en, rows_quarantined, files, example_reason'
        " FROM v_quarantine_reasons",
    )
    by_file = _rows(
        duck,
        'SELECT dataset, file, count(*) AS rows_quarantined, count(DISTINCT "column") AS columns'
        " FROM quarantine GROUP BY dataset, file ORDER BY rows_quarantined DESC, dataset, file",
    )
    rejected = _rows(
        duck,
        "SELECT run_id, as_of, dataset, file, format, reason, ingested_at FROM v_quality_by_file"
        f" WHERE status = 'rejected' ORDER BY ingested_at DESC, dataset, file LIMIT {REJECTED_SHOWN}",
    )
    missing = _rows(
        duck,
        "SELECT source_zh, dataset, dataset_zh, periodic, row_count, latest_period, latest_period_overall,"
        " months_behind, missing_latest, last_loaded_at FROM v_missing_deliveries",
    )
    runs = _rows(
        duck,
        "SELECT run_id, as_of, status, started_at, finished_at, files_seen, files_loaded, files_replaced,"
        " files_skipped, files_rejected, rows_loaded, rows_quarantined, findings, error FROM runs"
        f" ORDER BY started_at DESC, run_id DESC LIMIT {RUNS_SHOWN}",
    )
    for r in [*reasons, *by_file, *rejected]:
        r["dataset_label"] = dataset_label(r["dataset"])
    for r in [*by_file, *rejected]:
        r["file"] = mask_text(str(r["file"]))
    for r in rejected:
        r["at"] = shown_time(r["ingested_at"], zone)
    for m in missing:
        m["at"] = shown_time(m["last_loaded_at"], zone)
    for r in runs:
        r["started"] = shown_time(r["started_at"], zone)
        r["finished"] = shown_time(r["finished_at"], zone)
        r["status_label"] = run_status_label(r["status"])
        r["error"] = mask_text(str(r["error"]))[:300] if r["error"] else ""
    quarantined = sum(int(r["rows_quarantined"]) for r in by_file)  # type: ignore[call-overload]
    return Quality(reasons, by_file, quarantined, rejected, missing, runs)


@dataclass(frozen=True)
class Read:
    quality: Quality | None
    unavailable: str | None


def read_quality(db: Path, memory_limit: str, zone: ZoneInfo) -> Read:
    if not db.is_file():
        return Read(None, "数据不可用：没有数据库 data unavailable: no published database")
    try:
        with reader(db, memory_limit=memory_limit) as duck:
            return Read(quality(duck, zone), None)
    except WarehouseBusy:
        return Read(None, "数据暂不可用：数据库正被占用 data unavailable: the database is busy")
    except duckdb.Error as err:
        return Read(None, f"数据不可用 data unavailable: {mask_text(' '.join(str(err).split()))[:200]}")
