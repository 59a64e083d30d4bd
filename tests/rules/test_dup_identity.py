"""DUP_IDENTITY: one name, birth date and gender under several IDs paid for the same months; who is the
person; what is at risk; names typed with spaces and full-width forms; shard by shard."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest

from pipelines.detect.engine import run_rule
from pipelines.rules import BY_CODE
from pipelines.synth.ids import check_digit
from tests.rules.harness import findings, table


def citizen(region: str, birth: str, sequence: str) -> str:
    """An 18-character ID: 6-digit region, YYYYMMDD birth date, 3-digit sequence (odd last digit: a man)."""
    first17 = region + birth + sequence
    return first17 + check_digit(first17)


A = citizen("330102", "19520314", "011")  # 杭州 上城, born 1952-03-14, male
B = citizen("330106", "19520314", "023")  # 杭州 西湖, same birth date, male: differs in region and sequence
C = citizen("330102", "19520314", "035")  # same region as A
D = citizen("330102", "19520314", "012")  # even digit: female
E = citizen("330102", "19520315", "011")  # born a day later
F = citizen("330106", "19520314", "011")  # A with another region code only


def enrolled(person, name="张三", start="2012-01-01", region="330100", scheme="110"):
    return {
        "enrollment_id": f"E-{person}-{start}-{scheme}",
        "person_id": person,
        "name": name,
        "region_code": region,
        "scheme": scheme,
        "start_date": start,
    }


def pay(pid, person, period, amount="3000.00", benefit_type="pension", region="330100", scheme="110"):
    return {
        "payment_id": pid,
        "person_id": person,
        "region_code": region,
        "scheme": scheme if benefit_type == "pension" else "210",
        "benefit_type": benefit_type,
        "period": period,
        "amount": amount,
        "bank_account": f"6222{person[-4:]}",
        "pay_date": f"{period[:4]}-{period[4:]}-15",
    }


def got(found):
    return {
        r["subject_id"]: (r["amount_at_risk"], r["person_id"], r["period_from"], r["period_to"])
        for r in found.iter_rows(named=True)
    }


def subject(*ids: str) -> str:
    return "|".join(sorted(ids))


@pytest.mark.parametrize(
    ("enrollment", "payments", "expected"),
    [
        # two IDs of one name, birth date and gender, both paid for March: the smaller payment is at risk
        (
            [enrolled(A), enrolled(B, start="2015-06-01")],
            [pay("P1", A, "202503", "3000.00"), pay("P2", B, "202503", "2800.00")],
            {subject(A, B): (Decimal("2800.00"), A, "202503", "202503")},
        ),
        # namesakes born the same day but never paid for a common month: nothing (one after the other)
        (
            [enrolled(A), enrolled(B)],
            [pay("P1", A, "202501"), pay("P2", A, "202502"), pay("P3", B, "202503"), pay("P4", B, "202504")],
            {},
        ),
        # three IDs of one person, paid for the same two months: per month all but the largest
        (
            [enrolled(A), enrolled(B), enrolled(C)],
            [
                pay("P1", A, "202503", "3000.00"),
                pay("P2", B, "202503", "2000.00"),
                pay("P3", C, "202503", "1000.00"),
                pay("P4", A, "202504", "1500.00"),
                pay("P5", B, "202504", "2500.00"),
                pay("P6", C, "202504", "1000.01"),
            ],
            {subject(A, B, C): (Decimal("5500.01"), A, "202503", "202504")},
        ),
        # three IDs where only two are ever paid for a common month: the finding is those two
        (
            [enrolled(A, start="2010-01-01"), enrolled(B), enrolled(C, start="2005-01-01")],
            [pay("P1", A, "202501"), pay("P2", B, "202503", "100.00"), pay("P3", C, "202503", "200.00")],
            {subject(B, C): (Decimal("100.00"), C, "202503", "202503")},
        ),
        # A with B in March, B with C in May: each is paid for a month another is paid for, one finding of three
        (
            [enrolled(A), enrolled(B), enrolled(C)],
            [
                pay("P1", A, "202503", "10.00"),
                pay("P2", B, "202503", "20.00"),
                pay("P3", B, "202505", "40.00"),
                pay("P4", C, "202505", "80.00"),
            ],
            {subject(A, B, C): (Decimal("50.00"), A, "202503", "202505")},
        ),
        # IDs that differ only in the region part (first six digits)
        (
            [enrolled(A), enrolled(F)],
            [pay("P1", A, "202503", "3000.00"), pay("P2", F, "202503", "3000.00")],
            {subject(A, F): (Decimal("3000.00"), A, "202503", "202503")},
        ),
        # a different gender digit (even: female), or a different birth date: nothing
        (
            [enrolled(A), enrolled(D), enrolled(E)],
            [pay("P1", A, "202503"), pay("P2", D, "202503"), pay("P3", E, "202503")],
            {},
        ),
        # a different name: nothing
        ([enrolled(A), enrolled(B, "张山")], [pay("P1", A, "202503"), pay("P2", B, "202503")], {}),
        # a name typed with spaces and full-width forms still matches: ideographic, ASCII spaces and tabs are
        # ignored, full-width Latin letters and full stop stand for their plain forms
        (
            [enrolled(A, "阿依古丽．ＡＢ"), enrolled(B, " 阿依古丽 .AB"), enrolled(C, "阿依古丽\u3000.\tAB")],
            [pay("P1", A, "202503", "1.00"), pay("P2", B, "202503", "2.00"), pay("P3", C, "202503", "4.00")],
            {subject(A, B, C): (Decimal("3.00"), A, "202503", "202503")},
        ),
        # only pensions count: unemployment benefit of the other ID for the month is no pension
        ([enrolled(A), enrolled(B)], [pay("P1", A, "202503"), pay("P2", B, "202503", benefit_type="unemployment")], {}),
        # an ID paid but never enrolled has no name: nothing
        ([enrolled(A)], [pay("P1", A, "202503"), pay("P2", B, "202503")], {}),
        # one ID paid twice for a shared month: all the month's payments but the largest (the duplicate too)
        (
            [enrolled(A), enrolled(B)],
            [
                pay("P1", A, "202503", "1000.00"),
                pay("P2", A, "202503", "1000.00", scheme="120"),
                pay("P3", B, "202503", "900.00"),
                pay("P4", A, "202504", "1000.00"),  # April: only A is paid, twice would be DUP_BENEFIT's
                pay("P5", A, "202504", "1000.00"),
            ],
            {subject(A, B): (Decimal("1900.00"), A, "202503", "202503")},
        ),
        # the person is the ID first enrolled, by any of its spells; on a tie, the smaller ID
        (
            [
                enrolled(A, start="2016-01-01"),
                enrolled(B, start="2018-01-01"),
                enrolled(B, start="2009-03-01", scheme="310"),
            ],
            [pay("P1", A, "202503"), pay("P2", B, "202503")],
            {subject(A, B): (Decimal("3000.00"), B, "202503", "202503")},
        ),
        (
            [enrolled(B, start="2016-01-01"), enrolled(F, start="2016-01-01")],
            [pay("P1", B, "202503"), pay("P2", F, "202503")],
            {subject(B, F): (Decimal("3000.00"), min(B, F), "202503", "202503")},
        ),
        # both IDs enrolled under two names each (a rename): one finding, counted once
        (
            [enrolled(A), enrolled(B), enrolled(A, "张叁", "2020-01-01"), enrolled(B, "张叁", "2020-01-01")],
            [pay("P1", A, "202503", "3000.00"), pay("P2", B, "202503", "2800.00")],
            {subject(A, B): (Decimal("2800.00"), A, "202503", "202503")},
        ),
    ],
)
def test_dup_identity_edges(enrollment, payments, expected):
    assert got(findings("DUP_IDENTITY", {"enrollment": enrollment, "benefit_payments": payments})) == expected


def test_finding_reads_like_an_analyst_would_write_it():
    enrollment = [enrolled(A, start="2008-07-01"), enrolled(B, "张 三", "2019-02-01"), enrolled(C, start="2010-01-01")]
    payments = [pay(f"A{m}", A, f"2025{m:02d}", "3100.00") for m in range(1, 7)]
    payments += [pay(f"B{m}", B, f"2025{m:02d}", "2950.50", region="330106") for m in range(3, 6)]
    payments += [pay("C1", C, "202501", "3000.00")]  # C is paid for January too: shared with A
    payments[3]["region_code"] = "330200"  # A's April payment; A's last shared month is May (A5)
    payments[4]["region_code"] = "330300"
    row = findings("DUP_IDENTITY", {"enrollment": enrollment, "benefit_payments": payments}).row(0, named=True)
    assert row["subject_id"] == subject(A, B, C)
    assert row["summary"] == (
        f"张三（1952-03-14出生，男）名下3个公民身份号码（{'、'.join(sorted((A, B, C)))}）"
        "2025年1月至2025年5月间4个月同时领取基本养老金，多发11,851.50元"
    )
    assert (row["person_id"], row["region_code"], row["period_from"], row["period_to"]) == (
        A,
        "330300",
        "202501",
        "202505",
    )
    rows = json.loads(row["evidence_rows"])
    # the pensions of the shared months, each ID's own; not A's February or June, paid to A alone
    assert sorted(r["payment_id"] for r in rows) == ["A1", "A3", "A4", "A5", "B3", "B4", "B5", "C1"]
    assert next(r for r in rows if r["payment_id"] == "B4") == {
        "payment_id": "B4",
        "person_id": B,
        "period": "202504",
        "scheme": "110",
        "region_code": "330106",
        "amount": "2950.50",
        "pay_date": "2025-04-15",
        "bank_account": f"6222{B[-4:]}",
    }


def identities_world() -> dict[str, list[dict[str, object]]]:
    """Many identities over several birth dates and both genders: groups of 2-4 IDs with differing region codes
    (so that hashing the whole ID would part them), some paid together, some one after the other."""
    regions = ("330102", "330106", "330108", "330110")
    enrollment, payments = [], []
    for n in range(40):
        birth = f"19{50 + n % 7}{1 + n % 12:02d}{1 + n % 28:02d}"
        for k in range(2 + n % 3):
            person = citizen(regions[k], birth, f"{n % 10}{k}{1 + n % 2}")  # a man, a woman, by turns
            enrollment.append(enrolled(person, f"姓名{n % 9}", f"20{10 + k}-0{1 + n % 9}-01"))
            together = n % 4 != 0  # every fourth identity is paid one ID after the other
            for m in range(1, 4):
                period = f"2025{m + (k if together else 3 * k):02d}"
                payments.append(pay(f"P{n}-{k}-{m}", person, period, f"{1000 + 10 * n + k}.00"))
    return {"enrollment": enrollment, "benefit_payments": payments}


def test_shard_by_shard_equals_one_pass(tmp_path):
    """Split by a hash of the birth date and gender the IDs encode, the findings are those of one pass; split by a
    hash of the whole ID (as the person-keyed rules are), an identity's IDs would part and findings be lost."""
    world = identities_world()
    for name, rows in world.items():
        table(name, rows).write_ipc(tmp_path / f"{name}.arrow")
    rule = BY_CODE["DUP_IDENTITY"]
    whole = run_rule(rule, tmp_path, dt.date(2025, 12, 31), Decimal("100000"), shards=1)
    assert whole.height >= 25
    assert whole.equals(findings("DUP_IDENTITY", world).sort("subject_id"))
    for shards in (2, 3, 5):
        assert run_rule(rule, tmp_path, dt.date(2025, 12, 31), Decimal("100000"), shards=shards).equals(whole)
