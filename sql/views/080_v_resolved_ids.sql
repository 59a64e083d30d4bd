-- v_resolved_ids: one row per quarantined row in force whose mistyped citizen ID (18 characters, a wrong check
-- digit, no other fault) was looked up in enrollment (CONTRACT.md section 6, pipelines/ingest/resolve.py).
-- For the analysts who follow typos up: which rows were resolved to a person (outcome 'resolved' 已纠正: also
-- loaded into their dataset with id_resolved = true, so every rule counts them), and which stay only in
-- quarantine ('no_candidate' 无匹配候选: nobody enrolled one typo away, or only under another name;
-- 'ambiguous' 多个候选: id_candidates persons are). person_id_raw is the ID as it arrived (the file's cell,
-- read from quarantine.raw), resolved_person_id the enrolled ID it was resolved to; both masked (mask_id),
-- and the reason through mask_text (000_masking.sql). The unmasked rows: quarantine, and the dataset's rows
-- with id_resolved = true (person_id_raw beside person_id).
CREATE OR REPLACE VIEW v_resolved_ids AS
WITH looked_up AS (
    SELECT
        dataset,
        file,
        line,
        id_candidates,
        resolved_person_id,
        reason,
        -- the header of person_id in the file: English (any case) or Chinese, possibly padded
        list_filter(
            json_keys(CASE WHEN json_valid(raw) THEN raw END),
            lambda k: lower(trim(k)) = 'person_id' OR trim(k) = '公民身份号码'
        )[1] AS id_header,
        raw
    FROM quarantine
    WHERE id_candidates IS NOT NULL
)
SELECT
    dataset,
    file,
    line,
    mask_id(json_extract_string(raw, id_header))        AS person_id_raw,
    mask_id(resolved_person_id)                         AS resolved_person_id,
    id_candidates,
    CASE
        WHEN id_candidates = 1 THEN 'resolved'
        WHEN id_candidates = 0 THEN 'no_candidate'
        ELSE 'ambiguous'
    END                                                 AS outcome,
    CASE
        WHEN id_candidates = 1 THEN '已纠正'
        WHEN id_candidates = 0 THEN '无匹配候选'
        ELSE '多个候选'
    END                                                 AS outcome_zh,
    mask_text(reason)                                   AS reason
FROM looked_up
ORDER BY dataset, file, line;
