-- A run whose detection inputs are those of the last completed run (same files in force, same as_of,
-- threshold and rule code) would find exactly the same: its findings are carried forward, not recomputed.
UPDATE suspects SET last_seen = $as_of, last_run_id = $run_id
WHERE active;
