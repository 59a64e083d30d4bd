"""PRISONER_PAID: the month of admission and of release are due, the months between are not; which sentences
stop a pension; custody without a release date; two spells; shard by shard."""

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


P = citizen("11010519491231002")
Q = citizen("33010219520314003")


def pay(pid, period, amount, benefit_type="pension", person=P, region="330100"):
    return {
        "payment_id": pid,
        "person_id": person,
        "region_code": region,
        "scheme": "110" if benefit_type == "pension" else "210",
        "benefit_type": benefit_type,
        "period": period,
        "amount": amount,
        "bank_account": "6222",
        "pay_date": f"{period[:4]}-{period[4:]}-15",
    }


def custody(start, end=None, sentence="imprisonment", person=P):
    return {"person_id": person, "name": "王芳", "sentence_type": sentence, "start_date": start, "end_date": end}


# One pension a month, February to August 2025, each month's amount a different power of two (in hundreds): the
# sum at risk tells exactly which months were taken. 202502: 100, 202503: 200, 202504: 400 ... 202508: 6400.
MONTHLY = [pay(f"A{m}", f"2025{m:02d}", f"{100 * 2 ** (m - 2)}.00") for m in range(2, 9)]


def months(*numbers: int) -> Decimal:
    return sum((Decimal(100 * 2 ** (m - 2)) for m in numbers), Decimal("0.00"))


@pytest.mark.parametrize(
    ("payments", "spells", "expected"),
    [
        # admitted 10 March, released 5 July: March (admission) and July (release) are due, April to June are not
        (MONTHLY, [custody("2025-03-10", "2025-07-05")], {P: (months(4, 5, 6), "202504", "202506")}),
        # admitted on the last day of March, released on the 1st of July: the same months
        (MONTHLY, [custody("2025-03-31", "2025-07-01")], {P: (months(4, 5, 6), "202504", "202506")}),
        # released in the month after admission: no month lies strictly between
        (MONTHLY, [custody("2025-03-10", "2025-04-20")], {}),
        # admitted and released within one month: nothing
        (MONTHLY, [custody("2025-05-02", "2025-05-28")], {}),
        # released the month after next: only the month between
        (MONTHLY, [custody("2025-03-10", "2025-05-01")], {P: (months(4), "202504", "202504")}),
        # still in custody (no release date): every later month
        (MONTHLY, [custody("2025-05-20", sentence="life")], {P: (months(6, 7, 8), "202506", "202508")}),
        # a suspended sentence (缓刑) and surveillance (管制) do not stop a pension
        (
            MONTHLY,
            [custody("2025-02-01", sentence="suspended"), custody("2025-02-01", "2025-09-01", "surveillance")],
            {},
        ),
        # another person's custody: nothing
        (MONTHLY, [custody("2025-02-01", person=Q)], {}),
        # unemployment benefit and injury allowance during custody are not this rule; the pension is
        (
            [
                pay("U", "202505", "1500.00", "unemployment"),
                pay("I", "202505", "900.00", "injury"),
                pay("A", "202505", "3000.00"),
            ],
            [custody("2025-03-10", "2025-07-05")],
            {P: (Decimal("3000.00"), "202505", "202505")},
        ),
        # two overlapping spells (the prison's and the court's record): each payment counts once
        (
            MONTHLY,
            [custody("2025-03-10", "2025-07-05"), custody("2025-04-01", "2025-08-30", "detention")],
            {P: (months(4, 5, 6, 7), "202504", "202507")},
        ),
        # two separate spells: the months inside either
        (
            MONTHLY,
            [custody("2025-02-03", "2025-04-09", "detention"), custody("2025-05-10", "2025-08-01")],
            {P: (months(3, 6, 7), "202503", "202507")},
        ),
        # the same spell delivered twice: counted once
        (
            MONTHLY,
            [custody("2025-06-10", "2025-08-05"), custody("2025-06-10", "2025-08-05")],
            {P: (months(7), "202507", "202507")},
        ),
        # two pension payments for one month in custody (two schemes): both are at risk
        (
            [pay("A", "202505", "1000.00"), pay("B", "202505", "234.56")],
            [custody("2025-03-10", sentence="death_suspended")],
            {P: (Decimal("1234.56"), "202505", "202505")},
        ),
    ],
)
def test_prisoner_paid_edges(payments, spells, expected):
    found = findings("PRISONER_PAID", {"benefit_payments": payments, "custody_records": spells})
    got = {
        r["subject_id"]: (r["amount_at_risk"], r["period_from"], r["period_to"]) for r in found.iter_rows(named=True)
    }
    assert got == expected


