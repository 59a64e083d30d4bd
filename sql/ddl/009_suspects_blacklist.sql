-- Added for the blacklist (黑名单, issue 15, CONTRACT.md section 7). The register keeps the blacklist
-- (sql/cases/006_screening.sql); after each run the nightly sync mirrors it here (sql/cases/mirror_blacklist.sql).
-- suspects.blacklist_hits  the finding's person, account or employer on the blacklist in force, as the sentence
--                          appended to its evidence ("黑名单 blacklist: 人员 person（entry 3，2026-11-02 列入：…）");
--                          NULL when none.
ALTER TABLE suspects ADD COLUMN IF NOT EXISTS blacklist_hits VARCHAR;

-- blacklist: one row per entry ever made, in force or removed (never erased), as the register has it. key: an
-- employer_id, a canonical citizen ID or a bank account (unmasked: analysts read v_blacklist). Times are the
-- register's ISO text with its offset.
CREATE TABLE IF NOT EXISTS blacklist (
    entry_id           BIGINT NOT NULL,
    kind               VARCHAR NOT NULL,   -- employer | person | account
    key                VARCHAR NOT NULL,
    reason             VARCHAR NOT NULL,
    source_suspect_id  VARCHAR,            -- the case it came from, if any
    added_by           VARCHAR NOT NULL,
    added_at           VARCHAR NOT NULL,
    removed_by         VARCHAR,
    removed_at         VARCHAR,
    removal_reason     VARCHAR,
    in_force           BOOLEAN NOT NULL
);
