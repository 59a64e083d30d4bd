-- Who paid what each active suspect concerns, from the workflow log (DuckDB side).
-- Grain: one row per (suspect_id, operator_id) with a 'pay' stage for the suspect's person or business.
-- Two equi-joins, not one join on an OR: an OR condition cannot be hashed and would compare every
-- suspect with every log line (quadratic at province scale).
SELECT suspect_id, operator_id
FROM (
    SELECT s.suspect_id, b.operator_id
    FROM suspects AS s
    JOIN business_log AS b ON b.person_id = s.person_id
    WHERE s.active AND s.person_id IS NOT NULL AND b.stage = 'pay'
    UNION
    SELECT s.suspect_id, b.operator_id
    FROM suspects AS s
    JOIN business_log AS b ON b.business_id = s.subject_id
    WHERE s.active AND b.stage = 'pay'
)
ORDER BY ALL;
