"""Every rule on a generated dirty inbox: precision and recall 1.0 against the planted truth,
exact amounts, and the plain-SQL twin agreeing with the Polars rules finding by finding."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from decimal import Decimal

import duckdb
import polars as pl
import pytest

from pipelines.detect.engine import COMPARED_COLUMNS, detect_sql
from pipelines.rules import RULES
from pipelines.synth import generate

pytestmark = pytest.mark.slow  # a 20,000-person province through a real run

PERSONS = 20_000
AS_OF = dt.date(2026, 11, 27)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("rules")
    inbox, db = root / "inbox", root / "fw.duckdb"
    generate(PERSONS, inbox, seed=3, dirty=True)
    result = subprocess.run(
        [sys.executable, "-m", "pipelines", "run", "--inbox", str(inbox), "--db", str(db), "--as-of", str(AS_OF)],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 1, result.stdout[-3000:] + result.stderr[-3000:]  # planted bad input
    truth = pl.read_csv(inbox / "_truth" / "findings.csv", infer_schema=False)
    con = duckdb.connect(str(db), read_only=True)
    suspects = con.sql("SELECT * FROM suspects WHERE active").pl()
    yield truth, suspects, con, result.stdout, inbox
    con.close()


@pytest.mark.parametrize("rule", [r.code for r in RULES])
def test_precision_and_recall_are_one_with_exact_amounts(run, rule):
    truth, suspects, _, _, _ = run
    expected = {
        (s, Decimal(a)) for s, a in truth.filter(pl.col("rule") == rule).select("subject_id", "amount_at_risk").rows()
    }
    found = set(suspects.filter(pl.col("rule") == rule).select("subject_id", "amount_at_risk").rows())
    assert expected, f"the generator planted no {rule}"
    missed, false = expected - found, found - expected
    assert not missed and not false, f"{rule}: missed {sorted(missed)[:5]}, false {sorted(false)[:5]}"


@pytest.mark.parametrize("rule", RULES, ids=[r.code for r in RULES])
def test_sql_twin_agrees_finding_by_finding(run, rule):
    _, suspects, con, _, _ = run
    by_sql = detect_sql(con, rule, AS_OF, Decimal("100000.00"))
    by_polars = (
        suspects.filter(pl.col("rule") == rule.code)
        .select(pl.col(c).cast(by_sql.schema[c]) for c in COMPARED_COLUMNS)
        .sort("subject_id")
    )
    assert by_polars.to_dicts() == by_sql.to_dicts()


def test_every_planted_typo_resolves_to_its_person_and_no_ambiguous_one_does(run):
    _, _, con, stdout, inbox = run
    planted = pl.read_csv(inbox / "_truth" / "resolutions.csv", infer_schema=False)
    assert set(planted["outcome"]) == {"resolved", "ambiguous", "no_candidate"}
    looked_up = con.sql(
        "SELECT dataset, file, line::VARCHAR AS line, coalesce(resolved_person_id, '') AS got, "
        "id_candidates::VARCHAR AS got_candidates FROM quarantine WHERE id_candidates IS NOT NULL"
    ).pl()
    joined = planted.join(looked_up, on=["dataset", "file", "line"], how="full", coalesce=True)
    assert joined.filter(pl.col("outcome").is_null() | pl.col("got").is_null()).is_empty()  # the same rows
    assert (joined["got"] == joined["expected"].fill_null("")).all()
    assert (joined["got_candidates"] == joined["candidates"]).all()
    # each resolved row is in its dataset under the person's ID, as typed beside it
    for dataset, file, line, raw, expected in (
        planted.filter(pl.col("outcome") == "resolved")
        .select("dataset", "file", "line", "person_id_raw", "expected")
        .rows()
    ):
        row = con.execute(
            f'SELECT person_id, person_id_raw, id_resolved FROM "{dataset}" WHERE source_file = ? AND source_line = ?',
            [file, int(line)],
        ).fetchall()
        assert row == [(expected, raw, True)], (dataset, file, line)
    # the run summary's line per dataset says what the truth planted there
    for dataset, rows in planted.group_by("dataset"):
        counts = rows["outcome"].value_counts()
        n = dict(zip(counts["outcome"], counts["count"], strict=True))
        resolved, none, several = n.get("resolved", 0), n.get("no_candidate", 0), n.get("ambiguous", 0)
        line = (
            f"{dataset[0]}: 已纠正 resolved {resolved:,}, 未纠正 unresolved {none + several:,} "
            f"(无匹配候选 no candidate {none:,}, 多个候选 several candidates {several:,})"
        )
        assert line in stdout, line


def test_run_prints_findings_per_rule(run):
    _, suspects, _, stdout, _ = run
    assert "疑点线索 findings of this run" in stdout
    for rule in RULES:
        assert f"{rule.name_zh} {rule.code}" in stdout
    assert suspects["suspect_id"].is_unique().all()
    assert suspects["evidence"].str.contains("依据 evidence: \\[").all()
