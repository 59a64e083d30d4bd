-- v_suspects_by_rule_region: one row per (rule, region_code) that has at least one active suspect.
-- What the caseload looks like where it must be verified (下查一级): how many active findings each
-- rule raised in each pooling region, the money at risk, and where they stand in the 四定一限 cycle.
-- "Active" = fired in the latest run; status is the case register's, mirrored after each run
-- ('overdue' replaces the status of a case past its rectification deadline; 'partially_recovered' is a
-- confirmed case with part of the money recovered, the rest outstanding).
CREATE OR REPLACE VIEW v_suspects_by_rule_region AS
SELECT
    rule,
    any_value(rule_name_zh)                                   AS rule_name_zh,
    region_code,
    count(*)                                                  AS suspects,
    sum(amount_at_risk)                                       AS amount_at_risk,
    count(*) FILTER (WHERE status = 'open')                   AS open_count,
    count(*) FILTER (WHERE status = 'under_verification')     AS under_verification_count,
    count(*) FILTER (WHERE status = 'confirmed')              AS confirmed_count,
    count(*) FILTER (WHERE status = 'partially_recovered')    AS partially_recovered_count,
    count(*) FILTER (WHERE status = 'overdue')                AS overdue_count,
    count(*) FILTER (WHERE status = 'dismissed')              AS dismissed_count,
    count(*) FILTER (WHERE status = 'rectified')              AS rectified_count
FROM suspects
WHERE active
GROUP BY rule, region_code
ORDER BY rule, region_code NULLS LAST;
