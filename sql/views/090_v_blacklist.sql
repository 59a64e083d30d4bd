-- v_blacklist: one row per blacklist entry (黑名单) ever made, in force or removed (CONTRACT.md section 7), newest
-- first. For analysts who follow who and what was listed, by whom, from which case, and when and why it was
-- taken off. The key masked (000_masking.sql): a person's citizen ID like mask_id, a bank account like
-- mask_account, an employer as it is (unless shaped like a citizen ID: a 个体工商户 registered under one);
-- the reasons through mask_text. kind_zh: 单位 / 人员 / 银行账号; status_zh: 在册 in force / 已移出 removed.
-- The unmasked entries: the table `blacklist` (mirrored from the case register after each run; a chief changes
-- them there: fundwatch blacklist).
CREATE OR REPLACE VIEW v_blacklist AS
SELECT
    entry_id,
    kind,
    CASE kind WHEN 'person' THEN '人员' WHEN 'account' THEN '银行账号' ELSE '单位' END  AS kind_zh,
    CASE kind
        WHEN 'person' THEN mask_id(key)
        WHEN 'account' THEN mask_account(key)
        WHEN 'employer' THEN CASE WHEN is_citizen_id(key) THEN mask_id(key) ELSE key END
    END                                                                                AS key,
    in_force,
    CASE WHEN in_force THEN '在册' ELSE '已移出' END                                   AS status_zh,
    mask_text(reason)                                                                  AS reason,
    source_suspect_id,
    added_by,
    added_at,
    removed_by,
    removed_at,
    mask_text(removal_reason)                                                          AS removal_reason
FROM blacklist
ORDER BY entry_id DESC;
