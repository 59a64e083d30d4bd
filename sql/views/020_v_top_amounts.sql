-- v_top_amounts: one row per active suspect, ranked by amount at risk (1 = largest; ties share a rank).
-- Where the money is: the findings to verify first. Add LIMIT, e.g. SELECT * FROM v_top_amounts LIMIT 20.
-- Personal data masked (000_masking.sql): subject_id as shown_subject, person_id as mask_id, summary as
-- mask_text; the full values are in suspects (join on suspect_id).
CREATE OR REPLACE VIEW v_top_amounts AS
SELECT
    rank() OVER (ORDER BY amount_at_risk DESC) AS amount_rank,
    suspect_id,
    rule,
    rule_name_zh,
    shown_subject(rule, subject_id, person_id) AS subject_id,
    mask_id(person_id)                         AS person_id,
    region_code,
    period_from,
    period_to,
    amount_at_risk,
    status,
    due_date,
    first_seen,
    mask_text(summary)                         AS summary
FROM suspects
WHERE active
ORDER BY amount_rank, suspect_id;
