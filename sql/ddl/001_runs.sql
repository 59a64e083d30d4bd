-- runs: one row per nightly run (CONTRACT.md section 4).
CREATE TABLE IF NOT EXISTS runs (
    run_id            VARCHAR PRIMARY KEY,
    as_of             DATE NOT NULL,
    inbox             VARCHAR,
    started_at        TIMESTAMP NOT NULL,
    finished_at       TIMESTAMP,
    status            VARCHAR NOT NULL,   -- running | succeeded | bad_input | failed
    files_seen        BIGINT DEFAULT 0,
    files_loaded      BIGINT DEFAULT 0,
    files_replaced    BIGINT DEFAULT 0,
    files_skipped     BIGINT DEFAULT 0,
    files_rejected    BIGINT DEFAULT 0,
    rows_loaded       BIGINT DEFAULT 0,
    rows_quarantined  BIGINT DEFAULT 0,
    findings          BIGINT DEFAULT 0,
    ingest_seconds    DOUBLE,
    rules_seconds     DOUBLE,
    cases_seconds     DOUBLE
);
