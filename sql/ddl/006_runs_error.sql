-- Added to runs (issue 11): why a run failed, in words (the first error, not a secondary one).
ALTER TABLE runs ADD COLUMN IF NOT EXISTS error VARCHAR;
-- Files whose rows the run took out of force at a `fundwatch withdraw` request (ADR 0011).
ALTER TABLE runs ADD COLUMN IF NOT EXISTS files_withdrawn BIGINT DEFAULT 0;
