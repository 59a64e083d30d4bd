-- The case log is an audit record: append-only and hash-chained
-- (docs/adr/0013-tamper-evident-case-log.md, pipelines/cases/audit.py).
-- Each case_events row carries prev_hash (the previous event's hash, in event_id order; 64 zeros before the
-- first) and hash (sha256 of its fields and prev_hash), computed by fundwatch in the transaction that inserts it.

-- When a register older than the chain was opened, its events were hashed once, in order, as found then:
-- one row per such chaining. Grain: one row per chaining (normally none, or one on an upgraded register).
CREATE TABLE IF NOT EXISTS case_log_chained (
    chained_at     TEXT NOT NULL,       -- ISO timestamp of the migration
    last_event_id  INTEGER NOT NULL,    -- events up to this id were chained at migration, not when written
    events         INTEGER NOT NULL,    -- how many events were chained
    head_hash      TEXT NOT NULL,       -- the hash of event last_event_id then
    absent_ids     TEXT NOT NULL,       -- JSON array of event ids already missing then (gaps found, not made)
    note           TEXT NOT NULL
);

CREATE TRIGGER IF NOT EXISTS case_events_no_update BEFORE UPDATE ON case_events
BEGIN
    SELECT RAISE(ABORT, 'case_events is append-only: 案件记录不可修改 an event cannot be changed');
END;

CREATE TRIGGER IF NOT EXISTS case_events_no_delete BEFORE DELETE ON case_events
BEGIN
    SELECT RAISE(ABORT, 'case_events is append-only: 案件记录不可删除 an event cannot be deleted');
END;

-- An event must come with its hash, chained to the last event (fundwatch computes it; sqlite3 by hand cannot
-- forget it). The hash itself is checked by `fundwatch case verify-log`: SQLite has no sha256 here.
CREATE TRIGGER IF NOT EXISTS case_events_chained BEFORE INSERT ON case_events
WHEN NEW.hash IS NULL
    OR NEW.prev_hash IS NOT COALESCE(
        (SELECT hash FROM case_events ORDER BY event_id DESC LIMIT 1),
        '0000000000000000000000000000000000000000000000000000000000000000'
    )
BEGIN
    SELECT RAISE(ABORT, 'case_events is chained: 案件记录须接续哈希链 an event needs prev_hash = the last hash');
END;

CREATE TRIGGER IF NOT EXISTS case_log_chained_no_update BEFORE UPDATE ON case_log_chained
BEGIN
    SELECT RAISE(ABORT, 'case_log_chained is append-only: 迁移记录不可修改 cannot be changed');
END;

CREATE TRIGGER IF NOT EXISTS case_log_chained_no_delete BEFORE DELETE ON case_log_chained
BEGIN
    SELECT RAISE(ABORT, 'case_log_chained is append-only: 迁移记录不可删除 cannot be deleted');
END;
