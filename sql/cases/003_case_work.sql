-- Case work an office can sign (issue 12): staff and their roles, money recorded event by event, provisional
-- deadlines, and an access log of everything shown unmasked. Every table here is append-only (triggers below),
-- like case_events; state that changes (a staff member disabled) is a new row, the latest one in force.
--
-- Columns added to `cases` by pipelines/cases/register.py (ALTER TABLE, for registers older than this file):
--   due_provisional        INTEGER 0/1  the 整改期限 was counted on a calendar without the official arrangement (暂定)
--   report_due_provisional INTEGER 0/1  the same for the 要情 report deadline
--   written_off_amount     TEXT         核销: the part of the amount at risk a chief wrote off (with a reason)
--   excess_amount          TEXT         recovered above the amount at risk (罚没 penalties …), never a recovery rate
--   last_reported_on       TEXT         the latest 要情 report (续报); reported_on stays the first
--   on_behalf_of …         (none: events carry it in details)
-- recovered_amount (001) is the sum of the 'recovered' rows of case_money up to the amount at risk.

-- Staff (人员): who may do what. Grain: one row per change of a staff member (added, changed, disabled);
-- the latest row of a staff_id is in force. role: chief 科长 | verifier 核查员 | auditor 审计 | admin 系统管理员.
-- regions: JSON array of six-digit pooling-region codes a verifier works (chiefs and auditors: all).
-- os_user: the operating-system account a command runs under, mapped to this staff member.
CREATE TABLE IF NOT EXISTS staff_log (
    change_id   INTEGER PRIMARY KEY AUTOINCREMENT,
    staff_id    TEXT NOT NULL,
    name        TEXT NOT NULL,
    role        TEXT NOT NULL CHECK (role IN ('chief', 'verifier', 'auditor', 'admin')),
    regions     TEXT NOT NULL DEFAULT '[]',
    os_user     TEXT,
    active      INTEGER NOT NULL CHECK (active IN (0, 1)),
    at          TEXT NOT NULL,           -- ISO timestamp with offset
    by_actor    TEXT NOT NULL,           -- who made the change (staff id, or 'bootstrap:<os user>' for the first admin)
    reason      TEXT
);

CREATE INDEX IF NOT EXISTS staff_log_by_staff ON staff_log (staff_id, change_id);

CREATE VIEW IF NOT EXISTS staff AS
SELECT s.staff_id, s.name, s.role, s.regions, s.os_user, s.active, s.at AS changed_at, s.by_actor AS changed_by
FROM staff_log AS s
WHERE s.change_id = (SELECT max(change_id) FROM staff_log AS t WHERE t.staff_id = s.staff_id);

-- Money of a case, one row per amount recorded (追回 recovered, 核销 written_off, 超额 excess), exact decimal text.
-- A correction never edits a row: it adds one with the opposite amount and `corrects` = the row it reverses.
-- Grain: one row per amount recorded or reversed. on_date: the date the money moved (the analyst's --on);
-- every report dates recoveries by it.
CREATE TABLE IF NOT EXISTS case_money (
    money_id    INTEGER PRIMARY KEY AUTOINCREMENT,
    suspect_id  TEXT NOT NULL REFERENCES cases (suspect_id),
    event_id    INTEGER NOT NULL REFERENCES case_events (event_id),
    kind        TEXT NOT NULL CHECK (kind IN ('recovered', 'written_off', 'excess')),
    amount      TEXT NOT NULL,            -- '1234.56'; negative only in a reversal
    on_date     TEXT NOT NULL,            -- ISO date
    reason      TEXT,
    corrects    INTEGER REFERENCES case_money (money_id)
);

CREATE INDEX IF NOT EXISTS case_money_by_case ON case_money (suspect_id, money_id);

-- Every time a person was shown personal data unmasked (an export with --no-mask, case show --reveal):
-- who, when, what, why. Grain: one row per reveal.
CREATE TABLE IF NOT EXISTS access_log (
    access_id   INTEGER PRIMARY KEY AUTOINCREMENT,
    at          TEXT NOT NULL,
    actor       TEXT NOT NULL,            -- staff id
    os_user     TEXT,
    action      TEXT NOT NULL,            -- export_unmasked | show_unmasked | list_unmasked …
    target      TEXT NOT NULL,            -- what was revealed: a suspect id, a region's checklist, a file name
    reason      TEXT NOT NULL
);

CREATE TRIGGER IF NOT EXISTS staff_log_no_update BEFORE UPDATE ON staff_log
BEGIN SELECT RAISE(ABORT, 'staff_log is append-only: 人员记录不可修改'); END;
CREATE TRIGGER IF NOT EXISTS staff_log_no_delete BEFORE DELETE ON staff_log
BEGIN SELECT RAISE(ABORT, 'staff_log is append-only: 人员记录不可删除'); END;
CREATE TRIGGER IF NOT EXISTS case_money_no_update BEFORE UPDATE ON case_money
BEGIN SELECT RAISE(ABORT, 'case_money is append-only: 金额记录不可修改，请以更正冲销'); END;
CREATE TRIGGER IF NOT EXISTS case_money_no_delete BEFORE DELETE ON case_money
BEGIN SELECT RAISE(ABORT, 'case_money is append-only: 金额记录不可删除'); END;
CREATE TRIGGER IF NOT EXISTS access_log_no_update BEFORE UPDATE ON access_log
BEGIN SELECT RAISE(ABORT, 'access_log is append-only: 查阅记录不可修改'); END;
CREATE TRIGGER IF NOT EXISTS access_log_no_delete BEFORE DELETE ON access_log
BEGIN SELECT RAISE(ABORT, 'access_log is append-only: 查阅记录不可删除'); END;
