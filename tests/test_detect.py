"""Merging findings into `suspects`: stable ids, nothing an analyst recorded is lost across runs."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import polars as pl
import pytest

from pipelines.detect.engine import run_rule
from pipelines.detect.findings import merge_findings
from pipelines.detect.stage import stage_datasets
from pipelines.warehouse.session import connect
from schemas.suspects import SUSPECT_SCHEMA


def found(*rows: tuple[str, str, str]) -> pl.DataFrame:
    return pl.DataFrame(
        [
            {
                "rule": rule,
                "subject_id": subject,
                "person_id": None,
                "region_code": "330100",
                "period_from": "202503",
                "period_to": "202503",
                "amount_at_risk": Decimal(amount),
                "summary": "句子",
                "evidence_rows": "[]",
            }
            for rule, subject, amount in rows
        ],
        schema=SUSPECT_SCHEMA,
    )


def suspects(con) -> dict[str, tuple]:
    rows = con.execute(
        "SELECT rule, subject_id, suspect_id, amount_at_risk, first_seen, last_seen, active, status "
        "FROM suspects ORDER BY rule, subject_id"
    ).fetchall()
    return {f"{r[0]}/{r[1]}": r[2:] for r in rows}


def test_findings_keep_their_id_status_and_first_seen_and_are_never_erased(tmp_path):
    con = connect(tmp_path / "fw.duckdb")
    d1, d2, d3 = dt.date(2026, 1, 1), dt.date(2026, 1, 2), dt.date(2026, 1, 3)
    merge_findings(con, found(("SOD_BREACH", "B1", "10.00"), ("DUP_CLAIM", "P1", "5.00")), d1, "r1")
    first = suspects(con)
    assert first["SOD_BREACH/B1"][1:] == (Decimal("10.00"), d1, d1, True, "open")
    assert first["SOD_BREACH/B1"][0].startswith("SP-")

    # an analyst works the case; the next run finds it again with a new amount, and DUP_CLAIM/P1 no longer fires
    con.execute("UPDATE suspects SET status = 'under_verification' WHERE subject_id = 'B1'")
    merge_findings(con, found(("SOD_BREACH", "B1", "12.00"), ("SOD_BREACH", "B2", "1.00")), d2, "r2")
    second = suspects(con)
    assert second["SOD_BREACH/B1"] == (first["SOD_BREACH/B1"][0], Decimal("12.00"), d1, d2, True, "under_verification")
    assert second["DUP_CLAIM/P1"] == (first["DUP_CLAIM/P1"][0], Decimal("5.00"), d1, d1, False, "open")
    assert second["SOD_BREACH/B2"][3:] == (d2, True, "open")

    # it fires again later: same id, active again
    merge_findings(con, found(("DUP_CLAIM", "P1", "5.00")), d3, "r3")
    third = suspects(con)
    assert third["DUP_CLAIM/P1"] == (first["DUP_CLAIM/P1"][0], Decimal("5.00"), d1, d3, True, "open")
    assert third["SOD_BREACH/B1"][4:] == (False, "under_verification")


def test_suspect_id_depends_only_on_rule_and_subject(tmp_path):
    ids = []
    for name in ("a", "b"):
        con = connect(tmp_path / f"{name}.duckdb")
        merge_findings(con, found(("RECON_CONTRIB", "E1|110|202503", "1.00")), dt.date(2026, 1, 1), name)
        ids.append(con.execute("SELECT suspect_id FROM suspects").fetchone()[0])
    assert ids[0] == ids[1]


def test_an_id_arriving_15_digit_on_one_side_still_joins(tmp_path):
    """The death notice carries the legacy 15-digit ID, the payments the 18-digit one: one person, one finding."""
    from pipelines.ingest.inbox import discover
    from pipelines.ingest.load import ingest_file
    from pipelines.rules import BY_CODE

    inbox = tmp_path / "inbox"
    (inbox / "benefit_payments").mkdir(parents=True)
    (inbox / "death_records").mkdir(parents=True)
    (inbox / "benefit_payments" / "bp.csv").write_text(
        "payment_id,person_id,region_code,scheme,benefit_type,period,amount,bank_account\n"
        "P1,11010519491231002X,330100,110,pension,202503,1000.00,6222\n"
        "P2,11010519491231002x,330100,110,pension,202504,1000.00,6222\n",
        encoding="utf-8",
    )
    (inbox / "death_records" / "dr.csv").write_text(
        "公民身份号码,死亡日期,信息来源\n110105491231002,2025年3月5日,公安户籍注销\n", encoding="gb18030"
    )
    con = connect(tmp_path / "fw.duckdb")
    for item in discover(inbox):
        assert ingest_file(con, item, "r1", dt.date(2026, 11, 27)).status == "loaded"
    stage_datasets(con, tmp_path / "stage", ["benefit_payments", "death_records"])
    found = run_rule(BY_CODE["DECEASED_PAID"], tmp_path / "stage", dt.date(2026, 11, 27), Decimal("100000"))
    assert found.select("subject_id", "amount_at_risk", "period_from").rows() == [
        ("11010519491231002X", Decimal("1000.00"), "202504")
    ]


@pytest.mark.slow
def test_sharded_rules_find_the_same_shard_by_shard(tmp_path):
    """Split by a hash of its shard key into 3 shards, each sharded rule finds exactly what one pass finds."""
    from pipelines.ingest.inbox import discover
    from pipelines.ingest.load import ingest_files
    from pipelines.rules import RULES
    from pipelines.synth import generate

    inbox = tmp_path / "inbox"
    generate(1500, inbox, seed=17, dirty=False)
    con = connect(tmp_path / "fw.duckdb")
    items = discover(inbox)
    ingest_files(con, items, "r1", dt.date(2026, 11, 27))
    stage_datasets(con, tmp_path / "stage")
    con.close()
    sharded = [r for r in RULES if r.shard_key]
    assert {r.code for r in sharded} == {
        "DUP_ENROLL",
        "DUP_BENEFIT",
        "DECEASED_PAID",
        "UNEMP_WHILE_EMPLOYED",
        "PRISONER_PAID",
        "UNEMP_WITH_PENSION",
        "DUP_IDENTITY",
        "SHARED_ACCOUNT",
        "RECON_CONTRIB",
        "RECON_PAYMENT",
        "UNREGISTERED_ACCOUNT",
    }
    for rule in sharded:
        whole = run_rule(rule, tmp_path / "stage", dt.date(2026, 11, 27), Decimal("100000"), shards=1)
        parts = run_rule(rule, tmp_path / "stage", dt.date(2026, 11, 27), Decimal("100000"), shards=3)
        assert whole.height > 0 and whole.equals(parts), rule.code


def test_a_dataset_is_staged_in_parts_that_scan_back_as_the_table(tmp_path, monkeypatch):
    """Parts of about PART_ROWS rows (Polars maps a scanned file: parts let each go), read back whole and in order;
    a dataset with no rows is one empty part with its columns."""
    from pipelines.detect import stage

    con = connect(tmp_path / "fw.duckdb")
    con.execute(
        "INSERT INTO benefit_payments (payment_id, amount, source_file, run_id) "
        "SELECT 'P' || lpad(range::VARCHAR, 7, '0'), range / 100, 'benefit_payments/a.csv', 'r1' FROM range(300000)"
    )
    monkeypatch.setattr(stage, "PART_ROWS", 122_880)  # DuckDB hands over 122,880 rows at a time: a part each
    stage_datasets(con, tmp_path / "stage", ["benefit_payments", "death_records"])
    table = con.sql("SELECT * EXCLUDE (source_file, source_line, run_id) FROM benefit_payments").pl()
    con.close()
    parts = stage.staged_files(tmp_path / "stage", "benefit_payments")
    assert [p.name for p in parts] == ["part-00000.arrow", "part-00001.arrow", "part-00002.arrow"]
    scanned = stage.scan_staged(tmp_path / "stage", ("benefit_payments", "death_records"))
    assert scanned["benefit_payments"].collect().equals(table)
    assert stage.staged_rows(tmp_path / "stage", ("benefit_payments",)) == 300_000
    assert [p.name for p in stage.staged_files(tmp_path / "stage", "death_records")] == ["part-00000.arrow"]
    deaths = scanned["death_records"].collect()
    assert deaths.height == 0 and "death_date" in deaths.columns
