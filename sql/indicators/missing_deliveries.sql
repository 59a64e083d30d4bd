-- missing_deliveries: the contract datasets v_missing_deliveries marks missing_latest (no rows at all, or a periodic
-- dataset behind the latest month delivered), province-wide: the view has no region (each department delivers
-- for the province), so the count is kept under region '000000'.
SELECT count(*) FILTER (WHERE missing_latest) AS missing, count(*) AS datasets
FROM v_missing_deliveries;
