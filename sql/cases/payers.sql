-- Who paid the money each active finding is about, from the workflow log (DuckDB side). 回避 recusal: the
-- register refuses to assign a case to one of its payers (table case_payers, `register.assign`).
-- Grain: one row per (suspect_id, operator_id).
--
-- Two kinds of payer:
-- * a finding about a business (SOD_BREACH, LARGE_PAYMENT_UNAPPROVED: subject_id = business_id): the
--   operators of that business's `pay` steps;
-- * a finding about benefit payments or medical claims (every finding whose evidence rows cite a
--   payment_id or a claim_id: DUP_BENEFIT, DECEASED_PAID, UNEMP_WHILE_EMPLOYED, SHARED_ACCOUNT,
--   RECON_PAYMENT, DUP_CLAIM, and any rule added later that cites them): the operators of a `pay` step
--   for the paid person, of the paid amount, in a month of that payment: the month it is for (period) or
--   the month it was paid on (pay_date); for a claim, the month of its service date (fund_paid is the
--   amount the fund paid). A pay step of another person, another amount or another month does not make
--   its operator a payer. A pay step whose amount is empty (the log's amount is optional) matches on
--   person and month alone.
-- A payment the evidence cites but that is not in force (a RECON_PAYMENT bank result without a payment)
-- has no payer in the log.
--
-- Only equi-joins, each hashed once: no join on an OR (it cannot be hashed and would compare every
-- finding with every log line) and no cross join, so the cost is linear in the log at province scale.
WITH cited AS (
    SELECT suspect_id, evidence_rows
    FROM suspects
    WHERE active AND json_valid(evidence_rows)
),
cited_payments AS (  -- (finding, payment) for every payment_id its evidence rows name
    SELECT DISTINCT suspect_id, unnest(json_extract_string(evidence_rows, '$[*].payment_id')) AS payment_id
    FROM cited
),
cited_claims AS (  -- (finding, claim) for every claim_id its evidence rows name
    SELECT DISTINCT suspect_id, unnest(json_extract_string(evidence_rows, '$[*].claim_id')) AS claim_id
    FROM cited
),
paid AS (  -- (finding, person, amount, month): each cited payment once per month it may be paid in
    SELECT DISTINCT c.suspect_id, p.person_id, p.amount,
           unnest([p.period, strftime(p.pay_date, '%Y%m')]) AS month  -- no pay_date: NULL, which joins nothing
    FROM cited_payments AS c
    JOIN benefit_payments AS p ON p.payment_id = c.payment_id
    UNION
    SELECT c.suspect_id, m.person_id, m.fund_paid AS amount, strftime(m.service_date, '%Y%m') AS month
    FROM cited_claims AS c
    JOIN medical_claims AS m ON m.claim_id = c.claim_id
),
pay_steps AS (  -- the log's pay steps for a person, by month
    SELECT operator_id, person_id, amount, strftime(operated_at, '%Y%m') AS month
    FROM business_log
    WHERE stage = 'pay' AND person_id IS NOT NULL
)
SELECT suspect_id, operator_id
FROM (
    SELECT p.suspect_id, b.operator_id
    FROM paid AS p
    JOIN pay_steps AS b ON b.person_id = p.person_id AND b.amount = p.amount AND b.month = p.month
    UNION
    SELECT p.suspect_id, b.operator_id
    FROM paid AS p
    JOIN pay_steps AS b ON b.person_id = p.person_id AND b.month = p.month
    WHERE b.amount IS NULL
    UNION
    SELECT s.suspect_id, b.operator_id
    FROM suspects AS s
    JOIN business_log AS b ON b.business_id = s.subject_id
    WHERE s.active AND b.stage = 'pay'
)
ORDER BY ALL;
