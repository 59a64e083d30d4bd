"""The 专项检查 pages (issue 16 item 2): a chief plans, the team records the process and findings linked to the
world's cases, the leader makes the report and signs, a chief records the leader in charge's signature; the DOCX is
downloaded from the register's folder (the inspection's number in the URL, never an ID) and carries the sign-off.
Auditors read, verifiers read the inspections whose team they are on (others: 404), admins nothing; every POST
needs the CSRF token and is in `web_audit`. The overview shows this year's halves. Through FastAPI's test client on
the workbench's world.
"""

from __future__ import annotations

import io
import re
from urllib.parse import quote

import docx

from pipelines.cases import inspections as ins
from pipelines.cases import register as reg
from pipelines.cases.reports.inspection_docx import SECTIONS
from tests.web.conftest import DEAD, World, csrf

FULL_ID = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")
MASKED_DEAD = DEAD[:6] + "********" + DEAD[-4:]
PLAN = {
    "title": "2026年上半年养老保险待遇发放",
    "scheme_110": "1",
    "scheme_170": "1",
    "regions": "330100",
    "place": "杭州市社会保险经办中心",
    "content": "死亡人员待遇停发",
    "method": "调阅档案、数据比对",
    "objects": "待遇支付科",
    "materials": "发放台账",
    "start": "2026-01-12",
    "end": "2026-01-23",
    "leader": "V01",
    "members": "V02",
    "leader_in_charge": "李明 副局长",
}


def post(client, url: str, page_url: str, **data):
    return client.post(url, data={"csrf": csrf(client.get(page_url).text), **data})


def audit(world: World) -> list[tuple[str, str, str, str]]:
    with reg.reader(world.register) as con:
        rows = con.execute("SELECT actor, action, target, outcome FROM web_audit ORDER BY audit_id").fetchall()
    return [tuple(r) for r in rows if r[1].startswith("inspection_")]


def planned(world: World) -> int:
    chief = world.login("chief")
    done = post(chief, "/inspections/plan", "/inspections", **PLAN)
    assert done.status_code == 303, done.text
    assert done.headers["location"] == "/inspection/1"
    return 1


