-- Files a run loaded or replaced whose rows largely duplicate another file in force of the same dataset
-- (ADR 0011): a renamed copy of a file, later corrected, loads as a new file and doubles its rows.
-- Grain: one row per (file of run $run_id, other file of $dataset) where at least $min_share of the
-- file's valid rows are identical, on every contract column, to a row of the other file.
-- Cost: the dataset table holds only the rows of versions in force; each row is reduced once to a 64-bit hash
-- of its contract columns (lineage left out), and one aggregate by hash keeps the hashes found more than once:
-- only those rows are paired (nearly none in a normal delivery).
WITH fresh AS (
    SELECT DISTINCT file
    FROM ingested_files
    WHERE run_id = $run_id AND dataset = $dataset AND status IN ('loaded', 'replaced')
),
hashed AS MATERIALIZED (
    SELECT
        source_file AS file,
        hash(*COLUMNS(* EXCLUDE (source_file, source_line, run_id))) AS h,
        source_file IN (SELECT file FROM fresh) AS is_fresh
    FROM query_table($dataset)
),
repeated AS (
    SELECT h FROM hashed GROUP BY h HAVING count(*) > 1
),
sizes AS (
    SELECT file, count(*) AS rows FROM hashed WHERE is_fresh GROUP BY file
),
mine AS (
    SELECT file, h, count(*) AS n
    FROM hashed
    WHERE is_fresh AND h IN (SELECT h FROM repeated)
    GROUP BY file, h
),
theirs AS (
    SELECT DISTINCT file, h FROM hashed WHERE h IN (SELECT h FROM repeated)
),
shared AS (
    SELECT m.file, t.file AS other_file, sum(m.n) AS rows_shared
    FROM mine AS m
    JOIN theirs AS t ON t.h = m.h AND t.file <> m.file
    GROUP BY m.file, t.file
)
SELECT
    s.file,
    s.other_file,
    z.rows::BIGINT                              AS rows,
    s.rows_shared::BIGINT                       AS rows_shared,
    round(s.rows_shared / z.rows, 4)::DOUBLE    AS share
FROM shared AS s
JOIN sizes AS z USING (file)
WHERE s.rows_shared >= $min_share * z.rows
ORDER BY s.file, share DESC, s.other_file;
