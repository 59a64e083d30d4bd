-- DUP_ENROLL 重复参保: two enrollment spells of one person overlapping by more than
-- 30 days (both ends counted; an open spell runs until $as_of), both the same scheme
-- (any regions) or two schemes of one family (pension 110/120/170; medical 310/390).
-- Grain: one row per person. amount_at_risk = 0.00 (the contract defines no money);
-- period_from/to = months of the first and last overlapping day over all pairs;
-- region_code = region of the later-starting spell of the first pair (by first
-- overlapping day, then enrollment_id; on equal starts the larger enrollment_id is later).
WITH spells AS (
    SELECT
        person_id,
        enrollment_id,
        scheme,
        region_code,
        start_date,
        coalesce(end_date, CAST($as_of AS DATE)) AS last_day,
        CASE
            WHEN scheme IN ('110', '120', '170') THEN 'pension'
            WHEN scheme IN ('310', '390') THEN 'medical'
        END AS family
    FROM enrollment
),
pairs AS (
    SELECT
        a.person_id,
        a.enrollment_id                                         AS enrollment_id_a,
        b.enrollment_id                                         AS enrollment_id_b,
        greatest(a.start_date, b.start_date)                    AS overlap_from,
        least(a.last_day, b.last_day)                           AS overlap_to,
        CASE WHEN b.start_date >= a.start_date THEN b.region_code ELSE a.region_code END AS later_region
    FROM spells AS a
    JOIN spells AS b
      ON a.person_id = b.person_id
     AND a.enrollment_id < b.enrollment_id
     AND (a.scheme = b.scheme OR a.family = b.family)
    WHERE date_diff('day', greatest(a.start_date, b.start_date), least(a.last_day, b.last_day)) + 1 > 30
)
SELECT
    'DUP_ENROLL'                                                            AS rule,
    person_id                                                               AS subject_id,
    person_id,
    arg_min(later_region, (overlap_from, enrollment_id_a, enrollment_id_b)) AS region_code,
    strftime(min(overlap_from), '%Y%m')                                     AS period_from,
    strftime(max(overlap_to), '%Y%m')                                       AS period_to,
    CAST(0 AS DECIMAL(18, 2))                                               AS amount_at_risk
FROM pairs
GROUP BY person_id;
