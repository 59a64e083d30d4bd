"""SHARED_ACCOUNT: three persons in one period, spouses, different periods, one person paid twice."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from tests.rules.harness import findings, subjects

ACCT = "6217330000000000001"
A, B, C, D = "330102195001010014", "330102195202020029", "330102195303030010", "330102195404040026"


def pay(pid, person, period, amount="1000.00", account=ACCT, region="330100", benefit_type="pension"):
    return {
        "payment_id": pid,
        "person_id": person,
        "region_code": region,
        "scheme": "110",
        "benefit_type": benefit_type,
        "period": period,
        "amount": amount,
        "bank_account": account,
        "pay_date": f"{period[:4]}-{period[4:]}-15",
    }


@pytest.mark.parametrize(
    ("payments", "expected"),
    [
        # two persons (spouses) on one account: normal
        ([pay("1", A, "202501"), pay("2", B, "202501")], {}),
        # three different persons in one period: shared
        (
            [pay("1", A, "202501", "100.00"), pay("2", B, "202501", "200.00"), pay("3", C, "202501", "300.01")],
            {ACCT: Decimal("600.01")},
        ),
        # three persons, but never three in the same period
        ([pay("1", A, "202501"), pay("2", B, "202501"), pay("3", C, "202502")], {}),
        # the same person paid twice in a period counts once
        ([pay("1", A, "202501"), pay("2", A, "202501"), pay("3", B, "202501")], {}),
        # three persons on three different accounts: nothing shared
        (
            [pay("1", A, "202501", account="X1"), pay("2", B, "202501", account="X2"), pay("3", C, "202501")],
            {},
        ),
        # only the shared period is at risk, including a second payment to one of the three
        (
            [pay(f"A{m}", A, f"2025{m:02d}", "500.00") for m in range(1, 13)]
            + [pay(f"B{m}", B, f"2025{m:02d}", "500.00") for m in range(1, 13)]
            + [pay("C8", C, "202508", "9000.00", benefit_type="maternity"), pay("A8x", A, "202508", "1.00")],
            {ACCT: Decimal("10001.00")},
        ),
    ],
)
def test_shared_account_edges(payments, expected):
    assert subjects(findings("SHARED_ACCOUNT", {"benefit_payments": payments})) == expected


@pytest.mark.parametrize(
    ("regions", "expected"),
    [
        (("330300", "330100", "330300"), "330300"),  # the most frequent region
        (("330300", "330100", "330300", "330100"), "330100"),  # a tie goes to the smallest code
    ],
)
def test_region_is_where_most_shared_payments_come_from(regions, expected):
    payments = [
        pay(str(i), p, "202503", region=r)
        for i, (p, r) in enumerate(zip((A, B, C, D)[: len(regions)], regions, strict=True))
    ]
    row = findings("SHARED_ACCOUNT", {"benefit_payments": payments}).row(0, named=True)
    assert (row["region_code"], row["person_id"]) == (expected, None)


def test_finding_reads_like_an_analyst_would_write_it():
    payments = [
        pay(f"{n}{m}", p, f"2025{m:02d}", "1500.00") for n, p in zip("ABC", (A, B, C), strict=True) for m in range(4, 7)
    ]
    payments.append(pay("D1", D, "202501", "1500.00"))  # a single payee that month: not shared
    row = findings("SHARED_ACCOUNT", {"benefit_payments": payments}).row(0, named=True)
    assert row["summary"] == (
        "银行账号6217330000000000001在2025年4月至2025年6月间3个月收到3人及以上的待遇发放（共3人，单月最多3人），"
        "涉及9笔、共计13,500.00元"
    )
    assert (row["period_from"], row["period_to"], row["amount_at_risk"]) == ("202504", "202506", Decimal("13500.00"))
    rows = json.loads(row["evidence_rows"])
    assert len(rows) == 9 and {r["person_id"] for r in rows} == {A, B, C}
    assert rows[0] == {
        "payment_id": "A4",
        "person_id": A,
        "period": "202504",
        "benefit_type": "pension",
        "amount": "1500.00",
        "region_code": "330100",
        "pay_date": "2025-04-15",
    }
