"""The analysts' workbench (issue 13) through FastAPI's test client: sessions, roles on every route, CSRF, masking
and escaping, the case cycle through POSTs, and the hash-chained audit trail."""

from __future__ import annotations

import logging
import re
import sqlite3
from decimal import Decimal

import pytest

from pipelines.cases import audit
from pipelines.cases import register as reg
from pipelines.web import casepages, trail
from tests.web.conftest import DEAD, EVIL_NAME, PASSWORD, ROLES, SCRIPT, World, csrf

FULL_ID = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")
LINK = re.compile(r'(?:href|action)="([^"]*)"')


def audit_rows(world: World, action: str | None = None) -> list[dict]:
    with reg.reader(world.register) as con:
        rows = con.execute("SELECT * FROM web_audit ORDER BY audit_id").fetchall()
    return [dict(r) for r in rows if action is None or r["action"] == action]


def post(client, url: str, page_url: str, **data):
    """A POST of a form, with the CSRF token of the page it is on."""
    token = csrf(client.get(page_url).text)
    return client.post(url, data={"csrf": token, **data})


# ---- sessions --------------------------------------------------------------------------------------------


ROUTES = [
    ("GET", "/"),
    ("GET", "/queue"),
    ("POST", "/queue"),
    ("GET", "/overview"),
    ("GET", "/audit"),
    ("GET", "/staff"),
    ("GET", "/reports"),
    ("POST", "/reports/monthly"),
    ("GET", "/quality"),
    ("GET", "/person"),
    ("POST", "/person"),
    ("GET", "/case/{sid}"),
    ("POST", "/case/{sid}/reveal"),
    ("POST", "/case/{sid}/act/assign"),
    ("POST", "/logout"),
]


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_every_page_but_the_login_requires_a_session(world, method, path):
    client = world.client()
    url = path.format(sid=world.sid("DECEASED_PAID"))
    response = client.request(method, url, data={"csrf": "x"} if method == "POST" else None)
    assert response.status_code == 303 and response.headers["location"] == "/login"
    assert client.get("/login").status_code == 200
    assert client.get("/static/style.css").status_code == 200


# role -> route -> expected status (the case is DECEASED_PAID of region 330100; V01 works 330100)
PAGES = ("/queue", "/overview", "/audit", "/staff", "/reports", "/quality", "/person")
MATRIX = {
    "chief": dict(zip(PAGES, (200, 200, 200, 403, 200, 200, 200), strict=True), case=200, reveal=200, act=303),
    "verifier": dict(zip(PAGES, (200, 200, 403, 403, 403, 403, 200), strict=True), case=200, reveal=200, act=403),
    "auditor": dict(zip(PAGES, (200, 200, 200, 403, 200, 200, 200), strict=True), case=200, reveal=200, act=403),
    "admin": dict(zip(PAGES, (403, 403, 403, 200, 403, 403, 403), strict=True), case=403, reveal=403, act=403),
}


@pytest.mark.parametrize("role", sorted(MATRIX))
def test_every_route_for_every_role(world, role):
    client = world.login(ROLES[role])
    sid = world.sid("DECEASED_PAID")
    expected = MATRIX[role]
    home = client.get("/")
    assert home.status_code == 303 and home.headers["location"] == ("/staff" if role == "admin" else "/queue")
    for path in PAGES:
        assert client.get(path).status_code == expected[path], (role, path)
    assert client.get(f"/case/{sid}").status_code == expected["case"]
    token = csrf(client.get("/staff" if role == "admin" else "/queue").text)
    reveal = client.post(f"/case/{sid}/reveal", data={"csrf": token, "reason": "核对身份 check identity"})
    assert reveal.status_code == expected["reveal"]
    # assign: only a chief; a verifier's refusal comes from the register (shown as a message), others' from the role
    act = client.post(f"/case/{sid}/act/assign", data={"csrf": token, "assignee": "V01", "on": "2026-01-15"})
    assert act.status_code == expected["act"], act.text[:300]
    assert world.case(sid)["status"] == ("under_verification" if role == "chief" else "open")
    if role in ("auditor", "admin"):
        assert [r["outcome"] for r in audit_rows(world, "refused")][-1] == "refused"
    if role == "verifier":
        assert "只有科长" in act.text  # the register's NotAllowed, said on the page


def test_a_wrong_password_is_refused_and_five_in_a_row_lock_the_account_for_15_minutes(world):
    client = world.client()
    for _ in range(5):
        assert world.try_login(client, "V01", "wrong password!").status_code == 401
    locked = world.try_login(client, "V01", PASSWORD)
    assert locked.status_code == 429 and "锁定" in locked.text
    assert [r["outcome"] for r in audit_rows(world, "login")] == ["failed"] * 5 + ["locked"]
    world.clock.advance(minutes=14)
    assert world.try_login(client, "V01", PASSWORD).status_code == 429
    world.clock.advance(minutes=2)
    assert world.try_login(client, "V01", PASSWORD).status_code == 303
    assert world.try_login(world.client(), "nobody", PASSWORD).status_code == 401
    assert audit_rows(world, "login")[-1]["actor"] == "-"


