"""A finding-dense inbox (`fundwatch synth --finding-share`, issue 17): about that share of persons carry a
planted finding, spread over the rules as the generator's own density is, and the truth stays exact — the
independent oracle of tests/test_synth.py finds exactly it on the clean inbox, and a real `fundwatch run` on
the dirty one finds exactly it, amount for amount."""

from __future__ import annotations

import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import duckdb
import polars as pl
import pytest

from pipelines.synth import generate
from pipelines.synth.plants import RULES, plants_per_rule
from tests.test_synth import fen, oracle, truth

PERSONS = 3000
SHARE = 0.07


@pytest.fixture(scope="module")
def clean_dense(tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("dense") / "clean"
    return out, generate(PERSONS, out, seed=11, dirty=False, finding_share=SHARE)


def test_the_share_of_persons_with_a_finding_is_about_the_share_asked(clean_dense) -> None:
    _, summary = clean_dense
    n = plants_per_rule(PERSONS, SHARE)
    assert n == 14 and plants_per_rule(PERSONS) == 3  # 0.07 * 3000 / 15 rules against max(3, 3000 // 2000)
    assert summary["finding_share"] == SHARE
    found = sum(summary["findings"].values())
    assert 0.065 * PERSONS <= found <= 0.08 * PERSONS, found
    # spread over every rule, each with at least its plants (a few rules plant a variant or two more)
    assert set(summary["findings"]) == set(RULES)
    assert all(n <= k <= 1.25 * n for k in summary["findings"].values()), summary["findings"]


def test_the_oracle_finds_exactly_the_dense_truth(clean_dense) -> None:
    inbox, _ = clean_dense
    planted = truth(inbox, "findings")
    expected = {(r["rule"], r["subject_id"]): fen(r["amount_at_risk"]) for r in planted.iter_rows(named=True)}
    found = oracle(inbox)
    assert len(expected) == planted.height > 200
    assert found == expected
    for row in truth(inbox, "near_misses").iter_rows(named=True):
        assert (row["rule"], row["subject_id"]) not in found


def test_without_a_share_the_generators_own_inbox_is_unchanged(tmp_path: Path) -> None:
    plain = generate(600, tmp_path / "plain", seed=5, dirty=False)
    assert "finding_share" not in plain
    assert plain["findings"]["SOD_BREACH"] == plants_per_rule(600) == 3
    dense = generate(600, tmp_path / "dense", seed=5, dirty=False, finding_share=0.2)
    assert dense["findings"]["SOD_BREACH"] == 8  # round(0.2 * 600 / 15)
    assert sum(dense["findings"].values()) > 1.5 * sum(plain["findings"].values())


@pytest.mark.parametrize("share", ["0", "-0.1", "0.5"])
def test_a_share_out_of_range_is_a_usage_error_and_writes_nothing(tmp_path: Path, share: str) -> None:
    out = tmp_path / "inbox"
    command = [sys.executable, "-m", "pipelines", "synth", "--persons", "1000", "--out", str(out)]
    result = subprocess.run([*command, "--finding-share", share], capture_output=True, text=True, timeout=120)
    assert result.returncode == 2, result.stderr
    assert "finding_share" in result.stderr
    assert not out.exists()


@pytest.mark.slow
def test_a_run_on_a_dense_dirty_inbox_finds_exactly_its_truth(tmp_path: Path) -> None:
    inbox, db = tmp_path / "inbox", tmp_path / "fw.duckdb"
    summary = generate(PERSONS, inbox, seed=12, dirty=True, finding_share=SHARE)
    result = subprocess.run(
        [sys.executable, "-m", "pipelines", "run", "--inbox", str(inbox), "--db", str(db), "--as-of", "2026-11-27"],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 1, result.stdout[-3000:] + result.stderr[-3000:]  # planted bad input
    planted = pl.read_csv(inbox / "_truth" / "findings.csv", infer_schema=False)
    expected = {(r, s, Decimal(a)) for r, s, a in planted.select("rule", "subject_id", "amount_at_risk").rows()}
    con = duckdb.connect(str(db), read_only=True)
    try:
        found = set(con.execute("SELECT rule, subject_id, amount_at_risk FROM suspects WHERE active").fetchall())
    finally:
        con.close()
    assert len(expected) == sum(summary["findings"].values()) > 200
    missed, false = expected - found, found - expected
    assert not missed and not false, f"missed {sorted(missed)[:5]}, false {sorted(false)[:5]}"


def test_a_dense_province_generated_in_parts_plants_the_share_in_every_part(tmp_path: Path) -> None:
    summary = generate(1500, tmp_path / "parts", seed=9, dirty=False, part_persons=500, finding_share=0.2)
    n = plants_per_rule(500, 0.2)  # per part of 500 persons
    assert n == 7 and summary["parts"] == 3
    findings = truth(tmp_path / "parts", "findings")
    assert findings.height == sum(summary["findings"].values())
    per_part = findings.filter(pl.col("rule") == "SOD_BREACH").group_by("part").len().sort("part")
    assert per_part["len"].to_list() == [n, n, n]
    assert findings.select("part", "rule", "subject_id").is_unique().all()
