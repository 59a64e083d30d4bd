"""RECON_PAYMENT: no result, a different amount or account, failed/returned, an orphan result, two results."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from tests.rules.harness import findings, subjects

P = "330102195001010014"
ACCT = "6217330000000000001"


def pay(pid, amount="3000.00", account=ACCT, person=P, region="330200", period="202506"):
    return {
        "payment_id": pid,
        "person_id": person,
        "region_code": region,
        "scheme": "110",
        "benefit_type": "pension",
        "period": period,
        "amount": amount,
        "bank_account": account,
        "pay_date": f"{period[:4]}-{period[4:]}-15",
    }


def result(pid, amount="3000.00", account=ACCT, status="success", settled="2025-06-16"):
    return {"payment_id": pid, "bank_account": account, "amount": amount, "status": status, "settled_date": settled}


@pytest.mark.parametrize(
    ("payments", "results", "expected"),
    [
        # success, same amount, same account: reconciled
        ([pay("F1")], [result("F1")], {}),
        # no bank result
        ([pay("F1", "3591.17")], [], {"F1": Decimal("3591.17")}),
        # the bank credited a different amount: the payment's amount is at risk
        ([pay("F1")], [result("F1", "2900.00")], {"F1": Decimal("3000.00")}),
        # one fen is still a difference (payments reconcile exactly)
        ([pay("F1")], [result("F1", "3000.01")], {"F1": Decimal("3000.00")}),
        # credited a different account
        ([pay("F1")], [result("F1", account="6217330000000000002")], {"F1": Decimal("3000.00")}),
        # failed, returned
        ([pay("F1")], [result("F1", status="failed")], {"F1": Decimal("3000.00")}),
        ([pay("F1")], [result("F1", status="returned")], {"F1": Decimal("3000.00")}),
        # a bank result for an unknown payment_id: its own amount
        ([pay("F1")], [result("F1"), result("Q1", "3459.56")], {"Q1": Decimal("3459.56")}),
        # two results for one payment (a double credit, or a failure and a retry under one id)
        ([pay("F1")], [result("F1"), result("F1")], {"F1": Decimal("3000.00")}),
        ([pay("F1")], [result("F1", status="failed"), result("F1")], {"F1": Decimal("3000.00")}),
    ],
)
def test_recon_payment_edges(payments, results, expected):
    found = findings("RECON_PAYMENT", {"benefit_payments": payments, "bank_disbursements": results})
    assert subjects(found) == expected


def test_person_region_and_period():
    payments = [
        pay("F1", "1.00"),  # no bank result
        pay("M1", region="330700", period="202501"),
        pay("M2", region="330700", period="202502"),
        pay("M3", region="330100", period="202503"),
    ]
    results = [
        result("M1"),
        result("M2"),
        result("M3"),
        result("Q1", settled="2025-07-01"),  # orphan into ACCT: most payments into ACCT are 330700's
        result("Q2", account="6217339999999999999", settled=None),  # orphan into an account nobody is paid into
    ]
    found = findings("RECON_PAYMENT", {"benefit_payments": payments, "bank_disbursements": results})
    rows = {r["subject_id"]: r for r in found.iter_rows(named=True)}
    assert set(rows) == {"F1", "Q1", "Q2"}
    cols = ("person_id", "region_code", "period_from", "period_to")
    assert tuple(rows["F1"][c] for c in cols) == (P, "330200", "202506", "202506")
    assert tuple(rows["Q1"][c] for c in cols) == (None, "330700", "202507", "202507")
    assert tuple(rows["Q2"][c] for c in cols) == (None, None, None, None)


def test_finding_reads_like_an_analyst_would_write_it():
    payments = [pay("F1", "5434.10"), pay("F2", "100.00")]
    results = [
        result("F1", "5334.10", account="6217330000000000002"),
        result("F2", status="returned", amount="100.00"),
        result("Q1", "3459.56"),
    ]
    found = findings("RECON_PAYMENT", {"benefit_payments": payments, "bank_disbursements": results})
    rows = {r["subject_id"]: r for r in found.iter_rows(named=True)}
    assert rows["F1"]["summary"] == (
        "2025年6月基本养老金5,434.10元（F1）：回盘金额5,334.10元与发放金额不符；"
        "实际入账账号6217330000000000002与发放账号6217330000000000001不符"
    )
    assert rows["F2"]["summary"] == "2025年6月基本养老金100.00元（F2）：银行处理退回"
    assert rows["Q1"]["summary"] == (
        "Q1：银行回盘的发放流水号在待遇发放明细中不存在，已入账3,459.56元至账号6217330000000000001"
    )
    evidence = json.loads(rows["F1"]["evidence_rows"])
    assert [(e["dataset"], e["amount"], e["bank_account"], e["status"]) for e in evidence] == [
        ("bank_disbursements", "5334.10", "6217330000000000002", "success"),
        ("benefit_payments", "5434.10", ACCT, None),
    ]
    assert evidence[1]["person_id"] == P and evidence[1]["date"] == "2025-06-15"


def test_only_payments_that_plainly_reconcile_are_set_aside_before_the_rule():
    """`reconciled_at_once` leaves out of the rule's wide pass only one payment with one successful result of the
    same amount into the same account; every other id goes through the rule whole."""
    import polars as pl

    from pipelines.rules.recon_payment import reconciled_at_once

    payments = [pay(f"F{i}") for i in range(1, 8)] + [pay("F2")]  # F2 paid twice
    results = [
        result("F1"),
        result("F2"),
        result("F3"),
        result("F3"),  # two results
        result("F4", status="returned"),
        result("F5", "3000.01"),
        result("F6", account="6217330000000000002"),
        # F7: no result
        result("F9"),  # orphan
    ]

    def frame(rows, money):
        return pl.DataFrame(rows).with_columns(pl.col(money).cast(pl.Decimal(18, 2))).lazy()

    plain = reconciled_at_once(frame(payments, "amount"), frame(results, "amount"))
    assert plain["payment_id"].to_list() == ["F1"]
