-- Whether a run carried its findings forward (沿用: its detection inputs were those of the last completed
-- run, sql/detect/carry_forward.sql), and from which run they come: the latest earlier completed run with
-- the same detect_key that detected them itself (runs that carried them forward too are passed over).
-- Grain: one row when the run carried its findings forward (the run NULL if no such run is left), none
-- otherwise.
SELECT p.run_id AS from_run_id, p.as_of AS from_as_of
FROM runs AS r
LEFT JOIN runs AS p
    ON p.detect_key = r.detect_key
    AND p.started_at < r.started_at
    AND p.status IN ('succeeded', 'bad_input')
    AND NOT coalesce(p.rules_skipped, false)
WHERE r.run_id = $run_id AND coalesce(r.rules_skipped, false)
ORDER BY p.started_at DESC NULLS LAST
LIMIT 1;
