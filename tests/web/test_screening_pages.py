"""The screening pages (事前筛查, issue 15 item 4): the latest screenings, one screening's held rows filtered by
reason and by decision (masked), and adjudication (核实认定) per role — a verifier decides the pending rows of their
regions only, a chief any row, an auditor reads, an admin sees nothing. Every decision and refusal is in
`web_audit`. Through FastAPI's test client on the workbench's world, the batch screened through POST /api/screen;
then the whole walk in Chromium on a real server (tests/web/browser.py), with screenshots.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pipelines.cases import register as reg
from tests.web.browser import Browser, chromium
from tests.web.conftest import DEAD, PASSWORD, World, csrf, screen_batch
from tests.web.serving import workbench

ROOT = Path(__file__).resolve().parents[2]
FULL_ID = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")
HELD_LINE = re.compile(r'<tr class="(pending|proper|improper)">\s*<td class="num">(\d+)</td>')
ADJUDICATE_FORM = re.compile(
    r'<form method="post" action="/screening/\d+/adjudicate".*?name="line" value="(\d+)"', re.S
)
MASKED_DEAD = DEAD[:6] + "********" + DEAD[-4:]


def held_lines(page: str) -> list[int]:
    return [int(line) for _, line in HELD_LINE.findall(page)]


def form_lines(page: str) -> list[int]:
    return [int(line) for line in ADJUDICATE_FORM.findall(page)]


def decisions(world: World, screening_id: int) -> dict[int, tuple[str, str]]:
    with reg.reader(world.register) as con:
        rows = con.execute(
            "SELECT line, decision, decided_by FROM screening_hold_status WHERE screening_id = ?", [screening_id]
        )
        return {r[0]: (r[1], r[2]) for r in rows}


def audit(world: World, action: str) -> list[dict]:
    with reg.reader(world.register) as con:
        rows = con.execute("SELECT * FROM web_audit WHERE action = ? ORDER BY audit_id", [action]).fetchall()
    return [dict(r) for r in rows]


def decide(client, screening_id: int, line: int, decision: str, reason: str = "核实无误 checked", **more):
    token = csrf(client.get(f"/screening/{screening_id}").text)
    form = {"csrf": token, "line": str(line), "decision": decision, "reason": reason, **more}
    return client.post(f"/screening/{screening_id}/adjudicate", data=form)


@pytest.fixture
def screened(world: World) -> tuple[World, int]:
    return world, screen_batch(world)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/screenings"),
        ("GET", "/screening/1"),
        ("GET", "/screening/abc"),
        ("POST", "/screening/1/adjudicate"),
        ("GET", "/blacklist"),
        ("POST", "/blacklist/add"),
        ("POST", "/blacklist/1/remove"),
        ("POST", "/case/SP-x/blacklist"),
    ],
)
def test_the_new_pages_require_a_session(world: World, method: str, path: str):
    answer = world.client().request(method, path, data={"csrf": "x"} if method == "POST" else None)
    assert answer.status_code == 303 and answer.headers["location"] == "/login"


def test_the_list_of_screenings_per_role(screened):
    world, sid = screened
    page = world.login("chief").get("/screenings")
    assert page.status_code == 200
    assert f'href="/screening/{sid}"' in page.text and "token:paysys" in page.text and "接口 api" in page.text
    row = re.search(rf"#{sid}</a></td>(.*?)</tr>", page.text, re.S).group(1)
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row)
    assert cells[-6:] == ["4", "3", "2,469.12", "3", "0", "0"]  # rows, held, held amount, pending, released, stopped
    mine = world.login("V01").get("/screenings").text  # a verifier of 330100: one held row of theirs, pending
    assert "1 / 1" in mine
    assert world.login("V99").get("/screenings").status_code == 200
    assert world.login("AUD").get("/screenings").status_code == 200
    assert world.login("ADM").get("/screenings").status_code == 403


def test_held_rows_are_masked_and_filtered_by_reason_and_decision(screened):
    world, sid = screened
    client = world.login("chief")
    page = client.get(f"/screening/{sid}").text
    assert held_lines(page) == [2, 3, 4]
    assert not FULL_ID.search(page) and DEAD not in page and MASKED_DEAD in page
    assert "*" * 14 + "00002" not in page and "***************0002" in page  # the account: its last 4 digits only
    assert "已死亡 DECEASED" in page and "数据无效 INVALID" in page and "死亡" in page
    assert held_lines(client.get(f"/screening/{sid}?reason=INVALID").text) == [4]
    assert held_lines(client.get(f"/screening/{sid}?reason=DECEASED").text) == [2, 3]
    assert held_lines(client.get(f"/screening/{sid}?reason={DEAD}").text) == [2, 3, 4]  # not a code: no filter
    assert held_lines(client.get(f"/screening/{sid}?decision=proper").text) == []
    assert decide(client, sid, 2, "proper").status_code == 303
    assert held_lines(client.get(f"/screening/{sid}?decision=proper").text) == [2]
    assert held_lines(client.get(f"/screening/{sid}?decision=pending&reason=DECEASED").text) == [3]
    assert client.get("/screening/999").status_code == 404
    assert client.get("/screening/abc").status_code == 404 and client.get("/screening/²").status_code == 404
    # no link or form of the pages carries an ID
    for url in ("/screenings", f"/screening/{sid}"):
        links = re.findall(r'(?:href|action)="([^"]*)"', client.get(url).text)
        assert links and not any(FULL_ID.search(u) for u in links)


def test_a_verifier_sees_and_decides_the_held_rows_of_their_regions_only(screened):
    world, sid = screened
    v01 = world.login("V01")  # 330100
    page = v01.get(f"/screening/{sid}").text
    assert held_lines(page) == [2] and form_lines(page) == [2]
    assert held_lines(world.login("V99").get(f"/screening/{sid}").text) == [3]  # 330200
    # another region's row, and the INVALID row without a region, are refused by the register; recorded
    for line in (3, 4):
        refused = decide(v01, sid, line, "improper")
        assert refused.status_code == 403 and "不负责统筹区" in refused.text
    assert decisions(world, sid) == {2: ("pending", None), 3: ("pending", None), 4: ("pending", None)}
    refusals = audit(world, "adjudicate")
    assert [(r["actor"], r["target"], r["outcome"]) for r in refusals] == [
        ("V01", f"screening:{sid}:3", "refused"),
        ("V01", f"screening:{sid}:4", "refused"),
    ]
    # their own row: decided, recorded; deciding it again is a chief's
    assert decide(v01, sid, 2, "proper", "已核实健在 alive").status_code == 303
    assert decisions(world, sid)[2] == ("proper", "V01")
    again = decide(v01, sid, 2, "improper")
    assert again.status_code == 403 and "只有科长可以更改" in again.text
    assert form_lines(v01.get(f"/screening/{sid}").text) == []
    chief = world.login("chief")
    assert decide(chief, sid, 2, "improper", "复核：已死亡 dead after all").status_code == 303
    assert decide(chief, sid, 4, "improper", "号码无效 invalid ID").status_code == 303
    assert decisions(world, sid) == {2: ("improper", "chief"), 3: ("pending", None), 4: ("improper", "chief")}
    done = [(r["actor"], r["target"], r["outcome"]) for r in audit(world, "adjudicate")][2:]
    assert done == [
        ("V01", f"screening:{sid}:2", "ok"),
        ("V01", f"screening:{sid}:2", "refused"),
        ("chief", f"screening:{sid}:2", "ok"),
        ("chief", f"screening:{sid}:4", "ok"),
    ]
    # the decision and its reason are on the page, with who decided
    shown = chief.get(f"/screening/{sid}?decision=improper").text
    assert held_lines(shown) == [2, 4] and "复核：已死亡 dead after all" in shown and "chief" in shown


def test_an_auditor_has_no_form_and_a_post_is_refused(screened):
    world, sid = screened
    auditor = world.login("AUD")
    page = auditor.get(f"/screening/{sid}").text
    assert held_lines(page) == [2, 3, 4] and form_lines(page) == []
    token = csrf(page)
    sent = auditor.post(
        f"/screening/{sid}/adjudicate", data={"csrf": token, "line": "2", "decision": "proper", "reason": "x"}
    )
    assert sent.status_code == 403
    assert decisions(world, sid)[2] == ("pending", None)
    refused = audit(world, "refused")
    assert refused[-1]["actor"] == "AUD" and refused[-1]["target"] == f"/screening/{sid}/adjudicate"
    assert world.login("ADM").get(f"/screening/{sid}").status_code == 403


def test_a_decision_needs_a_reason_and_the_form_its_csrf_token(screened):
    world, sid = screened
    chief = world.login("chief")
    missing = decide(chief, sid, 2, "proper", reason="  ")
    assert missing.status_code == 400 and "须说明理由" in missing.text
    assert decide(chief, sid, 2, "maybe").status_code == 400
    assert decide(chief, sid, 99, "proper").status_code == 400
    forged = chief.post(f"/screening/{sid}/adjudicate", data={"line": "2", "decision": "proper", "reason": "x"})
    assert forged.status_code == 403
    assert decisions(world, sid)[2] == ("pending", None)
    assert [r["outcome"] for r in audit(world, "adjudicate")] == ["error", "error", "error"]
    assert audit(world, "csrf")[-1]["target"] == f"/screening/{sid}/adjudicate"


def test_the_filters_are_kept_after_a_decision(screened):
    world, sid = screened
    chief = world.login("chief")
    sent = decide(chief, sid, 3, "proper", back_reason="DECEASED", back_decision="pending", back_page="1")
    assert sent.status_code == 303 and sent.headers["location"] == f"/screening/{sid}?reason=DECEASED&decision=pending"
    sent = decide(chief, sid, 2, "proper", back_reason="<x>", back_decision="all", back_page="2")
    assert sent.headers["location"] == f"/screening/{sid}?page=2"


# ---- in a real browser --------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_a_chief_and_a_verifier_work_a_screening_in_chromium(tmp_path, world: World):
    sid = screen_batch(world)
    log = tmp_path / "server.log"
    with workbench(world.db, log) as base:
        with chromium(base, tmp_path / "shots", tmp_path / "downloads", tmp_path / "chromedriver.log") as b:
            walk(b, sid)
            assert not b.foreign_requests()
    assert decisions(world, sid) == {2: ("proper", "V01"), 3: ("pending", None), 4: ("improper", "chief")}
    said = log.read_text()
    assert f"GET /screening/{sid} 200" in said and f"POST /screening/{sid}/adjudicate 303" in said
    assert not FULL_ID.search(said)


def log_in(b: Browser, staff_id: str) -> None:
    b.go("/login")
    b.submit("form.login", {"staff_id": staff_id, "password": PASSWORD})
    assert b.text("header .me").startswith(staff_id)


def walk(b: Browser, sid: int) -> None:
    log_in(b, "V01")
    b.follow("事前筛查 screening")
    assert b.path == "/screenings" and f"#{sid}" in b.text("table.screenings")
    b.shot("screenings")
    b.follow(f"#{sid}")
    assert b.path == f"/screening/{sid}"
    assert [r.text for r in b.find_all("table.holds tbody td:first-child")] == ["2"]
    b.submit("form.adjudicate", {"decision": "proper", "reason": "已核实健在 verified alive"})
    assert "已认定 decided" in b.text("p.flash") and not b.find_all("form.adjudicate")
    b.submit("header form[action='/logout']")
    log_in(b, "chief")
    b.go(f"/screening/{sid}")
    b.follow("数据无效 INVALID (1)")
    assert "reason=INVALID" in b.url
    assert [r.text for r in b.find_all("table.holds tbody td:first-child")] == ["4"]
    b.submit("form.adjudicate", {"decision": "improper", "reason": "号码无效，不予发放 invalid ID"})
    assert "reason=INVALID" in b.url and "不予发放" in b.text("table.holds")
    b.go(f"/screening/{sid}")
    assert not FULL_ID.search(b.text())
    b.shot("screening")
