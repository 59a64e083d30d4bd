"""DUP_BENEFIT: same type and period, pension schemes as one type, two regions, all but the largest."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from tests.rules.harness import findings

P = "330102198001010011"
Q = "11010519491231002X"


def pay(pid, period, amount="1000.00", benefit_type="pension", scheme="110", person=P, region="330100"):
    return {
        "payment_id": pid,
        "person_id": person,
        "region_code": region,
        "scheme": scheme,
        "benefit_type": benefit_type,
        "period": period,
        "amount": amount,
        "bank_account": "6222",
        "pay_date": f"{period[:4]}-{period[4:]}-15",
    }


@pytest.mark.parametrize(
    ("payments", "expected"),
    [
        # one payment a month: nothing
        ([pay("A", "202503"), pay("B", "202504")], {}),
        # paid twice for April: the smaller one is at risk
        (
            [pay("A", "202504", "4580.00"), pay("B", "202504", "4500.00")],
            {P: (Decimal("4500.00"), "330100", "202504", "202504")},
        ),
        # pension from 110 and from 170 for the same month is one pension paid twice
        (
            [pay("A", "202507", "4580.00"), pay("B", "202507", "310.50", scheme="170")],
            {P: (Decimal("310.50"), "330100", "202507", "202507")},
        ),
        # unemployment benefit for one month from two regions; the first payment's region verifies
        (
            [
                pay("A", "202505", "2000.00", "unemployment", "210"),
                pay("B", "202505", "1800.00", "unemployment", "210", region="330200"),
            ],
            {P: (Decimal("1800.00"), "330100", "202505", "202505")},
        ),
        # three payments for one month: all but the largest (two) are at risk
        (
            [
                pay("A", "202509", "3000.00", "injury"),
                pay("B", "202509", "2900.00", "injury"),
                pay("C", "202509", "3050.00", "injury"),
            ],
            {P: (Decimal("5900.00"), "330100", "202509", "202509")},
        ),
        # two equal payments: one of them is at risk
        ([pay("A", "202504"), pay("B", "202504")], {P: (Decimal("1000.00"), "330100", "202504", "202504")}),
        # same month, different benefit types (pension and a funeral grant): both due
        ([pay("A", "202506"), pay("F", "202506", "9000.00", "funeral")], {}),
        # same month, different persons: nothing
        ([pay("A", "202506"), pay("B", "202506", person=Q)], {}),
        # duplicates in two months add up; months span both
        (
            [
                pay("A", "202507", "100.00"),
                pay("B", "202507", "100.00"),
                pay("C", "202509", "200.00"),
                pay("D", "202509", "150.00"),
                pay("E", "202508", "100.00"),
            ],
            {P: (Decimal("250.00"), "330100", "202507", "202509")},
        ),
    ],
)
def test_dup_benefit_edges(payments, expected):
    found = findings("DUP_BENEFIT", {"benefit_payments": payments})
    got = {
        r["subject_id"]: (r["amount_at_risk"], r["region_code"], r["period_from"], r["period_to"])
        for r in found.iter_rows(named=True)
    }
    assert got == expected


def test_finding_reads_like_an_analyst_would_write_it():
    payments = [pay(f"P{m:02d}", f"2025{m:02d}", "4580.00") for m in range(1, 13)]
    payments += [pay("X07", "202507", "320.00", scheme="170"), pay("X09", "202509", "320.00", scheme="170")]
    row = findings("DUP_BENEFIT", {"benefit_payments": payments}).row(0, named=True)
    assert row["summary"] == "基本养老金2025年7月至2025年9月间2个所属期重复发放，共4笔，多发640.00元"
    rows = json.loads(row["evidence_rows"])
    assert [r["payment_id"] for r in rows] == ["P07", "P09", "X07", "X09"]
    assert rows[2]["scheme"] == "170" and rows[2]["amount"] == "320.00" and rows[2]["period"] == "202507"

    one = findings("DUP_BENEFIT", {"benefit_payments": [pay("A", "202504"), pay("B", "202504")]}).row(0, named=True)
    assert one["summary"] == "基本养老金2025年4月重复发放，共2笔，多发1,000.00元"
