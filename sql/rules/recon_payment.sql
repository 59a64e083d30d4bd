-- RECON_PAYMENT 发放对账差异: a benefit payment with no bank result, or whose bank result
-- differs in amount or credited account, or is failed/returned; or a bank result whose
-- payment_id is not in benefit_payments.
-- Grain: one row per payment_id. A payment reconciles only with exactly one `success`
-- result of the same amount into the same account. amount_at_risk = the payment's amount;
-- for an orphan result, what the bank credited (its region: that of the payments into the
-- credited account, most frequent first, then the smallest code; its period: settled_date).
WITH paid AS (
    SELECT
        payment_id,
        count(*)              AS payments,
        sum(amount)           AS amount,
        min(bank_account)     AS bank_account,
        min(person_id)        AS person_id,
        min(region_code)      AS region_code,
        min(period)           AS period_from,
        max(period)           AS period_to
    FROM benefit_payments
    GROUP BY payment_id
),
credited AS (
    SELECT
        payment_id,
        count(*)                                  AS results,
        sum(amount)                               AS amount,
        min(bank_account)                         AS bank_account,
        count(*) FILTER (WHERE status = 'success') AS successes,
        strftime(min(settled_date), '%Y%m')       AS settled_from,
        strftime(max(settled_date), '%Y%m')       AS settled_to
    FROM bank_disbursements
    GROUP BY payment_id
),
account_region AS (
    SELECT
        bank_account,
        region_code,
        row_number() OVER (PARTITION BY bank_account ORDER BY count(*) DESC, region_code) AS rank
    FROM benefit_payments
    GROUP BY bank_account, region_code
)
SELECT
    'RECON_PAYMENT'                                                  AS rule,
    coalesce(p.payment_id, c.payment_id)                             AS subject_id,
    p.person_id                                                      AS person_id,
    CASE WHEN p.payment_id IS NULL THEN r.region_code ELSE p.region_code END AS region_code,
    CASE WHEN p.payment_id IS NULL THEN c.settled_from ELSE p.period_from END AS period_from,
    CASE WHEN p.payment_id IS NULL THEN c.settled_to ELSE p.period_to END     AS period_to,
    CAST(CASE WHEN p.payment_id IS NULL THEN c.amount ELSE p.amount END AS DECIMAL(18, 2)) AS amount_at_risk
FROM paid AS p
FULL OUTER JOIN credited AS c ON c.payment_id = p.payment_id
LEFT JOIN account_region AS r ON r.bank_account = c.bank_account AND r.rank = 1
WHERE NOT coalesce(
    p.payments = 1
    AND c.results = 1
    AND c.successes = 1
    AND p.amount = c.amount
    AND p.bank_account = c.bank_account,
    false
);
