-- Register (SQLite). Every case, as stored (its current state). Grain: one row per case.
-- A report reads it once and derives each case's state on its day from the events and case_money
-- (pipelines/cases/reports/sources.py, docs/adr/0019-report-time-base.md).
SELECT *
FROM cases
ORDER BY suspect_id
