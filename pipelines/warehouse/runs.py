"""The `runs` table: one row per nightly run (CONTRACT.md section 4).

A run is opened `running` in its building copy, and closed there with its status, the duration of each
phase and the counts of what it did (sql/runs/finish_run.sql). A run that fails records only its `failed`
row in the published file (`pipelines.warehouse.publication.publish_failed_run`).

Times are instants with their zone: `started_at` and `finished_at` are TIMESTAMPTZ, written from the
aware times of `Settings.now()` (the office's zone) and shown in that zone (`in_zone`). A file written
before (naive TIMESTAMP columns, the machine's local time, as `datetime.now()` gave it) is converted the
first time a run opens it (`zone_timestamps`): DuckDB reads a naive value in the session's zone, the
machine's, which is what it was written in. A file never converted is still read: `in_zone` takes a naive
value as the machine's local time.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import duckdb

from pipelines.warehouse.sql import read_sql

ZONED_COLUMNS = ("started_at", "finished_at")


def new_run_id(now: dt.datetime) -> str:
    return f"{now:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"


def zone_timestamps(con: duckdb.DuckDBPyConnection) -> None:
    """Make `runs.started_at` / `finished_at` TIMESTAMPTZ if a file written before still has them naive."""
    naive = [
        name
        for (name,) in con.execute(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_name = 'runs' AND data_type = 'TIMESTAMP' AND column_name IN (?, ?)",
            list(ZONED_COLUMNS),
        ).fetchall()
    ]
    for name in naive:  # names from ZONED_COLUMNS only
        con.execute(f"ALTER TABLE runs ALTER COLUMN {name} SET DATA TYPE TIMESTAMPTZ")


def in_zone(value: dt.datetime, zone: ZoneInfo) -> dt.datetime:
    """A recorded time in the office's zone; a naive one (a file written before times had zones) is the
    machine's local time, as `datetime.now()` wrote it."""
    return value.astimezone(zone)


def shown_time(value: object, zone: ZoneInfo) -> str:
    """'2026-12-02 10:00:00+08:00': a recorded time as a person reads it, with its UTC offset; '-' if none."""
    if isinstance(value, dt.datetime):
        return in_zone(value, zone).isoformat(sep=" ", timespec="seconds")
    return "-" if value is None else str(value)


def _aware(at: dt.datetime) -> dt.datetime:
    if at.tzinfo is None:
        raise ValueError(f"a recorded time needs its zone (Settings.now()), got the naive {at}")
    return at


def start_run(con: duckdb.DuckDBPyConnection, run_id: str, as_of: dt.date, inbox: str, started_at: dt.datetime) -> None:
    zone_timestamps(con)
    con.execute(
        "INSERT INTO runs (run_id, as_of, inbox, started_at, status) VALUES (?, ?, ?, ?, 'running')",
        [run_id, as_of, inbox, _aware(started_at)],
    )


def record_failed_run(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    as_of: dt.date,
    inbox: str,
    started_at: dt.datetime,
    error: str,
    finished_at: dt.datetime | None = None,
) -> None:
    zone_timestamps(con)
    started_at = _aware(started_at)
    con.execute(
        "INSERT INTO runs (run_id, as_of, inbox, started_at, finished_at, status, error) "
        "VALUES (?, ?, ?, ?, ?, 'failed', ?)",
        [run_id, as_of, inbox, started_at, _aware(finished_at or dt.datetime.now(started_at.tzinfo)), error],
    )


def finish_run(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    status: str,
    timings: dict[str, float],
    detect_key: str | None = None,
    rules_skipped: bool = False,
    *,
    finished_at: dt.datetime,
) -> None:
    """Close a run: status, phase seconds (prepare, ingest, rules, cases, publish), counts, when it finished."""
    con.execute(
        read_sql("runs/finish_run.sql"),
        {
            "run_id": run_id,
            "status": status,
            "ingest_secs": timings.get("ingest"),
            "rules_secs": timings.get("rules"),
            "cases_secs": timings.get("cases"),
            "prepare_secs": timings.get("prepare"),
            "publish_secs": timings.get("publish"),
            "detect_key": detect_key,
            "rules_skipped": rules_skipped,
            "finished_at": _aware(finished_at),
        },
    )


@dataclass(frozen=True)
class RejectedFile:
    """A file a run rejected. `first_run_id` / `first_as_of`: the run that first rejected these very bytes
    under this name, when the file was left in the inbox since (a standing reject, already reported)."""

    dataset: str
    file: str
    reason: str | None
    first_run_id: str | None = None
    first_as_of: dt.date | None = None

    @property
    def standing(self) -> bool:
        return self.first_run_id is not None


def rejected_files(con: duckdb.DuckDBPyConnection, run_id: str) -> list[RejectedFile]:
    """The files `run_id` rejected, by file name, each saying whether an earlier run already rejected it."""
    relation = con.execute(read_sql("runs/rejected_files.sql"), {"run_id": run_id})
    return [RejectedFile(*row) for row in relation.fetchall()]


def bad_input(con: duckdb.DuckDBPyConnection, run_id: str) -> bool:
    """Whether the run met bad input it is the first to report (exit status 1): rows it quarantined, or a file
    it rejected that no earlier run had rejected as it stands. A rejected file left in the inbox is listed
    again in every summary, but fails only the night it first arrived."""
    (quarantined,) = con.execute(
        "SELECT coalesce(sum(rows_quarantined), 0) FROM ingested_files WHERE run_id = ?", [run_id]
    ).fetchone()
    return quarantined > 0 or any(not f.standing for f in rejected_files(con, run_id))


def history(con: duckdb.DuckDBPyConnection, limit: int) -> tuple[int, list[dict[str, object]]]:
    """(how many runs there are, the newest `limit` of them as dicts by column name).

    Every column of `runs` as the file has it: a file last written before a column was added
    (sql/ddl/005) simply lacks it, and the caller reads it with `.get`.
    """
    total = con.execute("SELECT count(*) FROM runs").fetchone()[0]
    relation = con.execute(read_sql("runs/history.sql"), {"limit": limit})
    columns = [d[0] for d in relation.description]
    return total, [dict(zip(columns, row, strict=True)) for row in relation.fetchall()]


@dataclass(frozen=True)
class CarriedForward:
    """A run that detected nothing anew: its findings are those of `from_run_id` (same detection inputs)."""

    from_run_id: str | None
    from_as_of: dt.date | None
    per_rule: dict[str, int]  # rule -> findings carried forward
    datasets: list[str]  # the datasets with files in force, none of them changed

    @property
    def findings(self) -> int:
        return sum(self.per_rule.values())


def carried_forward(con: duckdb.DuckDBPyConnection, run_id: str) -> CarriedForward | None:
    """What `run_id` carried forward (沿用), or None when it detected its findings itself."""
    row = con.execute(read_sql("runs/carried_from.sql"), {"run_id": run_id}).fetchone()
    if row is None:
        return None
    from_run_id, from_as_of = row
    per_rule = dict(
        con.execute(
            "SELECT rule, count(*) FROM suspects WHERE active AND last_run_id = ? GROUP BY rule", [run_id]
        ).fetchall()
    )
    in_force = read_sql("ingest/in_force_files.sql")
    datasets = [d for (d,) in con.execute(f"SELECT DISTINCT dataset FROM ({in_force}) ORDER BY dataset").fetchall()]
    return CarriedForward(from_run_id, from_as_of, per_rule, datasets)
