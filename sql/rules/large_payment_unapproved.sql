-- LARGE_PAYMENT_UNAPPROVED 大额支付未经负责人审批: a business with amount >= $large_payment_threshold
-- (default 100,000.00 yuan) that has no `approve` stage by an operator registered as `leader`.
-- Grain: one row per business. amount = the business amount (largest amount of its rows);
-- region = the registered region of the operator of the first step that has one; period = month of the first step.
WITH operator_facts AS (
    SELECT operator_id, min(region_code) AS region_code, bool_or(role = 'leader') AS is_leader
    FROM operators
    GROUP BY operator_id
),
businesses AS (
    SELECT
        l.business_id,
        max(l.amount)                                                                             AS amount,
        coalesce(bool_or(l.stage = 'approve' AND o.is_leader), false)                             AS leader_approved,
        first(l.person_id ORDER BY l.operated_at, l.person_id) FILTER (WHERE l.person_id IS NOT NULL) AS person_id,
        first(o.region_code ORDER BY l.operated_at, l.operator_id) FILTER (WHERE o.region_code IS NOT NULL)
                                                                                                  AS region_code,
        min(l.operated_at)                                                                        AS first_at
    FROM business_log AS l
    LEFT JOIN operator_facts AS o USING (operator_id)
    GROUP BY l.business_id
)
SELECT
    'LARGE_PAYMENT_UNAPPROVED'              AS rule,
    business_id                             AS subject_id,
    person_id,
    region_code,
    strftime(first_at, '%Y%m')              AS period_from,
    strftime(first_at, '%Y%m')              AS period_to,
    CAST(amount AS DECIMAL(18, 2))          AS amount_at_risk
FROM businesses
WHERE amount >= CAST($large_payment_threshold AS DECIMAL(18, 2))
  AND NOT leader_approved;
