"""The blacklist page (黑名单, issue 15 item 5) and a confirmed case's offer for it: every entry, in force and removed,
its key masked; a chief adds (kind, key, reason) and removes (a reason required, the entry kept); verifiers and
auditors read, admins see nothing; a verifier's POST is refused. A confirmed case offers its person and accounts,
one click each, the case as the source, the candidate named by its index (never its key). Every POST is in
`web_audit`, a person named by their reference, never by the ID. Through FastAPI's test client on the workbench's
world; the add-from-a-case walk in Chromium on a real server.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from pipelines.cases import blacklist
from pipelines.cases import register as reg
from pipelines.web import trail
from tests.cases.test_evidence import ACCOUNT_OF
from tests.web.browser import chromium
from tests.web.conftest import DEAD, PASSWORD, World, batch_payment, csrf, screen_batch
from tests.web.serving import workbench

ROOT = Path(__file__).resolve().parents[2]
FULL_ID = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")
LINK = re.compile(r'(?:href|action)="([^"]*)"')
MASKED_DEAD = DEAD[:6] + "********" + DEAD[-4:]
DEAD_ACCOUNT = ACCOUNT_OF[DEAD]
OFFER = re.compile(
    r'name="candidate" value="(\d+)">\s*<strong>(.*?)</strong>\s*<label>理由 reason <input[^>]*value="([^"]*)"'
)


def entries(world: World) -> list[dict]:
    with reg.reader(world.register) as con:
        return blacklist.entries(con)


def audit(world: World, *actions: str) -> list[dict]:
    with reg.reader(world.register) as con:
        rows = con.execute("SELECT * FROM web_audit ORDER BY audit_id").fetchall()
    return [dict(r) for r in rows if r["action"] in actions]


def post(client, url: str, page_url: str, **data):
    token = csrf(client.get(page_url).text)
    return client.post(url, data={"csrf": token, **data})


def add(client, kind: str, key: str, reason: str = "骗取待遇 fraud"):
    return post(client, "/blacklist/add", "/blacklist", kind=kind, key=key, reason=reason)


def confirm(world: World, sid: str) -> None:
    """The case assigned to V01 and confirmed as a violation (确认违规), as the case pages would do it."""
    today = world.config.today()
    with reg.writer(world.register) as con:
        reg.assign(con, sid, assignee="V01", by="chief", on=today, today=today)
        reg.verify(con, sid, by="V01", on=today, today=today)


def test_a_chief_adds_and_removes_entries_which_stay_on_record(world: World):
    chief = world.login("chief")
    assert "名单为空" in chief.get("/blacklist").text
    assert add(chief, "person", DEAD.lower()[:-1] + DEAD[-1].lower()).status_code == 303
    assert add(chief, "account", DEAD_ACCOUNT, "多人共用 shared").status_code == 303
    listed = entries(world)
    assert [(e["kind"], e["key"], e["added_by"], e["in_force"]) for e in listed] == [
        ("person", DEAD, "chief", True),
        ("account", DEAD_ACCOUNT, "chief", True),
    ]
    page = chief.get("/blacklist").text
    assert MASKED_DEAD in page and "***************1111" in page
    assert not FULL_ID.search(page) and DEAD_ACCOUNT not in page
    assert page.count('class="remove"') == 2

    # a removal needs a reason; the entry stays, marked removed, with who, when and why
    person_entry, account_entry = listed[0]["entry_id"], listed[1]["entry_id"]
    missing = post(chief, f"/blacklist/{person_entry}/remove", "/blacklist", reason=" ")
    assert missing.status_code == 400 and "须说明理由" in missing.text
    assert entries(world)[0]["in_force"]
    done = post(chief, f"/blacklist/{person_entry}/remove", "/blacklist", reason="误列 listed in error")
    assert done.status_code == 303
    again = post(chief, f"/blacklist/{person_entry}/remove", "/blacklist", reason="again")
    assert again.status_code == 400 and "already removed" in again.text
    # listed again: a new entry; the history keeps both
    assert add(chief, "person", DEAD, "复核确认 confirmed on review").status_code == 303
    listed = entries(world)
    new_entry = listed[-1]["entry_id"]
    assert [(e["entry_id"], e["kind"], e["in_force"], e["removal_reason"]) for e in listed] == [
        (person_entry, "person", False, "误列 listed in error"),
        (account_entry, "account", True, None),
        (new_entry, "person", True, None),
    ]
    assert new_entry > account_entry
    page = chief.get("/blacklist").text
    assert page.count("已移出 removed") == 1 and "误列 listed in error" in page and page.count(MASKED_DEAD) == 2
    assert "在册 in force: 2" in page and "共 3 条" in page
    duplicate = add(chief, "person", DEAD)
    assert duplicate.status_code == 400 and "已在黑名单中" in duplicate.text and not FULL_ID.search(duplicate.text)
    bad = add(chief, "person", "330102195001010010")  # a wrong check digit
    assert bad.status_code == 400 and "校验位" in bad.text and "330102195001010010" not in bad.text

    # the trail names the person by their reference, never by the ID
    with reg.reader(world.register) as con:
        ref = trail.person_ref(con, DEAD)
    rows = audit(world, "blacklist_add", "blacklist_remove")
    assert [(r["action"], r["target"], r["outcome"]) for r in rows] == [
        ("blacklist_add", ref, "ok"),
        ("blacklist_add", f"blacklist:{account_entry}", "ok"),
        ("blacklist_remove", f"blacklist:{person_entry}", "error"),
        ("blacklist_remove", ref, "ok"),
        ("blacklist_remove", f"blacklist:{person_entry}", "error"),
        ("blacklist_add", ref, "ok"),
        ("blacklist_add", "blacklist", "error"),
        ("blacklist_add", "blacklist", "error"),
    ]
    assert not any(FULL_ID.search(json.dumps(r, ensure_ascii=False)) for r in rows)
    assert DEAD_ACCOUNT not in json.dumps(rows)


@pytest.mark.parametrize("role", ["verifier", "auditor"])
def test_verifiers_and_auditors_read_and_a_post_of_theirs_is_refused(world: World, role: str):
    chief = world.login("chief")
    assert add(chief, "person", DEAD).status_code == 303
    entry = entries(world)[0]["entry_id"]
    staff_id = {"verifier": "V01", "auditor": "AUD"}[role]
    reader = world.login(staff_id)
    page = reader.get("/blacklist")
    assert page.status_code == 200 and MASKED_DEAD in page.text
    assert "blacklist-add" not in page.text and 'class="remove"' not in page.text
    assert add(reader, "account", DEAD_ACCOUNT).status_code == 403
    assert post(reader, f"/blacklist/{entry}/remove", "/blacklist", reason="x").status_code == 403
    assert [(e["kind"], e["in_force"]) for e in entries(world)] == [("person", True)]
    refused = [r for r in audit(world, "refused") if r["actor"] == staff_id]
    assert [r["target"] for r in refused] == ["/blacklist/add", f"/blacklist/{entry}/remove"]
    assert world.login("ADM").get("/blacklist").status_code == 403


def test_a_confirmed_case_offers_its_person_and_accounts_one_click_each(world: World):
    sid = world.sid("DECEASED_PAID")
    chief = world.login("chief")
    assert "blacklist-offers" not in chief.get(f"/case/{sid}").text  # not confirmed yet
    early = post(chief, f"/case/{sid}/blacklist", f"/case/{sid}", candidate="0", reason="x")
    assert early.status_code == 400 and "尚未确认违规" in early.text
    confirm(world, sid)
    page = chief.get(f"/case/{sid}").text
    offers = OFFER.findall(page)
    assert [(i, label) for i, label, _ in offers] == [
        ("0", f"人员 person {MASKED_DEAD}"),
        ("1", "银行账号 account ***************1111"),
    ]
    assert all(reason == f"死亡后继续领取 DECEASED_PAID（案件 {sid}）" for _, _, reason in offers)
    assert not any(FULL_ID.search(u) or DEAD_ACCOUNT in u for u in LINK.findall(page))
    assert DEAD_ACCOUNT not in page.split('class="blacklist-offers"')[1].split("</section>")[0]

    bad = post(chief, f"/case/{sid}/blacklist", f"/case/{sid}", candidate="7", reason="x")
    assert bad.status_code == 400 and "请选择" in bad.text
    done = post(chief, f"/case/{sid}/blacklist", f"/case/{sid}", candidate="1", reason="死亡后仍领取，账号冻结")
    assert done.status_code == 303 and done.headers["location"] == f"/case/{sid}"
    assert [(e["kind"], e["key"], e["source_suspect_id"], e["reason"]) for e in entries(world)] == [
        ("account", DEAD_ACCOUNT, sid, "死亡后仍领取，账号冻结")
    ]
    after = chief.get(f"/case/{sid}").text
    assert "已列入黑名单" in after and "已在黑名单 already listed" in after
    assert [i for i, _, _ in OFFER.findall(after)] == ["0"]
    rows = audit(world, "blacklist_add")
    assert [(r["target"], r["outcome"]) for r in rows] == [(sid, "error"), (sid, "error"), (sid, "ok")]
    assert "***************1111" in rows[-1]["detail"] and DEAD_ACCOUNT not in rows[-1]["detail"]
    # the blacklist page links the entry to its case
    assert f'href="/case/{sid}"' in chief.get("/blacklist").text

    # the verifier of the case sees no offer and may not send one; nor may an auditor
    verifier = world.login("V01")
    assert "blacklist-offers" not in verifier.get(f"/case/{sid}").text
    assert post(verifier, f"/case/{sid}/blacklist", f"/case/{sid}", candidate="0", reason="x").status_code == 403
    assert (
        post(world.login("AUD"), f"/case/{sid}/blacklist", f"/case/{sid}", candidate="0", reason="x").status_code == 403
    )
    assert len(entries(world)) == 1


def test_a_blacklisted_person_is_held_by_the_service(world: World):
    chief = world.login("chief")
    assert add(chief, "person", DEAD).status_code == 303
    sid = screen_batch(world, [batch_payment(1, DEAD, "funeral", "110")])  # a funeral grant: not DECEASED
    with reg.reader(world.register) as con:
        held = con.execute("SELECT reasons FROM screening_holds WHERE screening_id = ?", [sid]).fetchall()
    assert [r[0] for r in held] == ["BLACKLISTED"]


# ---- in a real browser --------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_a_chief_lists_a_confirmed_cases_person_in_chromium(tmp_path, world: World):
    sid = world.sid("DECEASED_PAID")
    confirm(world, sid)
    log = tmp_path / "server.log"
    with workbench(world.db, log) as base:
        with chromium(base, tmp_path / "shots", tmp_path / "downloads", tmp_path / "chromedriver.log") as b:
            b.go("/login")
            b.submit("form.login", {"staff_id": "chief", "password": PASSWORD})
            b.go(f"/case/{sid}")
            offers = b.find_all("section.blacklist-offers form.offer")
            assert len(offers) == 2 and MASKED_DEAD in offers[0].text
            b.shot("case-offers")
            b.submit("section.blacklist-offers form.offer", {"reason": "死亡后冒领 paid after death"})
            assert b.path == f"/case/{sid}" and "已列入黑名单" in b.text("p.flash")
            b.follow("黑名单 blacklist")
            rows = b.find_all("table.blacklist tbody tr")
            assert len(rows) == 1 and MASKED_DEAD in rows[0].text and sid in rows[0].text
            b.submit("form.blacklist-add", {"kind": "account", "key": DEAD_ACCOUNT, "reason": "冒领账户"})
            b.submit("form.remove", {"reason": "账户已销户 closed"})
            assert "已移出" in b.text("table.blacklist") and not FULL_ID.search(b.text())
            b.shot("blacklist")
            assert not b.foreign_requests()
    assert [(e["kind"], e["in_force"], e["source_suspect_id"]) for e in entries(world)] == [
        ("person", True, sid),
        ("account", False, None),
    ]
    assert not FULL_ID.search(log.read_text()) and DEAD_ACCOUNT not in log.read_text()
