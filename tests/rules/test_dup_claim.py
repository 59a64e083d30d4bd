"""DUP_CLAIM: invoice numbers modulo case, spaces and full width; the same visit; all but the first claim."""

from __future__ import annotations

import json
from decimal import Decimal

import polars as pl
import pytest

from pipelines.rules.dup_claim import INVOICE_FOLD, candidates, invoice_key
from tests.rules.harness import findings

P = "330102198001010011"
Q = "11010519491231002X"
INV = "ZJ2025B00000001"
FULL_WIDTH_INV = "".join(chr(ord(c) + 0xFEE0) for c in INV)  # ＺＪ２０２５Ｂ…


def claim(
    cid, invoice=INV, day="2025-04-03", total="1000.00", paid="700.00", person=P, hospital="H001", region="330100"
):
    return {
        "claim_id": cid,
        "person_id": person,
        "region_code": region,
        "hospital_id": hospital,
        "invoice_no": invoice,
        "service_date": day,
        "total_amount": total,
        "fund_paid": paid,
    }


@pytest.mark.parametrize(
    ("claims", "expected"),
    [
        # a single claim: nothing
        ([claim("J1")], {}),
        # invoice number differing only in case: the later claim (by claim_id) is at risk
        ([claim("J1"), claim("J2", INV.lower(), "2025-04-12", paid="699.00")], {P: Decimal("699.00")}),
        # only in spaces (inner, leading, trailing, ideographic)
        ([claim("J1"), claim("J2", " ZJ2025 B0000\u30000001 ", "2025-04-12", paid="698.00")], {P: Decimal("698.00")}),
        # only in full-width forms
        ([claim("J1"), claim("J2", FULL_WIDTH_INV, "2025-04-12", paid="697.00")], {P: Decimal("697.00")}),
        # the first by claim_id is kept, whatever the order of the rows
        ([claim("J2", paid="500.00"), claim("J1", day="2025-04-12", paid="600.00")], {P: Decimal("500.00")}),
        # the same person, hospital, date and total under two invoice numbers
        ([claim("J1"), claim("J2", "ZJ2025C00000009", paid="650.00")], {P: Decimal("650.00")}),
        # ... but not at another hospital, on another day, for another total, or for another person
        (
            [
                claim("J1"),
                claim("J2", "I2", hospital="H002"),
                claim("J3", "I3", day="2025-04-04"),
                claim("J4", "I4", total="1000.01"),
                claim("J5", "I5", person=Q),
            ],
            {},
        ),
        # the same invoice number at different hospitals is still one invoice
        ([claim("J1"), claim("J2", hospital="H002", day="2025-05-01", paid="300.00")], {P: Decimal("300.00")}),
        # three claims of one invoice: two at risk
        (
            [claim("J1"), claim("J2", INV.lower(), paid="699.00"), claim("J3", f" {INV} ", paid="698.00")],
            {P: Decimal("1397.00")},
        ),
        # a claim repeating both by invoice and by visit counts once
        ([claim("J1"), claim("J2", paid="650.00")], {P: Decimal("650.00")}),
        # the invoice criterion spans persons: the second presenter's claim is at risk, charged to that person
        ([claim("J1"), claim("J2", person=Q, hospital="H009", paid="88.00")], {Q: Decimal("88.00")}),
        # an invoice number of blanks only is no invoice number
        ([claim("J1", " "), claim("J2", "\u3000", day="2025-05-01")], {}),
    ],
)
def test_dup_claim_edges(claims, expected):
    found = findings("DUP_CLAIM", {"medical_claims": claims})
    assert dict(found.select("subject_id", "amount_at_risk").rows()) == expected


def test_invoice_folding():
    raw = [INV.lower(), FULL_WIDTH_INV, " zj2025\tb0000 0001\u3000", "ｚｊ－１", "a\u00a0b\u2003c"]
    folded = pl.Series(raw).to_frame("i").select(invoice_key(pl.col("i")))["i"].to_list()
    assert folded == [INV, INV, INV, "ZJ-1", "ABC"]


