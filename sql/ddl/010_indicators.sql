-- Added for 统计分析、监测预警、风险评估 (issue 16, item 4; docs/adr/0027-indicators-and-early-warning.md).
-- Both tables are HISTORY: every run adds its own rows just before it publishes (pipelines/cases/indicators.py);
-- a rerun of the same run id replaces that run's rows only, the rows of earlier runs stay.

-- indicators: one row per (run, pooling region, indicator). region_code '000000' is the province as a whole (全省):
-- the province-wide value of every indicator (a person insured in two regions counted once), and the only row of
-- missing_deliveries (v_missing_deliveries has no region). value = numerator / denominator (× 10,000 for
-- findings_per_10k), rounded half-even to 6 decimals; NULL when the denominator is 0; missing_deliveries is a count
-- (value = numerator, denominator NULL). basis: what the figures were counted over (e.g. the benefit window).
CREATE TABLE IF NOT EXISTS indicators (
    run_id        VARCHAR NOT NULL,
    as_of         DATE NOT NULL,
    region_code   VARCHAR NOT NULL,
    indicator     VARCHAR NOT NULL,   -- findings_per_10k | amount_at_risk_share | overdue_rate | recurrence_rate
                                      -- | recovered_share | missing_deliveries
    value         DECIMAL(18, 6),
    numerator     DECIMAL(18, 2) NOT NULL,
    denominator   DECIMAL(18, 2),
    basis         VARCHAR,
    computed_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (run_id, region_code, indicator)
);

-- early_warnings (预警): one row per (run, region, indicator) whose value reached a level of the thresholds in force
-- for the run (schemas/warning_thresholds.yaml, or the file FUNDWATCH_THRESHOLDS names): the highest level reached,
-- its threshold, and the sentence an official reads.
CREATE TABLE IF NOT EXISTS early_warnings (
    run_id        VARCHAR NOT NULL,
    as_of         DATE NOT NULL,
    region_code   VARCHAR NOT NULL,
    indicator     VARCHAR NOT NULL,
    value         DECIMAL(18, 6) NOT NULL,
    threshold     DECIMAL(18, 6) NOT NULL,
    direction     VARCHAR NOT NULL,   -- higher_is_worse | lower_is_worse
    level         VARCHAR NOT NULL,   -- watch 关注 | warning 预警 | alarm 警报
    message       VARCHAR NOT NULL,
    PRIMARY KEY (run_id, region_code, indicator)
);
