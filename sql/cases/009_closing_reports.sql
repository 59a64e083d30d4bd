-- 要情结案报告 (policy §六, issue 16): when a 要情 / 重大要情 case is closed (已整改 rectified), its closing report
-- states the facts, the amount involved, what was recovered and written off, the measures taken and the
-- responsibility determined. One row per report made (pipelines/cases/closing.py); a corrected report is a new
-- version of the same case, the earlier kept: append-only like case_events (triggers below).
-- Money is exact decimal text ('41220.00') as the register computes it on the day the report is made (as_of):
-- the figures of `pipelines.cases.reports.sources.cases_at`, the same every report shows.
CREATE TABLE IF NOT EXISTS closing_reports (
    report_id         INTEGER PRIMARY KEY AUTOINCREMENT,
    suspect_id        TEXT NOT NULL REFERENCES cases (suspect_id),
    version           INTEGER NOT NULL CHECK (version >= 1),  -- 1, 2 … per case: a correction is the next one
    closing_event_id  INTEGER NOT NULL,  -- the case_events row that closed the case (to rectified) this report closes
    closed_on         TEXT NOT NULL,     -- the day it was closed (整改完成, the register's rectified_on)
    severity          TEXT NOT NULL CHECK (severity IN ('要情', '重大要情')),  -- at closing
    facts             TEXT NOT NULL,     -- 基本案情, IDs masked
    amount            TEXT NOT NULL,     -- 涉及金额
    recovered         TEXT NOT NULL,     -- 已追回 (toward the amount)
    written_off       TEXT NOT NULL,     -- 已核销
    outstanding       TEXT NOT NULL,     -- 未追回
    excess            TEXT NOT NULL,     -- recovered beyond the amount (罚没 …), apart
    measures          TEXT NOT NULL,     -- 整改措施
    responsibility    TEXT NOT NULL,     -- 责任认定及追究
    made_by           TEXT NOT NULL,     -- staff id (a chief)
    recorded_by       TEXT,              -- a chief recording on made_by's behalf
    made_at           TEXT NOT NULL,     -- ISO timestamp with offset
    as_of             TEXT NOT NULL,     -- the day its figures are taken on
    folder            TEXT NOT NULL,     -- where the files were written
    file_name         TEXT NOT NULL,     -- the print-ready workbook (.xlsx), what is signed
    sha256            TEXT NOT NULL,     -- of that workbook's bytes
    md_file_name      TEXT NOT NULL,     -- the Markdown beside it
    md_sha256         TEXT NOT NULL,
    docx_file_name    TEXT NOT NULL,     -- the same report as DOCX (python-docx), to sign on paper
    docx_sha256       TEXT NOT NULL,
    UNIQUE (suspect_id, version)
);

CREATE INDEX IF NOT EXISTS closing_reports_by_closing ON closing_reports (suspect_id, closing_event_id);

CREATE TRIGGER IF NOT EXISTS closing_reports_no_update BEFORE UPDATE ON closing_reports
BEGIN SELECT RAISE(ABORT, 'closing_reports is append-only: 结案报告记录不可修改，请出具新版本'); END;
CREATE TRIGGER IF NOT EXISTS closing_reports_no_delete BEFORE DELETE ON closing_reports
BEGIN SELECT RAISE(ABORT, 'closing_reports is append-only: 结案报告记录不可删除'); END;
