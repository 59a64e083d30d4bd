"""The file registry (`ingested_files`): which version of each delivered file is in force.

A file's identity across deliveries is `<dataset>/<name>`; a version is its sha256. The latest loaded,
replaced or withdrawn event of a file decides: a loaded or replaced version is in force, a withdrawn file
is not (until it is delivered again); skipped and rejected versions never are
(docs/adr/0003-file-registry-and-redelivery.md, docs/adr/0011-redelivery-and-withdrawal.md).
`sql/ingest/in_force_files.sql` is the one statement of it.

`overlapping_files` finds the files a run loaded whose rows largely duplicate another file in force;
`record_overlaps` keeps them in `file_overlaps` at the end of the run's ingestion, and `recorded_overlaps` reads
them back (the run's summary).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

import duckdb

from pipelines.warehouse.sql import read_sql
from schemas.datasets import BY_NAME

# A file's rows "largely duplicate" another file's when at least this share of them are identical.
OVERLAP_SHARE = 0.5


def version_in_force(con: duckdb.DuckDBPyConnection, dataset: str, file: str) -> tuple[str, int | None] | None:
    """(sha256, size in bytes) of the version of (dataset, file) whose rows are in force, if any."""
    rows = con.execute(
        f"SELECT sha256, size_bytes FROM ({read_sql('ingest/in_force_files.sql')}) WHERE dataset = ? AND file = ?",
        [dataset, file],
    ).fetchall()
    return (rows[0][0], rows[0][1]) if rows else None


def file_in_force(con: duckdb.DuckDBPyConnection, dataset: str, file: str) -> str | None:
    """sha256 of the version of (dataset, file) whose rows are in force, if any."""
    version = version_in_force(con, dataset, file)
    return version[0] if version else None


@dataclass(frozen=True)
class InForce:
    """The files in force of some datasets, read in one query (`in_force`) before a call's files are planned."""

    by_bytes: dict[tuple[str, str], str]  # (dataset, sha256) -> the first file, by name, in force with those bytes
    files: frozenset[tuple[str, str]]  # (dataset, file)

    def file_with_same_bytes(self, dataset: str, sha256: str) -> str | None:
        """A file of the dataset whose version in force has these exact bytes (the first by name)."""
        return self.by_bytes.get((dataset, sha256))

    def has(self, dataset: str, file: str) -> bool:
        """Whether a version of (dataset, file) is in force."""
        return (dataset, file) in self.files


def in_force(con: duckdb.DuckDBPyConnection, datasets: Iterable[str]) -> InForce:
    """The files in force of `datasets` (the definition of "in force" is `sql/ingest/in_force_files.sql`)."""
    rows = con.execute(
        f"SELECT dataset, file, sha256 FROM ({read_sql('ingest/in_force_files.sql')}) "
        "WHERE list_contains(?, dataset) ORDER BY dataset, file",
        [sorted(set(datasets))],
    ).fetchall()
    by_bytes: dict[tuple[str, str], str] = {}
    for dataset, file, sha256 in rows:
        by_bytes.setdefault((dataset, sha256), file)
    return InForce(by_bytes, frozenset((dataset, file) for dataset, file, _ in rows))


def remove_file_rows(con: duckdb.DuckDBPyConnection, dataset: str, file: str, run_id: str, this_run: bool) -> int:
    """Delete the rows and quarantine of a file loaded by run `run_id` (`this_run`) or by any other run.

    Within a run's transaction a correction first loads its rows, then removes the earlier
    version's (other runs); a file found unreadable half-way removes what this run loaded of it.
    """
    op = "=" if this_run else "<>"
    removed = con.execute(f'DELETE FROM "{dataset}" WHERE source_file = ? AND run_id {op} ?', [file, run_id]).fetchall()
    con.execute(
        f"DELETE FROM quarantine WHERE dataset = ? AND file = ? AND run_id {op} ?", [dataset, file, run_id]
    ).fetchall()
    return int(removed[0][0]) if removed else 0


