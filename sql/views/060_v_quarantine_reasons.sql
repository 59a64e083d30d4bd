-- v_quarantine_reasons: one row per (dataset, column, reason_kind) among the quarantined rows in force.
-- Which defects each department's extracts carry, and how often: the feedback for 定期通报.
-- A quarantine reason reads '<column>: <中文> <English>: '<raw value>'' (several joined by '; ', the
-- first one belongs to "column"). reason_kind is the Chinese prefix of that first reason (e.g. 未知代码,
-- 缺少必填值, 身份证号校验位错误), or, for a reason without one (a CSV line with the wrong number of fields),
-- its text before the first ':' with any '(...)' removed. reason_en is the English phrase beside it.
-- column is NULL for a line that could not be split into fields. example_reason quotes the raw value: IDs
-- and account-like numbers in it are masked (mask_text of 000_masking.sql); the rows are in quarantine.
CREATE OR REPLACE VIEW v_quarantine_reasons AS
WITH first_reason AS (
    SELECT
        dataset,
        "column",
        file,
        reason,
        split_part(reason, '; ', 1) AS first
    FROM quarantine
),
described AS (
    SELECT
        *,
        CASE WHEN "column" IS NOT NULL AND starts_with(first, "column" || ': ')
            THEN substr(first, length("column") + 3)
            ELSE first
        END AS what
    FROM first_reason
),
phrased AS (
    SELECT
        *,
        trim(regexp_replace(regexp_extract(what, '^[^:：]*'), '\s*[(（][^)）]*[)）]', '', 'g')) AS phrase,
        nullif(regexp_extract(what, '^([^\x00-\x7f]\S*)', 1), '')                            AS zh
    FROM described
)
SELECT
    dataset,
    "column",
    coalesce(zh, phrase)                                            AS reason_kind,
    min(trim(CASE WHEN zh IS NOT NULL THEN substr(phrase, length(zh) + 1) ELSE phrase END)) AS reason_en,
    count(*)                                                        AS rows_quarantined,
    count(DISTINCT file)                                            AS files,
    mask_text(min(reason))                                          AS example_reason
FROM phrased
GROUP BY dataset, "column", coalesce(zh, phrase)
ORDER BY dataset, rows_quarantined DESC, "column" NULLS LAST, reason_kind;
