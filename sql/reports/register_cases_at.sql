-- Register (SQLite). One row per case first seen on or before :day, with its status as of that day
-- (status_at): the to_status of the last status-bearing case_events row recorded on or before :day.
-- A case with events but none by :day was still open; a case without any events (imported) keeps
-- its current status. Overdue (逾期) is derived by the caller: due_date < :day and status_at not closed.
WITH last_change AS (
    SELECT suspect_id, to_status,
           row_number() OVER (PARTITION BY suspect_id ORDER BY event_id DESC) AS rn
    FROM case_events
    WHERE to_status IS NOT NULL AND substr(at, 1, 10) <= :day
),
with_events AS (
    SELECT DISTINCT suspect_id FROM case_events
)
SELECT c.*,
       COALESCE(lc.to_status, CASE WHEN we.suspect_id IS NULL THEN c.status ELSE 'open' END) AS status_at
FROM cases AS c
LEFT JOIN last_change AS lc ON lc.suspect_id = c.suspect_id AND lc.rn = 1
LEFT JOIN with_events AS we ON we.suspect_id = c.suspect_id
WHERE c.first_seen <= :day
ORDER BY c.suspect_id
