-- suspects: one row per (rule, subject_id) finding ever made (CONTRACT.md section 3).
-- suspect_id is derived from (rule, subject_id) alone, so it is stable across runs.
-- A finding that stops firing keeps its row (active = false): the analyst's record is never erased.
-- status and due_date belong to the 四定一限 case cycle; a new finding starts 'open' (待核查).
CREATE TABLE IF NOT EXISTS suspects (
    suspect_id      VARCHAR PRIMARY KEY,
    rule            VARCHAR NOT NULL,
    rule_name_zh    VARCHAR,
    subject_id      VARCHAR NOT NULL,
    person_id       VARCHAR,
    region_code     VARCHAR,
    period_from     VARCHAR,
    period_to       VARCHAR,
    amount_at_risk  DECIMAL(18, 2) NOT NULL,
    evidence        VARCHAR,            -- the sentence, then the proving rows
    summary         VARCHAR,            -- one sentence in Chinese
    evidence_rows   VARCHAR,            -- JSON array of the rows that prove it
    first_seen      DATE NOT NULL,
    last_seen       DATE NOT NULL,
    active          BOOLEAN NOT NULL,   -- fired in the latest run
    first_run_id    VARCHAR,
    last_run_id     VARCHAR,
    status          VARCHAR NOT NULL,
    due_date        DATE
);
