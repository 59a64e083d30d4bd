-- Pre-payment screening (事前预防, CONTRACT.md section 7, issue 15): every screening of a payment batch, its held
-- rows and their adjudication; the blacklist (黑名单); the API tokens of the payment systems that call
-- POST /api/screen and every such call. Every table here is append-only (triggers below), like case_events: a
-- change of state is a new row, the latest one in force. Money is exact decimal text ('3210.00').

-- One row per screening (`fundwatch screen`, or one call of POST /api/screen).
CREATE TABLE IF NOT EXISTS screenings (
    screening_id  INTEGER PRIMARY KEY AUTOINCREMENT,
    batch_file    TEXT NOT NULL,           -- the batch file's name as given; 'api' for a call of the service
    sha256        TEXT NOT NULL,           -- of the batch's bytes (the request body for the service)
    screened_at   TEXT NOT NULL,           -- ISO timestamp with offset
    screened_by   TEXT NOT NULL,           -- staff id of the OS account; 'os:<user>' when unregistered; 'token:<name>'
    channel       TEXT NOT NULL CHECK (channel IN ('cli', 'api')),
    as_of         TEXT NOT NULL,           -- the date it was screened for (ISO): open spells run until it
    run_id        TEXT,                    -- the published run whose data it was screened against
    rows          INTEGER NOT NULL,        -- data rows of the batch (INVALID ones included)
    held          INTEGER NOT NULL,
    amount        TEXT NOT NULL,           -- sum of the valid rows' amounts
    held_amount   TEXT NOT NULL            -- sum of the held valid rows' amounts
);

CREATE INDEX IF NOT EXISTS screenings_by_time ON screenings (screened_at);

