-- v_quality_by_file: one row per file per run that saw it (the grain of ingested_files).
-- Data quality of each delivery: rows loaded and quarantined, the share quarantined, and what the run
-- did with the file (loaded 载入, skipped 跳过 = same bytes already loaded, replaced 替换 = a new version of
-- a file loaded before, rejected 拒收 = unreadable as a whole, withdrawn 撤回 = taken out of force by
-- `fundwatch withdraw`; the labels of pipelines/present/labels.py) with the reason, IDs and account-like
-- numbers in it masked (mask_text of 000_masking.sql). Quarantined rows themselves: table quarantine.
CREATE OR REPLACE VIEW v_quality_by_file AS
SELECT
    f.run_id,
    r.as_of,
    f.dataset,
    f.file,
    f.format,
    f.status,
    CASE f.status
        WHEN 'loaded' THEN '载入'
        WHEN 'skipped' THEN '跳过'
        WHEN 'replaced' THEN '替换'
        WHEN 'rejected' THEN '拒收'
        WHEN 'withdrawn' THEN '撤回'
    END                                                       AS status_zh,
    f.rows_loaded,
    f.rows_quarantined,
    CASE WHEN f.rows_loaded + f.rows_quarantined > 0
        THEN round(f.rows_quarantined / (f.rows_loaded + f.rows_quarantined), 4)
    END                                                       AS quarantined_share,
    mask_text(f.reason)                                       AS reason,
    f.ingested_at
FROM ingested_files AS f
LEFT JOIN runs AS r USING (run_id)
ORDER BY f.ingested_at DESC, f.dataset, f.file;
