"""The internal audit pages (稽核抽样, issue 16 item 1): a chief and an auditor read the draws and a draw's sample with
its results (person IDs masked); a chief records a result from the page (CSRF), which can open a case; an auditor's
POST, a verifier and an admin are refused; every POST is in `web_audit`. Through FastAPI's test client on the
workbench's world, the draw made over the internal audit tests' published file."""

from __future__ import annotations

import re

import pytest

from pipelines.cases import internal_audit as ia
from pipelines.cases import register as reg
from pipelines.warehouse.session import connect
from tests.cases.test_internal_audit import FLAGGED_SOD, MONTH, PERSON, TODAY, make_world
from tests.web.conftest import World, csrf

FULL_ID = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")
MASKED_PERSON = PERSON[:6] + "********" + PERSON[-4:]


@pytest.fixture
def drawn(world: World, tmp_path) -> int:
    """A draw of October in the world's register, its sample holding the business of PERSON (B-A00)."""
    duck = connect(make_world(tmp_path / "audit.duckdb"), read_only=True)
    try:
        businesses = ia.population(duck, MONTH)
        flagged = ia.flagged_businesses(duck, (b.business_id for b in businesses))
        seed = next(
            s
            for s in range(1000)
            if "B-A00" in {p.business.business_id for p in ia.draw_sample(businesses, flagged, s, ia.RATE).picks}
        )
        with reg.writer(world.register) as con:
            return ia.draw(con, duck, MONTH, "chief", seed=seed, today=TODAY).draw_id
    finally:
        duck.close()


def trail(world: World) -> list[tuple[str, str, str]]:
    with reg.reader(world.register) as con:
        rows = con.execute("SELECT action, target, outcome FROM web_audit WHERE action = 'audit_result'").fetchall()
    return [tuple(r) for r in rows]


def test_a_chief_reads_the_draws_and_records_results_that_can_open_a_case(world: World, drawn: int):
    chief = world.login("chief")
    listing = chief.get("/internal-audit")
    assert listing.status_code == 200 and f'href="/internal-audit/{drawn}"' in listing.text and MONTH in listing.text
    assert 'href="/internal-audit"' in listing.text  # the nav
    page = chief.get(f"/internal-audit/{drawn}").text
    assert "B-A00" in page and MASKED_PERSON in page and not FULL_ID.search(page)
    assert "规则疑点" in page and "分层随机" in page and "SOD_BREACH:SP-sod" in page
    assert page.count('name="result" value="ok"') == 7  # a form per sampled business

    token = csrf(page)
    done = chief.post(f"/internal-audit/{drawn}/result", data={"csrf": token, "business_id": "B-A00", "result": "ok"})
    assert done.status_code == 303 and done.headers["location"] == f"/internal-audit/{drawn}"
    missing = chief.post(
        f"/internal-audit/{drawn}/result", data={"csrf": token, "business_id": FLAGGED_SOD, "result": "problem"}
    )
    assert missing.status_code == 400 and "finding" in missing.text
    opened = chief.post(
        f"/internal-audit/{drawn}/result",
        data={
            "csrf": token,
            "business_id": FLAGGED_SOD,
            "result": "problem",
            "finding": f"未经复核即支付 {PERSON}",
            "open_case": "1",
        },
    )
    assert opened.status_code == 303
    case = world.case(ia.case_id_for(FLAGGED_SOD))
    assert case["rule"] == "AUDIT_FINDING" and case["status"] == "open"
    page = chief.get(f"/internal-audit/{drawn}").text
    assert "有问题 problem" in page and "无问题 ok" in page and f"/case/{case['suspect_id']}" in page
    assert MASKED_PERSON in page and not FULL_ID.search(page)  # the finding typed with an ID is shown masked
    case_page = chief.get(f"/case/{case['suspect_id']}").text
    assert "稽核发现问题 AUDIT_FINDING" in case_page
    # its evidence is the audit's conclusion, not a missing finding's rows; the finding's ID masked there too
    assert f"稽核抽样 draw {drawn}" in case_page and "no such finding" not in case_page
    assert not FULL_ID.search(case_page)
    with reg.reader(world.register) as con:
        rows = {r["business_id"]: r["result"] for r in ia.sample_rows(con, drawn)}
    assert rows["B-A00"] == "ok" and rows[FLAGGED_SOD] == "problem"
    assert trail(world) == [
        ("audit_result", f"audit_draw:{drawn}:B-A00", "ok"),
        ("audit_result", f"audit_draw:{drawn}:{FLAGGED_SOD}", "error"),
        ("audit_result", f"audit_draw:{drawn}:{FLAGGED_SOD}", "ok"),
    ]
    with reg.reader(world.register) as con:
        details = [r[0] for r in con.execute("SELECT detail FROM web_audit WHERE action = 'audit_result'")]
    assert not any(FULL_ID.search(d or "") for d in details)


