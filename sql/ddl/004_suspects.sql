-- suspects: one row per (rule, subject_id) finding (CONTRACT.md section 3).
-- Filled by the detection rules; the analyst-facing status and deadline come from the case register.
CREATE TABLE IF NOT EXISTS suspects (
    suspect_id      VARCHAR PRIMARY KEY,
    rule            VARCHAR NOT NULL,
    subject_id      VARCHAR NOT NULL,
    person_id       VARCHAR,
    region_code     VARCHAR,
    period_from     VARCHAR,
    period_to       VARCHAR,
    amount_at_risk  DECIMAL(18, 2),
    evidence        VARCHAR,
    first_seen      DATE,
    last_seen       DATE,
    status          VARCHAR,
    due_date        DATE,
    UNIQUE (rule, subject_id)
);
