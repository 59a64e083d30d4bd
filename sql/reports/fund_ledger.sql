-- DuckDB. One row per scheme: the finance special account (财政专户明细账 finance_ledger) inflow and
-- outflow booked between $date_from and $date_to (entry_date, inclusive): the period's days, whole months.
-- Grain: one row per scheme.
SELECT coalesce(scheme, '') AS scheme,
       coalesce(sum(amount) FILTER (WHERE direction = 'in'), 0) AS inflow,
       coalesce(sum(amount) FILTER (WHERE direction = 'out'), 0) AS outflow
FROM finance_ledger
WHERE entry_date BETWEEN $date_from AND $date_to
GROUP BY 1
ORDER BY 1
