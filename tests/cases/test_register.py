"""The case register: every transition, its audit trail, sync across nightly runs, 回避, concurrency."""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal

import polars as pl
import pytest

from pipelines.cases import audit, staff
from pipelines.cases import register as reg
from schemas.suspects import SUSPECT_SCHEMA
from tests.cases.staffing import staff_up

ON = dt.date(2026, 3, 2)  # a Monday


def findings(*rows: tuple[str, str]) -> pl.DataFrame:
    """(suspect_id, amount) rows in the suspects shape."""
    return pl.DataFrame(
        [
            {
                "suspect_id": sid,
                "rule": "DECEASED_PAID",
                "subject_id": f"S-{sid}",
                "person_id": None,
                "region_code": "330100",
                "period_from": "202503",
                "period_to": "202504",
                "amount_at_risk": Decimal(amount),
                "summary": "句子",
                "evidence_rows": "[]",
            }
            for sid, amount in rows
        ],
        schema={"suspect_id": pl.String, **SUSPECT_SCHEMA},
    )


@pytest.fixture
def con(tmp_path):
    c = reg.open_register(tmp_path / "cases.sqlite")
    staff_up(c)
    yield c
    c.close()


def status(con, sid: str) -> str:
    return reg.get_case(con, sid)["status"]


def test_a_case_goes_from_open_to_rectified_with_a_trail(con):
    reg.sync_findings(con, findings(("A", "41220.00")), ON, "r1")
    assert status(con, "A") == "open"
    due = reg.assign(con, "A", assignee="V01", by="chief", on=ON)
    assert status(con, "A") == "under_verification"
    # 30 working days after 2026-03-02; Qingming (Apr 4-6) falls inside
    assert (due.date, due.provisional) == (dt.date(2026, 4, 14), False)
    assert reg.verify(con, "A", by="V01", on=dt.date(2026, 3, 10)) == "要情"
    case = reg.get_case(con, "A")
    assert (case["status"], case["severity"], case["report_due"]) == ("confirmed", "要情", "2026-03-17")
    reg.rectify(con, "A", by="V01", on=dt.date(2026, 3, 20), recovered=Decimal("41220"))
    case = reg.get_case(con, "A")
    assert (case["status"], case["recovered_amount"]) == ("rectified", "41220.00")
    trail = [(e["actor"], e["action"], e["from_status"], e["to_status"]) for e in reg.events(con, "A")]
    assert trail == [
        ("fundwatch-run r1", "found", None, "open"),
        ("chief", "assign", "open", "under_verification"),
        ("V01", "verify", "under_verification", "confirmed"),
        ("V01", "rectify", "confirmed", "rectified"),
    ]


@pytest.mark.parametrize(
    ("action", "from_status"),
    [
        ("verify", "open"),
        ("rectify", "open"),
        ("rectify", "under_verification"),
        ("assign", "confirmed"),
        ("dismiss", "confirmed"),
    ],
)
def test_transitions_out_of_order_are_refused(con, action, from_status):
    reg.sync_findings(con, findings(("A", "10.00")), ON, "r1")
    if from_status != "open":
        reg.assign(con, "A", assignee="V01", by="chief", on=ON)
    if from_status == "confirmed":
        reg.verify(con, "A", by="V01", on=ON)
    calls = {
        "verify": lambda: reg.verify(con, "A", by="chief", on=ON),
        "rectify": lambda: reg.rectify(con, "A", by="chief", on=ON, recovered=Decimal("1")),
        "assign": lambda: reg.assign(con, "A", assignee="V02", by="chief", on=ON),
        "dismiss": lambda: reg.dismiss(con, "A", by="chief", reason="r"),
    }
    with pytest.raises(reg.CaseError):
        calls[action]()
    assert status(con, "A") == from_status


def test_dismissal_needs_a_reason_and_records_it(con):
    reg.sync_findings(con, findings(("A", "10.00")), ON, "r1")
    with pytest.raises(reg.CaseError):
        reg.dismiss(con, "A", by="chief", reason="  ")
    reg.dismiss(con, "A", by="chief", reason="死亡信息有误，本人健在")
    assert reg.get_case(con, "A")["dismissed_reason"] == "死亡信息有误，本人健在"


@pytest.mark.parametrize(("amount", "severity"), [("499999.99", "要情"), ("500000.00", "重大要情")])
def test_severity_at_confirmation(con, amount, severity):
    reg.sync_findings(con, findings(("A", amount)), ON, "r1")
    reg.assign(con, "A", assignee="V01", by="chief", on=ON)
    assert reg.verify(con, "A", by="V01", on=ON) == severity


