-- SHARED_ACCOUNT 多人共用收款账户: one bank account receiving benefit payments for
-- 3 or more different persons in one period.
-- Grain: one row per bank account. amount_at_risk = every payment into the account in
-- its shared periods; region_code = the most frequent region of those payments
-- (a tie goes to the smallest code).
WITH shared_periods AS (
    SELECT bank_account, period
    FROM benefit_payments
    GROUP BY bank_account, period
    HAVING count(DISTINCT person_id) >= 3
),
shared AS (
    SELECT p.*
    FROM benefit_payments AS p
    JOIN shared_periods AS s USING (bank_account, period)
),
region_ranked AS (
    SELECT
        bank_account,
        region_code,
        row_number() OVER (PARTITION BY bank_account ORDER BY count(*) DESC, region_code) AS rank
    FROM shared
    GROUP BY bank_account, region_code
)
SELECT
    'SHARED_ACCOUNT'                        AS rule,
    s.bank_account                          AS subject_id,
    CAST(NULL AS VARCHAR)                   AS person_id,
    any_value(r.region_code)                AS region_code,
    min(s.period)                           AS period_from,
    max(s.period)                           AS period_to,
    CAST(sum(s.amount) AS DECIMAL(18, 2))   AS amount_at_risk
FROM shared AS s
JOIN region_ranked AS r ON r.bank_account = s.bank_account AND r.rank = 1
GROUP BY s.bank_account;