def test_logout_ends_the_session_also_for_a_copy_of_its_cookie(world):
    client = world.login("chief")
    stolen = dict(client.cookies)
    assert post(client, "/logout", "/queue").headers["location"] == "/login"
    assert client.get("/queue").status_code == 303
    thief = world.client()
    thief.cookies.update(stolen)
    assert thief.get("/queue").status_code == 303
    (logout,) = audit_rows(world, "logout")
    assert logout["actor"] == "chief" and logout["session_ref"] == audit_rows(world, "login")[-1]["session_ref"]


def test_an_idle_session_expires_and_a_busy_one_does_not(world):
    client = world.login("chief")
    for _ in range(3):
        world.clock.advance(minutes=29)
        assert client.get("/queue").status_code == 200
    world.clock.advance(minutes=31)
    response = client.get("/queue")
    assert response.status_code == 303 and response.headers["location"] == "/login"
    assert audit_rows(world, "session_end")[-1]["actor"] == "chief"


def test_a_password_reset_or_a_disabled_account_ends_the_session(world):
    from pipelines.cases import staff
    from pipelines.web import accounts

    client = world.login("V01")
    with reg.writer(world.register) as con, reg.write_transaction(con):
        accounts.set_password(con, "V01", "another password 7", by="ADM", at="2026-01-15T10:05:00+08:00")
    assert client.get("/queue").status_code == 303
    client = world.login("V02")
    with reg.writer(world.register) as con, reg.write_transaction(con):
        staff.disable(con, "V02", by_user="adm-user", at="2026-01-15T10:06:00+08:00", reason="调岗")
    assert client.get("/queue").status_code == 303
    assert world.try_login(world.client(), "V02", PASSWORD).status_code == 401


def test_a_forged_or_missing_csrf_token_is_refused(world):
    sid = world.sid("DECEASED_PAID")
    client = world.login("chief")
    for data in ({"csrf": "forged-token"}, {}):
        response = client.post(f"/case/{sid}/act/assign", data={**data, "assignee": "V01"})
        assert response.status_code == 403
    assert world.case(sid)["status"] == "open"
    assert client.post("/logout", data={"csrf": "forged"}).status_code == 403
    assert client.get("/queue").status_code == 200  # still logged in
    # another session's token does not work either
    other = world.login("chief")
    token = csrf(other.get("/queue").text)
    assert client.post(f"/case/{sid}/act/assign", data={"csrf": token, "assignee": "V01"}).status_code == 403
    # the login form has its own token
    fresh = world.client()
    fresh.get("/login")
    assert fresh.post("/login", data={"staff_id": "chief", "password": PASSWORD}).status_code == 403
    assert [r["outcome"] for r in audit_rows(world, "csrf")] == ["refused"] * 4


def test_a_verifier_asking_for_a_case_of_another_region_by_url_gets_nothing(world):
    other = world.sid("DUP_ENROLL")  # region 330106: not V01's
    client = world.login("V01")
    assert client.get(f"/case/{other}").status_code == 404
    token = csrf(client.get("/queue").text)
    assert client.post(f"/case/{other}/act/verify", data={"csrf": token}).status_code == 404
    assert client.post(f"/case/{other}/reveal", data={"csrf": token, "reason": "x"}).status_code == 404
    assert other not in client.get("/queue").text
    mine = world.sid("DECEASED_PAID")
    assert mine in client.get("/queue").text
    assert world.login("V99").get(f"/case/{mine}").status_code == 404  # a verifier of 330200
    assert world.login("chief").get(f"/case/{other}").status_code == 200
    assert world.login("chief").get("/case/SP-nonexistent").status_code == 404


def test_html_and_script_in_a_summary_or_a_name_are_rendered_escaped(world):
    sid = world.sid("DECEASED_PAID")
    client = world.login("chief")
    page = client.get(f"/case/{sid}").text
    assert "<script>alert" not in page and "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in page
    assert "<img src=x" not in page and "&lt;img src=x onerror=" in page
    assert EVIL_NAME not in page and SCRIPT not in client.get("/queue").text
    assert "Content-Security-Policy" in client.get(f"/case/{sid}").headers


