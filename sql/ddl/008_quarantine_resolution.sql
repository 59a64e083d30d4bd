-- Added to quarantine (issue 14, CONTRACT.md section 6): what the lookup of a mistyped citizen ID in
-- enrollment found (pipelines/ingest/resolve.py), for a row whose only fault is a wrong check digit in a
-- dataset of RESOLVED_ID_DATASETS (pipelines/warehouse/session.py); both NULL for every other row.
-- id_candidates       how many persons of enrollment the ID could be (one substituted character or one swap
--                     of two adjacent characters away; with the same name where the row carries one):
--                     0 no candidate, 1 resolved, k > 1 ambiguous. The row stays quarantined (counted) in
--                     every case; its reason ends with what was found.
-- resolved_person_id  the one candidate's canonical ID, when id_candidates = 1; the row is then also loaded
--                     into its dataset with that person_id (id_resolved = true, person_id_raw as it arrived).
ALTER TABLE quarantine ADD COLUMN IF NOT EXISTS id_candidates BIGINT;
ALTER TABLE quarantine ADD COLUMN IF NOT EXISTS resolved_person_id VARCHAR;