-- Rows screened per pooling region (the monthly adjudication report's "screened"). Grain: screening x region;
-- region_code '' for rows without a valid one (INVALID rows).
CREATE TABLE IF NOT EXISTS screening_counts (
    screening_id  INTEGER NOT NULL REFERENCES screenings (screening_id),
    region_code   TEXT NOT NULL,
    rows          INTEGER NOT NULL,
    held          INTEGER NOT NULL,
    amount        TEXT NOT NULL,
    held_amount   TEXT NOT NULL,
    PRIMARY KEY (screening_id, region_code)
);

-- Every held row of a screening, as it was held. Grain: screening x line. person_id is canonical, or the ID as it
-- arrived when invalid; amount NULL when it could not be read. reasons: codes joined by ';' in the contract's order.
CREATE TABLE IF NOT EXISTS screening_holds (
    screening_id  INTEGER NOT NULL REFERENCES screenings (screening_id),
    line          INTEGER NOT NULL,
    payment_id    TEXT,
    person_id     TEXT,
    region_code   TEXT,
    scheme        TEXT,
    benefit_type  TEXT,
    period        TEXT,
    amount        TEXT,
    bank_account  TEXT,
    reasons       TEXT NOT NULL,
    explanation   TEXT NOT NULL,
    PRIMARY KEY (screening_id, line)
);

CREATE INDEX IF NOT EXISTS screening_holds_by_person ON screening_holds (person_id);

-- Adjudication of a held row (核实认定), like Do Not Pay's: `proper` 准予发放 (released), `improper` 不予发放 (stopped),
-- `pending` 待认定 (set back). Grain: one row per decision recorded; the latest of a (screening, line) is in force,
-- none = pending. by_actor: the staff member who decided; recorded_by: a chief recording on their behalf.
CREATE TABLE IF NOT EXISTS screening_adjudications (
    adjudication_id INTEGER PRIMARY KEY AUTOINCREMENT,
    screening_id    INTEGER NOT NULL,
    line            INTEGER NOT NULL,
    decision        TEXT NOT NULL CHECK (decision IN ('proper', 'improper', 'pending')),
    reason          TEXT NOT NULL,
    by_actor        TEXT NOT NULL,
    recorded_by     TEXT,
    at              TEXT NOT NULL,          -- ISO timestamp with offset
    FOREIGN KEY (screening_id, line) REFERENCES screening_holds (screening_id, line)
);

CREATE INDEX IF NOT EXISTS screening_adjudications_by_hold ON screening_adjudications (screening_id, line, adjudication_id);

-- Every held row with the decision in force (pending when none was recorded).
CREATE VIEW IF NOT EXISTS screening_hold_status AS
SELECT h.*,
       coalesce(a.decision, 'pending') AS decision,
       a.reason AS decision_reason,
       a.by_actor AS decided_by,
       a.at AS decided_at,
       s.screened_at,
       s.batch_file
FROM screening_holds AS h
JOIN screenings AS s USING (screening_id)
LEFT JOIN screening_adjudications AS a
  ON a.adjudication_id = (
      SELECT max(adjudication_id) FROM screening_adjudications AS b
      WHERE b.screening_id = h.screening_id AND b.line = h.line
  );

-- The blacklist (黑名单) of violating employers, persons and accounts. An entry is added once and never erased; its
-- removal is a row of blacklist_removals (who, when, why). key: employer_id, canonical citizen ID, or bank account.
CREATE TABLE IF NOT EXISTS blacklist_entries (
    entry_id           INTEGER PRIMARY KEY AUTOINCREMENT,
    kind               TEXT NOT NULL CHECK (kind IN ('employer', 'person', 'account')),
    key                TEXT NOT NULL,
    reason             TEXT NOT NULL,
    source_suspect_id  TEXT,                -- the case it came from, if any
    added_by           TEXT NOT NULL,       -- staff id (a chief)
    added_at           TEXT NOT NULL
);

CREATE INDEX IF NOT EXISTS blacklist_entries_by_key ON blacklist_entries (kind, key);

CREATE TABLE IF NOT EXISTS blacklist_removals (
    entry_id        INTEGER PRIMARY KEY REFERENCES blacklist_entries (entry_id),
    removed_by      TEXT NOT NULL,
    removed_at      TEXT NOT NULL,
    removal_reason  TEXT NOT NULL
);

-- The contract's `blacklist` (section 7): every entry ever made, in force or removed.
CREATE VIEW IF NOT EXISTS blacklist AS
SELECT e.entry_id, e.kind, e.key, e.reason, e.source_suspect_id, e.added_by, e.added_at,
       r.removed_by, r.removed_at, r.removal_reason,
       r.entry_id IS NULL AS in_force
FROM blacklist_entries AS e
LEFT JOIN blacklist_removals AS r USING (entry_id);

-- The payment systems allowed to call POST /api/screen: one token each, created by an admin, stored as the
-- SHA-256 of the token (a 256-bit random secret: no dictionary to guess from), revocable.
CREATE TABLE IF NOT EXISTS api_tokens (
    token_id    INTEGER PRIMARY KEY AUTOINCREMENT,
    name        TEXT NOT NULL UNIQUE,
    token_hash  TEXT NOT NULL UNIQUE,
    created_by  TEXT NOT NULL,
    created_at  TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS api_token_revocations (
    token_id    INTEGER PRIMARY KEY REFERENCES api_tokens (token_id),
    revoked_by  TEXT NOT NULL,
    revoked_at  TEXT NOT NULL,
    reason      TEXT NOT NULL
);

-- Every call of the service, accepted or refused. Never an ID: the token's name, counts, the outcome.
CREATE TABLE IF NOT EXISTS api_calls (
    call_id       INTEGER PRIMARY KEY AUTOINCREMENT,
    at            TEXT NOT NULL,
    token_name    TEXT NOT NULL,            -- '-' when no token or an unknown one was given
    remote        TEXT,
    outcome       TEXT NOT NULL,            -- ok | refused | error
    rows          INTEGER,
    held          INTEGER,
    screening_id  INTEGER,
    detail        TEXT
);

CREATE TRIGGER IF NOT EXISTS screenings_no_update BEFORE UPDATE ON screenings
BEGIN SELECT RAISE(ABORT, 'screenings is append-only: 筛查记录不可修改'); END;
CREATE TRIGGER IF NOT EXISTS screenings_no_delete BEFORE DELETE ON screenings
BEGIN SELECT RAISE(ABORT, 'screenings is append-only: 筛查记录不可删除'); END;
CREATE TRIGGER IF NOT EXISTS screening_counts_no_update BEFORE UPDATE ON screening_counts
BEGIN SELECT RAISE(ABORT, 'screening_counts is append-only: 筛查记录不可修改'); END;
CREATE TRIGGER IF NOT EXISTS screening_counts_no_delete BEFORE DELETE ON screening_counts
BEGIN SELECT RAISE(ABORT, 'screening_counts is append-only: 筛查记录不可删除'); END;
CREATE TRIGGER IF NOT EXISTS screening_holds_no_update BEFORE UPDATE ON screening_holds
BEGIN SELECT RAISE(ABORT, 'screening_holds is append-only: 暂停记录不可修改'); END;
CREATE TRIGGER IF NOT EXISTS screening_holds_no_delete BEFORE DELETE ON screening_holds
BEGIN SELECT RAISE(ABORT, 'screening_holds is append-only: 暂停记录不可删除'); END;
CREATE TRIGGER IF NOT EXISTS screening_adjudications_no_update BEFORE UPDATE ON screening_adjudications
BEGIN SELECT RAISE(ABORT, 'screening_adjudications is append-only: 认定记录不可修改，请另行认定'); END;
CREATE TRIGGER IF NOT EXISTS screening_adjudications_no_delete BEFORE DELETE ON screening_adjudications
BEGIN SELECT RAISE(ABORT, 'screening_adjudications is append-only: 认定记录不可删除'); END;
CREATE TRIGGER IF NOT EXISTS blacklist_entries_no_update BEFORE UPDATE ON blacklist_entries
BEGIN SELECT RAISE(ABORT, 'blacklist_entries is append-only: 黑名单记录不可修改'); END;
CREATE TRIGGER IF NOT EXISTS blacklist_entries_no_delete BEFORE DELETE ON blacklist_entries
BEGIN SELECT RAISE(ABORT, 'blacklist_entries is append-only: 黑名单记录不可删除，请以移出记录'); END;
CREATE TRIGGER IF NOT EXISTS blacklist_removals_no_update BEFORE UPDATE ON blacklist_removals
BEGIN SELECT RAISE(ABORT, 'blacklist_removals is append-only: 移出记录不可修改'); END;
CREATE TRIGGER IF NOT EXISTS blacklist_removals_no_delete BEFORE DELETE ON blacklist_removals
BEGIN SELECT RAISE(ABORT, 'blacklist_removals is append-only: 移出记录不可删除'); END;
CREATE TRIGGER IF NOT EXISTS api_tokens_no_update BEFORE UPDATE ON api_tokens
BEGIN SELECT RAISE(ABORT, 'api_tokens is append-only: 令牌记录不可修改，请吊销'); END;
CREATE TRIGGER IF NOT EXISTS api_tokens_no_delete BEFORE DELETE ON api_tokens
BEGIN SELECT RAISE(ABORT, 'api_tokens is append-only: 令牌记录不可删除，请吊销'); END;
CREATE TRIGGER IF NOT EXISTS api_token_revocations_no_update BEFORE UPDATE ON api_token_revocations
BEGIN SELECT RAISE(ABORT, 'api_token_revocations is append-only: 吊销记录不可修改'); END;
CREATE TRIGGER IF NOT EXISTS api_token_revocations_no_delete BEFORE DELETE ON api_token_revocations
BEGIN SELECT RAISE(ABORT, 'api_token_revocations is append-only: 吊销记录不可删除'); END;
CREATE TRIGGER IF NOT EXISTS api_calls_no_update BEFORE UPDATE ON api_calls
BEGIN SELECT RAISE(ABORT, 'api_calls is append-only: 调用记录不可修改'); END;
CREATE TRIGGER IF NOT EXISTS api_calls_no_delete BEFORE DELETE ON api_calls
BEGIN SELECT RAISE(ABORT, 'api_calls is append-only: 调用记录不可删除'); END;
