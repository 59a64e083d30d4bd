-- v_persons_multiple_rules: one row per person (person_id not null) with active findings under two or
-- more different rules. A person caught by several cross-checks at once (e.g. paid after death and
-- paid twice) is the strongest lead for one combined verification. person_id is masked (mask_id of
-- 000_masking.sql); suspect_ids lead to the full values in suspects.
CREATE OR REPLACE VIEW v_persons_multiple_rules AS
WITH persons AS (
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
)
SELECT
    mask_id(person_id) AS person_id,
    rule_count,
    rules,
    rule_names_zh,
    findings,
    amount_at_risk,
    region_codes,
    suspect_ids
FROM persons
ORDER BY rule_count DESC, amount_at_risk DESC, persons.person_id;
