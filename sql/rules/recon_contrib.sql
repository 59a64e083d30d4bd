-- RECON_CONTRIB 征缴对账差异: assessed (contributions) and collected (tax_collections)
-- differ by more than 0.01 yuan for employer_id|scheme|period, including one side missing.
-- Grain: one row per key. amount_at_risk = |assessed - collected|, a missing side being 0.00.
-- region_code: characters 3-8 of the employer number when they are a division code.
WITH assessed AS (
    SELECT employer_id, scheme, period, sum(amount_due) AS amount
    FROM contributions
    GROUP BY employer_id, scheme, period
),
collected AS (
    SELECT employer_id, scheme, period, sum(amount_collected) AS amount
    FROM tax_collections
    GROUP BY employer_id, scheme, period
),
compared AS (
    SELECT
        employer_id,
        scheme,
        period,
        abs(coalesce(a.amount, 0) - coalesce(c.amount, 0)) AS difference
    FROM assessed AS a
    FULL OUTER JOIN collected AS c USING (employer_id, scheme, period)
)
SELECT
    'RECON_CONTRIB'                                                                 AS rule,
    employer_id || '|' || scheme || '|' || period                                   AS subject_id,
    CAST(NULL AS VARCHAR)                                                           AS person_id,
    nullif(regexp_extract(employer_id, '^[0-9A-Za-z]{2}([1-8][0-9]{5})', 1), '')    AS region_code,
    period                                                                          AS period_from,
    period                                                                          AS period_to,
    CAST(difference AS DECIMAL(18, 2))                                              AS amount_at_risk
FROM compared
WHERE difference > 0.01;
