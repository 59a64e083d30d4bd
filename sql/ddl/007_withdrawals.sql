-- withdrawals: one row per withdrawal request a run has dealt with (ADR 0011), applied or refused.
-- A request (`fundwatch withdraw`) waits in the queue folder beside the database (`<db>.withdrawals/`)
-- until a run applies it under its writer lock; its id here means it is done, so the queue file can go.
-- A withdrawn file's event is also in ingested_files (status 'withdrawn'): that is what ends its force.
CREATE TABLE IF NOT EXISTS withdrawals (
    request_id          VARCHAR PRIMARY KEY,
    dataset             VARCHAR NOT NULL,
    file                VARCHAR NOT NULL,   -- <dataset>/<name>, as in ingested_files
    sha256              VARCHAR,            -- the version the request withdraws (in force when requested)
    requested_by        VARCHAR NOT NULL,
    requested_at        TIMESTAMP NOT NULL,
    reason              VARCHAR NOT NULL,   -- why, in the requester's words
    run_id              VARCHAR NOT NULL,   -- the run that dealt with it
    applied_at          TIMESTAMP NOT NULL,
    outcome             VARCHAR NOT NULL,   -- withdrawn | refused
    note                VARCHAR,            -- why a request was refused
    rows_removed        BIGINT NOT NULL DEFAULT 0,
    quarantine_removed  BIGINT NOT NULL DEFAULT 0
);
