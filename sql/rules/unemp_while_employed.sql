-- UNEMP_WHILE_EMPLOYED 就业期间领取失业金: an unemployment payment for a period in which
-- the person has payroll withholding with wage_income > 0, or a 110/120 enrollment
-- with an employer active on any day of that month (an open spell runs until $as_of).
-- Grain: one row per person. amount_at_risk = those payments, each once;
-- region_code = region of the last flagged payment (by period, then payment_id).
WITH unemployment AS (
    SELECT *, CAST(strptime(period || '01', '%Y%m%d') AS DATE) AS month_first_day
    FROM benefit_payments
    WHERE benefit_type = 'unemployment'
),
flagged AS (
    SELECT u.*
    FROM unemployment AS u
    WHERE EXISTS (
            SELECT 1
            FROM payroll_withholding AS w
            WHERE w.person_id = u.person_id AND w.period = u.period AND w.wage_income > 0
        )
       OR EXISTS (
            SELECT 1
            FROM enrollment AS e
            WHERE e.person_id = u.person_id
              AND e.scheme IN ('110', '120')
              AND e.employer_id IS NOT NULL
              AND e.start_date <= last_day(u.month_first_day)
              AND coalesce(e.end_date, CAST($as_of AS DATE)) >= u.month_first_day
        )
)
SELECT
    'UNEMP_WHILE_EMPLOYED'                          AS rule,
    person_id                                       AS subject_id,
    person_id,
    arg_max(region_code, (period, payment_id))      AS region_code,
    min(period)                                     AS period_from,
    max(period)                                     AS period_to,
    CAST(sum(amount) AS DECIMAL(18, 2))             AS amount_at_risk
FROM flagged
GROUP BY person_id;
