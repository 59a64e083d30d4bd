-- SOD_BREACH 不相容岗位混岗: one operator performing two different stages of one business, or an
-- `admin` operator performing any stage (an operator missing from operators is not admin).
-- Grain: one row per business. amount = the business amount (largest amount, 0.00 if none);
-- region = the registered region of the first offending operator; period = month of the first step.
WITH operator_facts AS (
    SELECT operator_id, min(region_code) AS region_code, bool_or(role = 'admin') AS is_admin
    FROM operators
    GROUP BY operator_id
),
per_operator AS (
    SELECT
        l.business_id,
        l.operator_id,
        min(l.operated_at)                      AS first_step_at,
        count(DISTINCT l.stage)                 AS stages,
        coalesce(bool_or(o.is_admin), false)    AS is_admin,
        min(o.region_code)                      AS region_code
    FROM business_log AS l
    LEFT JOIN operator_facts AS o USING (operator_id)
    GROUP BY l.business_id, l.operator_id
),
offences AS (
    SELECT
        business_id,
        first(region_code ORDER BY first_step_at, operator_id) FILTER (WHERE region_code IS NOT NULL) AS region_code
    FROM per_operator
    WHERE stages > 1 OR is_admin
    GROUP BY business_id
),
businesses AS (
    SELECT
        business_id,
        coalesce(max(amount), 0)                                                             AS amount,
        first(person_id ORDER BY operated_at, person_id) FILTER (WHERE person_id IS NOT NULL) AS person_id,
        min(operated_at)                                                                     AS first_at
    FROM business_log
    GROUP BY business_id
)
SELECT
    'SOD_BREACH'                            AS rule,
    b.business_id                           AS subject_id,
    b.person_id,
    f.region_code,
    strftime(b.first_at, '%Y%m')            AS period_from,
    strftime(b.first_at, '%Y%m')            AS period_to,
    CAST(b.amount AS DECIMAL(18, 2))        AS amount_at_risk
FROM offences AS f
JOIN businesses AS b USING (business_id);
