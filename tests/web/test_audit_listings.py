"""What was done about one case or one person, as an auditor lists it (issue 13, item 5); and the person page's
reveal: only with a reason, recorded under a reference to the person that never holds the ID."""

from __future__ import annotations

import re
import sqlite3

import pytest

from pipelines.cases import casework
from pipelines.cases import register as reg
from pipelines.present.masking import mask_account, mask_id
from pipelines.web import trail
from pipelines.web.app import create_app
from tests.cases.test_evidence import ACCOUNT_OF, TWICE
from tests.web.conftest import DEAD, ROLES, World, csrf
from tests.web.test_person_quality import cases_of, person

FULL_ID = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")
REF = re.compile(r"person:[0-9*Xx]+#[a-p]{16}")


def act(client, sid: str, action: str, **data):
    token = csrf(client.get(f"/case/{sid}").text)
    return client.post(f"/case/{sid}/act/{action}", data={"csrf": token, **data})


def reveal_case(client, sid: str, reason: str):
    token = csrf(client.get(f"/case/{sid}").text)
    return client.post(f"/case/{sid}/reveal", data={"csrf": token, "reason": reason})


def trails(world: World) -> tuple[list[dict], list[dict]]:
    with reg.reader(world.register) as con:
        web = [dict(r) for r in con.execute("SELECT * FROM web_audit ORDER BY audit_id")]
        views = [dict(r) for r in con.execute("SELECT * FROM access_log ORDER BY access_id")]
    return web, views


def test_an_auditor_lists_everything_done_about_one_case(world):
    dead_sid = cases_of(world, DEAD)[0][0]
    other_sid = cases_of(world, TWICE)[0][0]
    chief = world.login(ROLES["chief"])
    assert act(chief, dead_sid, "assign", assignee="V01", on="2026-01-15").status_code == 303
    assert reveal_case(chief, dead_sid, "核对死亡信息 check the death notice").status_code == 200
    assert act(chief, other_sid, "assign", assignee="V01", on="2026-01-15").status_code == 303
    auditor = world.login(ROLES["auditor"])
    listing = auditor.get(f"/audit/case/{dead_sid}")
    assert listing.status_code == 200
    html = listing.text
    assert "assign" in html and "reveal" in html and "核对死亡信息" in html
    assert "web_show_unmasked" in html  # the access log's entry
    assert f"{casework.ACTION_ZH['assign']} assign" in html  # the register's own event (the CLI's are listed too)
    assert other_sid not in html  # another case's records are not listed
    assert not FULL_ID.search(html)
    # the trail page links the case to its listing
    assert f'href="/audit/case/{dead_sid}"' in auditor.get("/audit").text


def test_an_auditor_lists_everything_done_about_one_person_without_the_trail_holding_the_id(world):
    dead_sid = cases_of(world, DEAD)[0][0]
    chief = world.login(ROLES["chief"])
    assert person(chief, person=DEAD).status_code == 200  # looked up by ID
    shown = person(chief, person=DEAD, reveal="1", reason="电话核实 confirm by phone")
    assert shown.status_code == 200
    assert act(chief, dead_sid, "assign", assignee="V01", on="2026-01-15").status_code == 303
    assert person(world.login("V01"), case=dead_sid).status_code == 200  # looked up through the case
    assert person(chief, person=TWICE).status_code == 200  # somebody else
    web, views = trails(world)
    for row in web + views:
        assert not FULL_ID.search(" ".join(str(v) for v in row.values())), row
    refs = {r["target"] for r in web if r["action"] in ("person", "reveal") and str(r["target"]).startswith("person:")}
    assert len(refs) == 2 and all(REF.fullmatch(r) for r in refs)  # DEAD's and TWICE's, each always the same
    with reg.reader(world.register) as con:
        dead_ref = trail.person_ref(con, DEAD)
    assert dead_ref.startswith(f"person:{mask_id(DEAD)}#")
    assert [v["target"] for v in views] == [dead_ref]

    auditor = world.login(ROLES["auditor"])
    listing = auditor.post("/audit/person", data={"csrf": csrf(auditor.get("/audit").text), "person": DEAD})
    assert listing.status_code == 200
    html = listing.text
    assert html.count(dead_ref) >= 3  # the lookup, the reveal and its access-log entry
    assert "电话核实" in html and "assign" in html and dead_sid in html  # the case's records and the link to it
    assert f'href="/audit/case/{dead_sid}"' in html
    with reg.reader(world.register) as con:
        twice_ref = trail.person_ref(con, TWICE)
    assert twice_ref not in html and not FULL_ID.search(html)
    listed = [r for r in trails(world)[0] if r["action"] == "audit_person"]
    assert [(r["actor"], r["target"]) for r in listed] == [("AUD", dead_ref)]


def test_the_person_page_reveals_only_with_a_reason_and_records_it(world):
    chief = world.login(ROLES["chief"])
    masked = person(chief, person=DEAD)
    assert DEAD not in masked.text and mask_id(DEAD) in masked.text
    assert ACCOUNT_OF[DEAD] not in masked.text and mask_account(ACCOUNT_OF[DEAD]) in masked.text
    assert 'name="reveal"' in masked.text
    refused = person(chief, person=DEAD, reveal="1", reason="  ")
    assert refused.status_code == 400 and DEAD not in refused.text and ACCOUNT_OF[DEAD] not in refused.text
    assert trails(world)[1] == []
    shown = person(chief, person=DEAD, reveal="1", reason="电话核实 confirm by phone")
    assert shown.status_code == 200 and DEAD in shown.text and ACCOUNT_OF[DEAD] in shown.text
    assert "已记录" in shown.text
    views = trails(world)[1]
    assert [(v["actor"], v["action"], v["reason"]) for v in views] == [
        ("chief", "web_show_unmasked_person", "电话核实 confirm by phone")
    ]
    # through a case: the form carries the case's id, never the person's
    sid = cases_of(world, DEAD)[0][0]
    verifier = world.login("V01")
    via_case = person(verifier, case=sid)
    assert f'name="case" value="{sid}"' in via_case.text and DEAD not in via_case.text
    assert person(verifier, case=sid, reveal="1", reason="入户核查 home visit").status_code == 200
    assert len(trails(world)[1]) == 2


@pytest.mark.parametrize(("role", "status"), [("chief", 200), ("auditor", 200), ("verifier", 403), ("admin", 403)])
def test_audit_listings_are_for_chiefs_and_auditors(world, role, status):
    sid = cases_of(world, DEAD)[0][0]
    client = world.login(ROLES[role])
    assert client.get(f"/audit/case/{sid}").status_code == status
    token = csrf(client.get("/staff" if role == "admin" else "/queue").text)
    assert client.post("/audit/person", data={"csrf": token, "person": DEAD}).status_code == status


def test_an_unknown_case_has_no_listing(world):
    client = world.login(ROLES["auditor"])
    assert client.get("/audit/case/SP-nonexistent").status_code == 404


def test_the_audit_key_is_written_once(world):
    with reg.reader(world.register) as con:
        key = con.execute("SELECT key_hex FROM audit_key").fetchall()
    assert len(key) == 1 and len(key[0][0]) == 64
    with reg.writer(world.register, create=False) as con:
        for statement in ("UPDATE audit_key SET key_hex = 'x'", "DELETE FROM audit_key"):
            with pytest.raises(sqlite3.DatabaseError, match="written once"):
                con.execute(statement)
    create_app(world.config)  # a restart: a second app over the same register keeps the key
    with reg.reader(world.register) as con:
        assert con.execute("SELECT key_hex FROM audit_key").fetchall() == key