def test_both_engines_fold_every_character_alike():
    """One claim per character, each by another person: exactly the characters that fold together pair up."""
    odd = [0x00DF, 0x0131, 0x212A, 0x200B, 0xFEFF, 0xFF00, 0xFF5F, 0xFFE5, 0x3001]
    chars = [chr(c) for c in [*range(0x20, 0x7F), *range(0xFF01, 0xFF5F), *odd]] + [
        c for c in INVOICE_FOLD if c.isspace()
    ]
    claims = [
        claim(f"J{n:04d}", f"A{c}B", paid="1.00", person=f"33010219800101{n:04d}", hospital=f"H{n}")
        for n, c in enumerate(dict.fromkeys(chars))
    ]
    classes: dict[str, int] = {}
    for row in claims:
        key = row["invoice_no"].translate(str.maketrans(INVOICE_FOLD))
        classes[key] = classes.get(key, 0) + 1
    found = findings("DUP_CLAIM", {"medical_claims": claims})
    assert found.height == sum(n - 1 for n in classes.values()) > 94 + 26


def test_months_and_region_come_from_the_groups():
    claims = [
        claim("J1", day="2025-03-30", region="330100"),
        claim("J3", INV.lower(), day="2025-05-02", paid="100.00", region="330200"),
        claim("J2", "OTHER", day="2025-06-01", region="330300"),
        claim("J4", "other", day="2025-06-02", paid="50.00", region="330400"),
    ]
    row = findings("DUP_CLAIM", {"medical_claims": claims}).row(0, named=True)
    assert (row["period_from"], row["period_to"], row["region_code"], row["amount_at_risk"]) == (
        "202503",
        "202506",
        "330200",
        Decimal("150.00"),
    )


def test_finding_reads_like_an_analyst_would_write_it():
    claims = [
        claim("J1", total="8500.00", paid="5950.00"),
        claim("J2", FULL_WIDTH_INV, "2025-04-12", "8500.00", "5949.00"),
    ]
    row = findings("DUP_CLAIM", {"medical_claims": claims}).row(0, named=True)
    assert row["summary"] == (
        "2025年4月3日至2025年4月12日就诊的医保结算有1笔与在先结算重复（同一发票号码），统筹基金重复支付5,949.00元"
    )
    rows = json.loads(row["evidence_rows"])
    assert [(r["claim_id"], r["role"]) for r in rows] == [("J1", "保留"), ("J2", "重复")]
    assert rows[1]["invoice_no"] == FULL_WIDTH_INV and rows[1]["fund_paid"] == "5949.00"


def test_candidates_keep_every_claim_of_a_repeated_key_and_only_those():
    """The first pass (`candidates`) drops a claim only when it is alone in both its groups: a claim sharing only its
    invoice (folded), or only its visit, stays with every claim it shares it with."""
    rows = [
        claim("J1"),  # shares the invoice with J2 (folded) and the visit with J3
        claim("J2", INV.lower(), "2025-04-12"),
        claim("J3", "ZJ2025C00000009"),
        claim("J4", "ZJ2025D00000004", "2025-05-01"),  # alone in both
        claim("J5", None, "2025-06-01", person=Q),  # no invoice, alone in its visit
        claim("J6", "", "2025-06-01", person=Q, total="5.00"),  # an empty invoice is no group
        claim("J7", "", "2025-06-02", person=Q, total="5.00"),
    ]
    frame = pl.DataFrame(rows).with_columns(
        pl.col("service_date").str.to_date(),
        pl.col("total_amount", "fund_paid").cast(pl.Decimal(18, 2)),
    )
    kept = candidates(frame.lazy()).collect()
    assert sorted(kept["claim_id"]) == ["J1", "J2", "J3"]
    assert kept.schema == frame.schema
