-- DuckDB. One row per nightly run whose data date (as_of) lies between $date_from and $date_to.
SELECT run_id, as_of, status,
       coalesce(files_seen, 0) AS files_seen,
       coalesce(files_loaded, 0) + coalesce(files_replaced, 0) AS files_loaded,
       coalesce(files_rejected, 0) AS files_rejected,
       coalesce(rows_loaded, 0) AS rows_loaded,
       coalesce(rows_quarantined, 0) AS rows_quarantined,
       coalesce(findings, 0) AS findings
FROM runs
WHERE as_of BETWEEN $date_from AND $date_to
ORDER BY as_of, started_at, run_id
