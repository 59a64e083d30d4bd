-- Who paid what each active suspect concerns, from the workflow log (DuckDB side).
-- Grain: one row per (suspect_id, operator_id) with a 'pay' stage for the suspect's person or business.
SELECT DISTINCT s.suspect_id, b.operator_id
FROM suspects AS s
JOIN business_log AS b
  ON b.stage = 'pay'
 AND ((s.person_id IS NOT NULL AND b.person_id = s.person_id) OR b.business_id = s.subject_id)
WHERE s.active
ORDER BY ALL;
