"""DECEASED_PAID: the month of death, the earliest source, funeral and survivor benefits."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from tests.rules.harness import findings, subjects

P = "11010519491231002X"
Q = "330102198001010011"


def pay(pid, period, amount="1000.00", benefit_type="pension", person=P, region="330100"):
    return {
        "payment_id": pid,
        "person_id": person,
        "region_code": region,
        "scheme": "110",
        "benefit_type": benefit_type,
        "period": period,
        "amount": amount,
        "bank_account": "6222",
    }


def death(date, source="police", person=P):
    return {"person_id": person, "death_date": date, "source": source}


@pytest.mark.parametrize(
    ("payments", "deaths", "expected"),
    [
        # paid for the month of death itself: not late
        ([pay("A", "202503")], [death("2025-03-31")], {}),
        # the month after the death: late
        ([pay("A", "202503"), pay("B", "202504", "1234.56")], [death("2025-03-31")], {P: Decimal("1234.56")}),
        # funeral grant and survivor benefit after death are due, not at risk
        (
            [pay("F", "202505", "9000.00", "funeral"), pay("S", "202506", "800.00", "survivor")],
            [death("2025-03-05")],
            {},
        ),
        # the earliest death date of any source decides
        (
            [pay("A", "202504", "100.00"), pay("B", "202505", "100.00")],
            [death("2025-04-20", "civil"), death("2025-03-29", "health")],
            {P: Decimal("200.00")},
        ),
        # unemployment benefit after death counts too; no death record, no finding
        (
            [pay("U", "202506", "1500.00", "unemployment"), pay("Z", "202506", person=Q)],
            [death("2025-05-01")],
            {P: Decimal("1500.00")},
        ),
    ],
)
def test_deceased_paid_edges(payments, deaths, expected):
    found = findings("DECEASED_PAID", {"benefit_payments": payments, "death_records": deaths})
    assert subjects(found) == expected


def test_finding_reads_like_an_analyst_would_write_it():
    payments = [pay(f"P{m}", f"2025{m:02d}", "4580.00") for m in range(3, 13)]
    found = findings("DECEASED_PAID", {"benefit_payments": payments, "death_records": [death("2025-03-15")]})
    row = found.row(0, named=True)
    assert row["summary"] == "2025年3月死亡（公安户籍注销，2025-03-15），其后仍发放基本养老金9个月，共计41,220.00元"
    assert (row["period_from"], row["period_to"], row["region_code"], row["person_id"]) == (
        "202504",
        "202512",
        "330100",
        P,
    )
    rows = json.loads(row["evidence_rows"])
    assert len(rows) == 9 and rows[0]["payment_id"] == "P10" and rows[0]["amount"] == "4580.00"
