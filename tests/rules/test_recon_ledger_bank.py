"""RECON_LEDGER_BANK: the ±3-day window, direction and amount, one match per line, special accounts only."""

from __future__ import annotations

import datetime as dt
import json
import random
from decimal import Decimal

import pytest

from tests.rules.harness import findings, subjects

SPECIAL = "19330000001"
INCOME = "19330100002"


def ledger(eid, date, amount="500000.00", direction="in", account=SPECIAL):
    return {
        "entry_id": eid,
        "account_no": account,
        "entry_date": date,
        "direction": direction,
        "amount": amount,
        "summary": "收入户划入",
    }


def bank(tid, date, amount="500000.00", direction="in", account=SPECIAL):
    return {
        "txn_id": tid,
        "account_no": account,
        "txn_date": date,
        "direction": direction,
        "amount": amount,
        "counterparty_name": "社会保险基金收入户",
    }


ACCOUNTS = [
    {"account_no": SPECIAL, "account_type": "special", "scheme": "110"},
    {"account_no": INCOME, "account_type": "income", "scheme": "110"},
]
AMT = Decimal("500000.00")


@pytest.mark.parametrize(
    ("ledger_rows", "bank_rows", "expected"),
    [
        # booked 3 days before the bank: within the window, matched
        ([ledger("L1", "2025-06-07")], [bank("B1", "2025-06-10")], {}),
        # 3 days after, across a month end: still matched
        ([ledger("L1", "2025-07-02")], [bank("B1", "2025-06-29")], {}),
        # 4 days apart: both lines flagged
        ([ledger("L1", "2025-06-06")], [bank("B1", "2025-06-10")], {"ledger:L1": AMT, "bank:B1": AMT}),
        # two ledger lines, one bank line: the smaller gap is matched, the other flagged
        (
            [ledger("L1", "2025-06-12"), ledger("L2", "2025-06-11")],
            [bank("B1", "2025-06-10")],
            {"ledger:L1": AMT},
        ),
        # equal gaps: the lower entry_id wins
        (
            [ledger("L2", "2025-06-09"), ledger("L1", "2025-06-11")],
            [bank("B1", "2025-06-10")],
            {"ledger:L2": AMT},
        ),
        # two bank lines, one ledger line: the other bank line is flagged
        (
            [ledger("L1", "2025-06-10")],
            [bank("B1", "2025-06-10"), bank("B2", "2025-06-11")],
            {"bank:B2": AMT},
        ),
        # greedy is global: L1-B1 (gap 0) goes first, so L2 takes B2 although B1 was its best
        (
            [ledger("L1", "2025-06-10"), ledger("L2", "2025-06-09")],
            [bank("B1", "2025-06-10"), bank("B2", "2025-06-12")],
            {},
        ),
        # a chain: L1-B1 (0), then L2-B2 (1), then L3 is left (its only bank line B2 is taken)
        (
            [ledger("L1", "2025-06-10"), ledger("L2", "2025-06-11"), ledger("L3", "2025-06-13")],
            [bank("B1", "2025-06-10"), bank("B2", "2025-06-12")],
            {"ledger:L3": AMT},
        ),
        # different direction or amount: not a match
        (
            [ledger("L1", "2025-06-10", direction="out"), ledger("L2", "2025-06-10", amount="500000.01")],
            [bank("B1", "2025-06-10")],
            {"ledger:L1": AMT, "ledger:L2": Decimal("500000.01"), "bank:B1": AMT},
        ),
        # another account: not a match; the bank line on the unregistered-as-special account is no finding
        (
            [ledger("L1", "2025-06-10")],
            [bank("B1", "2025-06-10", account=INCOME)],
            {"ledger:L1": AMT},
        ),
        # but a ledger entry can match a bank line on any account
        ([ledger("L1", "2025-06-10", account=INCOME)], [bank("B1", "2025-06-10", account=INCOME)], {}),
        # bank movement on a non-special account without ledger: not flagged
        ([], [bank("B1", "2025-06-10", account="62220000")], {}),
        # a voucher number booked twice without bank movements: one finding, amounts summed
        (
            [ledger("L1", "2025-06-10", "100.00"), ledger("L1", "2025-07-10", "200.00")],
            [],
            {"ledger:L1": Decimal("300.00")},
        ),
    ],
)
def test_recon_ledger_bank_edges(ledger_rows, bank_rows, expected):
    found = findings(
        "RECON_LEDGER_BANK",
        {"finance_ledger": ledger_rows, "bank_statements": bank_rows, "fund_accounts": ACCOUNTS},
    )
    assert subjects(found) == expected


