-- The early warnings of the last run of each month (chosen as in history.sql) with as_of from $date_from to
-- $date_to: one row per (month, region, indicator) that reached a level, months ascending, most severe first.
WITH runs_of_period AS (
    SELECT DISTINCT run_id, as_of, computed_at FROM indicators WHERE as_of BETWEEN $date_from AND $date_to
),
chosen AS (
    SELECT run_id, strftime(as_of, '%Y%m') AS month
    FROM runs_of_period
    QUALIFY row_number() OVER (PARTITION BY strftime(as_of, '%Y%m') ORDER BY as_of DESC, computed_at DESC, run_id DESC) = 1
)
SELECT c.month, w.run_id, w.as_of, w.region_code, w.indicator, w.value, w.threshold, w.direction, w.level, w.message
FROM early_warnings AS w
JOIN chosen AS c USING (run_id)
ORDER BY
    c.month,
    CASE w.level WHEN 'alarm' THEN 0 WHEN 'warning' THEN 1 ELSE 2 END,
    w.region_code <> '000000',
    w.region_code,
    w.indicator;
