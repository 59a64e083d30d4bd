-- DuckDB. Every nightly run, its data date (as_of) and counts; a report keeps those of its days.
-- Grain: one row per run.
SELECT run_id, as_of, status,
       coalesce(files_seen, 0) AS files_seen,
       coalesce(files_loaded, 0) + coalesce(files_replaced, 0) AS files_loaded,
       coalesce(files_rejected, 0) AS files_rejected,
       coalesce(rows_loaded, 0) AS rows_loaded,
       coalesce(rows_quarantined, 0) AS rows_quarantined,
       coalesce(findings, 0) AS findings,
       finished_at
FROM runs
ORDER BY as_of, started_at, run_id
