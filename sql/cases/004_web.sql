-- The analysts' web workbench (issue 13, docs/workbench.md, docs/adr/0020-web-workbench.md): passwords and the
-- workbench's audit trail. Both append-only (triggers below), like case_events.

-- A staff member's password for the workbench, as an argon2id hash (never the password). Grain: one row per
-- password set (by an admin, `fundwatch staff passwd`); the latest row of a staff_id is in force, and a session
-- opened with an earlier one ends.
CREATE TABLE IF NOT EXISTS staff_password (
    password_id INTEGER PRIMARY KEY AUTOINCREMENT,
    staff_id    TEXT NOT NULL,
    hash        TEXT NOT NULL,           -- argon2id, PHC string ($argon2id$v=19$m=…)
    set_at      TEXT NOT NULL,           -- ISO timestamp with offset
    set_by      TEXT NOT NULL            -- the admin's staff id
);

CREATE INDEX IF NOT EXISTS staff_password_by_staff ON staff_password (staff_id, password_id);

-- Everything done through the workbench: logins (ok, failed, locked), logouts, every POST (case actions,
-- reveals) and every refusal. Grain: one row per request that acted or was refused. Hash-chained like
-- case_events (pipelines/web/trail.py, format 'fundwatch-web-audit/1'): each row carries the previous row's hash.
CREATE TABLE IF NOT EXISTS web_audit (
    audit_id    INTEGER PRIMARY KEY AUTOINCREMENT,
    at          TEXT NOT NULL,           -- ISO timestamp with offset
    actor       TEXT NOT NULL,           -- staff id ('-' when the name typed at login is nobody's)
    remote      TEXT,                    -- the client's address as the server saw it
    action      TEXT NOT NULL,           -- login | logout | assign | verify | … | reveal | view
    target      TEXT,                    -- a suspect id, a staff id, a page; never an unmasked citizen ID
    outcome     TEXT NOT NULL,           -- ok | failed | locked | refused | error
    detail      TEXT,                    -- why (the reason given, the register's refusal), masked
    session_ref TEXT,                    -- sha256 prefix of the session's nonce: which session did it
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL
);

CREATE INDEX IF NOT EXISTS web_audit_by_actor ON web_audit (actor, action, audit_id);
CREATE INDEX IF NOT EXISTS web_audit_by_session ON web_audit (session_ref, action);
CREATE INDEX IF NOT EXISTS web_audit_by_target ON web_audit (target, audit_id);

CREATE TRIGGER IF NOT EXISTS staff_password_no_update BEFORE UPDATE ON staff_password
BEGIN SELECT RAISE(ABORT, 'staff_password is append-only: 密码记录不可修改'); END;
CREATE TRIGGER IF NOT EXISTS staff_password_no_delete BEFORE DELETE ON staff_password
BEGIN SELECT RAISE(ABORT, 'staff_password is append-only: 密码记录不可删除'); END;
CREATE TRIGGER IF NOT EXISTS web_audit_no_update BEFORE UPDATE ON web_audit
BEGIN SELECT RAISE(ABORT, 'web_audit is append-only: 操作记录不可修改'); END;
CREATE TRIGGER IF NOT EXISTS web_audit_no_delete BEFORE DELETE ON web_audit
BEGIN SELECT RAISE(ABORT, 'web_audit is append-only: 操作记录不可删除'); END;
CREATE TRIGGER IF NOT EXISTS web_audit_chained BEFORE INSERT ON web_audit
WHEN NEW.prev_hash IS NOT COALESCE(
        (SELECT hash FROM web_audit ORDER BY audit_id DESC LIMIT 1),
        '0000000000000000000000000000000000000000000000000000000000000000'
    )
BEGIN
    SELECT RAISE(ABORT, 'web_audit is chained: 操作记录须接续哈希链 a record needs prev_hash = the last hash');
END;
