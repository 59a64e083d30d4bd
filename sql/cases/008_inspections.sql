-- 专项检查 (policy §五, issue 16 item 2): at least two special inspections a year, one per half; each with its plan,
-- its process, its findings (linked to cases) and rectification opinions, and a 检查报告 signed by the team leader
-- (检查组组长) and the leader in charge (分管领导) (pipelines/cases/inspections.py, docs/adr/0025-special-inspections.md).
-- Every table here is append-only (triggers below), like case_events: a change is a new row, the latest in force.

-- One row per inspection planned (a chief). Fixed once planned: what happened afterwards is in inspection_events.
CREATE TABLE IF NOT EXISTS inspections (
    inspection_id          INTEGER PRIMARY KEY AUTOINCREMENT,
    title                  TEXT NOT NULL,            -- the subject, e.g. '2026年上半年工伤保险待遇支付' (报告题为 XX专项检查报告)
    half                   TEXT NOT NULL CHECK (half GLOB '[0-9][0-9][0-9][0-9]-H[12]'),  -- of planned_start
    schemes                TEXT NOT NULL,            -- JSON array of scheme codes (险种类型, the contract's code set)
    regions                TEXT NOT NULL,            -- JSON array of 6-digit region codes (统筹区)
    place                  TEXT NOT NULL,            -- 检查地点
    content                TEXT NOT NULL,            -- 检查内容
    method                 TEXT NOT NULL,            -- 检查方式
    objects                TEXT NOT NULL,            -- 检查对象
    materials              TEXT NOT NULL,            -- 检查资料
    planned_start          TEXT NOT NULL,            -- ISO date
    planned_end            TEXT NOT NULL,            -- ISO date, not before planned_start
    leader                 TEXT NOT NULL,            -- staff id of the team leader 检查组组长
    members                TEXT NOT NULL,            -- JSON array of staff ids of the other members 检查组成员
    leader_in_charge       TEXT NOT NULL,            -- 分管领导's name (need not be on the staff register)
    leader_in_charge_title TEXT NOT NULL,            -- and title 职务
    created_by             TEXT NOT NULL,            -- staff id (a chief)
    created_at             TEXT NOT NULL,            -- ISO timestamp with offset
    CHECK (planned_end >= planned_start),
    CHECK (substr(half, 1, 4) = substr(planned_start, 1, 4)),
    CHECK ((substr(half, 7, 1) = '1') = (substr(planned_start, 6, 2) <= '06'))
);

CREATE INDEX IF NOT EXISTS inspections_by_half ON inspections (half);

-- What happened to an inspection, in order. Grain: one row per step.
--   plan 计划 · start 开始检查 · note 检查过程记录 (text, details.on) · finding 发现问题 (details.finding_no) ·
--   link 关联案件 · opinion 整改意见 · report 生成报告 (details: version, file, sha256) ·
--   sign_leader 组长签字 (details: version, on, file, sha256) · sign_in_charge 分管领导签字 (details: version,
--   name, on, file, sha256; actor: the chief who recorded it).
CREATE TABLE IF NOT EXISTS inspection_events (
    event_id       INTEGER PRIMARY KEY AUTOINCREMENT,
    inspection_id  INTEGER NOT NULL REFERENCES inspections (inspection_id),
    action         TEXT NOT NULL CHECK (action IN (
                       'plan', 'start', 'note', 'finding', 'link', 'opinion', 'report', 'sign_leader', 'sign_in_charge'
                   )),
    actor          TEXT NOT NULL,                    -- staff id
    at             TEXT NOT NULL,                    -- ISO timestamp with offset
    text           TEXT,                             -- the note, the finding, the opinion
    details        TEXT                              -- JSON
);

CREATE INDEX IF NOT EXISTS inspection_events_by_inspection ON inspection_events (inspection_id, event_id);

-- The findings (所发现问题) with their rectification opinions (整改意见): a finding is numbered within its inspection
-- (finding_no 1, 2, …); a later link to a case or a new opinion is a new row of the same finding_no, the latest in
-- force (view inspection_finding_status). amount: exact decimal text ('3210.00'), NULL when none was stated.
CREATE TABLE IF NOT EXISTS inspection_findings (
    row_id         INTEGER PRIMARY KEY AUTOINCREMENT,
    inspection_id  INTEGER NOT NULL REFERENCES inspections (inspection_id),
    finding_no     INTEGER NOT NULL CHECK (finding_no >= 1),
    finding        TEXT NOT NULL,
    amount         TEXT,
    suspect_id     TEXT REFERENCES cases (suspect_id),  -- the case it concerns: must exist
    opinion        TEXT,                              -- 整改意见
    deadline       TEXT,                              -- 整改期限, ISO date
    event_id       INTEGER NOT NULL REFERENCES inspection_events (event_id),
    recorded_by    TEXT NOT NULL,
    recorded_at    TEXT NOT NULL
);

CREATE INDEX IF NOT EXISTS inspection_findings_by_no ON inspection_findings (inspection_id, finding_no, row_id);

CREATE VIEW IF NOT EXISTS inspection_finding_status AS
SELECT f.*
FROM inspection_findings AS f
WHERE f.row_id = (
    SELECT max(row_id) FROM inspection_findings AS g
    WHERE g.inspection_id = f.inspection_id AND g.finding_no = f.finding_no
);

CREATE TRIGGER IF NOT EXISTS inspections_no_update BEFORE UPDATE ON inspections
BEGIN SELECT RAISE(ABORT, 'inspections is append-only: 检查计划不可修改'); END;
CREATE TRIGGER IF NOT EXISTS inspections_no_delete BEFORE DELETE ON inspections
BEGIN SELECT RAISE(ABORT, 'inspections is append-only: 检查计划不可删除'); END;
CREATE TRIGGER IF NOT EXISTS inspection_events_no_update BEFORE UPDATE ON inspection_events
BEGIN SELECT RAISE(ABORT, 'inspection_events is append-only: 检查记录不可修改'); END;
CREATE TRIGGER IF NOT EXISTS inspection_events_no_delete BEFORE DELETE ON inspection_events
BEGIN SELECT RAISE(ABORT, 'inspection_events is append-only: 检查记录不可删除'); END;
CREATE TRIGGER IF NOT EXISTS inspection_findings_no_update BEFORE UPDATE ON inspection_findings
BEGIN SELECT RAISE(ABORT, 'inspection_findings is append-only: 检查发现不可修改，请另行登记'); END;
CREATE TRIGGER IF NOT EXISTS inspection_findings_no_delete BEFORE DELETE ON inspection_findings
BEGIN SELECT RAISE(ABORT, 'inspection_findings is append-only: 检查发现不可删除'); END;
