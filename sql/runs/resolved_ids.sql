-- Mistyped citizen IDs one run looked up in enrollment (CONTRACT.md section 6), per dataset: resolved (also
-- loaded, id_resolved = true) and unresolved (only in quarantine: no candidate, or several).
-- Grain: one row per dataset with such rows among the quarantine rows the run wrote.
SELECT
    dataset,
    count(*) FILTER (WHERE id_candidates = 1) AS resolved,
    count(*) FILTER (WHERE id_candidates = 0) AS no_candidate,
    count(*) FILTER (WHERE id_candidates > 1) AS ambiguous
FROM quarantine
WHERE run_id = $run_id AND id_candidates IS NOT NULL
GROUP BY dataset
ORDER BY dataset;  -- the summary re-orders rows into contract order
