-- The run history an operator reads (fundwatch runs), newest first.
-- Grain: one row per run, the newest $limit. Every column: a file written before a column was added lacks it.
SELECT *
FROM runs
ORDER BY started_at DESC, run_id DESC
LIMIT $limit;
