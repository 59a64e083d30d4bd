"""The file registry (`ingested_files`): which version of each delivered file is in force.

A file's identity across deliveries is `<dataset>/<name>`; a version is its sha256. Loaded and
replaced versions are in force (the latest one of a file); skipped and rejected ones never are
(docs/adr/0003-file-registry-and-redelivery.md).
"""

from __future__ import annotations

import datetime as dt

import duckdb


def file_in_force(con: duckdb.DuckDBPyConnection, dataset: str, file: str) -> str | None:
    """sha256 of the version of (dataset, file) whose rows are in force, if any."""
    rows = con.execute(
        """
        SELECT sha256 FROM ingested_files
        WHERE dataset = ? AND file = ? AND status IN ('loaded', 'replaced')
        ORDER BY ingested_at DESC LIMIT 1
        """,
        [dataset, file],
    ).fetchall()
    return rows[0][0] if rows else None


def file_with_same_bytes(con: duckdb.DuckDBPyConnection, dataset: str, sha256: str) -> str | None:
    """A file of the dataset whose version in force has these exact bytes."""
    rows = con.execute(
        """
        WITH in_force AS (
            SELECT file, sha256, row_number() OVER (PARTITION BY file ORDER BY ingested_at DESC) AS rn
            FROM ingested_files
            WHERE dataset = ? AND status IN ('loaded', 'replaced')
        )
        SELECT file FROM in_force WHERE rn = 1 AND sha256 = ? ORDER BY file LIMIT 1
        """,
        [dataset, sha256],
    ).fetchall()
    return rows[0][0] if rows else None


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
