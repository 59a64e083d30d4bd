-- DUP_IDENTITY 一人多号: two or more different citizen IDs registered in enrollment under the same name
-- (spaces and full-width forms ignored) whose IDs encode the same birth date (ID characters 7-14) and gender
-- (the 17th digit's parity), each paid a pension for a period for which another of them is paid too.
-- A shared period: a month for which two or more IDs of one (name, birth date, gender) are paid a pension;
-- the finding's IDs are those paid in a shared period (one set of IDs found under two names: one finding).
-- Grain: one row per set of IDs; subject_id = the IDs sorted ascending, joined by '|'.
-- amount_at_risk = per shared period, the IDs' pension payments minus the largest, summed; person_id = the ID
-- first enrolled (earliest start_date of any spell; ties: the smaller ID); region_code = the region of its last
-- payment in a shared period (by period, then payment_id); period_from/to = the first and last shared period.
WITH fold AS (
    -- the same folding as pipelines/rules/dup_identity.py: full-width U+FF01..U+FF5E to ASCII; the white
    -- space appended to from_chars (no counterpart in to_chars) is removed
    SELECT
        array_to_string(list_transform(range(65281, 65375), lambda c: chr(CAST(c AS INTEGER))), '')
        || array_to_string(
            list_transform(
                [9, 10, 11, 12, 13, 32, 133, 160, 5760] || range(8192, 8203) || [8232, 8233, 8239, 8287, 12288],
                lambda c: chr(CAST(c AS INTEGER))
            ),
            ''
        ) AS from_chars,
        array_to_string(list_transform(range(33, 127), lambda c: chr(CAST(c AS INTEGER))), '') AS to_chars
),
identities AS (
    SELECT DISTINCT
        e.person_id,
        translate(e.name, f.from_chars, f.to_chars)                 AS name_key,
        substr(e.person_id, 7, 8)                                   AS birth,
        CAST(substr(e.person_id, 17, 1) AS INTEGER) % 2             AS odd_gender_digit
    FROM enrollment AS e
    CROSS JOIN fold AS f
),
pensions AS (
    SELECT *
    FROM benefit_payments
    WHERE benefit_type = 'pension'
),
shared AS (  -- (identity, ID, month) of the months two or more of an identity's IDs are paid for
    SELECT i.name_key, i.birth, i.odd_gender_digit, m.person_id, m.period
    FROM identities AS i
    JOIN (SELECT DISTINCT person_id, period FROM pensions) AS m USING (person_id)
    WHERE i.name_key <> ''
    QUALIFY count(*) OVER (PARTITION BY i.name_key, i.birth, i.odd_gender_digit, m.period) > 1
),
subjects AS (
    SELECT
        name_key, birth, odd_gender_digit,
        array_to_string(list_sort(list_distinct(list(person_id))), '|') AS subject_id
    FROM shared
    GROUP BY name_key, birth, odd_gender_digit
),
member_months AS (
    SELECT DISTINCT s.subject_id, m.person_id, m.period
    FROM shared AS m
    JOIN subjects AS s USING (name_key, birth, odd_gender_digit)
),
paid AS (
    SELECT m.subject_id, p.*
    FROM member_months AS m
    JOIN pensions AS p USING (person_id, period)
),
at_risk AS (
    SELECT subject_id, sum(excess) AS amount_at_risk, min(period) AS period_from, max(period) AS period_to
    FROM (
        SELECT subject_id, period, sum(amount) - max(amount) AS excess
        FROM paid
        GROUP BY subject_id, period
    )
    GROUP BY subject_id
),
chosen AS (
    SELECT m.subject_id, arg_min(m.person_id, (e.first_start, m.person_id)) AS person_id
    FROM (SELECT DISTINCT subject_id, person_id FROM member_months) AS m
    JOIN (SELECT person_id, min(start_date) AS first_start FROM enrollment GROUP BY person_id) AS e USING (person_id)
    GROUP BY m.subject_id
),
region AS (
    SELECT p.subject_id, arg_max(p.region_code, (p.period, p.payment_id)) AS region_code
    FROM paid AS p
    JOIN chosen AS c USING (subject_id, person_id)
    GROUP BY p.subject_id
)
SELECT
    'DUP_IDENTITY'                                  AS rule,
    a.subject_id,
    c.person_id,
    r.region_code,
    a.period_from,
    a.period_to,
    CAST(a.amount_at_risk AS DECIMAL(18, 2))        AS amount_at_risk
FROM at_risk AS a
JOIN chosen AS c USING (subject_id)
JOIN region AS r USING (subject_id);
