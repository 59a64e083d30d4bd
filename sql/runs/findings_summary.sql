-- Findings of one run per rule. Grain: one row per rule that fired in the run.
SELECT
    rule,
    rule_name_zh,
    count(*)                                          AS findings,
    count(*) FILTER (WHERE first_run_id = $run_id)    AS new_findings,
    sum(amount_at_risk)                               AS amount_at_risk
FROM suspects
WHERE active AND last_run_id = $run_id
GROUP BY rule, rule_name_zh;
