-- Masking macros of the analyst views: the one masking policy (pipelines/present/masking.py) in SQL, so
-- that every v_* view shows personal data the way the CLI, the exports and the reports do. Created before
-- the views (file-name order); kept in the DuckDB file, so analysts may use them too:
--   SELECT mask_id(person_id), mask_text(summary) FROM suspects
--
-- * mask_id(v)       a citizen ID keeps its first 6 and last 4 characters: 330102********123X
--                    (a value of 10 characters or fewer is starred whole), like masking.mask_id;
-- * mask_account(v)  a bank account keeps its last 4 characters: ***************2303, like mask_account;
-- * is_citizen_id(v) v is shaped like a citizen ID (18 characters with a birth date, or the legacy 15
--                    digits; the check digit is not verified: a mistyped ID is still personal data);
-- * mask_text(t)     free text: every citizen ID standing alone (not inside a longer run of letters and
--                    digits) is masked like mask_id, then every run of 10 to 32 digits standing alone (not
--                    next to a letter, a digit or '*') like mask_account; like masking.mask_text;
-- * shown_subject(rule, subject_id, person_id)  a finding's subject as a person may read it: a personal
--                    bank account (SHARED_ACCOUNT, UNREGISTERED_ACCOUNT) masked like mask_account, the person's ID or any
--                    ID-shaped subject like mask_id, every ID among the parts of a subject `a|b` (DUP_IDENTITY)
--                    like mask_id, anything else (an employer, a voucher) as it is;
--                    like masking.shown_subject.
--
-- Text is cut into maximal runs of ASCII letters and digits and the runs between them
-- (regexp_extract_all), each run is masked when it is whole an ID (or, in the second pass, whole a run of
-- digits), and the runs are joined again: the same as the look-around expressions of the Python module,
-- which RE2 (DuckDB's regular expressions) does not have. Digits are ASCII digits (the warehouse holds
-- canonical values; Python's \d would also take full-width ones). tests/test_views.py checks both agree.
-- The macros use only SQL that the DuckDB command line of requirements.lock (1.5.x) also reads
-- (lambda x: …, not the older x -> …), since it binds them when an analyst opens a view.
CREATE OR REPLACE MACRO mask_id(v) AS
    CASE
        WHEN length(v) <= 10 THEN repeat('*', length(v))
        ELSE left(v, 6) || repeat('*', length(v) - 10) || right(v, 4)
    END;

CREATE OR REPLACE MACRO mask_account(v) AS
    CASE
        WHEN length(v) <= 4 THEN repeat('*', length(v))
        ELSE repeat('*', length(v) - 4) || right(v, 4)
    END;

CREATE OR REPLACE MACRO is_citizen_id(v) AS
    regexp_full_match(
        v,
        '[0-9]{6}(?:(?:18|19|20)[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])[0-9]{3}[0-9Xx]'
        || '|[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])[0-9]{3})'
    );

CREATE OR REPLACE MACRO mask_ids_in_text(t) AS
    array_to_string(
        list_transform(
            regexp_extract_all(t, '[0-9A-Za-z]+|[^0-9A-Za-z]+'),
            lambda run: CASE WHEN is_citizen_id(run) THEN mask_id(run) ELSE run END
        ),
        ''
    );

CREATE OR REPLACE MACRO mask_text(t) AS
    array_to_string(
        list_transform(
            regexp_extract_all(mask_ids_in_text(t), '[0-9A-Za-z*]+|[^0-9A-Za-z*]+'),
            lambda run: CASE WHEN regexp_full_match(run, '[0-9]{10,32}') THEN mask_account(run) ELSE run END
        ),
        ''
    );

CREATE OR REPLACE MACRO shown_subject(rule, subject_id, person_id) AS
    CASE
        WHEN rule IN ('SHARED_ACCOUNT', 'UNREGISTERED_ACCOUNT') THEN mask_account(subject_id)
        WHEN subject_id = person_id OR is_citizen_id(subject_id) THEN mask_id(subject_id)
        -- a subject of several parts (DUP_IDENTITY's `id|id`): every part that is an ID masked
        ELSE array_to_string(
            list_transform(string_split(subject_id, '|'), lambda part: CASE WHEN is_citizen_id(part) THEN mask_id(part) ELSE part END),
            '|'
        )
    END;