def test_periods_region_and_person():
    found = findings(
        "RECON_LEDGER_BANK",
        {
            "finance_ledger": [ledger("L1", "2025-06-30")],
            "bank_statements": [bank("B1", "2025-07-04")],
            "fund_accounts": ACCOUNTS,
        },
    )
    rows = {r["subject_id"]: r for r in found.iter_rows(named=True)}
    assert (rows["ledger:L1"]["period_from"], rows["ledger:L1"]["period_to"]) == ("202506", "202506")
    assert (rows["bank:B1"]["period_from"], rows["bank:B1"]["period_to"]) == ("202507", "202507")
    assert {r["region_code"] for r in rows.values()} == {"330000"}
    assert {r["person_id"] for r in rows.values()} == {None}


def test_finding_reads_like_an_analyst_would_write_it():
    found = findings(
        "RECON_LEDGER_BANK",
        {
            "finance_ledger": [ledger("L1", "2025-06-12"), ledger("L2", "2025-06-11", "1234567.89", "out")],
            "bank_statements": [bank("B1", "2025-06-10"), bank("B9", "2025-06-10", "88.00", "out")],
            "fund_accounts": ACCOUNTS,
        },
    )
    rows = {r["subject_id"]: r for r in found.iter_rows(named=True)}
    assert set(rows) == {"ledger:L2", "bank:B9"}
    assert rows["ledger:L2"]["summary"] == (
        "财政专户明细账凭证L2：2025年6月11日账号19330000001支1,234,567.89元，"
        "银行对账单无前后3日内同账户、同方向、同金额的流水"
    )
    assert rows["bank:B9"]["summary"] == (
        "财政专户银行流水B9：2025年6月10日账号19330000001支88.00元，明细账无前后3日内同账户、同方向、同金额的记账"
    )
    evidence = json.loads(rows["ledger:L2"]["evidence_rows"])
    assert evidence == [
        {
            "side": "ledger",
            "line_id": "L2",
            "account_no": SPECIAL,
            "line_date": "2025-06-11",
            "direction": "out",
            "amount": "1234567.89",
            "memo": "收入户划入",
            "counterparty_account": None,
            "matched_elsewhere": None,
        }
    ]


def test_a_line_that_lost_its_match_names_the_winner():
    found = findings(
        "RECON_LEDGER_BANK",
        {
            "finance_ledger": [ledger("L1", "2025-06-12"), ledger("L2", "2025-06-11")],
            "bank_statements": [bank("B1", "2025-06-10")],
            "fund_accounts": ACCOUNTS,
        },
    )
    row = found.row(0, named=True)
    assert row["subject_id"] == "ledger:L1"
    assert row["summary"].endswith("；窗口内的B1已与其他记录配对")
    assert json.loads(row["evidence_rows"])[0]["matched_elsewhere"] == "B1"


def _greedy_reference(ledger_rows, bank_rows):
    """The contract's matching written plainly: pairs by (gap, entry_id, txn_id), each line once."""
    pairs = sorted(
        (
            abs((dt.date.fromisoformat(lr["entry_date"]) - dt.date.fromisoformat(br["txn_date"])).days),
            lr["entry_id"],
            br["txn_id"],
        )
        for lr in ledger_rows
        for br in bank_rows
        if (lr["account_no"], lr["direction"], lr["amount"]) == (br["account_no"], br["direction"], br["amount"])
        and abs((dt.date.fromisoformat(lr["entry_date"]) - dt.date.fromisoformat(br["txn_date"])).days) <= 3
    )
    used_l, used_b = set(), set()
    for _, eid, tid in pairs:
        if eid not in used_l and tid not in used_b:
            used_l.add(eid)
            used_b.add(tid)
    return {f"ledger:{r['entry_id']}": Decimal(r["amount"]) for r in ledger_rows if r["entry_id"] not in used_l} | {
        f"bank:{r['txn_id']}": Decimal(r["amount"]) for r in bank_rows if r["txn_id"] not in used_b
    }


@pytest.mark.parametrize("seed", range(5))
def test_crowded_account_matches_like_the_plain_greedy_pass(seed):
    """Many equal amounts a few days apart: long chains of rival candidates, both engines and the reference agree."""
    rng = random.Random(seed)

    def day() -> str:
        return (dt.date(2025, 6, 1) + dt.timedelta(days=rng.randrange(20))).isoformat()

    ledger_rows = [ledger(f"L{i:02d}", day(), rng.choice(["100.00", "200.00"])) for i in range(30)]
    bank_rows = [bank(f"B{i:02d}", day(), rng.choice(["100.00", "200.00"])) for i in range(30)]
    found = findings(
        "RECON_LEDGER_BANK",
        {"finance_ledger": ledger_rows, "bank_statements": bank_rows, "fund_accounts": ACCOUNTS},
    )
    assert subjects(found) == _greedy_reference(ledger_rows, bank_rows)