def test_no_citizen_id_in_any_link_nor_in_the_log_lines_and_pages_are_masked(world, caplog):
    caplog.set_level(logging.INFO, logger="fundwatch.web")
    client = world.login("chief")
    pages = ["/queue", "/overview", "/audit"]
    seen = set()
    while pages:
        url = pages.pop()
        if url in seen:
            continue
        seen.add(url)
        html = client.get(url).text
        assert not FULL_ID.search(html), url  # masked by default
        for link in LINK.findall(html):
            assert not FULL_ID.search(link), link
            if link.startswith(("/case/", "/queue?")) and "/act/" not in link and "/reveal" not in link:
                pages.append(link.replace("&amp;", "&"))
    assert any(u.startswith("/case/") for u in seen)
    # the person filter finds a person's cases without the ID in the URL or the links
    found = post(client, "/queue", "/queue", person=DEAD)
    assert found.status_code == 200 and "共 4 件" in found.text  # DECEASED_PAID, 3 RECON_PAYMENT
    assert all(DEAD not in link for link in LINK.findall(found.text))
    assert client.get(f"/queue?person={DEAD}").text.count("SP-") > 5  # ignored in a URL: the whole queue
    # a reveal shows the ID, as the response of a POST (no URL carries it)
    sid = world.sid("DECEASED_PAID")
    revealed = post(client, f"/case/{sid}/reveal", f"/case/{sid}", reason="核对身份")
    assert DEAD in revealed.text and all(DEAD not in link for link in LINK.findall(revealed.text))
    lines = [r.getMessage() for r in caplog.records if r.name == "fundwatch.web"]
    assert len(lines) > 10 and not any(FULL_ID.search(line) for line in lines)
    assert any(line.startswith("GET /case/") and line.endswith("chief") for line in lines)


def test_a_reveal_needs_a_reason_and_is_recorded(world):
    sid = world.sid("DECEASED_PAID")
    client = world.login("AUD")
    refused = post(client, f"/case/{sid}/reveal", f"/case/{sid}", reason=" ")
    assert refused.status_code == 400 and DEAD not in refused.text and "理由" in refused.text
    shown = post(client, f"/case/{sid}/reveal", f"/case/{sid}", reason="审计抽查 audit sample")
    assert shown.status_code == 200 and DEAD in shown.text
    with reg.reader(world.register) as con:
        rows = [tuple(r) for r in con.execute("SELECT actor, action, target, reason FROM access_log")]
    assert rows == [("AUD", "web_show_unmasked", sid, "审计抽查 audit sample")]
    assert [r["outcome"] for r in audit_rows(world, "reveal")] == ["refused", "ok"]


# ---- the case cycle --------------------------------------------------------------------------------------


def test_assign_verify_partial_recovery_and_write_off_through_the_browser(world):
    sid = world.sid("DECEASED_PAID")
    page = f"/case/{sid}"
    chief, verifier = world.login("chief"), world.login("V01")
    assert "act/verify" not in verifier.get(page).text  # not theirs yet: no form

    done = post(chief, f"{page}/act/assign", page, assignee="V01", on="2026-01-15", reason="请核查")
    assert done.status_code == 303 and done.headers["location"] == page
    assert "已交办 assigned to V01" in chief.get(page).text  # the flash, once
    assert "已交办 assigned to V01" not in chief.get(page).text

    forms = verifier.get(page).text
    assert "act/verify" in forms and "act/dismiss" in forms and "act/assign" not in forms
    assert post(verifier, f"{page}/act/verify", page, on="2026-01-15").status_code == 303
    bad = post(verifier, f"{page}/act/rectify", page, on="2026-01-15", recovered="1.005")
    assert bad.status_code == 400 and "精确到分" in bad.text
    future = post(verifier, f"{page}/act/rectify", page, on="2026-02-01", recovered="100.00")
    assert future.status_code == 400 and "晚于今天" in future.text
    partial = post(verifier, f"{page}/act/rectify", page, on="2026-01-15", recovered="1,000.00", reason="退回")
    assert partial.status_code == 303
    case = world.case(sid)
    assert case["status"] == "partially_recovered" and Decimal(case["recovered_amount"]) == Decimal("1000.00")
    shown = chief.get(page).text
    assert "部分追回 partially_recovered" in shown and "待追回 outstanding: 1,469.12" in shown
    assert "act/write_off" not in verifier.get(page).text  # chief only
    assert post(chief, f"{page}/act/write_off", page, on="2026-01-15", reason="无法追回").status_code == 303
    case = world.case(sid)
    assert case["status"] == "rectified" and Decimal(case["written_off_amount"]) == Decimal("1469.12")
    with reg.reader(world.register) as con:
        steps = [(e["actor"], e["action"]) for e in reg.events(con, sid)][1:]
    assert steps == [("chief", "assign"), ("V01", "verify"), ("V01", "rectify"), ("chief", "write_off")]
    assert [r["outcome"] for r in audit_rows(world) if r["target"] == sid and r["action"] != "reveal"] == [
        "ok",
        "ok",
        "error",
        "error",
        "ok",
        "ok",
    ]
    timeline = chief.get(page).text
    assert "核销 write_off" in timeline and "已整改 rectified" in timeline


