-- Mirror the register's blacklist (registered as _register_blacklist: `blacklist.entries_frame`) into the DuckDB
-- file as `blacklist` (sql/ddl/009_suspects_blacklist.sql), and say in each finding's evidence which of its
-- person, accounts and employers are on the blacklist in force (CONTRACT.md section 7). The register stays the
-- source of truth; run in one transaction after the case mirror (`nightly.sync_run`).
DELETE FROM blacklist;

INSERT INTO blacklist BY NAME SELECT * FROM _register_blacklist;

-- What a finding names (the same as `blacklist.case_candidates`): its person; a SHARED_ACCOUNT's subject (the
-- account) and every bank_account / account_no of its evidence rows; a RECON_CONTRIB subject's first part
-- (employer|scheme|period) and every employer_id of its evidence rows. Evidence that is not JSON names nothing.
-- blacklist_hits: one clause per entry in force it hits, in entry order, e.g.
--   黑名单 blacklist: 人员 person（entry 3，2026-11-02 列入：骗取养老金）
-- and the same text ends the evidence. The text of the previous night (suspects.blacklist_hits) is taken off the
-- end of the evidence first, so that a carried-forward finding never repeats it and a removed entry leaves it.
UPDATE suspects AS s SET
    blacklist_hits = u.hits,
    evidence       = u.evidence
FROM (
    WITH cited AS (
        SELECT suspect_id, evidence_rows FROM suspects WHERE json_valid(evidence_rows)
    ),
    named AS (
        SELECT suspect_id, 'person' AS kind, person_id AS key FROM suspects WHERE person_id IS NOT NULL
        UNION
        SELECT suspect_id, 'account', subject_id FROM suspects WHERE rule = 'SHARED_ACCOUNT'
        UNION
        SELECT suspect_id, 'employer', split_part(subject_id, '|', 1) FROM suspects WHERE rule = 'RECON_CONTRIB'
        UNION
        SELECT suspect_id, 'account', trim(unnest(json_extract_string(evidence_rows, '$[*].bank_account'))) FROM cited
        UNION
        SELECT suspect_id, 'account', trim(unnest(json_extract_string(evidence_rows, '$[*].account_no'))) FROM cited
        UNION
        SELECT suspect_id, 'employer', trim(unnest(json_extract_string(evidence_rows, '$[*].employer_id'))) FROM cited
    ),
    hits AS (
        SELECT n.suspect_id,
               '黑名单 blacklist: ' || string_agg(
                   CASE b.kind WHEN 'person' THEN '人员' WHEN 'account' THEN '银行账号' ELSE '单位' END
                   || ' ' || b.kind || '（entry ' || b.entry_id || '，' || substr(b.added_at, 1, 10)
                   || ' 列入：' || b.reason || '）',
                   '；' ORDER BY b.entry_id
               ) AS hits
        FROM named AS n
        JOIN blacklist AS b ON b.in_force AND b.kind = n.kind AND b.key = n.key
        GROUP BY n.suspect_id
    ),
    base AS (  -- the evidence without last night's blacklist text
        SELECT suspect_id, blacklist_hits,
               CASE
                   WHEN blacklist_hits IS NOT NULL AND ends_with(evidence, ' ' || blacklist_hits)
                   THEN substr(evidence, 1, length(evidence) - length(blacklist_hits) - 1)
                   ELSE evidence
               END AS evidence
        FROM suspects
    )
    SELECT base.suspect_id, h.hits,
           CASE WHEN h.hits IS NULL THEN base.evidence ELSE coalesce(base.evidence || ' ', '') || h.hits END AS evidence
    FROM base LEFT JOIN hits AS h USING (suspect_id)
) AS u
WHERE s.suspect_id = u.suspect_id
  AND (s.blacklist_hits IS DISTINCT FROM u.hits OR s.evidence IS DISTINCT FROM u.evidence);
