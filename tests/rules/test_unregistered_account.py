"""UNREGISTERED_ACCOUNT: an unknown account, the closed_date itself and the day after, an open account."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from tests.rules.harness import findings, subjects

ACCT = "193302002100019"


def move(txn, date, amount="500.00", account=ACCT, direction="out"):
    return {
        "txn_id": txn,
        "account_no": account,
        "txn_date": date,
        "direction": direction,
        "amount": amount,
        "counterparty_name": "往来单位",
    }


def registered(closed=None, account=ACCT):
    return {
        "account_no": account,
        "account_type": "expenditure",
        "scheme": "210",
        "opened_date": "2010-01-04",
        "closed_date": closed,
    }


@pytest.mark.parametrize(
    ("movements", "accounts", "expected"),
    [
        # registered, never closed
        ([move("T1", "2025-03-10")], [registered()], {}),
        # used on the closed_date itself: the closing movement, allowed
        ([move("T1", "2025-06-30")], [registered("2025-06-30")], {}),
        # the day after the closed_date: only the late movements are at risk
        (
            [
                move("T1", "2025-03-10"),
                move("T2", "2025-07-01", "501.81"),
                move("T3", "2025-08-15", "0.19", direction="in"),
            ],
            [registered("2025-06-30")],
            {ACCT: Decimal("502.00")},
        ),
        # not registered at all: every movement, in and out
        (
            [move("T1", "2025-03-12", "50141.27", "95330100", "in"), move("T2", "2025-04-02", "50161.45", "95330100")],
            [registered()],
            {"95330100": Decimal("100302.72")},
        ),
        # listed twice, once still open: not closed
        ([move("T1", "2025-08-15")], [registered("2025-06-30"), registered()], {}),
        # listed twice, both closed: the latest closed_date counts
        (
            [move("T1", "2025-08-15"), move("T2", "2025-10-01", "7.00")],
            [registered("2025-06-30"), registered("2025-09-30")],
            {ACCT: Decimal("7.00")},
        ),
    ],
)
def test_unregistered_account_edges(movements, accounts, expected):
    found = findings("UNREGISTERED_ACCOUNT", {"bank_statements": movements, "fund_accounts": accounts})
    assert subjects(found) == expected


def test_finding_reads_like_an_analyst_would_write_it():
    movements = [
        move("T1", "2025-03-10"),
        move("T2", "2025-08-15", "50201.81"),
        move("U1", "2025-03-12", "50141.27", "95330100", "in"),
        move("U2", "2025-04-02", "50161.45", "95330100"),
    ]
    found = findings(
        "UNREGISTERED_ACCOUNT", {"bank_statements": movements, "fund_accounts": [registered("2025-06-30")]}
    )
    rows = {r["subject_id"]: r for r in found.iter_rows(named=True)}
    assert rows[ACCT]["summary"] == (
        "账号193302002100019已于2025年6月30日销户，其后仍发生资金收付1笔（2025年8月15日），共计50,201.81元"
    )
    assert rows["95330100"]["summary"] == (
        "账号95330100未在基金账户登记中，却发生资金收付2笔（2025年3月12日至2025年4月2日），共计100,302.72元"
    )
    unknown = rows["95330100"]
    assert (unknown["period_from"], unknown["period_to"], unknown["region_code"], unknown["person_id"]) == (
        "202503",
        "202504",
        None,
        None,
    )
    assert json.loads(rows[ACCT]["evidence_rows"]) == [
        {
            "txn_id": "T2",
            "txn_date": "2025-08-15",
            "direction": "out",
            "amount": "50201.81",
            "counterparty_account": None,
            "counterparty_name": "往来单位",
        }
    ]
