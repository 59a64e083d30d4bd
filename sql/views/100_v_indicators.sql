-- v_indicators: one row per (run, pooling region, indicator) ever computed, newest run first: the history of the
-- 统计分析 indicators (table `indicators`; definitions in pipelines/cases/indicators.py and
-- docs/adr/0027-indicators-and-early-warning.md). region_code '000000' is the province as a whole (全省).
-- indicator_zh: the Chinese name; value: numerator / denominator (× 10,000 for findings_per_10k), exact to 6
-- decimals, NULL when there is nothing to divide by; missing_deliveries is a count. latest_run: the row belongs to
-- the latest run that computed indicators.
CREATE OR REPLACE VIEW v_indicators AS
WITH latest AS (
    SELECT run_id FROM indicators ORDER BY as_of DESC, computed_at DESC, run_id DESC LIMIT 1
)
SELECT
    i.run_id,
    i.as_of,
    i.region_code,
    i.indicator,
    CASE i.indicator
        WHEN 'findings_per_10k' THEN '每万参保人疑点数'
        WHEN 'amount_at_risk_share' THEN '风险金额占待遇支出比'
        WHEN 'overdue_rate' THEN '超期率'
        WHEN 'recurrence_rate' THEN '复发率'
        WHEN 'recovered_share' THEN '追回率'
        WHEN 'missing_deliveries' THEN '缺失报送数'
    END                                          AS indicator_zh,
    i.value,
    i.numerator,
    i.denominator,
    i.basis,
    i.computed_at,
    i.run_id IN (SELECT run_id FROM latest)      AS latest_run
FROM indicators AS i
ORDER BY i.as_of DESC, i.computed_at DESC, i.region_code, i.indicator;
