"""RECON_CONTRIB: the 0.01 tolerance, split vouchers, one side missing, the region in the employer number."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from tests.rules.harness import findings, subjects

EMP = "DW330100900000"


def due(amount, scheme="110", period="202503", employer=EMP, headcount=12):
    return {"employer_id": employer, "scheme": scheme, "period": period, "amount_due": amount, "headcount": headcount}


def got(voucher, amount, scheme="110", period="202503", employer=EMP, date="2025-04-18"):
    return {
        "voucher_no": voucher,
        "employer_id": employer,
        "scheme": scheme,
        "period": period,
        "amount_collected": amount,
        "collected_date": date,
    }


@pytest.mark.parametrize(
    ("contributions", "collections", "expected"),
    [
        # equal: reconciled
        ([due("1000.00")], [got("V1", "1000.00")], {}),
        # exactly one fen apart is tolerated
        ([due("23456.78")], [got("V1", "23456.77")], {}),
        # two fen is a difference, whichever side is larger
        ([due("1000.00")], [got("V1", "1000.02")], {f"{EMP}|110|202503": Decimal("0.02")}),
        ([due("1000.02")], [got("V1", "1000.00")], {f"{EMP}|110|202503": Decimal("0.02")}),
        # split vouchers summing exactly to the assessment
        ([due("30000.01")], [got("V1", "10000.00"), got("V2", "10000.00"), got("V3", "10000.01")], {}),
        # assessed, nothing collected
        ([due("370.38", "210")], [], {f"{EMP}|210|202503": Decimal("370.38")}),
        # collected without an assessment
        ([], [got("V9", "763.01", "410")], {f"{EMP}|410|202503": Decimal("763.01")}),
        # the key is employer, scheme and period: a voucher for another period does not settle this one
        (
            [due("500.00", period="202503")],
            [got("V1", "500.00", period="202504")],
            {f"{EMP}|110|202503": Decimal("500.00"), f"{EMP}|110|202504": Decimal("500.00")},
        ),
    ],
)
def test_recon_contrib_edges(contributions, collections, expected):
    found = findings("RECON_CONTRIB", {"contributions": contributions, "tax_collections": collections})
    assert subjects(found) == expected


@pytest.mark.parametrize(
    ("employer", "region"),
    [("DW330200900001", "330200"), ("91330100MA27ABCD1X", "330100"), ("E1", None), ("DWX30200900001", None)],
)
def test_region_is_read_from_the_employer_number(employer, region):
    found = findings("RECON_CONTRIB", {"contributions": [due("1.00", employer=employer)]})
    row = found.row(0, named=True)
    assert (row["region_code"], row["person_id"], row["period_from"], row["period_to"]) == (
        region,
        None,
        "202503",
        "202503",
    )


def test_finding_reads_like_an_analyst_would_write_it():
    found = findings(
        "RECON_CONTRIB",
        {
            "contributions": [due("43236.93", headcount=17)],
            "tax_collections": [got("SPP2", "20000.00"), got("SPP1", "21896.93", date="2025-04-20")],
        },
    )
    row = found.row(0, named=True)
    assert row["subject_id"] == "DW330100900000|110|202503"
    assert row["summary"] == (
        "单位DW330100900000（2025年3月，企业职工基本养老保险）：核定应缴43,236.93元，"
        "实缴入库41,896.93元（税票2张），差额1,340.00元"
    )
    rows = json.loads(row["evidence_rows"])
    assert rows[0] == {
        "dataset": "contributions",
        "voucher_no": None,
        "amount": "43236.93",
        "headcount": "17",
        "collected_date": None,
    }
    assert [r["voucher_no"] for r in rows[1:]] == ["SPP1", "SPP2"]
    assert rows[1]["collected_date"] == "2025-04-20"

    missing = findings("RECON_CONTRIB", {"tax_collections": [got("SPP3", "763.01", "410")]}).row(0, named=True)
    assert missing["summary"] == (
        "单位DW330100900000（2025年3月，工伤保险）：无缴费核定记录，实缴入库763.01元（税票1张），差额763.01元"
    )
