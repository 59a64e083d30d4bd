"""Publication: a run builds a new DuckDB file and swaps it in atomically.

"Publish" means exactly this swap, nothing else. Analysts open the published file
(`var/fundwatch.duckdb`) at any moment. A run never writes it: it copies it to `<file>.building`,
does all its work there, checkpoints, and renames the building file over the published one
(`os.replace`, atomic on one filesystem). A reader therefore always sees a complete earlier or newer
state, never a lock error or half a run; a run killed at any point (even SIGKILL) leaves the
published file as it was, and the next run starts again from it
(docs/adr/0008-publication-by-atomic-swap.md).
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from pathlib import Path

from pipelines.warehouse.runs import record_failed_run
from pipelines.warehouse.session import writer


def building_path(db: Path) -> Path:
    return db.with_name(db.name + ".building")


def _remove(path: Path) -> None:
    for p in (path, path.with_name(path.name + ".wal")):
        p.unlink(missing_ok=True)


def start_building(db: Path) -> Path:
    """A fresh working copy of the published file (or nothing yet); leftovers of a killed run are dropped."""
    building = building_path(db)
    _remove(building)
    if db.exists():
        shutil.copyfile(db, building)
    return building


def _fsync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def publish(building: Path, db: Path, *, memory_limit: str) -> None:
    """Checkpoint the building file and swap it in for the published one."""
    with writer(building, memory_limit=memory_limit) as con:
        con.execute("CHECKPOINT")
    with building.open("rb+") as f:
        os.fsync(f.fileno())
    os.replace(building, db)
    _fsync_folder(db.parent)
    _remove(building)


def publish_failed_run(
    db: Path,
    run_id: str,
    as_of: dt.date,
    inbox: str,
    started_at: dt.datetime,
    *,
    memory_limit: str,
) -> None:
    """Record a failed run in the published file, its data otherwise unchanged (same swap, from a fresh copy)."""
    building = start_building(db)
    with writer(building, memory_limit=memory_limit) as con:
        record_failed_run(con, run_id, as_of, inbox, started_at)
    publish(building, db, memory_limit=memory_limit)
