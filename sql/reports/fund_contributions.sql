-- DuckDB. One row per scheme: contributions assessed (缴费核定 contributions.amount_due) against
-- contributions collected (税务征收入库 tax_collections.amount_collected), months $period_from..$period_to.
-- Grain: one row per scheme.
WITH assessed AS (
    SELECT scheme, sum(amount_due) AS assessed
    FROM contributions
    WHERE period BETWEEN $period_from AND $period_to
    GROUP BY scheme
),
collected AS (
    SELECT scheme, sum(amount_collected) AS collected
    FROM tax_collections
    WHERE period BETWEEN $period_from AND $period_to
    GROUP BY scheme
)
SELECT coalesce(a.scheme, c.scheme) AS scheme,
       coalesce(a.assessed, 0) AS assessed,
       coalesce(c.collected, 0) AS collected
FROM assessed AS a
FULL OUTER JOIN collected AS c ON c.scheme = a.scheme
ORDER BY scheme
