-- The version in force of every delivered file: its latest loaded or replaced version.
-- Grain: one row per (dataset, file). A rejected correction leaves the earlier version in force.
SELECT dataset, file, sha256
FROM (
    SELECT dataset, file, sha256,
           row_number() OVER (PARTITION BY dataset, file ORDER BY ingested_at DESC) AS rn
    FROM ingested_files
    WHERE status IN ('loaded', 'replaced')
)
WHERE rn = 1
ORDER BY dataset, file;
