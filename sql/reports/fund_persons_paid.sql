-- DuckDB. One row: distinct persons paid any benefit for the months $period_from..$period_to.
SELECT count(DISTINCT person_id) AS persons, count(*) AS payments, coalesce(sum(amount), 0) AS amount
FROM benefit_payments
WHERE period BETWEEN $period_from AND $period_to
