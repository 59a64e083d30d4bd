-- DUP_BENEFIT 重复领取待遇: two or more payments to one person of the same benefit
-- type for the same period (benefit_type 'pension' already covers 110/120/170).
-- Grain: one row per person. amount_at_risk = per (benefit_type, period) group the sum
-- minus the largest payment, summed over the person's groups; region_code = region of
-- the first duplicated payment (by period, then payment_id).
WITH duplicated AS (
    SELECT *
    FROM benefit_payments
    QUALIFY count(*) OVER (PARTITION BY person_id, benefit_type, period) > 1
),
groups AS (
    SELECT person_id, sum(amount) - max(amount) AS excess
    FROM duplicated
    GROUP BY person_id, benefit_type, period
),
at_risk AS (
    SELECT person_id, sum(excess) AS amount_at_risk
    FROM groups
    GROUP BY person_id
)
SELECT
    'DUP_BENEFIT'                                           AS rule,
    d.person_id                                             AS subject_id,
    d.person_id,
    arg_min(d.region_code, (d.period, d.payment_id))        AS region_code,
    min(d.period)                                           AS period_from,
    max(d.period)                                           AS period_to,
    CAST(any_value(r.amount_at_risk) AS DECIMAL(18, 2))     AS amount_at_risk
FROM duplicated AS d
JOIN at_risk AS r USING (person_id)
GROUP BY d.person_id;
