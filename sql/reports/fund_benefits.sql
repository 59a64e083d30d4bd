-- DuckDB. One row per (benefit_type, scheme): benefit payments (待遇发放) for the months
-- $period_from..$period_to (待遇所属期, YYYYMM): payments, persons paid, exact amount.
SELECT benefit_type, scheme,
       count(*) AS payments,
       count(DISTINCT person_id) AS persons,
       sum(amount) AS amount
FROM benefit_payments
WHERE period BETWEEN $period_from AND $period_to
GROUP BY benefit_type, scheme
ORDER BY benefit_type, scheme
