"""Adjudication (核实认定) of held rows: who may decide which hold, a decided hold changed only by a chief, the
history kept; the listings of holds and screenings."""

from __future__ import annotations

import sqlite3

import pytest

from pipelines.cases import adjudication, staff
from pipelines.cases import register as reg
from pipelines.synth.ids import check_digit
from tests.cases.staffing import REGION, staff_up

P1 = "33010219500101001" + check_digit("33010219500101001")
P2 = "33020019620202002" + check_digit("33020019620202002")
AT = "2026-11-03T09:00:00+08:00"

# screening 1: three held rows of 330100, one of 330200, one INVALID row without a region; screening 2: one row
HOLDS = (
    (1, 2, "BP2", P1, REGION, "DECEASED", "3210.00"),
    (1, 5, "BP5", P1, REGION, "ALREADY_PAID;SHARED_ACCOUNT", "100.00"),
    (1, 7, "BP7", P2, "330200", "IN_CUSTODY;BLACKLISTED", "2000.00"),
    (1, 9, "BP9", "33010219500101", None, "INVALID", None),
    (1, 11, "BP11", P1, REGION, "PENSIONER", "900.00"),
    (2, 3, "BP30", P1, REGION, "SHARED_ACCOUNT", "50.00"),
)


@pytest.fixture
def con(tmp_path):
    c = reg.open_register(tmp_path / "fw.cases.sqlite")
    staff_up(c)
    with reg.write_transaction(c):
        for sid, rows, held in ((1, 12, 5), (2, 4, 1)):
            c.execute(
                "INSERT INTO screenings (screening_id, batch_file, sha256, screened_at, screened_by, channel, as_of,"
                " rows, held, amount, held_amount) VALUES (?, ?, ?, ?, 'chief', 'cli', '2026-11-03', ?, ?, ?, ?)",
                [sid, f"batch{sid}.csv", "ab" * 32, AT, rows, held, "99999.00", "6210.00"],
            )
        for sid, line, payment, person, region, reasons, amount in HOLDS:
            c.execute(
                "INSERT INTO screening_holds (screening_id, line, payment_id, person_id, region_code, scheme,"
                " benefit_type, period, amount, bank_account, reasons, explanation)"
                " VALUES (?, ?, ?, ?, ?, '120', 'pension', '202511', ?, '6222020200112233445', ?, '说明')",
                [sid, line, payment, person, region, amount, reasons],
            )
    yield c
    c.close()


def decision(con, sid: int, line: int) -> tuple:
    row = con.execute(
        "SELECT decision, decided_by, decision_reason FROM screening_hold_status WHERE screening_id = ? AND line = ?",
        [sid, line],
    ).fetchone()
    return tuple(row)


def test_a_verifier_of_the_region_decides_a_pending_hold(con):
    assert decision(con, 1, 2) == ("pending", None, None)
    adjudication_id = adjudication.adjudicate(con, "V01", 1, 2, "improper", "死亡后仍发放，已停发")
    assert decision(con, 1, 2) == ("improper", "V01", "死亡后仍发放，已停发")
    row = con.execute("SELECT * FROM screening_adjudications WHERE adjudication_id = ?", [adjudication_id]).fetchone()
    assert (row["by_actor"], row["recorded_by"], row["decision"]) == ("V01", None, "improper") and row["at"]


@pytest.mark.parametrize(("who", "why"), [("V99", "不负责统筹区"), ("AUD", "审计人员只读"), ("ADM", "系统管理员")])
def test_others_may_not_decide(con, who, why):
    with pytest.raises(staff.NotAllowed, match=why):
        adjudication.adjudicate(con, who, 1, 2, "proper", "理由")
    assert decision(con, 1, 2)[0] == "pending"


def test_a_hold_without_a_region_is_a_chiefs(con):
    with pytest.raises(staff.NotAllowed, match="不负责统筹区"):
        adjudication.adjudicate(con, "V01", 1, 9, "improper", "证件号无效")
    adjudication.adjudicate(con, "chief", 1, 9, "improper", "证件号无效")
    assert decision(con, 1, 9) == ("improper", "chief", "证件号无效")


def test_a_verifier_decides_holds_of_their_own_region_only(con):
    adjudication.adjudicate(con, "V99", 1, 7, "proper", "缓刑，不停发")
    with pytest.raises(staff.NotAllowed):
        adjudication.adjudicate(con, "V99", 1, 5, "proper", "理由")
    assert [decision(con, 1, line)[0] for line in (5, 7)] == ["pending", "proper"]


def test_a_decided_hold_is_changed_only_by_a_chief_and_the_history_stays(con):
    adjudication.adjudicate(con, "V01", 1, 5, "proper", "已核实")
    with pytest.raises(staff.NotAllowed, match="只有科长"):
        adjudication.adjudicate(con, "V02", 1, 5, "improper", "再核")
    with pytest.raises(staff.NotAllowed, match="只有科长"):
        adjudication.adjudicate(con, "V01", 1, 5, "pending", "撤回")
    adjudication.adjudicate(con, "chief", 1, 5, "improper", "复核：重复发放")
    assert decision(con, 1, 5) == ("improper", "chief", "复核：重复发放")
    adjudication.adjudicate(con, "chief", 1, 5, "pending", "待补充材料")
    assert decision(con, 1, 5) == ("pending", "chief", "待补充材料")
    adjudication.adjudicate(con, "V02", 1, 5, "proper", "材料已补")  # pending again: the region's verifiers decide
    history = con.execute(
        "SELECT decision, by_actor FROM screening_adjudications WHERE screening_id = 1 AND line = 5"
        " ORDER BY adjudication_id"
    ).fetchall()
    assert [tuple(r) for r in history] == [
        ("proper", "V01"),
        ("improper", "chief"),
        ("pending", "chief"),
        ("proper", "V02"),
    ]