def test_from_plan_to_a_signed_report_on_the_workbench(world: World):
    chief = world.login("chief")
    page = chief.get("/inspections").text
    assert "上半年" in page and "未开展" in page and 'action="/inspections/plan"' in page
    # a plan missing a scheme is refused, the form kept
    missing = post(chief, "/inspections/plan", "/inspections", **{k: v for k, v in PLAN.items() if "scheme" not in k})
    assert missing.status_code == 400 and "scheme" in missing.text and "杭州市社会保险经办中心" in missing.text
    assert planned(world) == 1
    sid = world.sid("DECEASED_PAID")

    leader = world.login("V01")
    page = leader.get("/inspection/1").text
    assert "已计划" in page and 'action="/inspection/1/start"' in page
    assert post(leader, "/inspection/1/start", "/inspection/1", on="2026-01-12").status_code == 303
    note = f"调阅{DEAD}的档案"
    assert post(leader, "/inspection/1/note", "/inspection/1", text=note, on="2026-01-13").status_code == 303
    member = world.login("V02")
    found = post(
        member,
        "/inspection/1/finding",
        "/inspection/1",
        text="死亡后继续领取养老金",
        amount="1,234.50",
        case=sid,
        opinion="追回多发待遇",
        deadline="2026-06-30",
    )
    assert found.status_code == 303, found.text
    wrong = post(member, "/inspection/1/finding", "/inspection/1", text="x", case="SP-nope", opinion="y")
    assert wrong.status_code == 400 and "没有这个疑点" in wrong.text
    page = leader.get("/inspection/1").text
    assert MASKED_DEAD in page and not FULL_ID.search(page) and f'href="/case/{sid}"' in page and "1234.50" in page

    assert post(leader, "/inspection/1/report", "/inspection/1").status_code == 303
    unsigned = leader.get("/inspection/1/report")
    assert unsigned.status_code == 200
    assert unsigned.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert quote("专项检查报告_001_v1.docx") in unsigned.headers["content-disposition"]
    document = docx.Document(io.BytesIO(unsigned.content))
    assert [p.text for p in document.paragraphs if p.style.name == "Heading 1"][: len(SECTIONS)] == list(SECTIONS)

    # the member may not sign as the leader; the leader signs; a chief records the leader in charge
    refused = post(member, "/inspection/1/sign_leader", "/inspection/1")
    assert refused.status_code == 403 and "组长本人" in refused.text
    assert (
        post(leader, "/inspection/1/sign_leader", "/inspection/1", on="2026-01-14").status_code == 400
    )  # before the report
    assert post(leader, "/inspection/1/sign_leader", "/inspection/1", on="2026-01-15").status_code == 303
    assert 'action="/inspection/1/sign_in_charge"' in chief.get("/inspection/1").text
    assert post(chief, "/inspection/1/sign_in_charge", "/inspection/1", name="李明", on="2026-01-15").status_code == 303
    page = chief.get("/inspection/1").text
    assert "已签发" in page and 'action="/inspection/1/report"' not in page
    signed = chief.get("/inspection/1/report")
    assert quote("专项检查报告_001_v1_已签发.docx") in signed.headers["content-disposition"]
    text = "\n".join(p.text for p in docx.Document(io.BytesIO(signed.content)).paragraphs)
    assert "检查组组长签字：核查员一　　日期：2026年1月15日" in text
    assert "分管领导签字：李明（副局长）　　日期：2026年1月15日" in text
    assert DEAD not in text and MASKED_DEAD in text

    # the list and the overview show the half done
    assert "已开展（已签发）" in chief.get("/inspections").text
    overview = chief.get("/overview").text
    assert "本年专项检查 special inspections：上半年 已开展（已签发） / 下半年 未开展" in overview

    assert audit(world) == [
        ("chief", "inspection_plan", "inspections", "error"),
        ("chief", "inspection_plan", "inspection:1", "ok"),
        ("V01", "inspection_start", "inspection:1", "ok"),
        ("V01", "inspection_note", "inspection:1", "ok"),
        ("V02", "inspection_finding", "inspection:1", "ok"),
        ("V02", "inspection_finding", "inspection:1", "error"),
        ("V01", "inspection_report", "inspection:1", "ok"),
        ("V01", "inspection_download", "inspection:1", "ok"),
        ("V02", "inspection_sign_leader", "inspection:1", "refused"),
        ("V01", "inspection_sign_leader", "inspection:1", "error"),
        ("V01", "inspection_sign_leader", "inspection:1", "ok"),
        ("chief", "inspection_sign_in_charge", "inspection:1", "ok"),
        ("chief", "inspection_download", "inspection:1", "ok"),
    ]
    with reg.reader(world.register) as con:
        details = [r[0] for r in con.execute("SELECT detail FROM web_audit").fetchall() if r[0]]
    assert not any(FULL_ID.search(d) for d in details)


def test_who_sees_and_who_acts(world: World):
    planned(world)
    auditor, outsider, admin = world.login("AUD"), world.login("OP7"), world.login("ADM")
    # the auditor reads the list and the inspection, changes nothing
    assert "2026年上半年养老保险待遇发放" in auditor.get("/inspections").text
    page = auditor.get("/inspection/1").text
    assert "杭州市社会保险经办中心" in page and 'action="/inspection/1/start"' not in page
    assert 'action="/inspections/plan"' not in auditor.get("/inspections").text
    assert post(auditor, "/inspection/1/start", "/inspections").status_code == 403
    # a verifier not on the team sees neither the inspection nor its report
    assert "2026年上半年养老保险待遇发放" not in outsider.get("/inspections").text
    assert outsider.get("/inspection/1").status_code == 404
    assert outsider.get("/inspection/1/report").status_code == 404
    assert post(outsider, "/inspection/1/start", "/inspections").status_code == 404
    # a verifier does not plan; an admin sees no inspection
    assert post(outsider, "/inspections/plan", "/inspections", **PLAN).status_code == 403
    assert admin.get("/inspections").status_code == 403
    # no report yet: nothing to download
    chief = world.login("chief")
    assert chief.get("/inspection/1/report").status_code == 404
    # a POST without the form's token is refused
    assert chief.post("/inspection/1/start", data={"on": "2026-01-12"}).status_code == 403
    assert chief.get("/inspection/2").status_code == 404 and chief.get("/inspection/x1").status_code == 404
    assert post(chief, "/inspection/1/erase", "/inspections").status_code == 404
    with reg.reader(world.register) as con:
        assert ins.get(con, 1).status == "planned"