def test_the_register_s_refusals_are_shown_as_messages(world):
    sid = world.sid("DECEASED_PAID")
    page = f"/case/{sid}"
    chief = world.login("chief")
    post(chief, f"{page}/act/assign", page, assignee="V01", on="2026-01-15")
    other = world.login("V02")  # of the region, not the assignee
    refused = post(other, f"{page}/act/verify", page, on="2026-01-15")
    assert refused.status_code == 403 and "不是该案核查人" in refused.text
    wrong = post(chief, f"{page}/act/assign", page, assignee="V99", on="2026-01-15")
    assert wrong.status_code == 403 and "不负责统筹区" in wrong.text
    early = post(chief, f"{page}/act/reopen", page, reason="x")
    assert early.status_code == 400 and "案件未结" in early.text
    assert post(chief, f"{page}/act/explode", page).status_code == 404


# ---- the queue and the overview --------------------------------------------------------------------------


def test_the_queue_filters_sorts_and_pages(world, monkeypatch):
    monkeypatch.setattr(casepages, "PAGE_SIZE", 4)
    client = world.login("chief")
    everything = client.get("/queue").text
    assert "共 23 件" in everything and "第 1/6 页" in everything
    assert "下一页" in everything and "上一页" not in everything
    rule = client.get("/queue?rule=RECON_PAYMENT&sort=amount&dir=asc").text
    amounts = re.findall(r'<td class="num">([\d,]+\.\d\d)</td><td class="num">', rule)
    assert "共 8 件" in rule and amounts == ["900.00", "910.00", "920.00", "1,234.56"]
    assert "共 3 件" in client.get("/queue?min=100000").text
    assert "共 2 件" in client.get("/queue?region=330000").text
    assert "共 1 件" in client.get("/queue?min=100000&max=200000").text
    last = client.get("/queue?page=99").text
    assert "第 6/6 页" in last
    bad = client.get("/queue?min=abc").text
    assert "不是金额" in bad and "共 23 件" in bad
    open_ = client.get("/queue?status=open").text
    assert "共 23 件" in open_ and "共 0 件" in client.get("/queue?status=rectified").text
    v01 = world.login("V01").get("/queue").text
    assert "共 19 件" in v01  # the 330100 findings only


def test_the_overview_draws_bars_of_the_cases_one_may_see(world):
    chief = world.login("chief").get("/overview").text
    assert chief.count("<rect") >= 2 and "死亡后继续领取" in chief and "案件 cases <strong>23</strong>" in chief
    v01 = world.login("V01").get("/overview").text
    assert "案件 cases <strong>19</strong>" in v01 and "330106" not in v01


# ---- the audit trail -------------------------------------------------------------------------------------


def test_the_web_audit_trail_is_chained_and_an_edited_or_deleted_record_is_detected(world):
    world.login("chief")
    world.try_login(world.client(), "V01", "wrong password!")
    world.login("AUD").get("/staff")
    con = sqlite3.connect(world.register)
    try:
        assert trail.verify_trail(con).ok and trail.verify_trail(con).records == 4
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            con.execute("UPDATE web_audit SET outcome = 'ok' WHERE audit_id = 2")
        con.execute("DROP TRIGGER web_audit_no_update")
        con.execute("UPDATE web_audit SET outcome = 'ok' WHERE audit_id = 2")
        con.commit()
        broken = trail.verify_trail(con).broken
        assert broken is not None and (broken.audit_id, broken.kind) == (2, audit.EDITED)
        con.execute("UPDATE web_audit SET outcome = 'failed' WHERE audit_id = 2")
        con.commit()
        assert trail.verify_trail(con).ok
        con.execute("DROP TRIGGER web_audit_no_delete")
        con.execute("DELETE FROM web_audit WHERE audit_id = 4")
        con.commit()
        broken = trail.verify_trail(con).broken
        assert broken is not None and (broken.audit_id, broken.kind) == (4, audit.MISSING)
    finally:
        con.close()
    page = world.login("chief").get("/audit").text
    assert "记录被篡改" in page


def test_the_case_log_hash_is_unchanged_by_the_generalisation():
    fields = dict.fromkeys(audit.HASHED_FIELDS, "x")
    assert audit.event_hash(audit.GENESIS, fields) == audit.chain_hash(audit.FORMAT, audit.GENESIS, ["x"] * 8)
    assert audit.event_hash(audit.GENESIS, fields) == (
        __import__("hashlib")
        .sha256(('["fundwatch-case-event/1","' + "0" * 64 + '"' + ',"x"' * 8 + "]").encode())
        .hexdigest()
    )
