-- ingested_files: one row per file per run that saw it (CONTRACT.md section 4).
-- The latest 'loaded', 'replaced' or 'withdrawn' row of a (dataset, file) says what is in force: the version of
-- a loaded or replaced one, nothing after a withdrawal (sql/ingest/in_force_files.sql, ADR 0011).
CREATE TABLE IF NOT EXISTS ingested_files (
    run_id            VARCHAR NOT NULL,
    dataset           VARCHAR NOT NULL,
    file              VARCHAR NOT NULL,   -- path relative to the inbox: <dataset>/<name>
    sha256            VARCHAR NOT NULL,
    size_bytes        BIGINT,
    format            VARCHAR,            -- csv:utf-8 | csv:utf-8-sig | csv:gb18030 | xlsx | parquet
    status            VARCHAR NOT NULL,   -- loaded | skipped | replaced | rejected | withdrawn
    rows_loaded       BIGINT NOT NULL DEFAULT 0,
    rows_quarantined  BIGINT NOT NULL DEFAULT 0,
    reason            VARCHAR,
    ingested_at       TIMESTAMP NOT NULL
);
