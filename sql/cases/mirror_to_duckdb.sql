-- Mirror the case register (registered as _register_cases) into the DuckDB file, so analysts see status and
-- deadline beside each suspect. The register stays the source of truth. Its log, case_events, is mirrored
-- before this script, appended to or replaced whole (pipelines/cases/nightly.py).
CREATE OR REPLACE TABLE cases AS SELECT * FROM _register_cases;

UPDATE suspects AS s SET
    status   = CASE WHEN c.overdue THEN 'overdue' ELSE c.status END,
    due_date = CAST(c.due_date AS DATE)
FROM _register_cases AS c
WHERE s.suspect_id = c.suspect_id;
