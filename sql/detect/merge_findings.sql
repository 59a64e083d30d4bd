-- Merge one run's findings (table _run_findings) into suspects.
-- Existing findings: refreshed facts, last_seen, active; their status, due date and everything an
-- analyst recorded stay. New findings: inserted 'open'. Findings that did not fire: active = false.
UPDATE suspects AS s SET
    person_id      = f.person_id,
    region_code    = f.region_code,
    period_from    = f.period_from,
    period_to      = f.period_to,
    amount_at_risk = f.amount_at_risk,
    evidence       = f.summary || ' 依据 evidence: ' || f.evidence_rows,
    summary        = f.summary,
    evidence_rows  = f.evidence_rows,
    last_seen      = $as_of,
    active         = true,
    last_run_id    = $run_id
FROM _run_findings AS f
WHERE s.suspect_id = 'SP-' || substr(md5(f.rule || '|' || f.subject_id), 1, 16);

INSERT INTO suspects (suspect_id, rule, rule_name_zh, subject_id, person_id, region_code, period_from,
                      period_to, amount_at_risk, evidence, summary, evidence_rows, first_seen, last_seen,
                      active, first_run_id, last_run_id, status, due_date)
SELECT
    'SP-' || substr(md5(f.rule || '|' || f.subject_id), 1, 16) AS suspect_id,
    f.rule,
    f.rule_name_zh,
    f.subject_id,
    f.person_id,
    f.region_code,
    f.period_from,
    f.period_to,
    f.amount_at_risk,
    f.summary || ' 依据 evidence: ' || f.evidence_rows,
    f.summary,
    f.evidence_rows,
    $as_of,
    $as_of,
    true,
    $run_id,
    $run_id,
    'open',
    NULL
FROM _run_findings AS f
WHERE NOT EXISTS (
    SELECT 1 FROM suspects AS s
    WHERE s.suspect_id = 'SP-' || substr(md5(f.rule || '|' || f.subject_id), 1, 16)
);

UPDATE suspects SET active = false
WHERE active AND coalesce(last_run_id, '') <> $run_id;
