-- Register (SQLite). Every amount recorded on a case: recovered (追回), written_off (核销), excess (recovered
-- above the amount at risk: 罚没 penalties …); a correction is a row of the opposite sign (corrects = the row it
-- reverses). on_date is the day the money moved: a report sums the rows with on_date up to its day.
-- Grain: one row per amount recorded or reversed.
SELECT money_id, suspect_id, event_id, kind, amount, on_date, corrects
FROM case_money
ORDER BY money_id
