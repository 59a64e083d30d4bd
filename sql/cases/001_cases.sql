-- The case register (四定一限): analyst-written state, in SQLite beside the DuckDB file
-- (docs/adr/0007-case-register-in-sqlite.md). One row per suspect ever found.
-- Money is TEXT holding an exact decimal ('41220.00'); dates are ISO TEXT ('2026-11-27').
CREATE TABLE IF NOT EXISTS cases (
    suspect_id        TEXT PRIMARY KEY,
    rule              TEXT NOT NULL,
    subject_id        TEXT NOT NULL,
    person_id         TEXT,
    region_code       TEXT,             -- the pooling region that must verify it (下查一级), from the finding
    period_from       TEXT,
    period_to         TEXT,
    amount_at_risk    TEXT NOT NULL,
    summary           TEXT,
    status            TEXT NOT NULL,    -- open | under_verification | confirmed | dismissed | rectified
    firing            INTEGER NOT NULL, -- 1: the latest run found it; 0: it stopped firing (kept, never erased)
    first_seen        TEXT NOT NULL,
    last_seen         TEXT NOT NULL,
    recurrences       INTEGER NOT NULL DEFAULT 0,  -- times a rectified case fired again and was reopened
    assigned_region   TEXT,
    assignee          TEXT,
    assigned_on       TEXT,
    due_date          TEXT,             -- 限期整改: 30 working days from assignment
    confirmed_on      TEXT,
    severity          TEXT,             -- 要情 (< 500,000 yuan) | 重大要情 (>= 500,000 yuan), once confirmed
    report_due        TEXT,             -- 5 working days from confirmation
    reported_on       TEXT,
    dismissed_reason  TEXT,
    recovered_amount  TEXT,             -- 追回金额
    rectified_on      TEXT
);

-- Every change: who, when, from what to what, and why. Append-only and hash-chained (002_case_log.sql).
CREATE TABLE IF NOT EXISTS case_events (
    event_id     INTEGER PRIMARY KEY AUTOINCREMENT,
    suspect_id   TEXT NOT NULL REFERENCES cases (suspect_id),
    at           TEXT NOT NULL,         -- ISO timestamp
    actor        TEXT NOT NULL,         -- analyst id, or 'fundwatch-run <run_id>'
    action       TEXT NOT NULL,         -- found | refreshed | stopped_firing | fired_again | reopened | assign | verify | confirm | dismiss | rectify | report
    from_status  TEXT,
    to_status    TEXT,
    reason       TEXT,
    details      TEXT,                  -- JSON of the values recorded
    prev_hash    TEXT,                  -- the previous event's hash (event_id order); 64 zeros before the first
    hash         TEXT                   -- sha256 of this event's fields and prev_hash (pipelines/cases/audit.py)
);

CREATE INDEX IF NOT EXISTS case_events_by_case ON case_events (suspect_id, event_id);

-- Operators the logs show paying what a case concerns (stage 'pay' for its person or business),
-- refreshed by every nightly run: they may not verify the case (回避).
CREATE TABLE IF NOT EXISTS case_payers (
    suspect_id   TEXT NOT NULL,
    operator_id  TEXT NOT NULL,
    PRIMARY KEY (suspect_id, operator_id)
);
