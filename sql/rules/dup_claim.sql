-- DUP_CLAIM 医保重复报销: two or more claims with the same invoice number (ignoring
-- case, spaces and full-width forms; across persons), or of the same person, hospital,
-- service date and total amount. In each group every claim but the first by claim_id
-- is at risk (once, even when in two groups), charged to its own person.
-- Grain: one row per person. amount_at_risk = fund_paid of the person's claims at risk;
-- period_from/to = service months of all claims in the groups where the person has a
-- claim at risk; region_code = region of the person's first claim at risk.
WITH fold AS (
    -- the same folding as pipelines/rules/dup_claim.py: full-width U+FF01..U+FF5E to ASCII,
    -- ASCII letters to upper case; the white space appended to from_chars (no counterpart) is removed
    SELECT
        array_to_string(list_transform(range(65281, 65375), lambda c: chr(CAST(c AS INTEGER))), '')
        || 'abcdefghijklmnopqrstuvwxyz'
        || array_to_string(
            list_transform(
                [9, 10, 11, 12, 13, 32, 133, 160, 5760] || range(8192, 8203) || [8232, 8233, 8239, 8287, 12288],
                lambda c: chr(CAST(c AS INTEGER))
            ),
            ''
        ) AS from_chars,
        upper(array_to_string(list_transform(range(33, 127), lambda c: chr(CAST(c AS INTEGER))), ''))
        || 'ABCDEFGHIJKLMNOPQRSTUVWXYZ' AS to_chars
),
claims AS (
    SELECT c.*, translate(c.invoice_no, f.from_chars, f.to_chars) AS invoice_key
    FROM medical_claims AS c
    CROSS JOIN fold AS f
),
members AS (
    SELECT *, claim_id <> min(claim_id) OVER (PARTITION BY criterion, group_key) AS repeats
    FROM (
        SELECT
            claim_id, person_id, region_code, service_date, fund_paid, 'invoice' AS criterion,
            invoice_key AS group_key
        FROM claims
        WHERE invoice_key <> ''
        UNION ALL
        SELECT
            claim_id, person_id, region_code, service_date, fund_paid, 'visit' AS criterion,
            concat_ws('|', person_id, hospital_id, service_date, total_amount) AS group_key
        FROM claims
        WHERE person_id IS NOT NULL AND hospital_id IS NOT NULL AND service_date IS NOT NULL
          AND total_amount IS NOT NULL
    )
),
at_risk AS (
    SELECT person_id, claim_id, any_value(region_code) AS region_code, any_value(fund_paid) AS fund_paid
    FROM members
    WHERE repeats
    GROUP BY person_id, claim_id
),
involved AS (
    SELECT DISTINCT g.person_id, m.claim_id, m.service_date
    FROM (SELECT DISTINCT person_id, criterion, group_key FROM members WHERE repeats) AS g
    JOIN members AS m USING (criterion, group_key)
),
months AS (
    SELECT person_id, min(service_date) AS first_service, max(service_date) AS last_service
    FROM involved
    GROUP BY person_id
)
SELECT
    'DUP_CLAIM'                                     AS rule,
    a.person_id                                     AS subject_id,
    a.person_id,
    arg_min(a.region_code, a.claim_id)              AS region_code,
    strftime(any_value(m.first_service), '%Y%m')    AS period_from,
    strftime(any_value(m.last_service), '%Y%m')     AS period_to,
    CAST(sum(a.fund_paid) AS DECIMAL(18, 2))        AS amount_at_risk
FROM at_risk AS a
JOIN months AS m USING (person_id)
GROUP BY a.person_id;
