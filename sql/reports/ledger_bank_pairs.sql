-- DuckDB. The near-miss pairs of RECON_LEDGER_BANK: a ledger entry and a special-account bank movement that
-- differ only by the ±3-day window, linked in both findings' evidence rows by the same pair_key
-- (pipelines/rules/recon_ledger_bank.py). A pair counts when both findings name it (a pair named by one side
-- only, e.g. in an older finding, does not). amount = the paired line's amount, at risk once.
-- Grain: one row per pair.
WITH lines AS (
    SELECT
        s.subject_id,
        unnest(from_json(
            s.evidence_rows,
            '[{"side": "VARCHAR", "amount": "DECIMAL(18,2)", "pair_key": "VARCHAR", "paired_with": "VARCHAR"}]'
        )) AS line
    FROM suspects AS s
    WHERE s.rule = 'RECON_LEDGER_BANK' AND s.evidence_rows LIKE '[%'
),
ledger_side AS (
    SELECT line.pair_key AS pair_key, subject_id, line.paired_with AS paired_with, line.amount AS amount
    FROM lines
    WHERE line.side = 'ledger' AND line.pair_key IS NOT NULL
),
bank_side AS (
    SELECT line.pair_key AS pair_key, subject_id, line.paired_with AS paired_with
    FROM lines
    WHERE line.side = 'bank' AND line.pair_key IS NOT NULL
)
SELECT l.pair_key, l.subject_id AS ledger_subject, b.subject_id AS bank_subject, l.amount
FROM ledger_side AS l
JOIN bank_side AS b ON b.pair_key = l.pair_key AND b.subject_id = l.paired_with AND l.subject_id = b.paired_with
ORDER BY l.pair_key
