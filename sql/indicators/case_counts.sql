-- One row per pooling region (and '000000', the province as a whole) of the case register mirrored into the DuckDB
-- file (`cases`, sql/cases/mirror_to_duckdb.sql, as of the run's data date): inputs of overdue_rate,
-- recurrence_rate and recovered_share (pipelines/cases/indicators.py). A case's region is the region that
-- verifies it: assigned_region, else the finding's region_code (下查一级), as in the reports.
-- * open cases: status neither dismissed nor rectified; overdue: of those, the register's derived flag (逾期: the
--   rectification deadline passed before the data date).
-- * ever rectified: rectified_on recorded or reopened at least once; recurrent: reopened after rectification at
--   least once (recurrences > 0: 整改后再次发生).
-- * confirmed: status confirmed, partially_recovered or rectified; their amount at risk and the amount recovered
--   (recovered_amount, counted by the register up to the amount at risk). Amounts are the register's exact text.
WITH c AS (
    SELECT
        coalesce(assigned_region, region_code)                             AS region_code,
        status NOT IN ('dismissed', 'rectified')                           AS is_open,
        coalesce(CAST(overdue AS BOOLEAN), false)                          AS is_overdue,
        rectified_on IS NOT NULL OR coalesce(recurrences, 0) > 0           AS ever_rectified,
        coalesce(recurrences, 0) > 0                                       AS recurrent,
        status IN ('confirmed', 'partially_recovered', 'rectified')        AS is_confirmed,
        CAST(amount_at_risk AS DECIMAL(18, 2))                             AS amount_at_risk,
        CAST(coalesce(nullif(recovered_amount, ''), '0') AS DECIMAL(18, 2)) AS recovered
    FROM cases
),
by_region AS (
    SELECT region_code, * EXCLUDE (region_code) FROM c WHERE region_code IS NOT NULL
    UNION ALL
    SELECT '000000', * EXCLUDE (region_code) FROM c
)
SELECT
    region_code,
    count(*) FILTER (WHERE is_open)                                                      AS open_cases,
    count(*) FILTER (WHERE is_open AND is_overdue)                                       AS overdue_cases,
    count(*) FILTER (WHERE ever_rectified)                                               AS rectified_cases,
    count(*) FILTER (WHERE recurrent)                                                    AS recurrent_cases,
    CAST(coalesce(sum(amount_at_risk) FILTER (WHERE is_confirmed), 0) AS DECIMAL(18, 2)) AS confirmed_amount,
    CAST(coalesce(sum(recovered) FILTER (WHERE is_confirmed), 0) AS DECIMAL(18, 2))      AS recovered_amount
FROM by_region
GROUP BY region_code
ORDER BY region_code;