def test_a_chief_records_a_verifiers_decision_on_their_behalf(con):
    on_behalf = reg.actor(con, "chief-user", "V01")
    adjudication.adjudicate(con, on_behalf, 1, 11, "proper", "电话核实")
    row = con.execute("SELECT by_actor, recorded_by FROM screening_adjudications").fetchone()
    assert tuple(row) == ("V01", "chief")
    with pytest.raises(staff.NotAllowed, match="不负责统筹区"):  # the decision is V99's: V99's regions count
        adjudication.adjudicate(con, reg.actor(con, "chief-user", "V99"), 1, 2, "proper", "理由")
    with pytest.raises(staff.NotAllowed, match="只有科长"):  # and V01's rights: a decided hold stays decided
        adjudication.adjudicate(con, on_behalf, 1, 11, "improper", "理由")
    with pytest.raises(staff.NotAllowed):
        reg.actor(con, "v01-user", "V02")  # only a chief records for a colleague


@pytest.mark.parametrize(
    ("sid", "line", "decided", "reason", "why"),
    [
        (1, 3, "proper", "理由", "筛查 #1 第3行没有暂停记录"),
        (3, 2, "proper", "理由", "筛查 #3 第2行没有暂停记录"),
        (1, 2, "proper", "  ", "理由"),
        (1, 2, "released", "理由", "decision"),
        (1, 2, "pending", "理由", "尚未认定"),
    ],
)
def test_requests_the_register_refuses(con, sid, line, decided, reason, why):
    with pytest.raises(adjudication.AdjudicationError, match=why):
        adjudication.adjudicate(con, "chief", sid, line, decided, reason)
    assert con.execute("SELECT count(*) FROM screening_adjudications").fetchone()[0] == 0


@pytest.mark.parametrize(
    "sql", ["UPDATE screening_adjudications SET reason = 'x'", "DELETE FROM screening_adjudications"]
)
def test_decisions_are_append_only(con, sql):
    adjudication.adjudicate(con, "V01", 1, 2, "improper", "停发")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        con.execute(sql)
    assert decision(con, 1, 2) == ("improper", "V01", "停发")


def test_holds_filter_by_screening_reason_decision_and_region(con):
    adjudication.adjudicate(con, "V01", 1, 2, "improper", "停发")
    adjudication.adjudicate(con, "V01", 2, 3, "proper", "放行")

    def lines(**filters) -> list[tuple[int, int]]:
        return adjudication.holds(con, **filters).select("screening_id", "line").rows()

    assert lines() == [(2, 3), (1, 2), (1, 5), (1, 7), (1, 9), (1, 11)]  # latest screening first, then by line
    assert lines(screening_id=1) == [(1, 2), (1, 5), (1, 7), (1, 9), (1, 11)]
    assert lines(reason="SHARED_ACCOUNT") == [(2, 3), (1, 5)]
    assert lines(reason="PAID") == [] and lines(reason="ALREADY_PAID") == [(1, 5)]
    assert lines(reason="BLACKLISTED", screening_id=1) == [(1, 7)]
    assert lines(decision="pending") == [(1, 5), (1, 7), (1, 9), (1, 11)]
    assert lines(decision="improper") == [(1, 2)]
    assert lines(region="330200") == [(1, 7)]
    assert lines(limit=2) == [(2, 3), (1, 2)] and lines(limit=2, offset=2) == [(1, 5), (1, 7)]
    frame = adjudication.holds(con, screening_id=1, decision="improper")
    first = frame.row(0, named=True)
    assert first["amount"] == "3210.00" and first["decided_by"] == "V01" and first["batch_file"] == "batch1.csv"
    assert frame.schema["line"].is_integer() and frame.schema["amount"] == frame.schema["reasons"]
    with pytest.raises(adjudication.AdjudicationError):
        adjudication.holds(con, decision="stopped")


def test_screenings_latest_first_with_their_decisions(con):
    adjudication.adjudicate(con, "V01", 1, 2, "improper", "停发")
    adjudication.adjudicate(con, "V01", 1, 5, "proper", "放行")
    adjudication.adjudicate(con, "chief", 1, 9, "improper", "停发")
    listed = adjudication.screenings(con)
    assert listed.select("screening_id", "held", "pending", "released", "stopped").rows() == [
        (2, 1, 1, 0, 0),
        (1, 5, 2, 1, 2),
    ]
    assert adjudication.screenings(con, limit=1)["screening_id"].to_list() == [2]
    one = adjudication.screening(con, 1)
    assert one is not None and one["batch_file"] == "batch1.csv" and one["held_amount"] == "6210.00"
    assert one["stopped"] == 2
    assert adjudication.screening(con, 99) is None


def test_decision_labels():
    assert adjudication.DECISIONS == ("proper", "improper", "pending")
    assert adjudication.decision_label("proper") == "准予发放 proper (released)"
    assert adjudication.decision_label("improper") == "不予发放 improper (stopped)"
    assert adjudication.decision_label("pending") == "待认定 pending"