def remove_all_file_rows(con: duckdb.DuckDBPyConnection, dataset: str, file: str) -> tuple[int, int]:
    """Delete every row and quarantine row of a file, whichever run loaded them: (rows, quarantine rows)."""
    if dataset not in BY_NAME:  # the table name comes from the contract, never from a request
        raise ValueError(f"unknown dataset {dataset!r}")
    rows = con.execute(f'DELETE FROM "{dataset}" WHERE source_file = ?', [file]).fetchall()
    quarantined = con.execute("DELETE FROM quarantine WHERE dataset = ? AND file = ?", [dataset, file]).fetchall()
    return (int(rows[0][0]) if rows else 0, int(quarantined[0][0]) if quarantined else 0)


def overlapping_files(
    con: duckdb.DuckDBPyConnection, run_id: str, *, min_share: float = OVERLAP_SHARE
) -> list[dict[str, object]]:
    """Files run `run_id` loaded or replaced whose rows largely duplicate another file in force.

    One dict per (file, other file) where at least `min_share` of the file's valid rows are identical, on
    every contract column, to a row of the other file of the same dataset, e.g. a renamed copy of a file
    delivered again, then corrected:
    `{"dataset": str, "file": str, "other_file": str, "rows": int, "rows_shared": int, "share": float}`
    (`share` = rows_shared / rows, 0..1, four decimals), ordered by dataset (contract order), file, share
    descending. Read-only: works on the published file. Rows are compared by hash
    (`sql/ingest/overlapping_files.sql`): one scan of each dataset the run loaded files of.
    """
    datasets = {
        d
        for (d,) in con.execute(
            "SELECT DISTINCT dataset FROM ingested_files WHERE run_id = ? AND status IN ('loaded', 'replaced')",
            [run_id],
        ).fetchall()
    }
    found: list[dict[str, object]] = []
    query = read_sql("ingest/overlapping_files.sql")
    for dataset in (name for name in BY_NAME if name in datasets):
        params = {"dataset": dataset, "run_id": run_id, "min_share": min_share}
        for file, other, rows, shared, share in con.execute(query, params).fetchall():
            found.append(
                {
                    "dataset": dataset,
                    "file": file,
                    "other_file": other,
                    "rows": int(rows),
                    "rows_shared": int(shared),
                    "share": float(share),
                }
            )
    return found


OVERLAP_COLUMNS = ("dataset", "file", "other_file", "rows", "rows_shared", "share")


def record_overlaps(con: duckdb.DuckDBPyConnection, run_id: str) -> list[dict[str, object]]:
    """Find the run's overlapping files (`overlapping_files`) and keep them in `file_overlaps` (sql/ddl/011)."""
    found = overlapping_files(con, run_id)
    con.execute("DELETE FROM file_overlaps WHERE run_id = ?", [run_id])
    if found:
        con.executemany(
            f"INSERT INTO file_overlaps (run_id, {', '.join(OVERLAP_COLUMNS)}) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [[run_id, *(row[c] for c in OVERLAP_COLUMNS)] for row in found],
        )
    return found


def recorded_overlaps(con: duckdb.DuckDBPyConnection, run_id: str) -> list[dict[str, object]]:
    """The overlaps `record_overlaps` kept for run `run_id`, in the order `overlapping_files` gives them."""
    order = {name: i for i, name in enumerate(BY_NAME)}
    rows = con.execute(
        f"SELECT {', '.join(OVERLAP_COLUMNS)} FROM file_overlaps WHERE run_id = ? "
        "ORDER BY file, share DESC, other_file",
        [run_id],
    ).fetchall()
    found = [dict(zip(OVERLAP_COLUMNS, row, strict=True)) for row in rows]
    return sorted(found, key=lambda r: order.get(str(r["dataset"]), len(order)))


def record_file(
    con: duckdb.DuckDBPyConnection,
    *,
    run_id: str,
    dataset: str,
    file: str,
    sha256: str,
    size_bytes: int,
    file_format: str | None,
    status: str,
    rows_loaded: int,
    rows_quarantined: int,
    reason: str | None,
) -> None:
    con.execute(
        """
        INSERT INTO ingested_files (run_id, dataset, file, sha256, size_bytes, format, status,
                                    rows_loaded, rows_quarantined, reason, ingested_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        """,
        [
            run_id,
            dataset,
            file,
            sha256,
            size_bytes,
            file_format,
            status,
            rows_loaded,
            rows_quarantined,
            reason,
            dt.datetime.now(),
        ],
    )
