"""RECON_LEDGER_BANK: the ±3-day window, direction and amount, one match per line, special accounts only;
near misses (only the date window apart) linked in both findings' evidence, by both engines."""

from __future__ import annotations

import datetime as dt
import json
import random
from decimal import Decimal

import duckdb
import polars as pl
import pytest

from pipelines.rules import BY_CODE
from pipelines.warehouse.append import append_frame
from pipelines.warehouse.session import dataset_ddl
from schemas.datasets import DATASETS
from tests.rules.harness import findings, subjects, table

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
            "pair_key": None,
            "paired_with": None,
            "paired_suspect_id": None,
            "pair_gap_days": None,
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


# ---- near misses: one movement booked late, two findings linked ---------------------------------------


def sql_pair_keys(tables: dict[str, list[dict[str, object]]]) -> dict[str, str | None]:
    """subject_id -> the SQL twin's pair_keys column (the harness compares only the suspects columns)."""
    con = duckdb.connect()
    try:
        for spec in DATASETS:
            con.execute(dataset_ddl(spec))
            frame = table(spec.name, tables.get(spec.name, []))
            append_frame(
                con, spec.name, frame.with_columns(pl.lit("t.csv").alias("source_file"), pl.lit("t").alias("run_id"))
            )
        sql = BY_CODE["RECON_LEDGER_BANK"].sql_file.read_text(encoding="utf-8")
        return dict(con.execute(f"SELECT subject_id, pair_keys FROM ({sql.rstrip().rstrip(';')})").fetchall())
    finally:
        con.close()


def polars_pair_keys(found: pl.DataFrame) -> dict[str, str | None]:
    """subject_id -> the pair keys named in the Polars finding's evidence rows, as the SQL twin joins them."""
    out = {}
    for row in found.iter_rows(named=True):
        keys = sorted(r["pair_key"] for r in json.loads(row["evidence_rows"]) if r["pair_key"])
        out[row["subject_id"]] = ",".join(keys) or None
    return out


def md5_suspect_id(subject_id: str) -> str:
    """suspect_id as sql/detect/merge_findings.sql derives it."""
    con = duckdb.connect()
    try:
        sql = "SELECT 'SP-' || substr(md5('RECON_LEDGER_BANK' || '|' || ?), 1, 16)"
        return con.execute(sql, [subject_id]).fetchone()[0]
    finally:
        con.close()


def test_a_near_miss_stays_two_findings_linked_in_their_evidence():
    tables = {
        "finance_ledger": [ledger("L1", "2025-05-10", "300100.91")],
        "bank_statements": [bank("B1", "2025-05-15", "300100.91")],
        "fund_accounts": ACCOUNTS,
    }
    found = findings("RECON_LEDGER_BANK", tables)
    assert subjects(found) == {"ledger:L1": Decimal("300100.91"), "bank:B1": Decimal("300100.91")}
    rows = {r["subject_id"]: r for r in found.iter_rows(named=True)}
    ledger_row = json.loads(rows["ledger:L1"]["evidence_rows"])[0]
    bank_row = json.loads(rows["bank:B1"]["evidence_rows"])[0]
    assert ledger_row["pair_key"] == bank_row["pair_key"] == "ledger:L1|bank:B1"
    assert (ledger_row["paired_with"], bank_row["paired_with"]) == ("bank:B1", "ledger:L1")
    assert ledger_row["paired_suspect_id"] == md5_suspect_id("bank:B1")
    assert bank_row["paired_suspect_id"] == md5_suspect_id("ledger:L1")
    assert ledger_row["pair_gap_days"] == bank_row["pair_gap_days"] == "5"
    assert rows["ledger:L1"]["summary"].endswith(
        f"；与银行流水B1（疑点{md5_suspect_id('bank:B1')}）仅日期相差5日（超出前后3日），疑为同一笔款项："
        "两条疑点均须核查，涉及金额在合计中只计一次"
    )
    assert f"与明细账凭证L1（疑点{md5_suspect_id('ledger:L1')}）仅日期相差5日" in rows["bank:B1"]["summary"]
    assert (
        sql_pair_keys(tables)
        == polars_pair_keys(found)
        == {
            "ledger:L1": "ledger:L1|bank:B1",
            "bank:B1": "ledger:L1|bank:B1",
        }
    )


