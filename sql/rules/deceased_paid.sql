-- DECEASED_PAID 死亡后继续领取: payments for a period after the month of death
-- (earliest death_date of any source), funeral and survivor excluded.
-- Grain: one row per person. amount_at_risk = sum of those payments.
WITH first_death AS (
    SELECT person_id, strftime(min(death_date), '%Y%m') AS death_period
    FROM death_records
    GROUP BY person_id
),
late AS (
    SELECT p.*
    FROM benefit_payments AS p
    JOIN first_death AS d USING (person_id)
    WHERE p.period > d.death_period
      AND p.benefit_type NOT IN ('funeral', 'survivor')
)
SELECT
    'DECEASED_PAID'                                       AS rule,
    person_id                                             AS subject_id,
    person_id,
    arg_max(region_code, period || payment_id)            AS region_code,
    min(period)                                           AS period_from,
    max(period)                                           AS period_to,
    CAST(sum(amount) AS DECIMAL(18, 2))                   AS amount_at_risk
FROM late
GROUP BY person_id;
