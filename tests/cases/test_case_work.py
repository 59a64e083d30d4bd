"""Case work the register refuses to get wrong: staff and roles, money to the fen, partial recovery and
write-off, event dates, 续报, reopen and correct (issue 12, item 2)."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import polars as pl
import pytest

from pipelines.cases import register as reg
from pipelines.cases import staff
from schemas.suspects import SUSPECT_SCHEMA
from tests.cases.staffing import AT, REGION, staff_up

FOUND = dt.date(2026, 11, 2)
TODAY = dt.date(2026, 12, 1)


def findings(*rows: tuple[str, str]) -> pl.DataFrame:
    return pl.DataFrame(
        [
            {
                "suspect_id": sid,
                "rule": "DECEASED_PAID",
                "subject_id": f"S-{sid}",
                "person_id": "330102198001011234",
                "region_code": REGION,
                "period_from": "202509",
                "period_to": "202510",
                "amount_at_risk": Decimal(amount),
                "summary": "死亡后继续领取",
                "evidence_rows": "[]",
            }
            for sid, amount in rows
        ],
        schema={"suspect_id": pl.String, **SUSPECT_SCHEMA},
    )


@pytest.fixture
def con(tmp_path):
    c = reg.open_register(tmp_path / "fw.cases.sqlite")
    staff_up(c)
    reg.sync_findings(c, findings(("A", "15514.47"), ("B", "600000.00")), FOUND, "r1")
    yield c
    c.close()


def case(con, sid="A"):
    return reg.get_case(con, sid)


def confirmed(con, sid="A"):
    reg.assign(con, sid, assignee="V01", by="chief", on=TODAY, today=TODAY)
    reg.verify(con, sid, by="V01", on=TODAY, today=TODAY)


def money(con, sid="A"):
    rows = con.execute("SELECT kind, amount, corrects FROM case_money WHERE suspect_id = ? ORDER BY money_id", [sid])
    return [tuple(r) for r in rows]


# ---- the whole cycle -------------------------------------------------------------------------------------


def test_open_assigned_verified_partially_recovered_written_off_by_the_right_roles(con):
    due = reg.assign(con, "A", assignee="V01", by="chief", on=TODAY, today=TODAY)
    assert due.date.year == 2027 and due.date > TODAY  # 30 working days from 2026-12-01 reach January 2027
    assert reg.verify(con, "A", by="V01", on=TODAY, today=TODAY) == "要情"
    assert reg.rectify(con, "A", by="V01", on=TODAY, today=TODAY, recovered=Decimal("10000.00")) == (
        "partially_recovered"
    )
    assert reg.outstanding(case(con)) == Decimal("5514.47")
    with pytest.raises(staff.NotAllowed, match="科长"):
        reg.write_off(con, "A", by="V01", on=TODAY, today=TODAY, reason="当事人死亡无遗产")
    assert reg.write_off(con, "A", by="chief", on=TODAY, today=TODAY, reason="当事人死亡无遗产") == Decimal("5514.47")
    c = case(con)
    assert (c["status"], c["recovered_amount"], c["written_off_amount"], c["excess_amount"]) == (
        "rectified",
        "10000.00",
        "5514.47",
        None,
    )
    assert money(con) == [("recovered", "10000.00", None), ("written_off", "5514.47", None)]
    trail = [(e["actor"], e["action"], e["to_status"]) for e in reg.events(con, "A")]
    assert trail[1:] == [
        ("chief", "assign", "under_verification"),
        ("V01", "verify", "confirmed"),
        ("V01", "rectify", "partially_recovered"),
        ("chief", "write_off", "rectified"),
    ]


# ---- who may do what --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("by", "match"),
    [
        ("V01", "只有科长"),  # a verifier does not assign
        ("AUD", "审计"),  # an auditor changes nothing
        ("ADM", "系统管理员"),  # an admin may not touch cases
    ],
)
def test_only_a_chief_assigns(con, by, match):
    with pytest.raises(staff.NotAllowed, match=match):
        reg.assign(con, "A", assignee="V01", by=by, on=TODAY, today=TODAY)
    assert case(con)["status"] == "open"


@pytest.mark.parametrize(
    ("assignee", "error", "match"),
    [
        ("", staff.StaffError, "不能为空"),
        ("NOBODY", staff.StaffError, "不在人员名册"),
        ("AUD", staff.NotAllowed, "核查员或科长"),
        ("V99", staff.NotAllowed, "不负责统筹区"),  # a verifier of another region
    ],
)
def test_the_assignee_is_an_active_verifier_of_the_region(con, assignee, error, match):
    with pytest.raises(error, match=match):
        reg.assign(con, "A", assignee=assignee, by="chief", on=TODAY, today=TODAY)


def test_a_disabled_staff_member_can_do_nothing(con):
    with reg.write_transaction(con):
        staff.disable(con, "V02", by_user="adm-user", at=AT, reason="调离")
    with pytest.raises(staff.StaffError, match="已停用"):
        reg.assign(con, "A", assignee="V02", by="chief", on=TODAY, today=TODAY)
    assert [m.active for m in staff.everyone(con) if m.staff_id == "V02"] == [False]
    # the log keeps both rows
    assert con.execute("SELECT count(*) FROM staff_log WHERE staff_id = 'V02'").fetchone()[0] == 2


@pytest.mark.parametrize("action", ["verify", "dismiss", "rectify", "report"])
def test_only_the_assignee_or_a_chief_works_a_case(con, action):
    confirmed(con) if action in ("rectify", "report") else reg.assign(
        con, "A", assignee="V01", by="chief", on=TODAY, today=TODAY
    )
    calls = {
        "verify": lambda by: reg.verify(con, "A", by=by, on=TODAY, today=TODAY),
        "dismiss": lambda by: reg.dismiss(con, "A", by=by, reason="核实无误", on=TODAY, today=TODAY),
        "rectify": lambda by: reg.rectify(con, "A", by=by, on=TODAY, today=TODAY, recovered=Decimal("1.00")),
        "report": lambda by: reg.mark_reported(con, "A", by=by, on=TODAY, today=TODAY),
    }
    before = case(con)["status"]
    with pytest.raises(staff.NotAllowed, match="不是该案核查人"):
        calls[action]("V02")
    assert case(con)["status"] == before
    calls[action]("chief")  # a chief may


def test_a_chief_records_on_a_colleagues_behalf_and_it_says_so(con):
    reg.assign(con, "A", assignee="V01", by="chief", on=TODAY, today=TODAY)
    who = reg.actor(con, "chief-user", on_behalf_of="V01")
    reg.verify(con, "A", by=who, on=TODAY, today=TODAY)
    last = reg.events(con, "A")[-1]
    assert last["actor"] == "V01" and json.loads(last["details"])["recorded_by"] == "chief"
    with pytest.raises(staff.NotAllowed, match="只有科长可代"):
        reg.actor(con, "v02-user", on_behalf_of="V01")
    with pytest.raises(staff.StaffError, match="没有对应"):
        reg.actor(con, "stranger", on_behalf_of=None)


def test_the_staff_register_is_managed_by_admins_only_and_starts_with_one(tmp_path):
    con = reg.open_register(tmp_path / "r.sqlite")
    with pytest.raises(staff.StaffError, match="第一位须为系统管理员"), reg.write_transaction(con):
        staff.add(con, staff_id="C1", name="甲", role="chief", regions=(), user="u1", by_user="root", at=AT)
    with reg.write_transaction(con):
        staff.add(con, staff_id="A1", name="乙", role="admin", regions=(), user="root", by_user="root", at=AT)
        staff.add(con, staff_id="C1", name="甲", role="chief", regions=(), user="u1", by_user="root", at=AT)
    with pytest.raises(staff.NotAllowed, match="只有系统管理员|only an admin"), reg.write_transaction(con):
        staff.add(con, staff_id="V1", name="丙", role="verifier", regions=("330100",), user=None, by_user="u1", at=AT)
    with pytest.raises(staff.StaffError, match="统筹区"), reg.write_transaction(con):
        staff.add(con, staff_id="V1", name="丙", role="verifier", regions=(), user=None, by_user="root", at=AT)
    with pytest.raises(staff.StaffError, match="已对应"), reg.write_transaction(con):
        staff.add(con, staff_id="X1", name="丁", role="auditor", regions=(), user="u1", by_user="root", at=AT)
    by = con.execute("SELECT by_actor FROM staff_log ORDER BY change_id").fetchall()
    assert [r[0] for r in by] == ["bootstrap:root", "A1"]
    with pytest.raises(Exception, match="append-only"):
        con.execute("DELETE FROM staff_log")


# ---- money to the fen -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "match"),
    [
        (Decimal("1.005"), "精确到分"),
        (Decimal("NaN"), "不是有效金额"),
        (Decimal("Infinity"), "不是有效金额"),
        (Decimal("0"), "大于零"),
        (Decimal("-5.00"), "大于零"),
    ],
)
def test_amounts_are_exact_to_the_fen(con, amount, match):
    confirmed(con)
    with pytest.raises(reg.CaseError, match=match):
        reg.rectify(con, "A", by="V01", on=TODAY, today=TODAY, recovered=amount)
    assert money(con) == [] and case(con)["status"] == "confirmed"


def test_recovering_more_than_is_outstanding_needs_a_reason_and_is_kept_apart(con):
    confirmed(con)
    with pytest.raises(reg.CaseError, match="超过待追回金额"):
        reg.rectify(con, "A", by="V01", on=TODAY, today=TODAY, recovered=Decimal("41220"))
    status = reg.rectify(
        con, "A", by="V01", on=TODAY, today=TODAY, recovered=Decimal("41220"), excess_reason="罚没 penalty"
    )
    c = case(con)
    assert (status, c["recovered_amount"], c["excess_amount"]) == ("rectified", "15514.47", "25705.53")
    assert money(con) == [("recovered", "15514.47", None), ("excess", "25705.53", None)]


def test_recoveries_accumulate_per_event(con):
    confirmed(con)
    for amount in ("0.01", "5000.00", "10514.45"):
        reg.rectify(con, "A", by="V01", on=TODAY, today=TODAY, recovered=Decimal(amount))
    assert (case(con)["status"], reg.outstanding(case(con))) == ("partially_recovered", Decimal("0.01"))
    reg.rectify(con, "A", by="V01", on=TODAY, today=TODAY, recovered=Decimal("0.01"))
    assert (case(con)["status"], case(con)["recovered_amount"]) == ("rectified", "15514.47")
    assert sum(Decimal(a) for k, a, _ in money(con) if k == "recovered") == Decimal("15514.47")


def test_a_write_off_cannot_exceed_what_is_outstanding(con):
    confirmed(con)
    with pytest.raises(reg.CaseError, match="超过待追回金额"):
        reg.write_off(con, "A", by="chief", on=TODAY, today=TODAY, reason="无法追回", amount=Decimal("20000"))
    reg.write_off(con, "A", by="chief", on=TODAY, today=TODAY, reason="部分无法追回", amount=Decimal("514.47"))
    assert (case(con)["status"], reg.outstanding(case(con))) == ("confirmed", Decimal("15000.00"))
    with pytest.raises(reg.CaseError, match="理由"):
        reg.write_off(con, "A", by="chief", on=TODAY, today=TODAY, reason=" ")


# ---- dates ------------------------------------------------------------------------------------------------


def test_event_dates_are_neither_in_the_future_nor_before_the_finding(con):
    with pytest.raises(reg.CaseError, match="晚于今天"):
        reg.assign(con, "A", assignee="V01", by="chief", on=TODAY + dt.timedelta(days=1), today=TODAY)
    with pytest.raises(reg.CaseError, match="早于疑点发现日期"):
        reg.assign(con, "A", assignee="V01", by="chief", on=FOUND - dt.timedelta(days=1), today=TODAY)
    reg.assign(con, "A", assignee="V01", by="chief", on=dt.date(2026, 11, 20), today=TODAY)
    with pytest.raises(reg.CaseError, match="早于交办日期"):
        reg.verify(con, "A", by="V01", on=dt.date(2026, 11, 19), today=TODAY)
    reg.verify(con, "A", by="V01", on=dt.date(2026, 11, 25), today=TODAY)
    with pytest.raises(reg.CaseError, match="早于确认日期"):
        reg.rectify(con, "A", by="V01", on=dt.date(2026, 11, 24), today=TODAY, recovered=Decimal("1.00"))


def test_a_second_report_is_a_new_event_never_an_overwrite(con):
    confirmed(con, "B")
    assert reg.mark_reported(con, "B", by="V01", on=TODAY, today=TODAY) == "report"
    later = TODAY + dt.timedelta(days=1)
    assert reg.mark_reported(con, "B", by="V01", on=later, today=later) == "report_again"
    c = case(con, "B")
    assert (c["severity"], c["reported_on"], c["last_reported_on"]) == ("重大要情", "2026-12-01", "2026-12-02")
    assert [e["action"] for e in reg.events(con, "B")][-2:] == ["report", "report_again"]


# ---- correction -------------------------------------------------------------------------------------------


def test_a_chief_voids_a_wrong_recovery_and_the_earlier_event_stays(con):
    confirmed(con)
    reg.rectify(con, "A", by="V01", on=TODAY, today=TODAY, recovered=Decimal("15000.00"))
    wrong = reg.events(con, "A")[-1]["event_id"]
    with pytest.raises(staff.NotAllowed):
        reg.correct(con, "A", by="V01", event_id=wrong, reason="金额录错")
    with pytest.raises(reg.CaseError, match="只能更正最近一步"):
        reg.correct(con, "A", by="chief", event_id=wrong - 1, reason="金额录错")
    changes = reg.correct(con, "A", by="chief", event_id=wrong, reason="金额录错，应为1500")
    assert changes == {"status": "confirmed", "recovered_amount": None}
    c = case(con)
    assert (c["status"], c["recovered_amount"], reg.outstanding(c)) == ("confirmed", None, Decimal("15514.47"))
    assert money(con) == [("recovered", "15000.00", None), ("recovered", "-15000.00", 1)]
    actions = [e["action"] for e in reg.events(con, "A")]
    assert actions[-2:] == ["rectify", "correct"]  # the voided event stays in the log
    reg.rectify(con, "A", by="V01", on=TODAY, today=TODAY, recovered=Decimal("1500.00"))
    assert case(con)["recovered_amount"] == "1500.00"
    # the voided event is skipped from then on: the latest live step is now the new recovery
    reg.correct(con, "A", by="chief", event_id=reg.events(con, "A")[-1]["event_id"], reason="再次更正")
    assert case(con)["status"] == "confirmed"


def test_voiding_steps_one_by_one_walks_the_case_back(con):
    confirmed(con)
    for _ in range(2):
        reg.correct(con, "A", by="chief", event_id=reg.latest_step(con, "A"), reason="交办错误")
    assert reg.latest_step(con, "A") is None and len(reg.voided_events(con, "A")) == 2
    c = case(con)
    assert (c["status"], c["assignee"], c["due_date"], c["severity"]) == ("open", None, None, None)
    with pytest.raises(reg.CaseError, match="只能更正最近一步"):
        reg.correct(con, "A", by="chief", event_id=2, reason="没有可更正的 nothing left")


def test_a_chief_reopens_a_wrongly_dismissed_case(con):
    reg.assign(con, "A", assignee="V01", by="chief", on=TODAY, today=TODAY)
    reg.dismiss(con, "A", by="V01", reason="本人健在", on=TODAY, today=TODAY)
    with pytest.raises(staff.NotAllowed):
        reg.reopen(con, "A", by="V01", reason="复查", on=TODAY, today=TODAY)
    assert reg.reopen(con, "A", by="chief", reason="复查发现死亡属实", on=TODAY, today=TODAY) == "under_verification"
    assert case(con)["dismissed_reason"] is None
    assert [e["action"] for e in reg.events(con, "A")][-2:] == ["dismiss", "reopen"]
    with pytest.raises(reg.CaseError, match="未结"):
        reg.reopen(con, "A", by="chief", reason="再开", on=TODAY, today=TODAY)


def test_the_money_table_is_append_only(con):
    confirmed(con)
    reg.rectify(con, "A", by="V01", on=TODAY, today=TODAY, recovered=Decimal("1.00"))
    for sql in ("UPDATE case_money SET amount = '9'", "DELETE FROM case_money"):
        with pytest.raises(Exception, match="append-only"):
            con.execute(sql)


def test_unmasked_access_is_recorded_with_a_reason(con):
    member = staff.get_active(con, "AUD")
    with pytest.raises(reg.CaseError, match="理由"):
        reg.record_access(con, member, "show_unmasked", "A", "", "aud-user")
    with pytest.raises(staff.NotAllowed):
        reg.record_access(con, staff.get_active(con, "ADM"), "show_unmasked", "A", "看看", "adm-user")
    reg.record_access(con, member, "show_unmasked", "A", "审计抽查", "aud-user")
    rows = con.execute("SELECT actor, os_user, action, target, reason FROM access_log").fetchall()
    assert [tuple(r) for r in rows] == [("AUD", "aud-user", "show_unmasked", "A", "审计抽查")]
