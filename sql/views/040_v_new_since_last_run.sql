-- v_new_since_last_run: one row per suspect first found by the latest finished run
-- (suspects.first_run_id = the run_id of the run with finished_at not null that started last).
-- The night's new work: what appeared since the analyst last looked, largest amount first.
-- Personal data masked (000_masking.sql) as in v_top_amounts; the full values are in suspects.
CREATE OR REPLACE VIEW v_new_since_last_run AS
WITH latest_run AS (
    SELECT run_id, as_of
    FROM runs
    WHERE finished_at IS NOT NULL
    ORDER BY started_at DESC, run_id DESC
    LIMIT 1
)
SELECT
    r.run_id,
    r.as_of,
    s.suspect_id,
    s.rule,
    s.rule_name_zh,
    shown_subject(s.rule, s.subject_id, s.person_id) AS subject_id,
    mask_id(s.person_id)                             AS person_id,
    s.region_code,
    s.period_from,
    s.period_to,
    s.amount_at_risk,
    s.status,
    s.active,
    mask_text(s.summary)                             AS summary
FROM suspects AS s
JOIN latest_run AS r ON s.first_run_id = r.run_id
ORDER BY s.amount_at_risk DESC, s.suspect_id;
