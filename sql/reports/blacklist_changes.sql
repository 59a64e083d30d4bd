-- Register (SQLite). Every blacklist entry (黑名单) ever made, with its removal if any (the contract's `blacklist`,
-- sql/cases/006_screening.sql). The supervision report keeps the additions and removals of its period, by the day
-- they were made in the office's time zone. Grain: one row per entry.
SELECT entry_id, kind, key, reason, source_suspect_id, added_by, added_at, removed_by, removed_at, removal_reason
FROM blacklist
ORDER BY entry_id
