-- v_missing_deliveries: one row per contract dataset (14), with the department that delivers it.
-- 定期报送 check of the 四定 cycle: has every department delivered the latest month?
--
-- The rule:
-- * latest_period: the latest month (YYYYMM) present in the dataset's rows in force, read from its natural
--   period column: period (contributions, benefit_payments, tax_collections, payroll_withholding), or the
--   month of service_date (medical_claims), entry_date (finance_ledger), txn_date (bank_statements),
--   settled_date (bank_disbursements), death_date (death_records), operated_at (business_log).
-- * Months after the as_of month of the latest finished run are ignored, so that one mistyped future
--   date cannot make every other department look late.
-- * latest_period_overall: the latest of those months over all datasets: the month every periodic
--   dataset is expected to have reached.
-- * missing_latest: the dataset has no rows at all, or is periodic and has not reached
--   latest_period_overall (months_behind says by how much).
-- * enrollment, operators, fund_accounts and custody_records are registries (snapshots of who is enrolled,
--   who works, which accounts exist, who is or was in custody), not monthly deliveries: they are flagged only
--   when they have no rows at all. A custody spell's start month says when someone was sentenced, not when
--   the prison administration last delivered its list.
-- last_loaded_at: when a file of the dataset was last loaded or replaced (from ingested_files).
CREATE OR REPLACE VIEW v_missing_deliveries AS
WITH cap AS (
    SELECT coalesce(strftime(max(as_of), '%Y%m'), '999999') AS max_period
    FROM runs
    WHERE finished_at IS NOT NULL
),
catalog (ordinal, dataset, dataset_zh, source, source_zh, period_column, periodic) AS (
    VALUES
        (1, 'enrollment', '参保登记', 'agency', '社保经办', NULL, false),
        (2, 'contributions', '缴费核定', 'agency', '社保经办', 'period', true),
        (3, 'benefit_payments', '待遇发放明细', 'agency', '社保经办', 'period', true),
        (4, 'medical_claims', '医保结算明细', 'agency', '社保经办', 'service_date', true),
        (5, 'business_log', '经办业务日志', 'agency', '社保经办', 'operated_at', true),
        (6, 'operators', '经办人员', 'agency', '社保经办', NULL, false),
        (7, 'tax_collections', '社保费征收入库', 'tax', '税务', 'period', true),
        (8, 'payroll_withholding', '个税全员全额扣缴申报', 'tax', '税务', 'period', true),
        (9, 'fund_accounts', '基金账户登记', 'finance', '财政专户', NULL, false),
        (10, 'finance_ledger', '财政专户明细账', 'finance', '财政专户', 'entry_date', true),
        (11, 'bank_statements', '银行对账单', 'bank', '银行', 'txn_date', true),
        (12, 'bank_disbursements', '代发回盘', 'bank', '银行', 'settled_date', true),
        (13, 'death_records', '死亡信息', 'departments', '部门共享', 'death_date', true),
        (14, 'custody_records', '服刑人员信息', 'departments', '部门共享', NULL, false)
),
periods AS (
    SELECT dataset, p AS period FROM (
        SELECT 'enrollment' AS dataset, NULL AS p FROM enrollment
        UNION ALL SELECT 'contributions', period FROM contributions
        UNION ALL SELECT 'benefit_payments', period FROM benefit_payments
        UNION ALL SELECT 'medical_claims', strftime(service_date, '%Y%m') FROM medical_claims
        UNION ALL SELECT 'business_log', strftime(operated_at, '%Y%m') FROM business_log
        UNION ALL SELECT 'operators', NULL FROM operators
        UNION ALL SELECT 'tax_collections', period FROM tax_collections
        UNION ALL SELECT 'payroll_withholding', period FROM payroll_withholding
        UNION ALL SELECT 'fund_accounts', NULL FROM fund_accounts
        UNION ALL SELECT 'finance_ledger', strftime(entry_date, '%Y%m') FROM finance_ledger
        UNION ALL SELECT 'bank_statements', strftime(txn_date, '%Y%m') FROM bank_statements
        UNION ALL SELECT 'bank_disbursements', strftime(settled_date, '%Y%m') FROM bank_disbursements
        UNION ALL SELECT 'death_records', strftime(death_date, '%Y%m') FROM death_records
        UNION ALL SELECT 'custody_records', NULL FROM custody_records
    )
),
delivered AS (
    SELECT
        dataset,
        count(*)                                              AS row_count,
        max(period) FILTER (WHERE period <= cap.max_period)   AS latest_period
    FROM periods, cap
    GROUP BY dataset
),
files AS (
    SELECT dataset, max(ingested_at) AS last_loaded_at
    FROM ingested_files
    WHERE status IN ('loaded', 'replaced')
    GROUP BY dataset
),
reached AS (
    SELECT
        c.*,
        coalesce(d.row_count, 0)                                      AS row_count,
        d.latest_period,
        max(d.latest_period) FILTER (WHERE c.periodic) OVER ()        AS latest_period_overall,
        f.last_loaded_at
    FROM catalog AS c
    LEFT JOIN delivered AS d USING (dataset)
    LEFT JOIN files AS f USING (dataset)
)
SELECT
    source,
    source_zh,
    dataset,
    dataset_zh,
    period_column,
    periodic,
    row_count,
    latest_period,
    latest_period_overall,
    CASE WHEN periodic AND latest_period IS NOT NULL
        THEN datediff('month', strptime(latest_period, '%Y%m'), strptime(latest_period_overall, '%Y%m'))
    END                                                               AS months_behind,
    row_count = 0
        OR (periodic AND (latest_period IS NULL OR latest_period < latest_period_overall))
                                                                      AS missing_latest,
    last_loaded_at
FROM reached
ORDER BY ordinal;
