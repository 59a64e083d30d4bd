-- One row per pooling region (and '000000', the province as a whole): the run's open findings and their amount at
-- risk, the insured persons on the data date and the benefits paid in the window. Inputs of findings_per_10k and
-- amount_at_risk_share (pipelines/cases/indicators.py).
-- * open findings of the run: suspects active (fired, or carried forward, in the latest run: this one, which is
--   publishing) and not closed (status neither dismissed nor rectified); the region is the finding's region_code;
--   a finding without one (an unregistered account, a ledger line) counts for the province only.
-- * insured persons: distinct person_id with an enrollment spell in force on $as_of (start_date <= $as_of and
--   end_date empty or >= $as_of), any scheme; the province counts a person enrolled in two regions once.
-- * benefits paid: benefit_payments.amount with period in $window_from..$window_to, plus medical_claims.fund_paid
--   (统筹基金支付) with the month of service_date in that window.
WITH findings AS (
    SELECT region_code, amount_at_risk
    FROM suspects
    WHERE active AND status NOT IN ('dismissed', 'rectified')
),
insured AS (
    SELECT DISTINCT region_code, person_id
    FROM enrollment
    WHERE start_date <= $as_of AND (end_date IS NULL OR end_date >= $as_of)
),
paid AS (
    SELECT region_code, amount AS amount
    FROM benefit_payments
    WHERE period BETWEEN $window_from AND $window_to
    UNION ALL
    SELECT region_code, fund_paid
    FROM medical_claims
    WHERE strftime(service_date, '%Y%m') BETWEEN $window_from AND $window_to
),
by_region AS (
    SELECT region_code, count(*) AS findings, sum(amount_at_risk) AS amount_at_risk, 0 AS insured, 0 AS paid
    FROM findings WHERE region_code IS NOT NULL GROUP BY region_code
    UNION ALL
    SELECT region_code, 0, 0, count(*), 0 FROM insured WHERE region_code IS NOT NULL GROUP BY region_code
    UNION ALL
    SELECT region_code, 0, 0, 0, sum(amount) FROM paid WHERE region_code IS NOT NULL GROUP BY region_code
    UNION ALL
    SELECT '000000', count(*), sum(amount_at_risk), 0, 0 FROM findings
    UNION ALL
    SELECT '000000', 0, 0, count(DISTINCT person_id), 0 FROM insured
    UNION ALL
    SELECT '000000', 0, 0, 0, sum(amount) FROM paid
)
SELECT
    region_code,
    CAST(sum(findings) AS BIGINT)                                     AS findings,
    CAST(coalesce(sum(amount_at_risk), 0) AS DECIMAL(18, 2))          AS amount_at_risk,
    CAST(sum(insured) AS BIGINT)                                      AS insured,
    CAST(coalesce(sum(paid), 0) AS DECIMAL(18, 2))                    AS paid
FROM by_region
GROUP BY region_code
ORDER BY region_code;
