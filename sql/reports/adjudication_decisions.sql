-- Register (SQLite). Every decision recorded on a held row of the screenings in the window of
-- adjudication_screenings.sql (核实认定: proper 准予发放, improper 不予发放, pending 待认定), in the order recorded. The
-- report replays them to its cut-off: the last one recorded by then is in force, none = pending.
-- Grain: one row per decision.
SELECT a.adjudication_id, a.screening_id, a.line, a.decision, a.at
FROM screening_adjudications AS a
JOIN screenings AS s USING (screening_id)
WHERE substr(s.screened_at, 1, 10) BETWEEN :day_from AND :day_to
ORDER BY a.adjudication_id
