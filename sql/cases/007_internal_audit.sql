-- The agency's monthly internal audit (稽核, policy 浙人社发〔2012〕320号 §四, issue 16 item 1): every month a sample of
-- the business completed the month before is audited, coverage at least 20%. A draw (抽样) records its seed and the
-- published run it was drawn from, so it can be drawn again and compared (`fundwatch audit verify`); its sample, its
-- strata and every result recorded for a sampled business. Every table here is append-only (triggers below), like
-- the blacklist of 006_screening.sql: a draw is withdrawn by a row of audit_draw_withdrawals (who, when, why), a
-- result is replaced by a later result (the latest in force). Money is exact decimal text ('3210.00').
-- See docs/adr/0024-internal-audit-sample.md and pipelines/cases/internal_audit.py.

-- One row per draw. Grain: draw. month: the month audited (YYYYMM); seed: the random seed (63 bits); rate: the
-- sampling rate as exact decimal text ('0.20'); population_sha256: of the population as drawn (sorted rows), so a
-- re-draw can tell "the data changed" from "the sample differs".
CREATE TABLE IF NOT EXISTS audit_draws (
    draw_id            INTEGER PRIMARY KEY AUTOINCREMENT,
    month              TEXT NOT NULL CHECK (length(month) = 6),
    seed               INTEGER NOT NULL CHECK (seed >= 0),
    rate               TEXT NOT NULL,
    drawn_by           TEXT NOT NULL,           -- staff id (a chief)
    drawn_at           TEXT NOT NULL,           -- ISO timestamp with offset
    run_id             TEXT,                    -- the published run whose business_log it was drawn from
    population         INTEGER NOT NULL,        -- businesses completed in the month
    sampled            INTEGER NOT NULL,
    flagged            INTEGER NOT NULL,        -- of them, flagged by a nightly rule (always sampled)
    population_sha256  TEXT NOT NULL
);

CREATE INDEX IF NOT EXISTS audit_draws_by_month ON audit_draws (month, draw_id);

-- A draw withdrawn (撤销), once, with its reason; the draw and its sample stay on record.
CREATE TABLE IF NOT EXISTS audit_draw_withdrawals (
    draw_id            INTEGER PRIMARY KEY REFERENCES audit_draws (draw_id),
    withdrawn_by       TEXT NOT NULL,
    withdrawn_at       TEXT NOT NULL,
    withdrawal_reason  TEXT NOT NULL
);

-- Every draw with its withdrawal, if any (withdrawn_by/at/reason NULL while in force).
CREATE VIEW IF NOT EXISTS audit_draw_status AS
SELECT d.*, w.withdrawn_by, w.withdrawn_at, w.withdrawal_reason, w.draw_id IS NULL AS in_force
FROM audit_draws AS d
LEFT JOIN audit_draw_withdrawals AS w USING (draw_id);

-- The strata of a draw: business type x operator of the completing step. Grain: draw x stratum. business_type ''
-- when the log names none.
CREATE TABLE IF NOT EXISTS audit_strata (
    draw_id        INTEGER NOT NULL REFERENCES audit_draws (draw_id),
    business_type  TEXT NOT NULL,
    operator_id    TEXT NOT NULL,
    operator_name  TEXT,
    region_code    TEXT,
    population     INTEGER NOT NULL,
    sampled        INTEGER NOT NULL,
    flagged        INTEGER NOT NULL,
    PRIMARY KEY (draw_id, business_type, operator_id)
);

-- The sampled businesses. Grain: draw x business. why: 'flagged' (a nightly rule flagged it: always sampled) or
-- 'stratum' (drawn at random within its stratum); flagged_by: 'RULE:suspect_id' joined by ';' when flagged.
-- person_id is the citizen ID as the log has it: masked wherever a person reads it.
CREATE TABLE IF NOT EXISTS audit_sample (
    draw_id        INTEGER NOT NULL REFERENCES audit_draws (draw_id),
    business_id    TEXT NOT NULL,
    business_type  TEXT NOT NULL,
    operator_id    TEXT NOT NULL,
    operator_name  TEXT,
    region_code    TEXT,
    person_id      TEXT,
    amount         TEXT,
    completed_at   TEXT NOT NULL,           -- the completing step's operated_at (the office's local time, ISO)
    completed_stage TEXT NOT NULL,          -- pay, else the last stage the log has
    why            TEXT NOT NULL CHECK (why IN ('flagged', 'stratum')),
    flagged_by     TEXT,
    PRIMARY KEY (draw_id, business_id)
);

