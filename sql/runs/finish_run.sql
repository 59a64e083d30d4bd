-- Close a run: its status and the counts of what it did, taken from ingested_files.
UPDATE runs SET
    finished_at      = $finished_at,
    status           = $status,
    ingest_seconds   = $ingest_secs,
    rules_seconds    = $rules_secs,
    cases_seconds    = $cases_secs,
    prepare_seconds  = $prepare_secs,
    publish_seconds  = $publish_secs,
    detect_key       = $detect_key,
    rules_skipped    = $rules_skipped,
    files_seen       = c.files_seen,
    files_loaded     = c.files_loaded,
    files_replaced   = c.files_replaced,
    files_skipped    = c.files_skipped,
    files_rejected   = c.files_rejected,
    files_withdrawn  = c.files_withdrawn,
    rows_loaded      = c.rows_loaded,
    rows_quarantined = c.rows_quarantined,
    findings         = (SELECT count(*) FROM suspects WHERE active AND last_run_id = $run_id)
FROM (
    SELECT
        count(*)                                    AS files_seen,
        count(*) FILTER (WHERE status = 'loaded')   AS files_loaded,
        count(*) FILTER (WHERE status = 'replaced') AS files_replaced,
        count(*) FILTER (WHERE status = 'skipped')  AS files_skipped,
        count(*) FILTER (WHERE status = 'rejected') AS files_rejected,
        count(*) FILTER (WHERE status = 'withdrawn') AS files_withdrawn,
        coalesce(sum(rows_loaded), 0)               AS rows_loaded,
        coalesce(sum(rows_quarantined), 0)          AS rows_quarantined
    FROM ingested_files WHERE run_id = $run_id
) AS c
WHERE runs.run_id = $run_id;
