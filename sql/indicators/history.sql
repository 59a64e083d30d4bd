-- The indicators of the last run of each month (by data date as_of; the latest computed when a day was run twice)
-- with as_of from $date_from to $date_to: one row per (month, region, indicator), months ascending.
WITH runs_of_period AS (
    SELECT DISTINCT run_id, as_of, computed_at FROM indicators WHERE as_of BETWEEN $date_from AND $date_to
),
chosen AS (
    SELECT run_id, strftime(as_of, '%Y%m') AS month
    FROM runs_of_period
    QUALIFY row_number() OVER (PARTITION BY strftime(as_of, '%Y%m') ORDER BY as_of DESC, computed_at DESC, run_id DESC) = 1
)
SELECT c.month, i.run_id, i.as_of, i.region_code, i.indicator, i.value, i.numerator, i.denominator, i.basis
FROM indicators AS i
JOIN chosen AS c USING (run_id)
ORDER BY c.month, i.region_code <> '000000', i.region_code, i.indicator;
