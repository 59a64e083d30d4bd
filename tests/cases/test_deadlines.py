"""Provisional deadlines become final when the year's arrangement arrives, with an event; twice changes nothing.

The 2027 arrangement written here is made up for the test (the real notice is not used): New Year Fri Jan 1 -
Sun Jan 3; Spring Festival Fri Feb 5 - Sat Feb 13 with Sunday Feb 14 worked.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import polars as pl
import pytest

from pipelines.cases import audit, calendar, nightly
from pipelines.cases import register as reg
from pipelines.cases.calendar import Calendar
from pipelines.cases.deadlines import RECOMPUTED, recompute_provisional
from pipelines.warehouse.session import connect
from schemas.suspects import SUSPECT_SCHEMA

D = dt.date
ACTOR = "fundwatch-run r9"

OFFICE_2027 = """\
year: 2027
notice: 国务院办公厅关于2027年部分节假日安排的通知（测试用，虚构）
holidays:
  - {name: 元旦, from: 2027-01-01, to: 2027-01-03}
  - {name: 春节, from: 2027-02-05, to: 2027-02-13}
make_up_workdays:
  - {date: 2027-02-14, for: 春节}
"""


@pytest.fixture
def folder(tmp_path, monkeypatch):
    """The calendar over an empty holiday folder; a test adds the 2027 file when the notice 'arrives'."""
    path = tmp_path / "holidays"
    path.mkdir()
    monkeypatch.setattr(calendar, "CALENDAR", Calendar(path))
    return path


def findings(*sids: str) -> pl.DataFrame:
    return pl.DataFrame(
        [
            {
                "suspect_id": sid,
                "rule": "DECEASED_PAID",
                "subject_id": f"S-{sid}",
                "person_id": None,
                "region_code": "330100",
                "period_from": "202609",
                "period_to": "202610",
                "amount_at_risk": Decimal("15514.47"),
                "summary": "句子",
                "evidence_rows": "[]",
            }
            for sid in sids
        ],
        schema={"suspect_id": pl.String, **SUSPECT_SCHEMA},
    )


def set_deadlines(con, sid: str, status: str, assigned_on: dt.date | None, confirmed_on: dt.date | None) -> None:
    """The state `assign` / `verify` leave: the deadlines as the calendar counts them today."""
    due = calendar.rectification_due(assigned_on) if assigned_on else None
    report = calendar.report_due(confirmed_on) if confirmed_on else None
    with reg.write_transaction(con):
        con.execute(
            "UPDATE cases SET status = ?, assigned_on = ?, due_date = ?, due_provisional = ?,"
            " confirmed_on = ?, report_due = ?, report_due_provisional = ? WHERE suspect_id = ?",
            [
                status,
                assigned_on and assigned_on.isoformat(),
                due and due.isoformat(),
                int(due.provisional) if due else 0,
                confirmed_on and confirmed_on.isoformat(),
                report and report.isoformat(),
                int(report.provisional) if report else 0,
                sid,
            ],
        )


@pytest.fixture
def register(tmp_path, folder):
    """Four cases, their deadlines counted before the 2027 arrangement is known."""
    path = tmp_path / "fw.cases.sqlite"
    con = reg.open_register(path)
    reg.sync_findings(con, findings("A", "B", "C", "E"), D(2026, 12, 1), "r1")
    # A: assigned today, due 2027-01-13 (暂定)
    set_deadlines(con, "A", "under_verification", D(2026, 12, 1), None)
    # B: assigned 2026-11-02 (due 2026-12-14, official), confirmed 2027-02-01: report due 2027-02-12 (暂定)
    set_deadlines(con, "B", "confirmed", D(2026, 11, 2), D(2027, 2, 1))
    # C: all in 2026, official: never touched
    set_deadlines(con, "C", "under_verification", D(2026, 10, 12), None)
    # E: confirmed 2027-12-28, report due 2028-01-05, still provisional once 2027 is known (2028 is not)
    set_deadlines(con, "E", "confirmed", D(2026, 10, 12), D(2027, 12, 28))
    yield con
    con.close()


def case(con, sid: str) -> dict[str, object]:
    row = con.execute(
        "SELECT due_date, due_provisional, report_due, report_due_provisional FROM cases WHERE suspect_id = ?", [sid]
    ).fetchone()
    return dict(row)


def recomputed(con) -> list[dict[str, object]]:
    rows = con.execute(
        "SELECT suspect_id, actor, from_status, to_status, reason, details FROM case_events WHERE action = ?"
        " ORDER BY event_id",
        [RECOMPUTED],
    ).fetchall()
    return [dict(r) | {"details": {k: v for k, v in json.loads(r["details"]).items() if k != "set"}} for r in rows]


def test_the_deadlines_counted_before_the_arrangement_are_provisional(register):
    assert case(register, "A") == {
        "due_date": "2027-01-13",
        "due_provisional": 1,
        "report_due": None,
        "report_due_provisional": 0,
    }
    # B: Feb 2, 3, 4; Fri Feb 5 - Wed Feb 10 off (除夕, weekend, Feb 8, 补假 Feb 9, 10); Thu 11, Fri Feb 12
    assert case(register, "B") == {
        "due_date": "2026-12-14",
        "due_provisional": 0,
        "report_due": "2027-02-12",
        "report_due_provisional": 1,
    }
    assert case(register, "C")["due_provisional"] == 0
    assert case(register, "E")["report_due"] == "2028-01-05"
    # nothing is known yet: a recompute changes nothing
    assert recompute_provisional(register, ACTOR) == 0
    assert recomputed(register) == []


def test_a_provisional_deadline_becomes_final_when_the_office_file_arrives(register, folder):
    before = {sid: case(register, sid) for sid in "ABCE"}
    events_before = register.execute("SELECT count(*) FROM case_events").fetchone()[0]
    (folder / "2027.yaml").write_text(OFFICE_2027, encoding="utf-8")  # the notice arrives

    assert recompute_provisional(register, ACTOR) == 2

    # A: the same date (Jan 1 off either way), now final
    assert case(register, "A") == before["A"] | {"due_provisional": 0}
    # B: Feb 2, 3, 4; Feb 5-13 off; Sun Feb 14 worked (调休); Mon Feb 15
    assert case(register, "B") == before["B"] | {"report_due": "2027-02-15", "report_due_provisional": 0}
    assert case(register, "C") == before["C"]
    # E: Dec 29-31 2027 from the office file, Jan 2028 still statutory (Mon Jan 3 is 补假): unchanged
    assert (
        case(register, "E")
        == before["E"]
        == {
            "due_date": "2026-11-23",
            "due_provisional": 0,
            "report_due": "2028-01-05",
            "report_due_provisional": 1,
        }
    )

    events = recomputed(register)
    assert [(e["suspect_id"], e["actor"], e["from_status"], e["to_status"]) for e in events] == [
        ("A", ACTOR, "under_verification", "under_verification"),
        ("B", ACTOR, "confirmed", "confirmed"),
    ]
    assert events[0]["details"] == {
        "due_date": {"old": "2027-01-13", "new": "2027-01-13"},
        "due_provisional": {"old": 1, "new": 0},
        "due_date_sources": ["official", "office"],
    }
    assert events[1]["details"] == {
        "report_due": {"old": "2027-02-12", "new": "2027-02-15"},
        "report_due_provisional": {"old": 1, "new": 0},
        "report_due_sources": ["office"],
    }
    assert "2027-02-12（暂定 provisional） → 2027-02-15" in events[1]["reason"]
    assert register.execute("SELECT count(*) FROM case_events").fetchone()[0] == events_before + 2
    assert audit.verify_log(register).ok

    # a second recompute: nothing left to change, no event
    assert recompute_provisional(register, ACTOR) == 0
    assert len(recomputed(register)) == 2


def test_both_deadlines_of_one_case_in_one_event(tmp_path, folder):
    con = reg.open_register(tmp_path / "c.sqlite")
    reg.sync_findings(con, findings("F"), D(2026, 12, 20), "r1")
    # assigned 2026-12-20: due 2027-02-01 (暂定); confirmed Fri 2027-01-29: Feb 1-4, then Feb 5-10 off (除夕,
    # weekend, Spring Festival, 补假): report due Thu 2027-02-11 (暂定)
    set_deadlines(con, "F", "confirmed", D(2026, 12, 20), D(2027, 1, 29))
    assert case(con, "F") == {
        "due_date": "2027-02-01",
        "due_provisional": 1,
        "report_due": "2027-02-11",
        "report_due_provisional": 1,
    }
    (folder / "2027.yaml").write_text(OFFICE_2027, encoding="utf-8")
    assert recompute_provisional(con, ACTOR) == 1
    # due: Dec 21-31: 9, Jan 4 - Jan 29: 29, Mon Feb 1: 30 (unchanged, final); report: Feb 1, 2, 3, 4; Feb 5-13
    # off; Sun Feb 14 (调休): 5
    assert case(con, "F") == {
        "due_date": "2027-02-01",
        "due_provisional": 0,
        "report_due": "2027-02-14",
        "report_due_provisional": 0,
    }
    [event] = recomputed(con)
    assert set(event["details"]) == {
        "due_date",
        "due_provisional",
        "due_date_sources",
        "report_due",
        "report_due_provisional",
        "report_due_sources",
    }
    con.close()


def test_the_nightly_sync_recomputes(register, folder, tmp_path):
    (folder / "2027.yaml").write_text(OFFICE_2027, encoding="utf-8")
    register.close()
    path = tmp_path / "fw.cases.sqlite"
    db = tmp_path / "fw.duckdb"
    con = connect(db)
    try:
        nightly.sync_run(con, path, D(2026, 12, 2), "r9")
        mirrored = con.execute(
            "SELECT suspect_id, report_due FROM cases WHERE suspect_id IN ('A', 'B') ORDER BY 1"
        ).fetchall()
    finally:
        con.close()
    with reg.reader(path) as cases:
        assert [(e["suspect_id"], e["actor"]) for e in recomputed(cases)] == [("A", ACTOR), ("B", ACTOR)]
    assert mirrored == [("A", None), ("B", "2027-02-15")]  # the DuckDB mirror shows the final date
