-- PRISONER_PAID 服刑期间领取养老金: pension payments for a period strictly after the month in which a
-- stopping custody spell starts (detention, imprisonment, life, death_suspended; not suspended or
-- surveillance) and strictly before the month in which it ends (no end_date: every later period).
-- Grain: one row per person. amount_at_risk = those payments, each once however many spells cover it;
-- region_code = region of the last flagged payment (by period, then payment_id).
WITH spells AS (
    SELECT person_id, strftime(start_date, '%Y%m') AS start_period, strftime(end_date, '%Y%m') AS end_period
    FROM custody_records
    WHERE sentence_type IN ('detention', 'imprisonment', 'life', 'death_suspended')
),
flagged AS (
    SELECT p.*
    FROM benefit_payments AS p
    WHERE p.benefit_type = 'pension'
      AND EXISTS (
            SELECT 1
            FROM spells AS s
            WHERE s.person_id = p.person_id
              AND p.period > s.start_period
              AND (s.end_period IS NULL OR p.period < s.end_period)
        )
)
SELECT
    'PRISONER_PAID'                                 AS rule,
    person_id                                       AS subject_id,
    person_id,
    arg_max(region_code, (period, payment_id))      AS region_code,
    min(period)                                     AS period_from,
    max(period)                                     AS period_to,
    CAST(sum(amount) AS DECIMAL(18, 2))             AS amount_at_risk
FROM flagged
GROUP BY person_id;
