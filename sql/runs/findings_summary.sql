-- Findings of one run per rule. Grain: one row per rule that fired in the run.
-- A near-miss ledger/bank pair of RECON_LEDGER_BANK (two findings, one movement booked late; pairs as
-- sql/reports/ledger_bank_pairs.sql, given here as the CTE `pairs`) is at risk once: the bank side's amount is
-- left out of amount_at_risk when both sides fired in this run, and counted in paired_findings.
WITH pairs AS (
    /*ledger_bank_pairs*/
),
this_run AS (
    SELECT * FROM suspects WHERE active AND last_run_id = $run_id
),
counted_once AS (
    SELECT p.bank_subject, p.amount
    FROM pairs AS p
    WHERE EXISTS (SELECT 1 FROM this_run AS l WHERE l.rule = 'RECON_LEDGER_BANK' AND l.subject_id = p.ledger_subject)
)
SELECT
    s.rule,
    s.rule_name_zh,
    count(*)                                                 AS findings,
    count(*) FILTER (WHERE s.first_run_id = $run_id)         AS new_findings,
    sum(s.amount_at_risk) - coalesce(sum(c.amount), 0)       AS amount_at_risk,
    count(c.bank_subject)                                    AS paired_findings
FROM this_run AS s
LEFT JOIN counted_once AS c ON s.rule = 'RECON_LEDGER_BANK' AND c.bank_subject = s.subject_id
GROUP BY s.rule, s.rule_name_zh;
