-- The benefit window of amount_at_risk_share: its last month is the latest month of benefits paid in force
-- (benefit_payments by 所属期 period, medical_claims by the month of service_date) that is not after the run's
-- month $as_of_month (YYYYMM); a mistyped future month cannot move it. NULL when nothing was paid.
SELECT max(month) AS last_month
FROM (
    SELECT max(period) AS month FROM benefit_payments WHERE period <= $as_of_month
    UNION ALL
    SELECT max(strftime(service_date, '%Y%m')) FROM medical_claims WHERE strftime(service_date, '%Y%m') <= $as_of_month
);
