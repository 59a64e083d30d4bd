-- RECON_LEDGER_BANK 专户账实不符: a finance_ledger entry with no bank movement on the same account,
-- same direction and amount within ±3 days, or a bank movement on a `special` account with no such
-- ledger entry; each line matched at most once, greedily by (|date gap|, entry_id, txn_id).
-- The greedy matching is the fixed point of "match every pair that is the best remaining pair of both
-- its lines" (recursive CTE `rounds`); pairs without a rival are matched without iterating.
-- Near misses: unmatched ledger lines and unmatched special-account bank lines with the same account,
-- direction and amount, 4 to 31 days apart, paired by the same greedy matching (`near_rounds`): both stay
-- findings, each naming the pair in `pair_keys` ("ledger:<entry_id>|bank:<txn_id>"; the Polars rule puts it
-- in the evidence rows). Totals count a pair's money once (docs/adr/0019-report-time-base.md).
-- Grain: one row per unmatched entry_id / txn_id. amount = the line's amount; region = the province.
WITH RECURSIVE
ledger_lines AS (
    SELECT
        row_number() OVER (ORDER BY entry_id, account_no, entry_date, direction, amount) AS l_no,
        entry_id, account_no, entry_date, direction, amount
    FROM finance_ledger
),
bank_lines AS (
    SELECT
        row_number() OVER (ORDER BY txn_id, account_no, txn_date, direction, amount) AS b_no,
        txn_id, account_no, txn_date, direction, amount
    FROM bank_statements
),
pairs AS (
    SELECT l.l_no, b.b_no, abs(date_diff('day', b.txn_date, l.entry_date)) AS gap
    FROM ledger_lines AS l
    JOIN bank_lines AS b USING (account_no, direction, amount)
    WHERE abs(date_diff('day', b.txn_date, l.entry_date)) <= 3
),
candidates AS (
    SELECT
        l_no,
        b_no,
        row_number() OVER (ORDER BY gap, l_no, b_no)  AS k,
        count(*) OVER (PARTITION BY l_no)              AS rivals_l,
        count(*) OVER (PARTITION BY b_no)              AS rivals_b
    FROM pairs
),
rounds AS (
    SELECT 0 AS round, l_no, b_no, k
    FROM candidates
    WHERE rivals_l > 1 OR rivals_b > 1
    UNION ALL
    SELECT round + 1, l_no, b_no, k
    FROM (
        SELECT
            *,
            bool_or(mutual) OVER (PARTITION BY l_no) AS l_taken,
            bool_or(mutual) OVER (PARTITION BY b_no) AS b_taken
        FROM (
            SELECT
                *,
                k = min(k) OVER (PARTITION BY l_no) AND k = min(k) OVER (PARTITION BY b_no) AS mutual
            FROM rounds
        )
    )
    WHERE NOT l_taken AND NOT b_taken
),
matched AS (
    SELECT l_no, b_no FROM candidates WHERE rivals_l = 1 AND rivals_b = 1
    UNION ALL
    SELECT l_no, b_no
    FROM (
        SELECT
            l_no,
            b_no,
            k = min(k) OVER (PARTITION BY round, l_no) AND k = min(k) OVER (PARTITION BY round, b_no) AS mutual
        FROM rounds
    )
    WHERE mutual
),
special_accounts AS (
    SELECT DISTINCT account_no FROM fund_accounts WHERE account_type = 'special'
),
left_ledger AS (
    SELECT * FROM ledger_lines WHERE l_no NOT IN (SELECT l_no FROM matched)
),
left_bank AS (
    SELECT * FROM bank_lines
    WHERE account_no IN (SELECT account_no FROM special_accounts)
      AND b_no NOT IN (SELECT b_no FROM matched)
),
near_candidates AS (
    SELECT
        l.l_no,
        b.b_no,
        row_number() OVER (ORDER BY abs(date_diff('day', b.txn_date, l.entry_date)), l.l_no, b.b_no) AS k
    FROM left_ledger AS l
    JOIN left_bank AS b USING (account_no, direction, amount)
    WHERE abs(date_diff('day', b.txn_date, l.entry_date)) BETWEEN 4 AND 31
),
near_rounds AS (
    SELECT 0 AS round, l_no, b_no, k
    FROM near_candidates
    UNION ALL
    SELECT round + 1, l_no, b_no, k
    FROM (
        SELECT
            *,
            bool_or(mutual) OVER (PARTITION BY l_no) AS l_taken,
            bool_or(mutual) OVER (PARTITION BY b_no) AS b_taken
        FROM (
            SELECT
                *,
                k = min(k) OVER (PARTITION BY l_no) AND k = min(k) OVER (PARTITION BY b_no) AS mutual
            FROM near_rounds
        )
    )
    WHERE NOT l_taken AND NOT b_taken
),
near_pairs AS (
    SELECT p.l_no, p.b_no, 'ledger:' || l.entry_id || '|bank:' || b.txn_id AS pair_key
    FROM (
        SELECT
            l_no,
            b_no,
            k = min(k) OVER (PARTITION BY round, l_no) AND k = min(k) OVER (PARTITION BY round, b_no) AS mutual
        FROM near_rounds
    ) AS p
    JOIN ledger_lines AS l USING (l_no)
    JOIN bank_lines AS b USING (b_no)
    WHERE p.mutual
),
unmatched AS (
    SELECT 'ledger:' || entry_id AS subject_id, entry_date AS line_date, amount, p.pair_key
    FROM left_ledger
    LEFT JOIN near_pairs AS p USING (l_no)
    UNION ALL
    SELECT 'bank:' || txn_id, txn_date, amount, p.pair_key
    FROM left_bank
    LEFT JOIN near_pairs AS p USING (b_no)
)
SELECT
    'RECON_LEDGER_BANK'                    AS rule,
    subject_id,
    CAST(NULL AS VARCHAR)                  AS person_id,
    '330000'                               AS region_code,
    strftime(min(line_date), '%Y%m')       AS period_from,
    strftime(max(line_date), '%Y%m')       AS period_to,
    CAST(sum(amount) AS DECIMAL(18, 2))    AS amount_at_risk,
    string_agg(pair_key, ',' ORDER BY pair_key) AS pair_keys
FROM unmatched
GROUP BY subject_id;
