-- Register (SQLite). The screenings (事前筛查) recorded around a month, for the monthly adjudication report
-- (pipelines/cases/reports/adjudication.py). screened_at carries the offset it was recorded with, so the window is
-- its written date widened by a day each side (:day_from, :day_to); the report keeps those whose screened_at falls
-- in the month in the office's time zone. Grain: one row per screening.
SELECT screening_id, batch_file, screened_at, screened_by, channel, as_of, run_id, rows, held, amount, held_amount
FROM screenings
WHERE substr(screened_at, 1, 10) BETWEEN :day_from AND :day_to
ORDER BY screening_id
