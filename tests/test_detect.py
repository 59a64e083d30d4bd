"""Publishing findings into `suspects`: stable ids, nothing an analyst recorded is lost across runs."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import polars as pl

from pipelines import detect, store
from pipelines.rules.common import SUSPECT_SCHEMA


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
                "evidence": "[]",
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
    con = store.connect(tmp_path / "fw.duckdb")
    d1, d2, d3 = dt.date(2026, 1, 1), dt.date(2026, 1, 2), dt.date(2026, 1, 3)
    detect.publish_suspects(con, found(("SOD_BREACH", "B1", "10.00"), ("DUP_CLAIM", "P1", "5.00")), d1, "r1")
    first = suspects(con)
    assert first["SOD_BREACH/B1"][1:] == (Decimal("10.00"), d1, d1, True, "open")
    assert first["SOD_BREACH/B1"][0].startswith("SP-")

    # an analyst works the case; the next run finds it again with a new amount, and DUP_CLAIM/P1 no longer fires
    con.execute("UPDATE suspects SET status = 'under_verification' WHERE subject_id = 'B1'")
    detect.publish_suspects(con, found(("SOD_BREACH", "B1", "12.00"), ("SOD_BREACH", "B2", "1.00")), d2, "r2")
    second = suspects(con)
    assert second["SOD_BREACH/B1"] == (first["SOD_BREACH/B1"][0], Decimal("12.00"), d1, d2, True, "under_verification")
    assert second["DUP_CLAIM/P1"] == (first["DUP_CLAIM/P1"][0], Decimal("5.00"), d1, d1, False, "open")
    assert second["SOD_BREACH/B2"][3:] == (d2, True, "open")

    # it fires again later: same id, active again
    detect.publish_suspects(con, found(("DUP_CLAIM", "P1", "5.00")), d3, "r3")
    third = suspects(con)
    assert third["DUP_CLAIM/P1"] == (first["DUP_CLAIM/P1"][0], Decimal("5.00"), d1, d3, True, "open")
    assert third["SOD_BREACH/B1"][4:] == (False, "under_verification")


def test_suspect_id_depends_only_on_rule_and_subject(tmp_path):
    ids = []
    for name in ("a", "b"):
        con = store.connect(tmp_path / f"{name}.duckdb")
        detect.publish_suspects(con, found(("RECON_CONTRIB", "E1|110|202503", "1.00")), dt.date(2026, 1, 1), name)
        ids.append(con.execute("SELECT suspect_id FROM suspects").fetchone()[0])
    assert ids[0] == ids[1]
