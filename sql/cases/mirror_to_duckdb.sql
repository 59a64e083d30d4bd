-- Mirror the case register (registered as _register_cases / _register_events) into the DuckDB file,
-- so analysts see status and deadline beside each suspect. The register stays the source of truth.
CREATE OR REPLACE TABLE cases AS SELECT * FROM _register_cases;

CREATE OR REPLACE TABLE case_events AS SELECT * FROM _register_events;

UPDATE suspects AS s SET
    status   = CASE WHEN c.overdue THEN 'overdue' ELSE c.status END,
    due_date = CAST(c.due_date AS DATE)
FROM _register_cases AS c
WHERE s.suspect_id = c.suspect_id;
