-- Added to runs (issue 6): the remaining phase durations, and the fingerprint of what detection read.
-- detect_key = sha256 of (the files in force, as_of, the payment threshold, the rule code); a run whose
-- key equals that of the last completed run carries the findings forward instead of recomputing them.
ALTER TABLE runs ADD COLUMN IF NOT EXISTS prepare_seconds DOUBLE;  -- building copy of the published file
ALTER TABLE runs ADD COLUMN IF NOT EXISTS publish_seconds DOUBLE;  -- views, closing the run (before the swap)
ALTER TABLE runs ADD COLUMN IF NOT EXISTS detect_key VARCHAR;
ALTER TABLE runs ADD COLUMN IF NOT EXISTS rules_skipped BOOLEAN DEFAULT false;
