-- v_early_warnings: one row per early warning (预警) ever raised: a (run, pooling region, indicator) whose value
-- reached a level of the thresholds in force for that run (schemas/warning_thresholds.yaml or FUNDWATCH_THRESHOLDS),
-- newest run first, most severe first. level_zh: 关注 watch / 预警 warning / 警报 alarm; message: the sentence the
-- run summary and the workbench show. latest_run: the warning belongs to the latest run that computed indicators.
CREATE OR REPLACE VIEW v_early_warnings AS
WITH latest AS (
    SELECT run_id FROM indicators ORDER BY as_of DESC, computed_at DESC, run_id DESC LIMIT 1
)
SELECT
    w.run_id,
    w.as_of,
    w.region_code,
    w.indicator,
    w.level,
    CASE w.level WHEN 'alarm' THEN '警报' WHEN 'warning' THEN '预警' ELSE '关注' END  AS level_zh,
    w.value,
    w.threshold,
    w.direction,
    w.message,
    w.run_id IN (SELECT run_id FROM latest)                                             AS latest_run
FROM early_warnings AS w
ORDER BY w.as_of DESC, w.run_id DESC, CASE w.level WHEN 'alarm' THEN 0 WHEN 'warning' THEN 1 ELSE 2 END,
    w.region_code, w.indicator;
