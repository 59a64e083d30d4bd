-- The population of a month's internal audit (稽核, pipelines/cases/internal_audit.py): the businesses completed in
-- the month. Grain: one row per business.
-- A business is completed by its `pay` step (支付), or, when it has none, by its last step: the latest such step
-- (ties: the larger operator id) is its completion, its operator the business's operator (经办人) for the strata.
-- operated_at is a TIMESTAMP without a zone, the office's local time as delivered: the month's bounds are too.
-- Amount: the largest of the business's rows (as the rules read it); person: the earliest non-empty.
-- Parameters: $month_start, $next_month_start (TIMESTAMP).
WITH completion AS (
    SELECT business_id, operator_id, operated_at AS completed_at, stage AS completed_stage
    FROM business_log
    QUALIFY row_number() OVER (
        PARTITION BY business_id ORDER BY (stage = 'pay') DESC, operated_at DESC, operator_id DESC
    ) = 1
),
month_done AS (
    SELECT * FROM completion
    WHERE completed_at >= $month_start AND completed_at < $next_month_start
),
facts AS (
    SELECT b.business_id,
           max(b.amount) AS amount,
           min(nullif(trim(b.business_type), '')) AS business_type,
           arg_min(b.person_id, b.operated_at) FILTER (WHERE nullif(b.person_id, '') IS NOT NULL) AS person_id
    FROM business_log AS b
    SEMI JOIN month_done AS m USING (business_id)
    GROUP BY b.business_id
),
operator_names AS (
    SELECT operator_id, min(name) AS operator_name, min(region_code) AS region_code
    FROM operators
    GROUP BY operator_id
)
SELECT m.business_id,
       coalesce(f.business_type, '') AS business_type,
       m.operator_id,
       o.operator_name,
       o.region_code,
       f.person_id,
       f.amount,
       m.completed_at,
       m.completed_stage
FROM month_done AS m
JOIN facts AS f USING (business_id)
LEFT JOIN operator_names AS o USING (operator_id)
ORDER BY m.business_id
