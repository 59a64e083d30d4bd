-- file_overlaps: the files a run loaded or replaced whose rows largely repeat another file in force of the same
-- dataset (ADR 0011; found at the end of the run's ingestion by sql/ingest/overlapping_files.sql, so the run's
-- summary and later readers read them instead of hashing every dataset again). Grain: one row per (run, file,
-- other file); a run that found none has no rows.
CREATE TABLE IF NOT EXISTS file_overlaps (
    run_id       VARCHAR NOT NULL,
    dataset      VARCHAR NOT NULL,
    file         VARCHAR NOT NULL,   -- <dataset>/<name>: loaded or replaced by the run
    other_file   VARCHAR NOT NULL,   -- the file in force it repeats
    rows         BIGINT NOT NULL,    -- the file's valid rows
    rows_shared  BIGINT NOT NULL,    -- of them, identical on every contract column to a row of other_file
    share        DOUBLE NOT NULL,    -- rows_shared / rows, four decimals
    PRIMARY KEY (run_id, file, other_file)
);
