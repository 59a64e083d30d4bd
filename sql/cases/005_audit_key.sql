-- The key of the person references in the audit trails (pipelines/web/trail.py, `person_ref`): a person looked up
-- or revealed on the workbench is named in web_audit and access_log as 'person:<masked ID>#<keyed digest>', so an
-- auditor can list everything done about one person without the trail holding the ID. One row, written once
-- (random, on the first workbench start); append-only like the trails it keys.
CREATE TABLE IF NOT EXISTS audit_key (
    key_id     INTEGER PRIMARY KEY CHECK (key_id = 1),
    key_hex    TEXT NOT NULL,            -- 32 random bytes, hex
    created_at TEXT NOT NULL
);

CREATE TRIGGER IF NOT EXISTS audit_key_no_update BEFORE UPDATE ON audit_key
BEGIN
    SELECT RAISE(ABORT, 'audit_key is written once');
END;

CREATE TRIGGER IF NOT EXISTS audit_key_no_delete BEFORE DELETE ON audit_key
BEGIN
    SELECT RAISE(ABORT, 'audit_key is written once');
END;
