-- Register (SQLite). One row per case_events row recorded between :date_from and :date_to (inclusive),
-- with the facts of its case: who assigned, verified, dismissed (with the reason), rectified, reopened.
SELECT e.event_id, e.suspect_id, substr(e.at, 1, 10) AS event_date, e.action, e.from_status, e.to_status,
       COALESCE(e.reason, c.dismissed_reason) AS reason,
       c.rule, c.region_code, c.assigned_region, c.amount_at_risk
FROM case_events AS e
JOIN cases AS c ON c.suspect_id = e.suspect_id
WHERE substr(e.at, 1, 10) BETWEEN :date_from AND :date_to
ORDER BY e.event_id
