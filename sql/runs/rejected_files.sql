-- The files one run rejected, each with the run that first rejected the very same bytes under the same name
-- when the file has stood in the inbox since (a standing reject: already reported, not new bad input).
-- A file counts as standing when every earlier event of it since that first rejection is the rejection of
-- the same bytes; once it was loaded, replaced, withdrawn or rejected with other bytes in between, the
-- rejection is new again. Grain: one row per file the run rejected.
WITH rejected AS (
    SELECT dataset, file, sha256, reason
    FROM ingested_files
    WHERE run_id = $run_id AND status = 'rejected'
),
earlier AS (  -- every earlier event of those files, marked when it is the same rejection
    SELECT f.dataset, f.file, f.run_id, f.ingested_at,
           (f.status = 'rejected' AND f.sha256 = r.sha256) AS same_rejection
    FROM ingested_files AS f
    JOIN rejected AS r ON r.dataset = f.dataset AND r.file = f.file
    WHERE f.run_id <> $run_id
),
broken AS (  -- the last earlier event that was something else
    SELECT dataset, file, max(ingested_at) AS at
    FROM earlier
    WHERE NOT same_rejection
    GROUP BY dataset, file
),
standing AS (  -- the first of the rejections since then
    SELECT e.dataset, e.file, arg_min(e.run_id, e.ingested_at) AS first_run_id
    FROM earlier AS e
    LEFT JOIN broken AS b ON b.dataset = e.dataset AND b.file = e.file
    WHERE e.same_rejection AND (b.at IS NULL OR e.ingested_at > b.at)
    GROUP BY e.dataset, e.file
)
SELECT r.dataset, r.file, r.reason, s.first_run_id, runs.as_of AS first_as_of
FROM rejected AS r
LEFT JOIN standing AS s ON s.dataset = r.dataset AND s.file = r.file
LEFT JOIN runs ON runs.run_id = s.first_run_id
ORDER BY r.file;