def test_an_auditor_reads_only_and_others_see_nothing(world: World, drawn: int):
    auditor = world.login("AUD")
    page = auditor.get(f"/internal-audit/{drawn}")
    assert page.status_code == 200 and "B-A00" in page.text and 'name="result"' not in page.text
    refused = auditor.post(
        f"/internal-audit/{drawn}/result", data={"csrf": csrf(page.text), "business_id": "B-A00", "result": "ok"}
    )
    assert refused.status_code == 403
    with reg.reader(world.register) as con:
        assert all(r["result"] is None for r in ia.sample_rows(con, drawn))
    for who, home in (("V01", "/queue"), ("ADM", "/staff")):
        client = world.login(who)
        assert client.get("/internal-audit").status_code == 403
        assert client.get(f"/internal-audit/{drawn}").status_code == 403
        assert 'href="/internal-audit"' not in client.get(home).text
    chief = world.login("chief")
    assert chief.get("/internal-audit/999").status_code == 404
    assert chief.get("/internal-audit/abc").status_code == 404
    no_token = chief.post(f"/internal-audit/{drawn}/result", data={"business_id": "B-A00", "result": "ok"})
    assert no_token.status_code == 403


def test_a_withdrawn_draw_takes_no_result(world: World, drawn: int):
    chief = world.login("chief")
    token = csrf(chief.get(f"/internal-audit/{drawn}").text)
    with reg.writer(world.register) as con:
        ia.withdraw(con, "chief", drawn, "数据未到齐")
    page = chief.get(f"/internal-audit/{drawn}").text
    assert "已撤销 withdrawn" in page and "数据未到齐" in page and 'name="result"' not in page
    refused = chief.post(
        f"/internal-audit/{drawn}/result", data={"csrf": token, "business_id": "B-A00", "result": "ok"}
    )
    assert refused.status_code == 400 and "withdrawn" in refused.text


def test_a_chief_draws_a_month_on_the_page(world: World, tmp_path):
    """The page's draw is `fundwatch audit draw`'s: recorded with its seed (verifiable), a second draw of the month
    refused naming the first, an auditor refused, every attempt in the trail."""
    import dataclasses

    audit_db = make_world(tmp_path / "audit.duckdb")
    here = World(audit_db, world.clock, dataclasses.replace(world.config, db=audit_db))
    chief = here.login("chief")
    page = chief.get("/internal-audit")
    assert 'action="/internal-audit/draw"' in page.text
    done = chief.post("/internal-audit/draw", data={"csrf": csrf(page.text), "month": MONTH})
    assert done.status_code == 303, done.text
    draw_id = int(done.headers["location"].rsplit("/", 1)[1])
    duck = connect(audit_db, read_only=True)
    try:
        with reg.reader(world.register) as con:
            assert ia.verify_draw(con, duck, draw_id).proven
    finally:
        duck.close()
    again = chief.post("/internal-audit/draw", data={"csrf": csrf(page.text), "month": MONTH})
    assert again.status_code == 400 and f"{draw_id}" in again.text
    auditor = here.login("AUD")
    listed = auditor.get("/internal-audit")
    assert 'action="/internal-audit/draw"' not in listed.text
    assert auditor.post("/internal-audit/draw", data={"csrf": csrf(listed.text), "month": MONTH}).status_code == 403
    with reg.reader(world.register) as con:
        outcomes = [r[0] for r in con.execute("SELECT outcome FROM web_audit WHERE action = 'audit_draw'")]
    assert outcomes == ["ok", "error"]
