-- The version in force of every delivered file (ADR 0003, ADR 0011): the latest of its loaded, replaced
-- and withdrawn events, when that event is a load (loaded or replaced). A withdrawn file is in force no
-- more until it is delivered again. Grain: one row per (dataset, file) in force.
-- No ORDER BY and no semicolon: the registry filters this query as a subquery.
SELECT dataset, file, sha256, size_bytes
FROM (
    SELECT dataset, file, sha256, size_bytes, status,
           row_number() OVER (PARTITION BY dataset, file ORDER BY ingested_at DESC) AS rn
    FROM ingested_files
    WHERE status IN ('loaded', 'replaced', 'withdrawn')
)
WHERE rn = 1 AND status IN ('loaded', 'replaced')
