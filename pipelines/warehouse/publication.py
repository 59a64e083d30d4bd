"""Publication: a run builds a new DuckDB file and swaps it in atomically.

"Publish" means exactly this swap, nothing else. Analysts open the published file
(`var/fundwatch.duckdb`) at any moment. A run never writes it: it copies it to `<file>.building`,
does all its work there, checkpoints, and renames the building file over the published one
(`os.replace`, atomic on one filesystem). A reader therefore always sees a complete earlier or newer
state, never a lock error or half a run; a run killed at any point (even SIGKILL) leaves the
published file as it was, and the next run starts again from it
(docs/adr/0008-publication-by-atomic-swap.md). Everything here happens under the run's writer lock
(`pipelines.warehouse.lock`).

The published file keeps its permissions and group across swaps: an operator's `chmod 640` and `chgrp`
survive every night. Working files of a run live beside the database, named after it (`<db>.building`,
`<db>.stage-<run>`, `<db>.scratch-<run>`), so they are as private as its folder and the next run removes
what a killed one left (`remove_leftovers`).

The published file is always in the storage format `session.STORAGE_VERSION`, the one the DuckDB command
line of requirements.lock reads (docs/adr/0018-analyst-sql-shell.md). A file published before in another
format (DuckDB 2.0's own, v2.0.0) is rewritten once, at its next publication: its whole content copied into a new
file of that format (`COPY FROM DATABASE`), which is then swapped in like any other.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from pathlib import Path

import duckdb

from pipelines.warehouse.runs import record_failed_run
from pipelines.warehouse.session import STORAGE_VERSION, storage_version, writer


def building_path(db: Path) -> Path:
    return db.with_name(db.name + ".building")


def rewrite_path(building: Path) -> Path:
    """Where a building copy of another storage format is rewritten in `STORAGE_VERSION` before it is published."""
    return building.with_name(building.name + ".rewrite")


def work_path(db: Path, kind: str, run_id: str) -> Path:
    """A run's working folder beside the database: `<db>.stage-<run>` (rules), `<db>.scratch-<run>` (readers)."""
    return db.with_name(f"{db.name}.{kind}-{run_id}")


def _remove(path: Path) -> None:
    for p in (path, path.with_name(path.name + ".wal")):
        p.unlink(missing_ok=True)


def remove_leftovers(db: Path) -> list[Path]:
    """Remove what a killed run of `db` left: its building copy and working folders. Call under the lock."""
    building, rewrite = building_path(db), rewrite_path(building_path(db))
    found = [p.with_name(p.name + suffix) for p in (building, rewrite) for suffix in ("", ".wal")]
    found = [p for p in found if p.exists()]
    found += [p for kind in ("stage", "scratch") for p in db.parent.glob(f"{db.name}.{kind}-*")]
    for path in found:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
    return found


def start_building(db: Path) -> Path:
    """A fresh working copy of the published file (or nothing yet); a copy that fails half-way is removed."""
    building = building_path(db)
    _remove(building)
    if db.exists():
        try:
            shutil.copyfile(db, building)
        except BaseException:
            _remove(building)
            raise
    return building


def _fsync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _keep_access(building: Path, db: Path) -> None:
    """Give the building copy the published file's permission bits and group (what an operator set stays)."""
    if not db.exists():
        return
    published = db.stat()
    os.chmod(building, published.st_mode & 0o7777)
    if building.stat().st_gid != published.st_gid:
        os.chown(building, -1, published.st_gid)


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def rewrite_in_storage_version(path: Path, *, memory_limit: str) -> None:
    """Rewrite the DuckDB file `path` in `STORAGE_VERSION`: every table, view and macro with its rows copied
    into a new file of that format, which then replaces `path` (a half-written new file is removed)."""
    rewritten = rewrite_path(path)
    _remove(rewritten)
    try:
        config = {"memory_limit": memory_limit, "storage_compatibility_version": STORAGE_VERSION}
        # an in-memory instance would spill into the working folder: beside the file, private like it
        con = duckdb.connect(config={**config, "temp_directory": f"{rewritten}.tmp"})
        try:
            con.execute(f"ATTACH {_sql_text(str(path))} AS source_db (READ_ONLY)")
            con.execute(f"ATTACH {_sql_text(str(rewritten))} AS target_db (STORAGE_VERSION '{STORAGE_VERSION}')")
            con.execute("COPY FROM DATABASE source_db TO target_db")
            con.execute("DETACH target_db")
            con.execute("DETACH source_db")
        finally:
            con.close()
        os.replace(rewritten, path)
    except BaseException:
        _remove(rewritten)
        raise


def publish(building: Path, db: Path, *, memory_limit: str) -> None:
    """Checkpoint the building file (rewritten in `STORAGE_VERSION` if it is of another storage format) and
    swap it in for the published one."""
    try:
        with writer(building, memory_limit=memory_limit) as con:
            con.execute("CHECKPOINT")
            version = storage_version(con)
        if version != STORAGE_VERSION:
            rewrite_in_storage_version(building, memory_limit=memory_limit)
        with building.open("rb+") as f:
            os.fsync(f.fileno())
        _keep_access(building, db)
        os.replace(building, db)
        _fsync_folder(db.parent)
    finally:
        _remove(building)


def publish_failed_run(
    db: Path,
    run_id: str,
    as_of: dt.date,
    inbox: str,
    started_at: dt.datetime,
    error: str,
    *,
    memory_limit: str,
) -> None:
    """Record a failed run and its cause in the published file, its data otherwise unchanged (same swap)."""
    building = start_building(db)
    try:
        with writer(building, memory_limit=memory_limit) as con:
            record_failed_run(con, run_id, as_of, inbox, started_at, error)
    except BaseException:
        _remove(building)
        raise
    publish(building, db, memory_limit=memory_limit)