def test_the_payer_may_not_verify(con):
    reg.sync_findings(con, findings(("A", "10.00")), ON, "r1")
    reg.record_payers(con, pl.DataFrame({"suspect_id": ["A"], "operator_id": ["OP7"]}))
    with pytest.raises(staff.NotAllowed, match="回避"):
        reg.assign(con, "A", assignee="OP7", by="chief", on=ON)
    reg.assign(con, "A", assignee="OP8", by="chief", on=ON)


def test_nightly_runs_never_undo_what_analysts_recorded(con):
    reg.sync_findings(con, findings(("A", "10.00"), ("B", "20.00")), ON, "r1")
    reg.assign(con, "A", assignee="V01", by="chief", on=ON)
    counts = reg.sync_findings(con, findings(("A", "12.00")), dt.date(2026, 3, 3), "r2")
    assert (counts.opened, counts.refreshed, counts.stopped_firing) == (0, 1, 1)
    a, b = reg.get_case(con, "A"), reg.get_case(con, "B")
    assert (a["status"], a["assignee"], a["amount_at_risk"], a["firing"]) == ("under_verification", "V01", "12.00", 1)
    assert (b["status"], b["firing"]) == ("open", 0)  # stopped firing: kept, marked, never erased
    reg.sync_findings(con, findings(("A", "12.00"), ("B", "20.00")), dt.date(2026, 3, 4), "r3")
    assert reg.get_case(con, "B")["firing"] == 1
    assert [e["action"] for e in reg.events(con, "B")] == ["found", "stopped_firing", "fired_again"]


def test_a_rectified_case_that_fires_again_is_reopened_as_a_recurrence(con):
    reg.sync_findings(con, findings(("A", "10.00")), ON, "r1")
    reg.assign(con, "A", assignee="V01", by="chief", on=ON)
    reg.verify(con, "A", by="V01", on=ON)
    reg.rectify(con, "A", by="V01", on=ON, recovered=Decimal("10"))
    reg.sync_findings(con, findings(), dt.date(2026, 3, 5), "r2")
    assert status(con, "A") == "rectified"
    # the rectified rows are still in the extracts: the same finding is no recurrence
    reg.sync_findings(con, findings(("A", "10.00")), dt.date(2026, 3, 6), "r3")
    assert status(con, "A") == "rectified"
    # a new payment after rectification: more money, the case is worked again
    reg.sync_findings(con, findings(("A", "15.00")), dt.date(2026, 4, 1), "r4")
    case = reg.get_case(con, "A")
    assert (case["status"], case["recurrences"], case["recovered_amount"]) == ("open", 1, "10.00")
    assert case["amount_at_risk"] == "15.00"
    assert reg.events(con, "A")[-1]["action"] == "reopened"


def test_one_sync_of_every_kind_of_change_writes_each_case_and_a_chained_log_in_the_findings_order(con):
    """One sync opens, refreshes, keeps rectified, reopens, fires again and stops cases at once: each case row
    ends as its own change says, and the events follow the findings' order, chained from the head before."""
    reg.sync_findings(con, findings(("A", "10.00"), ("B", "10.00"), ("C", "10.00"), ("D", "10.00")), ON, "r1")
    for sid in ("B", "C"):
        reg.assign(con, sid, assignee="V01", by="chief", on=ON)
        reg.verify(con, sid, by="V01", on=ON)
        reg.rectify(con, sid, by="V01", on=ON, recovered=Decimal("10"))
    reg.sync_findings(con, findings(("A", "10.00"), ("B", "10.00"), ("C", "10.00")), dt.date(2026, 3, 3), "r2")
    last = con.execute("SELECT max(event_id) FROM case_events").fetchone()[0]
    # E new, C reopened (more money), D fired again, B rectified and the same, A refreshed; nothing stops...
    batch = findings(("E", "7.00"), ("C", "30.00"), ("D", "10.00"), ("B", "10.00"), ("A", "11.00"))
    counts = reg.sync_findings(con, batch, dt.date(2026, 3, 4), "r3")
    assert counts == reg.SyncCounts(opened=1, refreshed=4, stopped_firing=0, reopened=1)
    # ... and then A stops firing
    reg.sync_findings(con, batch.filter(pl.col("suspect_id") != "A"), dt.date(2026, 3, 5), "r4")
    cases = {sid: reg.get_case(con, sid) for sid in "ABCDE"}
    got = {sid: (c["status"], c["firing"], c["amount_at_risk"], c["last_seen"]) for sid, c in cases.items()}
    assert got == {
        "A": ("open", 0, "11.00", "2026-03-04"),
        "B": ("rectified", 1, "10.00", "2026-03-05"),
        "C": ("open", 1, "30.00", "2026-03-05"),
        "D": ("open", 1, "10.00", "2026-03-05"),
        "E": ("open", 1, "7.00", "2026-03-05"),
    }
    assert (cases["C"]["recurrences"], cases["E"]["first_seen"]) == (1, "2026-03-04")
    logged = con.execute(
        "SELECT suspect_id, action, actor FROM case_events WHERE event_id > ? ORDER BY event_id", [last]
    ).fetchall()
    assert [tuple(r) for r in logged] == [
        ("E", "found", "fundwatch-run r3"),
        ("C", "reopened", "fundwatch-run r3"),
        ("D", "fired_again", "fundwatch-run r3"),
        ("A", "stopped_firing", "fundwatch-run r4"),
    ]
    assert audit.verify_log(con).ok


