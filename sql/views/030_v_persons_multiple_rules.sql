-- v_persons_multiple_rules: one row per person (person_id not null) with active findings under two or
-- more different rules. A person caught by several cross-checks at once (e.g. paid after death and
-- paid twice) is the strongest lead for one combined verification.
CREATE OR REPLACE VIEW v_persons_multiple_rules AS
SELECT
    person_id,
    count(DISTINCT rule)                                          AS rule_count,
    string_agg(DISTINCT rule, ', ' ORDER BY rule)                 AS rules,
    string_agg(DISTINCT rule_name_zh, '、' ORDER BY rule_name_zh) AS rule_names_zh,
    count(*)                                                      AS findings,
    sum(amount_at_risk)                                           AS amount_at_risk,
    string_agg(DISTINCT region_code, ', ' ORDER BY region_code)   AS region_codes,
    string_agg(suspect_id, ', ' ORDER BY suspect_id)              AS suspect_ids
FROM suspects
WHERE active AND person_id IS NOT NULL
GROUP BY person_id
HAVING count(DISTINCT rule) >= 2
ORDER BY rule_count DESC, amount_at_risk DESC, person_id;
