-- UNEMP_WITH_PENSION 领取养老金期间领取失业金: an unemployment payment for a period for which the same
-- person is also paid a pension (any of 110/120/170).
-- Grain: one row per person. amount_at_risk = those unemployment payments, each once however many pension
-- payments share the month; region_code = region of the last flagged payment (by period, then payment_id).
WITH flagged AS (
    SELECT u.*
    FROM benefit_payments AS u
    WHERE u.benefit_type = 'unemployment'
      AND EXISTS (
            SELECT 1
            FROM benefit_payments AS p
            WHERE p.person_id = u.person_id AND p.period = u.period AND p.benefit_type = 'pension'
        )
)
SELECT
    'UNEMP_WITH_PENSION'                            AS rule,
    person_id                                       AS subject_id,
    person_id,
    arg_max(region_code, (period, payment_id))      AS region_code,
    min(period)                                     AS period_from,
    max(period)                                     AS period_to,
    CAST(sum(amount) AS DECIMAL(18, 2))             AS amount_at_risk
FROM flagged
GROUP BY person_id;