def test_overdue_is_derived_from_the_deadline(con):
    reg.sync_findings(con, findings(("A", "10.00"), ("B", "10.00")), ON, "r1")
    reg.assign(con, "A", assignee="V01", by="chief", on=ON)
    reg.assign(con, "B", assignee="V01", by="chief", on=ON)
    reg.dismiss(con, "B", by="V01", reason="核实无误")
    frame = reg.cases_frame(con, dt.date(2026, 4, 15)).select("suspect_id", "overdue")
    assert frame.rows() == [("A", True), ("B", False)]
    assert reg.cases_frame(con, dt.date(2026, 4, 14))["overdue"].to_list() == [False, False]


def test_an_analyst_writing_during_a_sync_loses_nothing(tmp_path):
    """A nightly sync holding the write lock, an analyst verifying meanwhile: both land, in order."""
    path = tmp_path / "cases.sqlite"
    setup = reg.open_register(path)
    staff_up(setup)
    reg.sync_findings(setup, findings(("A", "10.00")), ON, "r1")
    reg.assign(setup, "A", assignee="V01", by="chief", on=ON)
    setup.close()

    inside_run = threading.Event()
    release_run = threading.Event()
    errors: list[BaseException] = []

    def nightly():
        con = reg.open_register(path)
        try:
            with reg.write_transaction(con):
                inside_run.set()
                release_run.wait(5)
                con.execute("UPDATE cases SET last_seen = '2026-03-03' WHERE suspect_id = 'A'")
        except BaseException as err:  # surfaced below
            errors.append(err)
        finally:
            con.close()

    def analyst():
        con = reg.open_register(path)
        try:
            reg.verify(con, "A", by="V01", on=ON)  # blocks on the run's write lock, then lands
        except BaseException as err:
            errors.append(err)
        finally:
            con.close()

    run = threading.Thread(target=nightly)
    run.start()
    assert inside_run.wait(5)
    verifying = threading.Thread(target=analyst)
    verifying.start()
    verifying.join(0.5)
    assert verifying.is_alive()  # waiting for the run, not failing
    release_run.set()
    run.join(10)
    verifying.join(10)
    assert not errors
    check = reg.open_register(path)
    case = reg.get_case(check, "A")
    assert (case["status"], case["last_seen"]) == ("confirmed", "2026-03-03")
    check.close()


def test_recovery_of_a_recurrence_adds_to_the_earlier_one(con):
    reg.sync_findings(con, findings(("A", "10.00")), ON, "r1")
    for amount, recovered in (("10.00", "10"), ("15.00", "5")):
        reg.sync_findings(con, findings(("A", amount)), ON, "r")
        reg.assign(con, "A", assignee="V01", by="chief", on=ON)
        reg.verify(con, "A", by="V01", on=ON)
        reg.rectify(con, "A", by="V01", on=ON, recovered=Decimal(recovered))
    case = reg.get_case(con, "A")
    assert (case["recurrences"], case["recovered_amount"]) == (1, "15.00")


def test_a_register_is_brought_up_to_date_once_per_schema(tmp_path, monkeypatch):
    """`open_register` runs the DDL once per file and schema version in a process: again when the schema changed
    since (here a table dropped behind its back), never when nothing did."""
    import sqlite3

    path = tmp_path / "cases.sqlite"
    reg.open_register(path).close()
    ran: list[bool] = []
    real = reg.audit.columns_missing

    def counted(con):  # the first step of bringing a register up to date
        ran.append(True)
        return real(con)

    monkeypatch.setattr(reg.audit, "columns_missing", counted)
    with reg.writer(path, create=False):
        pass
    assert ran == []  # up to date: no DDL
    with sqlite3.connect(path) as raw:
        raw.execute("DROP TABLE api_calls")
    with reg.writer(path, create=False) as con:
        assert con.execute("SELECT count(*) FROM api_calls").fetchone()[0] == 0  # made again
    assert ran
