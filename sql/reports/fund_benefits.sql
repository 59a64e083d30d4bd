-- DuckDB. Benefit payments (待遇发放) for the months $period_from..$period_to (待遇所属期, YYYYMM): one row per
-- (benefit_type, scheme) with payments, persons paid and the exact amount, and one total row (is_total) over
-- the same rows — persons paid are distinct persons, so the total's are counted here, not summed.
-- Grain: one row per (benefit_type, scheme), plus the total row.
SELECT grouping(benefit_type, scheme) <> 0 AS is_total,
       benefit_type, scheme,
       count(*) AS payments,
       count(DISTINCT person_id) AS persons,
       coalesce(sum(amount), 0) AS amount
FROM benefit_payments
WHERE period BETWEEN $period_from AND $period_to
GROUP BY GROUPING SETS ((benefit_type, scheme), ())
ORDER BY is_total, benefit_type, scheme