-- The result of auditing a sampled business: 'ok' 无问题 or 'problem' 有问题 (with its finding). Grain: one row per
-- result recorded; the latest of a (draw, business) is in force, none = not yet recorded (未录入). suspect_id: the
-- case opened for (or linked to) the problem, if any.
CREATE TABLE IF NOT EXISTS audit_results (
    result_id    INTEGER PRIMARY KEY AUTOINCREMENT,
    draw_id      INTEGER NOT NULL,
    business_id  TEXT NOT NULL,
    result       TEXT NOT NULL CHECK (result IN ('ok', 'problem')),
    finding      TEXT,
    suspect_id   TEXT,
    by_actor     TEXT NOT NULL,
    at           TEXT NOT NULL,
    CHECK (result = 'ok' OR (finding IS NOT NULL AND length(trim(finding)) > 0)),
    FOREIGN KEY (draw_id, business_id) REFERENCES audit_sample (draw_id, business_id)
);

CREATE INDEX IF NOT EXISTS audit_results_by_business ON audit_results (draw_id, business_id, result_id);

CREATE TRIGGER IF NOT EXISTS audit_draws_no_update BEFORE UPDATE ON audit_draws
BEGIN SELECT RAISE(ABORT, 'audit_draws is append-only: 抽样记录不可修改，请撤销后重新抽样'); END;
CREATE TRIGGER IF NOT EXISTS audit_draws_no_delete BEFORE DELETE ON audit_draws
BEGIN SELECT RAISE(ABORT, 'audit_draws is append-only: 抽样记录不可删除，请撤销'); END;
CREATE TRIGGER IF NOT EXISTS audit_draw_withdrawals_no_update BEFORE UPDATE ON audit_draw_withdrawals
BEGIN SELECT RAISE(ABORT, 'audit_draw_withdrawals is append-only: 撤销记录不可修改'); END;
CREATE TRIGGER IF NOT EXISTS audit_draw_withdrawals_no_delete BEFORE DELETE ON audit_draw_withdrawals
BEGIN SELECT RAISE(ABORT, 'audit_draw_withdrawals is append-only: 撤销记录不可删除'); END;
CREATE TRIGGER IF NOT EXISTS audit_strata_no_update BEFORE UPDATE ON audit_strata
BEGIN SELECT RAISE(ABORT, 'audit_strata is append-only: 抽样记录不可修改'); END;
CREATE TRIGGER IF NOT EXISTS audit_strata_no_delete BEFORE DELETE ON audit_strata
BEGIN SELECT RAISE(ABORT, 'audit_strata is append-only: 抽样记录不可删除'); END;
CREATE TRIGGER IF NOT EXISTS audit_sample_no_update BEFORE UPDATE ON audit_sample
BEGIN SELECT RAISE(ABORT, 'audit_sample is append-only: 抽样记录不可修改'); END;
CREATE TRIGGER IF NOT EXISTS audit_sample_no_delete BEFORE DELETE ON audit_sample
BEGIN SELECT RAISE(ABORT, 'audit_sample is append-only: 抽样记录不可删除'); END;
CREATE TRIGGER IF NOT EXISTS audit_results_no_update BEFORE UPDATE ON audit_results
BEGIN SELECT RAISE(ABORT, 'audit_results is append-only: 稽核结论不可修改，请另行登记'); END;
CREATE TRIGGER IF NOT EXISTS audit_results_no_delete BEFORE DELETE ON audit_results
BEGIN SELECT RAISE(ABORT, 'audit_results is append-only: 稽核结论不可删除'); END;
