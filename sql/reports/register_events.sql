-- Register (SQLite). Every case event, in the order recorded, with the day it took effect (event_date): the
-- date the analyst gave (`details.on`, e.g. `case verify --on`), the case's first_seen for the run that
-- found it, else the day it was recorded. That day is the time base of case work in every report
-- (docs/adr/0019-report-time-base.md). Grain: one row per event.
SELECT e.event_id, e.suspect_id,
       CASE
           WHEN json_valid(e.details) AND json_extract(e.details, '$.on') IS NOT NULL
               THEN substr(json_extract(e.details, '$.on'), 1, 10)
           WHEN e.action = 'found' THEN c.first_seen
           ELSE substr(e.at, 1, 10)
       END AS event_date,
       e.action, e.from_status, e.to_status, e.reason, e.details
FROM case_events AS e
LEFT JOIN cases AS c ON c.suspect_id = e.suspect_id
ORDER BY e.event_id