@pytest.mark.parametrize(
    ("ledger_rows", "bank_rows", "expected"),
    [
        # 31 days apart: still a late booking, paired
        ([ledger("L1", "2025-05-01")], [bank("B1", "2025-06-01")], {"ledger:L1|bank:B1"}),
        # 32 days apart: two different movements, not paired
        ([ledger("L1", "2025-05-01")], [bank("B1", "2025-06-02")], set()),
        # the closer of two ledger lines is paired; the other stays alone
        (
            [ledger("L1", "2025-05-01"), ledger("L2", "2025-05-20")],
            [bank("B1", "2025-05-26")],
            {"ledger:L2|bank:B1"},
        ),
        # another amount or direction: not the same movement
        ([ledger("L1", "2025-05-01", "100.00")], [bank("B1", "2025-05-10", "100.01")], set()),
        ([ledger("L1", "2025-05-01", direction="out")], [bank("B1", "2025-05-10")], set()),
        # a bank line on an account that is not special is no finding, so nothing to pair with
        ([ledger("L1", "2025-05-01")], [bank("B1", "2025-05-10", account=INCOME)], set()),
        # a bank line matched within the window is not paired again
        (
            [ledger("L1", "2025-05-01"), ledger("L2", "2025-05-12")],
            [bank("B1", "2025-05-10")],
            set(),
        ),
    ],
)
def test_near_miss_pairing_edges(ledger_rows, bank_rows, expected):
    tables = {"finance_ledger": ledger_rows, "bank_statements": bank_rows, "fund_accounts": ACCOUNTS}
    found = findings("RECON_LEDGER_BANK", tables)
    keys = polars_pair_keys(found)
    assert {k for k in keys.values() if k} == expected
    assert sql_pair_keys(tables) == keys


def _near_reference(ledger_rows, bank_rows) -> set[str]:
    """Near-miss pairs written plainly: the lines left unmatched, paired by (gap, entry_id, txn_id) within 31 days."""
    left = _greedy_reference(ledger_rows, bank_rows)

    def gap(lr, br):
        return abs((dt.date.fromisoformat(lr["entry_date"]) - dt.date.fromisoformat(br["txn_date"])).days)

    pairs = sorted(
        (gap(lr, br), lr["entry_id"], br["txn_id"])
        for lr in ledger_rows
        for br in bank_rows
        if f"ledger:{lr['entry_id']}" in left
        and f"bank:{br['txn_id']}" in left
        and (lr["account_no"], lr["direction"], lr["amount"]) == (br["account_no"], br["direction"], br["amount"])
        and 3 < gap(lr, br) <= 31
    )
    used_l, used_b, out = set(), set(), set()
    for _, eid, tid in pairs:
        if eid not in used_l and tid not in used_b:
            used_l.add(eid)
            used_b.add(tid)
            out.add(f"ledger:{eid}|bank:{tid}")
    return out


@pytest.mark.parametrize("seed", range(3))
def test_crowded_account_pairs_near_misses_like_the_plain_greedy_pass(seed):
    rng = random.Random(seed)

    def day() -> str:
        return (dt.date(2025, 6, 1) + dt.timedelta(days=rng.randrange(60))).isoformat()

    ledger_rows = [ledger(f"L{i:02d}", day(), rng.choice(["100.00", "200.00"])) for i in range(25)]
    bank_rows = [bank(f"B{i:02d}", day(), rng.choice(["100.00", "200.00"])) for i in range(15)]
    tables = {"finance_ledger": ledger_rows, "bank_statements": bank_rows, "fund_accounts": ACCOUNTS}
    found = findings("RECON_LEDGER_BANK", tables)
    keys = polars_pair_keys(found)
    expected = _near_reference(ledger_rows, bank_rows)
    assert expected  # the draw does make near misses
    assert {k for k in keys.values() if k} == expected
    assert sql_pair_keys(tables) == keys
