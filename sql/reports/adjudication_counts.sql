-- Register (SQLite). Rows screened per pooling region of the screenings in the window of
-- adjudication_screenings.sql (the report's "screened"); region_code '' for rows without a valid one (INVALID).
-- Grain: one row per screening x region.
SELECT c.screening_id, c.region_code, c.rows, c.held, c.amount, c.held_amount
FROM screening_counts AS c
JOIN screenings AS s USING (screening_id)
WHERE substr(s.screened_at, 1, 10) BETWEEN :day_from AND :day_to
ORDER BY c.screening_id, c.region_code
