-- Per dataset, what one run did with its files. Grain: one row per dataset seen in the run.
SELECT
    dataset,
    count(*)                                     AS files,
    count(*) FILTER (WHERE status = 'loaded')    AS files_loaded,
    count(*) FILTER (WHERE status = 'replaced')  AS files_replaced,
    count(*) FILTER (WHERE status = 'skipped')   AS files_skipped,
    count(*) FILTER (WHERE status = 'rejected')  AS files_rejected,
    count(*) FILTER (WHERE status = 'withdrawn') AS files_withdrawn,
    coalesce(sum(rows_loaded), 0)                AS rows_loaded,
    coalesce(sum(rows_quarantined), 0)           AS rows_quarantined
FROM ingested_files
WHERE run_id = $run_id
GROUP BY dataset
ORDER BY dataset;  -- the summary re-orders rows into contract order
