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
    yield truth, suspects, con, result.stdout
    con.close()


@pytest.mark.parametrize("rule", [r.code for r in RULES])
def test_precision_and_recall_are_one_with_exact_amounts(run, rule):
    truth, suspects, _, _ = run
    expected = {
        (s, Decimal(a)) for s, a in truth.filter(pl.col("rule") == rule).select("subject_id", "amount_at_risk").rows()
    }
    found = set(suspects.filter(pl.col("rule") == rule).select("subject_id", "amount_at_risk").rows())
    assert expected, f"the generator planted no {rule}"
    missed, false = expected - found, found - expected
    assert not missed and not false, f"{rule}: missed {sorted(missed)[:5]}, false {sorted(false)[:5]}"


@pytest.mark.parametrize("rule", RULES, ids=[r.code for r in RULES])
def test_sql_twin_agrees_finding_by_finding(run, rule):
    _, suspects, con, _ = run
    by_sql = detect_sql(con, rule, AS_OF, Decimal("100000.00"))
    by_polars = (
        suspects.filter(pl.col("rule") == rule.code)
        .select(pl.col(c).cast(by_sql.schema[c]) for c in COMPARED_COLUMNS)
        .sort("subject_id")
    )
    assert by_polars.to_dicts() == by_sql.to_dicts()


def test_run_prints_findings_per_rule(run):
    _, suspects, _, stdout = run
    assert "疑点线索 findings of this run" in stdout
    for rule in RULES:
        assert f"{rule.name_zh} {rule.code}" in stdout
    assert suspects["suspect_id"].is_unique().all()
    assert suspects["evidence"].str.contains("依据 evidence: \\[").all()
