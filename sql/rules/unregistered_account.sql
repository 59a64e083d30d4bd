-- UNREGISTERED_ACCOUNT 未登记账户（多头开户）: a bank_statements account not in fund_accounts,
-- or used after its closed_date (a movement on the closed_date itself is allowed).
-- Grain: one row per account. amount_at_risk = the sum of the offending movements, in and out.
-- An account listed more than once is closed only when every listing has a closed_date.
WITH registered AS (
    SELECT
        account_no,
        CASE WHEN count(closed_date) = count(*) THEN max(closed_date) END AS closed_date
    FROM fund_accounts
    GROUP BY account_no
),
offending AS (
    SELECT b.*
    FROM bank_statements AS b
    LEFT JOIN registered AS r USING (account_no)
    WHERE r.account_no IS NULL
       OR b.txn_date > r.closed_date
)
SELECT
    'UNREGISTERED_ACCOUNT'                  AS rule,
    account_no                              AS subject_id,
    CAST(NULL AS VARCHAR)                   AS person_id,
    CAST(NULL AS VARCHAR)                   AS region_code,
    strftime(min(txn_date), '%Y%m')         AS period_from,
    strftime(max(txn_date), '%Y%m')         AS period_to,
    CAST(sum(amount) AS DECIMAL(18, 2))     AS amount_at_risk
FROM offending
GROUP BY account_no;
