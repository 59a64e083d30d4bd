-- The early warnings of one run ($run_id; NULL: the latest run that has indicators, by data date then time
-- computed), most severe first (alarm, warning, watch), then province first, by region and indicator.
WITH chosen AS (
    SELECT coalesce(
        $run_id,
        (SELECT run_id FROM indicators ORDER BY as_of DESC, computed_at DESC, run_id DESC LIMIT 1)
    ) AS run_id
)
SELECT w.run_id, w.as_of, w.region_code, w.indicator, w.value, w.threshold, w.direction, w.level, w.message
FROM early_warnings AS w
JOIN chosen USING (run_id)
ORDER BY
    CASE w.level WHEN 'alarm' THEN 0 WHEN 'warning' THEN 1 ELSE 2 END,
    w.region_code <> '000000',
    w.region_code,
    CASE w.indicator
        WHEN 'findings_per_10k' THEN 1 WHEN 'amount_at_risk_share' THEN 2 WHEN 'overdue_rate' THEN 3
        WHEN 'recurrence_rate' THEN 4 WHEN 'recovered_share' THEN 5 ELSE 6
    END;
