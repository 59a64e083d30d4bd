-- quarantine: one row per input row that could not be made valid (CONTRACT.md section 4),
-- for the versions of files currently in force. "column" is the first failing column;
-- reason lists every failing column of the row.
CREATE TABLE IF NOT EXISTS quarantine (
    run_id    VARCHAR NOT NULL,
    dataset   VARCHAR NOT NULL,
    file      VARCHAR NOT NULL,
    line      BIGINT,
    "column"  VARCHAR,
    reason    VARCHAR NOT NULL,
    raw       VARCHAR NOT NULL    -- the row as it arrived, JSON object of header -> text
);