@pytest.mark.parametrize("sentence", ["detention", "imprisonment", "life", "death_suspended"])
def test_every_custodial_sentence_stops_the_pension(sentence):
    found = findings(
        "PRISONER_PAID", {"benefit_payments": MONTHLY, "custody_records": [custody("2025-07-01", None, sentence)]}
    )
    assert found.select("subject_id", "amount_at_risk").rows() == [(P, months(8))]


def test_finding_reads_like_an_analyst_would_write_it():
    payments = [pay(f"A{m}", f"2024{m:02d}", "3120.50") for m in range(3, 8)]
    payments[-2]["region_code"] = "330200"  # the last flagged payment (June) decides the region
    spells = [custody("2024-03-10", "2024-07-01"), custody("2024-03-01", sentence="suspended")]
    row = findings("PRISONER_PAID", {"benefit_payments": payments, "custody_records": spells}).row(0, named=True)
    assert (
        row["summary"]
        == "2024年3月起服刑（有期徒刑，2024-03-10至2024-07-01），期间仍发放基本养老金3个月，共计9,361.50元"
    )
    assert (row["person_id"], row["region_code"], row["period_from"], row["period_to"]) == (
        P,
        "330200",
        "202404",
        "202406",
    )
    rows = json.loads(row["evidence_rows"])
    paid = [r for r in rows if r["dataset"] == "benefit_payments"]
    held = [r for r in rows if r["dataset"] == "custody_records"]
    assert sorted(r["payment_id"] for r in paid) == ["A4", "A5", "A6"]
    assert next(r for r in paid if r["payment_id"] == "A6")["region_code"] == "330200"
    assert {r["amount"] for r in paid} == {"3120.50"}
    # the spell that stopped the pension, not the suspended sentence
    assert [(r["person_id"], r["sentence_type"], r["start_date"], r["end_date"]) for r in held] == [
        (P, "imprisonment", "2024-03-10", "2024-07-01")
    ]


def test_two_spells_and_an_open_one_are_told():
    spells = [custody("2025-02-03", "2025-04-09", "detention"), custody("2025-05-10", sentence="life")]
    row = findings("PRISONER_PAID", {"benefit_payments": MONTHLY, "custody_records": spells}).row(0, named=True)
    assert row["summary"] == (
        "2025年2月起服刑2次（拘役，2025-02-03至2025-04-09；无期徒刑，2025-05-10收监，未释放），"
        "期间仍发放基本养老金4个月，共计11,400.00元"
    )
    held = [r for r in json.loads(row["evidence_rows"]) if r["dataset"] == "custody_records"]
    assert sorted((r["sentence_type"], r["end_date"]) for r in held) == [("detention", "2025-04-09"), ("life", None)]


def test_shard_by_shard_equals_one_pass(tmp_path):
    """Split by a hash of person_id, the findings are those of one pass."""
    persons = [citizen(f"3301021950{m:02d}0{k}00{k % 10}") for m in range(1, 13) for k in range(1, 4)]
    payments = [
        pay(f"{p}-{m}", f"2025{m:02d}", f"{1000 + i}.00", person=p) for i, p in enumerate(persons) for m in range(1, 13)
    ]
    spells = [
        custody(f"2025-{1 + i % 6:02d}-15", None if i % 4 == 0 else "2025-10-01", person=p)
        for i, p in enumerate(persons)
    ]
    for name, rows in {"benefit_payments": payments, "custody_records": spells}.items():
        table(name, rows).write_ipc(tmp_path / f"{name}.arrow")
    rule = BY_CODE["PRISONER_PAID"]
    whole = run_rule(rule, tmp_path, dt.date(2025, 12, 31), Decimal("100000"), shards=1)
    assert whole.height == len(persons)
    for shards in (2, 3, 5):
        assert run_rule(rule, tmp_path, dt.date(2025, 12, 31), Decimal("100000"), shards=shards).equals(whole)
