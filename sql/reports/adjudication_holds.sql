-- Register (SQLite). Every held row of the screenings in the window of adjudication_screenings.sql, as it was held
-- (reasons: codes joined by ';' in the contract's order; amount NULL when it could not be read). The bank account
-- and the explanation are not read: the report shows neither. Grain: one row per screening x line.
SELECT h.screening_id, h.line, h.payment_id, h.person_id, h.region_code, h.scheme, h.benefit_type, h.period,
       h.amount, h.reasons
FROM screening_holds AS h
JOIN screenings AS s USING (screening_id)
WHERE substr(s.screened_at, 1, 10) BETWEEN :day_from AND :day_to
ORDER BY h.screening_id, h.line
