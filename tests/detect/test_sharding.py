"""Bounded detection memory (issue 17, docs/adr/0029): every rule sharded by its own key gives, shard by shard,
finding for finding what one pass gives; the streaming engine gives what the in-memory engine gives; the shard
count follows the input size; RECON_PAYMENT's orphan results are routed over all shards."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import duckdb
import polars as pl
import pytest

from pipelines.detect import engine
from pipelines.detect.engine import run_rule, shard_count
from pipelines.detect.stage import scan_staged, stage_datasets
from pipelines.ingest.inbox import discover
from pipelines.ingest.load import ingest_files
from pipelines.rules import BY_CODE, RULES
from pipelines.synth.ids import check_digit
from pipelines.warehouse.session import connect
from schemas.datasets import BY_NAME

ROOT = Path(__file__).resolve().parents[2]
AS_OF = dt.date(2026, 11, 27)
THRESHOLD = Decimal("100000")
SHARDED = {
    "DUP_ENROLL": "person_id",
    "DUP_BENEFIT": "person_id",
    "DECEASED_PAID": "person_id",
    "UNEMP_WHILE_EMPLOYED": "person_id",
    "PRISONER_PAID": "person_id",
    "UNEMP_WITH_PENSION": "person_id",
    "DUP_IDENTITY": "person_id",
    "SHARED_ACCOUNT": "bank_account",
    "RECON_CONTRIB": "employer_id",
    "RECON_PAYMENT": "payment_id",
    "UNREGISTERED_ACCOUNT": "account_no",
}


def _stage(inbox: Path, work: Path) -> Path:
    con = connect(work / "fw.duckdb")
    ingest_files(con, discover(inbox), "r1", AS_OF)
    stage_datasets(con, work / "stage")
    con.close()
    return work / "stage"


@pytest.fixture(scope="module")
def sample_stage(tmp_path_factory) -> Path:
    """The sample inbox (data_samples/, planted bad input quarantined) staged as a run stages it."""
    return _stage(ROOT / "data_samples", tmp_path_factory.mktemp("sample"))


@pytest.fixture(scope="module")
def synth_stage(tmp_path_factory) -> Path:
    """A small generated province (2,000 persons, findings of every rule planted) staged as a run stages it."""
    from pipelines.synth import generate

    work = tmp_path_factory.mktemp("synth")
    generate(2000, work / "inbox", seed=29, dirty=False)
    return _stage(work / "inbox", work)


def test_the_rules_shard_by_their_own_key_present_in_every_input():
    """What a Dask task hashes (Rule.shard_key) is a column of every input of the rule."""
    assert {r.code: r.shard_key for r in RULES if r.shard_key} == SHARDED
    for rule in RULES:
        if rule.shard_key:
            for name in rule.inputs:
                assert rule.shard_key in [c.name for c in BY_NAME[name].columns], (rule.code, name)


@pytest.mark.slow
@pytest.mark.parametrize("inbox", ["sample_stage", "synth_stage"])
def test_every_sharded_rule_finds_shard_by_shard_what_one_pass_finds(inbox, request, monkeypatch):
    """Each shard filtered from the staged files, or read from the files the staged rows were split into."""
    stage = request.getfixturevalue(inbox)
    fired = set()
    for code in SHARDED:
        rule = BY_CODE[code]
        whole = run_rule(rule, stage, AS_OF, THRESHOLD, shards=1)
        fired |= {code} if whole.height else set()
        for shards in (2, 5):
            for split_from, split in ((10**9, False), (1, True)):
                monkeypatch.setattr(engine, "SPLIT_FROM_SCANS", split_from)
                found = run_rule(rule, stage, AS_OF, THRESHOLD, shards=shards)
                assert (stage / engine.SHARDS / engine.partition_name(rule, shards)).is_dir() == split, code
                assert found.equals(whole), (code, shards, split)
                engine.release_shards(stage, ())
    # the comparison means something only where the rules find something
    assert len(fired) >= (5 if inbox == "sample_stage" else 10), fired


@pytest.mark.slow
@pytest.mark.parametrize("inbox", ["sample_stage", "synth_stage"])
def test_the_streaming_engine_finds_what_the_in_memory_engine_finds(inbox, request):
    stage = request.getfixturevalue(inbox)
    total = 0
    for rule in RULES:
        memory = run_rule(rule, stage, AS_OF, THRESHOLD, shards=1, engine="in-memory")
        streaming = run_rule(rule, stage, AS_OF, THRESHOLD, shards=1, engine="streaming")
        assert streaming.equals(memory), rule.code
        total += memory.height
    assert total > 20


def test_the_shard_count_bounds_the_rows_of_a_shard(sample_stage, monkeypatch):
    rows = {
        name: scan_staged(sample_stage, (name,))[name].select(pl.len()).collect().item()
        for name in ("benefit_payments", "bank_disbursements")
    }
    recon = BY_CODE["RECON_PAYMENT"]
    assert shard_count(recon, sample_stage) == 1  # the default bound is far above a sample
    monkeypatch.setattr(engine, "SHARD_ROWS", 7)
    expected = -(-(rows["benefit_payments"] + rows["bank_disbursements"]) // 7)
    assert shard_count(recon, sample_stage) == expected > 1
    assert shard_count(BY_CODE["DUP_CLAIM"], sample_stage) == 1  # not sharded: one streamed pass
    # run_rule picks the count itself: the same findings as one pass
    many = run_rule(recon, sample_stage, AS_OF, THRESHOLD)
    monkeypatch.setattr(engine, "SHARD_ROWS", 10**9)
    assert many.equals(run_rule(recon, sample_stage, AS_OF, THRESHOLD))


def test_a_split_is_written_once_for_the_rules_split_alike_and_released_after_the_last(sample_stage, monkeypatch):
    monkeypatch.setattr(engine, "SHARD_ROWS", 50)
    monkeypatch.setattr(engine, "SPLIT_FROM_SCANS", 1)
    benefits = [BY_CODE[c] for c in ("DUP_BENEFIT", "UNEMP_WITH_PENSION")]
    count = shard_count(benefits[0], sample_stage)
    assert count == shard_count(benefits[1], sample_stage) > 1
    name = engine.partition_name(benefits[0], count)
    assert name == engine.partition_name(benefits[1], count) == f"person_id-{count}"
    split = sample_stage / engine.SHARDS / name / "benefit_payments"
    try:
        run_rule(benefits[0], sample_stage, AS_OF, THRESHOLD)
        first = sorted(split.iterdir())
        assert len(first) == count + 1  # the shards and the mark that the split is whole
        written = {f: f.stat().st_mtime_ns for f in first}
        run_rule(benefits[1], sample_stage, AS_OF, THRESHOLD)  # reads the same split, does not write it again
        assert {f: f.stat().st_mtime_ns for f in split.iterdir()} == written
        shards = sum(pl.read_ipc(f).height for f in first if f.name.startswith("shard-"))
        assert (
            shards
            == scan_staged(sample_stage, ("benefit_payments",))["benefit_payments"].select(pl.len()).collect().item()
        )
        engine.release_shards(sample_stage, (benefits[1],))  # a later rule reads it: kept
        assert split.is_dir()
        engine.release_shards(sample_stage, (BY_CODE["SHARED_ACCOUNT"],))  # none does: removed
        assert not (sample_stage / engine.SHARDS / name).exists()
    finally:
        engine.release_shards(sample_stage, ())


def test_rules_sharded_by_one_key_share_a_shard_count_and_a_rule_that_fits_keeps_one_pass(sample_stage, monkeypatch):
    """Above the bound, every rule sharded by a key runs in the most shards any of them needs (one split of a dataset
    serves them all); below it a rule stays one pass, whatever the others need."""
    rows = {rule.code: engine.staged_rows(sample_stage, rule.inputs) for rule in RULES if rule.shard_key}
    person = [code for code in SHARDED if SHARDED[code] == "person_id" and code != "DUP_IDENTITY"]
    largest = max(person, key=rows.__getitem__)
    smallest = min(person, key=rows.__getitem__)
    bound = rows[smallest]  # the smallest fits, the others do not
    monkeypatch.setattr(engine, "SHARD_ROWS", bound)
    needed = -(-rows[largest] // bound)
    counts = {code: shard_count(BY_CODE[code], sample_stage) for code in person}
    assert counts[smallest] == 1
    assert {counts[code] for code in person if rows[code] > bound} == {needed}
    # the comparison means something only if some rule would need fewer shards on its own
    assert any(1 < -(-rows[code] // bound) < needed for code in person)
    # DUP_IDENTITY hashes something else (its shard_value): its own count, its own split
    identity = BY_CODE["DUP_IDENTITY"]
    assert shard_count(identity, sample_stage) == max(1, -(-rows["DUP_IDENTITY"] // bound))


def test_a_split_holds_exactly_the_rows_of_each_shard_in_order_and_empty_shards_with_their_columns(tmp_path):
    stage = tmp_path / "stage"
    stage.mkdir()
    ids = [_pid(f"33010219500101{n:03d}") for n in range(1, 6)]
    pl.DataFrame({"person_id": ids * 3, "n": list(range(15))}).write_ipc(stage / "enrollment.arrow")
    rule = BY_CODE["DUP_ENROLL"]
    shards = 11  # more shards than persons: some are empty
    files = engine.split_shards(stage, rule, shards)["enrollment"]
    whole = {"enrollment": pl.scan_ipc(stage / "enrollment.arrow")}
    empty = 0
    for i in range(shards):
        assert len(files[i]) == 1
        got = engine.read_shard(files[i]).collect()
        expected = engine.shard(whole, "person_id", shards, i)["enrollment"].collect()
        assert got.equals(expected), i
        empty += got.is_empty()
    assert empty >= 6


def _pid(body17: str) -> str:
    return body17 + check_digit(body17)


def test_an_orphan_result_is_routed_by_the_payments_of_every_shard(tmp_path):
    """The payments into an orphan's credited account sit in other payment_id shards than the orphan: its region
    is still the most frequent region of those payments (ties: the smallest code), shard by shard as in one pass."""
    account, other = "6217330000000000001", "6217330000000000002"
    persons = [_pid(f"33010219500101{n:03d}") for n in range(1, 8)]
    payments = [
        # account: 3 payments from 330200, 2 from 330100 -> an orphan into it goes to 330200
        *[(f"F{n}", persons[n], "330200" if n < 3 else "330100", account) for n in range(5)],
        # other: one each from 330300 and 330100 -> the tie goes to 330100
        ("F5", persons[5], "330300", other),
        ("F6", persons[6], "330100", other),
    ]
    results = [(f"F{n}", account if n < 5 else other, "success") for n in range(7)]
    results += [("Q1", account, "success"), ("Q2", other, "success"), ("Q3", "6217339999999999999", "success")]
    con = duckdb.connect(str(tmp_path / "t.duckdb"))
    con.execute(
        "CREATE TABLE benefit_payments AS SELECT * FROM (VALUES "
        + ", ".join(
            f"('{p}', '{pe}', '{r}', '110', 'pension', '202506', 3000.00::DECIMAL(18,2), '{a}', "
            "DATE '2025-06-15', 'B1')"
            for p, pe, r, a in payments
        )
        + ") t(payment_id, person_id, region_code, scheme, benefit_type, period, amount, bank_account, pay_date, "
        "batch_id)"
    )
    con.execute(
        "CREATE TABLE bank_disbursements AS SELECT * FROM (VALUES "
        + ", ".join(f"('{p}', '{a}', 3000.00::DECIMAL(18,2), '{s}', DATE '2025-06-16')" for p, a, s in results)
        + ") t(payment_id, bank_account, amount, status, settled_date)"
    )
    stage = tmp_path / "stage"
    stage.mkdir()
    for name in ("benefit_payments", "bank_disbursements"):
        con.sql(f"SELECT * FROM {name}").pl().write_ipc(stage / f"{name}.arrow")
    con.close()
    rule = BY_CODE["RECON_PAYMENT"]
    whole = run_rule(rule, stage, AS_OF, THRESHOLD, shards=1)
    assert dict(whole.select("subject_id", "region_code").iter_rows()) == {"Q1": "330200", "Q2": "330100", "Q3": None}
    for shards in (2, 3, 4, 7):
        # the orphans' shards do not hold the payments that route them
        assert run_rule(rule, stage, AS_OF, THRESHOLD, shards=shards).equals(whole), shards


def test_a_run_connection_holds_the_memory_limit_and_spills_beside_its_file(tmp_path):
    from pipelines.warehouse.session import writer

    with writer(tmp_path / "fw.duckdb", memory_limit="300MB") as con:
        limit, spill = con.execute(
            "SELECT current_setting('memory_limit'), current_setting('temp_directory')"
        ).fetchone()
    assert limit == "286.1 MiB"  # DuckDB shows 300 MB in MiB
    assert spill == str(tmp_path / "fw.duckdb.tmp")
