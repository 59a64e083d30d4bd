"""UNEMP_WITH_PENSION: the same month, not the next; each unemployment payment once; several months."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest

from pipelines.detect.engine import run_rule
from pipelines.rules import BY_CODE
from pipelines.synth.ids import check_digit
from tests.rules.harness import findings, table


def citizen(first17: str) -> str:
    return first17 + check_digit(first17)


P = citizen("33010219620517002")
Q = citizen("33010219630822001")

SCHEME_OF = {"pension": "110", "unemployment": "210", "injury": "410"}


def pay(pid, period, amount="1800.00", benefit_type="unemployment", person=P, region="330100", scheme=None):
    return {
        "payment_id": pid,
        "person_id": person,
        "region_code": region,
        "scheme": scheme or SCHEME_OF[benefit_type],
        "benefit_type": benefit_type,
        "period": period,
        "amount": amount,
        "bank_account": "6222",
        "pay_date": f"{period[:4]}-{period[4:]}-15",
    }


def pension(pid, period, amount="3200.00", person=P, scheme="110"):
    return pay(pid, period, amount, "pension", person, scheme=scheme)


@pytest.mark.parametrize(
    ("payments", "expected"),
    [
        # unemployment benefit and a pension for the same month: the unemployment payment is at risk
        ([pay("U", "202504"), pension("A", "202504")], {P: (Decimal("1800.00"), "202504", "202504")}),
        # the pension starts the month after the last unemployment month, or ended the month before: nothing
        ([pay("U", "202504"), pension("A", "202505"), pension("B", "202503")], {}),
        # two pensions for the month (110 and 170): the unemployment payment counts once
        (
            [pay("U", "202504", "1234.56"), pension("A", "202504"), pension("B", "202504", "150.00", scheme="170")],
            {P: (Decimal("1234.56"), "202504", "202504")},
        ),
        # several months; only those with a pension count
        (
            [pay(f"U{m}", f"2025{m:02d}", f"{1000 + m}.00") for m in range(1, 7)]
            + [pension(f"A{m}", f"2025{m:02d}") for m in (2, 3, 5)],
            {P: (Decimal("3010.00"), "202502", "202505")},
        ),
        # two unemployment payments for one month with a pension: both are at risk
        (
            [pay("U1", "202504", "1000.00"), pay("U2", "202504", "800.00"), pension("A", "202504")],
            {P: (Decimal("1800.00"), "202504", "202504")},
        ),
        # another person's pension, or another benefit than a pension: nothing
        ([pay("U", "202504"), pension("A", "202504", person=Q), pay("I", "202504", "500.00", "injury")], {}),
        # a pension alone, or unemployment benefit alone: nothing
        ([pension("A", "202504"), pay("U", "202504", person=Q)], {}),
    ],
)
def test_unemp_with_pension_edges(payments, expected):
    found = findings("UNEMP_WITH_PENSION", {"benefit_payments": payments})
    got = {
        r["subject_id"]: (r["amount_at_risk"], r["period_from"], r["period_to"]) for r in found.iter_rows(named=True)
    }
    assert got == expected


def test_finding_reads_like_an_analyst_would_write_it():
    payments = [pay(f"U{m}", f"2025{m:02d}", "1921.09") for m in range(8, 12)]
    payments[2]["region_code"] = "330200"  # October: the last flagged payment decides the region
    payments += [pension("A9", "202509"), pension("A10", "202510", scheme="170")]
    row = findings("UNEMP_WITH_PENSION", {"benefit_payments": payments}).row(0, named=True)
    assert row["summary"] == (
        "2025年9月至2025年10月间2个月同时领取基本养老金和失业保险金，失业保险金2笔，共计3,842.18元"
    )
    assert (row["person_id"], row["region_code"], row["period_from"], row["period_to"]) == (
        P,
        "330200",
        "202509",
        "202510",
    )
    rows = json.loads(row["evidence_rows"])
    # the unemployment payments at risk and the pensions of the same months, each with its benefit type
    assert sorted((r["payment_id"], r["benefit_type"], r["period"], r["amount"]) for r in rows) == [
        ("A10", "pension", "202510", "3200.00"),
        ("A9", "pension", "202509", "3200.00"),
        ("U10", "unemployment", "202510", "1921.09"),
        ("U9", "unemployment", "202509", "1921.09"),
    ]
    assert {r["person_id"] for r in rows} == {P}


def test_one_month_is_said_as_one():
    row = findings("UNEMP_WITH_PENSION", {"benefit_payments": [pay("U", "202504"), pension("A", "202504")]}).row(
        0, named=True
    )
    assert row["summary"] == "2025年4月同时领取基本养老金和失业保险金，失业保险金1笔，共计1,800.00元"


def test_shard_by_shard_equals_one_pass(tmp_path):
    """Split by a hash of person_id, the findings are those of one pass."""
    persons = [citizen(f"3301021960{m:02d}1{k}00{k}") for m in range(1, 13) for k in range(1, 4)]
    payments = [
        pay(f"{p}-U{m}", f"2025{m:02d}", f"{1500 + i}.00", person=p) for i, p in enumerate(persons) for m in range(1, 7)
    ] + [pension(f"{p}-A{m}", f"2025{m:02d}", person=p) for i, p in enumerate(persons) for m in range(1 + i % 6, 13)]
    table("benefit_payments", payments).write_ipc(tmp_path / "benefit_payments.arrow")
    rule = BY_CODE["UNEMP_WITH_PENSION"]
    whole = run_rule(rule, tmp_path, dt.date(2025, 12, 31), Decimal("100000"), shards=1)
    assert whole.height == len(persons)
    for shards in (2, 3, 5):
        assert run_rule(rule, tmp_path, dt.date(2025, 12, 31), Decimal("100000"), shards=shards).equals(whole)
