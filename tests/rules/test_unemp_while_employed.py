"""UNEMP_WHILE_EMPLOYED: wages above zero, a job active on any day of the month, 170 is no job."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from tests.rules.harness import findings

P = "330102198001010011"
Q = "11010519491231002X"


def pay(pid, period, amount="2000.00", benefit_type="unemployment", person=P, region="330100"):
    return {
        "payment_id": pid,
        "person_id": person,
        "region_code": region,
        "scheme": "210" if benefit_type == "unemployment" else "110",
        "benefit_type": benefit_type,
        "period": period,
        "amount": amount,
        "bank_account": "6222",
        "pay_date": f"{period[:4]}-{period[4:]}-15",
    }


def wage(period, income="6500.00", person=P, employer="E001"):
    return {"employer_id": employer, "person_id": person, "period": period, "wage_income": income}


def job(start, end=None, scheme="110", employer="E001", person=P):
    return {
        "enrollment_id": f"C{start}",
        "person_id": person,
        "name": "张三",
        "region_code": "330100",
        "scheme": scheme,
        "employer_id": employer,
        "start_date": start,
        "end_date": end,
    }


MARCH_TO_JUNE = [pay(f"U{m}", f"2025{m:02d}") for m in range(3, 7)]


@pytest.mark.parametrize(
    ("payments", "wages", "jobs", "expected"),
    [
        # a wage declared for a benefit month: that month's payment is at risk
        (MARCH_TO_JUNE, [wage("202504")], [], {P: (Decimal("2000.00"), "202504", "202504")}),
        # a zero-wage declaration is no wage
        (MARCH_TO_JUNE, [wage("202504", "0.00")], [], {}),
        # a wage for a month without benefit, or another person's wage: nothing
        (MARCH_TO_JUNE, [wage("202507"), wage("202504", person=Q)], [], {}),
        # the job ended the day before the first benefit month: nothing
        (MARCH_TO_JUNE, [], [job("2012-01-01", "2025-02-28")], {}),
        # the job ended on the 1st of the month: active that month
        (MARCH_TO_JUNE, [], [job("2012-01-01", "2025-03-01")], {P: (Decimal("2000.00"), "202503", "202503")}),
        # a job starting on the last day of a month counts for that month and every month after (open spell)
        (MARCH_TO_JUNE, [], [job("2025-05-31")], {P: (Decimal("4000.00"), "202505", "202506")}),
        # a job starting the day after the last benefit month: nothing
        (MARCH_TO_JUNE, [], [job("2025-07-01")], {}),
        # resident pension 170 (no employer), an enrollment without employer, or an unemployment spell: no job
        (
            MARCH_TO_JUNE,
            [],
            [
                job("2020-01-01", scheme="170", employer=None),
                job("2020-01-02", employer=None),
                job("2020-01-03", scheme="210"),
            ],
            {},
        ),
        # 120 (机关事业) counts like 110
        (MARCH_TO_JUNE, [], [job("2010-09-01", "2025-03-03", "120")], {P: (Decimal("2000.00"), "202503", "202503")}),
        # wage and job in the same month: the payment counts once
        (
            MARCH_TO_JUNE,
            [wage("202506"), wage("202506", "100.00", employer="E009")],
            [job("2025-06-10")],
            {P: (Decimal("2000.00"), "202506", "202506")},
        ),
        # only unemployment benefit is checked: a pension paid while working is not this rule
        ([pay("A", "202504", benefit_type="pension")], [wage("202504")], [job("2020-01-01")], {}),
    ],
)
def test_unemp_while_employed_edges(payments, wages, jobs, expected):
    found = findings(
        "UNEMP_WHILE_EMPLOYED",
        {"benefit_payments": payments, "payroll_withholding": wages, "enrollment": jobs},
    )
    got = {
        r["subject_id"]: (r["amount_at_risk"], r["period_from"], r["period_to"]) for r in found.iter_rows(named=True)
    }
    assert got == expected


def test_finding_reads_like_an_analyst_would_write_it():
    payments = [pay(f"U{m}", f"2025{m:02d}", "1921.09") for m in range(8, 12)]
    payments[-1]["region_code"] = "330200"
    wages = [wage("202509", "4800.00"), wage("202510", "5100.00")]
    row = findings("UNEMP_WHILE_EMPLOYED", {"benefit_payments": payments, "payroll_withholding": wages}).row(
        0, named=True
    )
    assert row["summary"] == "2025年9月至2025年10月间2个月领取失业保险金期间仍有工资薪金申报，涉及2笔，共计3,842.18元"
    assert (row["region_code"], row["period_from"], row["period_to"]) == ("330100", "202509", "202510")
    rows = json.loads(row["evidence_rows"])
    assert [r["payment_id"] for r in rows] == ["U10", "U9"]
    assert rows[1] == {
        "payment_id": "U9",
        "period": "202509",
        "amount": "1921.09",
        "region_code": "330100",
        "pay_date": "2025-09-15",
        "grounds": "单位E001申报工资4,800.00元",
    }
