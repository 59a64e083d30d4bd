"""专项检查 (policy §五, issue 16 item 2): rights per role, plan → findings linked to cases → report → sign-off, the
DOCX read back with python-docx and printed through LibreOffice, the half-year check, the half-year report's lines,
the command line, and (slow) an inspection of the sample's cases from plan to a signed report.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import shutil
import sqlite3
import stat
import subprocess
from decimal import Decimal
from pathlib import Path

import docx
import polars as pl
import pytest

from pipelines.app import cli
from pipelines.app.settings import Settings
from pipelines.cases import inspections as ins
from pipelines.cases import register as reg
from pipelines.cases import reports
from pipelines.cases import staff as staff_register
from pipelines.cases.printing import OFFICE
from pipelines.cases.reports.inspection_docx import BLANK_SIGNATURE, FINDING_COLUMNS, SECTIONS, SIGNATURE_HEADING
from pipelines.cases.staff import NotAllowed, StaffError, os_user
from pipelines.present.labels import rule_name
from pipelines.present.money import fmt_money
from pipelines.synth.ids import check_digit
from tests.cases.staffing import REGION, staff_up
from tests.cases.test_print import print_to_pdf  # noqa: F401 — LibreOffice headless, a profile per session
from tests.cases.test_reports import MEMORY, db, register  # noqa: F401 — the reports' register and DuckDB file

PERSON = "33010219500101001" + check_digit("33010219500101001")
OTHER = "33020219600202002" + check_digit("33020219600202002")
MASKED = PERSON[:6] + "********" + PERSON[-4:]
FULL_ID = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")
TODAY = dt.date(2026, 3, 20)
H2_2025 = "2025年下半年养老保险待遇发放"
SID_HERE, SID_THERE = "SP-0a1b2c3d4e5f6071", "SP-1b2c3d4e5f607182"


class Clock:
    """The register's clock (`reg._now`), moved by the tests: a step is recorded on the day it is made."""

    def __init__(self) -> None:
        self.day = dt.date(2026, 3, 1)

    def __call__(self) -> str:
        return f"{self.day.isoformat()}T10:00:00+08:00"


@pytest.fixture
def clock(monkeypatch) -> Clock:
    found = Clock()
    monkeypatch.setattr(reg, "_now", found)
    return found


def findings_frame() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "suspect_id": [SID_HERE, SID_THERE],
            "rule": ["DECEASED_PAID", "DECEASED_PAID"],
            "subject_id": [PERSON, OTHER],
            "person_id": [PERSON, OTHER],
            "region_code": [REGION, "330200"],
            "period_from": ["202511", "202512"],
            "period_to": ["202512", "202512"],
            "amount_at_risk": ["3210.50", "800.00"],
            "summary": ["死亡后仍领取养老金", "死亡后仍领取养老金"],
        }
    )


@pytest.fixture
def con(tmp_path, clock) -> sqlite3.Connection:
    """A staffed register with two cases: one of 330100 (V01's region), one of 330200 (V99's)."""
    connection = reg.open_register(tmp_path / "fw.cases.sqlite")
    staff_up(connection)
    reg.sync_findings(connection, findings_frame(), dt.date(2026, 1, 5), "R1")
    yield connection
    connection.close()


def a_plan(**more) -> ins.Plan:
    values = {
        "title": "2026年上半年养老保险待遇发放",
        "schemes": ("110", "170"),
        "regions": (REGION,),
        "place": "杭州市社会保险经办中心",
        "content": "死亡人员待遇停发及追回情况",
        "method": "调阅档案、数据比对、实地核查",
        "objects": "杭州市社会保险经办中心待遇支付科",
        "materials": "待遇发放台账、死亡登记信息、追回凭证",
        "planned_start": dt.date(2026, 3, 2),
        "planned_end": dt.date(2026, 3, 13),
        "leader": "V01",
        "members": ("V02",),
        "leader_in_charge": "李明",
        "leader_in_charge_title": "副局长",
    }
    return ins.Plan(**(values | more))


def worked(con, clock: Clock) -> int:
    """An inspection planned, started, with a process note (naming a person by ID) and two findings: one linked to
    the case of 330100 with its amount and opinion, one without a case."""
    clock.day = dt.date(2026, 2, 20)
    inspection_id = ins.plan(con, "chief", a_plan())
    clock.day = dt.date(2026, 3, 2)
    ins.start(con, "V01", inspection_id, dt.date(2026, 3, 2), today=TODAY)
    ins.note(con, "V02", inspection_id, f"调阅参保人{PERSON}的待遇档案", dt.date(2026, 3, 5), today=TODAY)
    ins.add_finding(
        con,
        "V01",
        inspection_id,
        f"参保人{PERSON}死亡后继续领取养老金",
        amount="3210.50",
        suspect_id=SID_HERE,
        opinion="追回多发待遇，完善死亡信息比对",
        deadline=dt.date(2026, 6, 30),
    )
    ins.add_finding(con, "chief", inspection_id, "死亡信息比对未按月开展", opinion="按月比对")
    return inspection_id


def read_docx(path: Path) -> docx.document.Document:
    return docx.Document(str(path))


def all_text(document) -> str:
    parts = [p.text for p in document.paragraphs]
    parts += [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    return "\n".join(parts)


# ---- rights ----------------------------------------------------------------------------------------------------


def test_only_a_chief_plans_and_the_team_is_staff_who_may_do_business(con, clock):
    for who in ("V01", "AUD", "ADM"):
        with pytest.raises(NotAllowed):
            ins.plan(con, who, a_plan())
    with pytest.raises(ins.InspectionError, match="科长或核查员"):
        ins.plan(con, "chief", a_plan(leader="AUD"))
    with pytest.raises(ins.InspectionError, match="科长或核查员"):
        ins.plan(con, "chief", a_plan(members=("ADM",)))
    with pytest.raises(StaffError, match="不在人员名册"):
        ins.plan(con, "chief", a_plan(members=("NOBODY",)))
    with pytest.raises(ins.InspectionError, match="不必重复"):
        ins.plan(con, "chief", a_plan(members=("V01",)))
    assert con.execute("SELECT count(*) FROM inspections").fetchone()[0] == 0
    # the leader in charge need not be on the staff register
    assert ins.plan(con, "chief", a_plan(leader_in_charge="不在名册的局领导")) == 1


@pytest.mark.parametrize(
    ("change", "said"),
    [
        ({"half": "2026-H2"}, "半年"),
        ({"planned_end": dt.date(2026, 3, 1)}, "早于开始日期"),
        ({"schemes": ("999",)}, "险种代码无效"),
        ({"schemes": ()}, "at least one scheme"),
        ({"regions": ("3301",)}, "六位|6位"),
        ({"place": " "}, "检查地点"),
        ({"leader_in_charge_title": ""}, "职务"),
    ],
)
def test_a_plan_states_everything_the_report_needs(con, change, said):
    with pytest.raises(ins.InspectionError, match=said):
        ins.plan(con, "chief", a_plan(**change))


def test_the_half_is_that_of_the_planned_start(con):
    first = ins.plan(con, "chief", a_plan(half="2026-H1"))
    second = ins.plan(con, "chief", a_plan(planned_start=dt.date(2026, 7, 1), planned_end=dt.date(2026, 7, 31)))
    halves = dict(con.execute("SELECT inspection_id, half FROM inspections").fetchall())
    assert halves == {first: "2026-H1", second: "2026-H2"}


def test_who_may_record_report_and_sign(con, clock):
    inspection_id = worked(con, clock)
    # not on the team: another verifier, an auditor, an admin
    for who in ("V99", "AUD", "ADM"):
        with pytest.raises(NotAllowed):
            ins.note(con, who, inspection_id, "记录", dt.date(2026, 3, 6), today=TODAY)
    # a member records but does not make the report; the leader and a chief do
    with pytest.raises(NotAllowed, match="组长"):
        ins.generate_report(con, "V02", inspection_id, today=TODAY)
    # a case the member cannot see (330200) is not theirs to link; a chief may
    with pytest.raises(NotAllowed):
        ins.link_case(con, "V01", inspection_id, 2, SID_THERE)
    with pytest.raises(ins.InspectionError, match="没有这个疑点"):
        ins.link_case(con, "chief", inspection_id, 2, "SP-doesnotexist")
    ins.link_case(con, "chief", inspection_id, 2, SID_THERE)
    ins.generate_report(con, "V01", inspection_id, today=TODAY)
    # only the leader himself signs as the leader; only a chief records the leader in charge
    with pytest.raises(NotAllowed, match="组长本人"):
        ins.sign_as_leader(con, "chief", inspection_id, today=TODAY)
    with pytest.raises(ins.InspectionError, match="组长尚未签字"):
        ins.sign_for_leader_in_charge(con, "chief", inspection_id, "李明", TODAY, today=TODAY)
    ins.sign_as_leader(con, "V01", inspection_id, today=TODAY)
    with pytest.raises(NotAllowed, match="只有科长"):
        ins.sign_for_leader_in_charge(con, "V01", inspection_id, "李明", TODAY, today=TODAY)
    with pytest.raises(ins.InspectionError, match="不是计划所列分管领导"):
        ins.sign_for_leader_in_charge(con, "chief", inspection_id, "王五", TODAY, today=TODAY)
    with pytest.raises(ins.InspectionError, match="晚于今天"):
        ins.sign_for_leader_in_charge(con, "chief", inspection_id, "李明", TODAY + dt.timedelta(days=1), today=TODAY)
    ins.sign_for_leader_in_charge(con, "chief", inspection_id, "李明", TODAY, today=TODAY)
    assert ins.get(con, inspection_id).status == "signed"


def test_readers(con, clock):
    inspection_id = worked(con, clock)
    i = ins.get(con, inspection_id)
    everyone = {m.staff_id: m for m in staff_register.everyone(con)}
    readers = {sid for sid, m in everyone.items() if ins.may_read(m, i)}
    assert readers == {"chief", "AUD", "V01", "V02"}  # not OP7/OP8/V99 (not on the team), not the admin
    assert [x.inspection_id for x in ins.listing(con, everyone["V99"], 2026)] == []
    assert [x.inspection_id for x in ins.listing(con, everyone["V02"], 2026)] == [inspection_id]


def test_the_register_tables_are_append_only(con, clock):
    worked(con, clock)
    for sql in (
        "UPDATE inspections SET title = 'x'",
        "DELETE FROM inspections",
        "UPDATE inspection_events SET text = 'x'",
        "DELETE FROM inspection_events",
        "UPDATE inspection_findings SET amount = '1.00'",
        "DELETE FROM inspection_findings",
    ):
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            con.execute(sql)
    # a finding's case must exist, even written by hand
    with pytest.raises(sqlite3.IntegrityError):
        con.execute(
            "INSERT INTO inspection_findings (inspection_id, finding_no, finding, suspect_id, event_id, recorded_by,"
            " recorded_at) VALUES (1, 9, 'x', 'SP-nope', 1, 'chief', 'now')"
        )


# ---- the cycle and the document ----------------------------------------------------------------------------------


def test_plan_to_a_signed_report(con, clock, tmp_path):
    inspection_id = worked(con, clock)
    with pytest.raises(ins.InspectionError, match="尚未生成报告"):
        ins.sign_as_leader(con, "V01", inspection_id, today=TODAY)
    clock.day = dt.date(2026, 3, 16)
    v1 = ins.generate_report(con, "chief", inspection_id, today=dt.date(2026, 3, 16))
    assert v1.path == tmp_path / "inspections" / "专项检查报告_001_v1.docx"
    assert stat.S_IMODE(v1.path.stat().st_mode) == 0o600  # private, whatever the umask
    assert hashlib.sha256(v1.path.read_bytes()).hexdigest() == v1.sha256
    recorded = con.execute("SELECT details FROM inspection_events WHERE action = 'report'").fetchone()[0]
    assert json.loads(recorded) == {"version": 1, "on": "2026-03-16", "file": v1.path.name, "sha256": v1.sha256}

    # the record changes after v1: v1 cannot be signed; v2 can
    ins.add_opinion(con, "V02", inspection_id, 2, "每月5日前完成比对", dt.date(2026, 4, 5))
    assert ins.get(con, inspection_id).stale
    with pytest.raises(ins.InspectionError, match="重新生成"):
        ins.sign_as_leader(con, "V01", inspection_id, today=TODAY)
    v2 = ins.generate_report(con, "V01", inspection_id, today=dt.date(2026, 3, 17))
    assert v2.version == 2 and not ins.get(con, inspection_id).stale
    unsigned = read_docx(v2.path)
    assert all_text(unsigned).count(BLANK_SIGNATURE) == 2

    leader = ins.sign_as_leader(con, "V01", inspection_id, dt.date(2026, 3, 18), today=TODAY)
    assert ins.get(con, inspection_id).status == "leader_signed"
    # a new version voids the leader's signature: signed again
    v3 = ins.generate_report(con, "chief", inspection_id, today=dt.date(2026, 3, 18))
    assert ins.get(con, inspection_id).status == "reported" and v3.version == 3
    with pytest.raises(ins.InspectionError, match="组长尚未签字"):
        ins.sign_for_leader_in_charge(con, "chief", inspection_id, "李明", TODAY, today=TODAY)
    leader = ins.sign_as_leader(con, "V01", inspection_id, dt.date(2026, 3, 18), today=TODAY)
    with pytest.raises(ins.InspectionError, match="已签字"):
        ins.sign_as_leader(con, "V01", inspection_id, today=TODAY)
    with pytest.raises(ins.InspectionError, match="早于组长签字"):
        ins.sign_for_leader_in_charge(con, "chief", inspection_id, "李明", dt.date(2026, 3, 17), today=TODAY)
    issued = ins.sign_for_leader_in_charge(con, "chief", inspection_id, "李明", dt.date(2026, 3, 19), today=TODAY)
    assert leader.path.name == "专项检查报告_001_v3_组长已签.docx"
    assert issued.path.name == "专项检查报告_001_v3_已签发.docx"
    i = ins.get(con, inspection_id)
    assert i.status == "signed" and i.latest_file() == (issued.path.name, issued.sha256)
    signs = con.execute(
        "SELECT action, actor, details FROM inspection_events WHERE action LIKE 'sign_%' ORDER BY event_id"
    ).fetchall()
    assert [(a, who, json.loads(d)["version"], json.loads(d)["on"]) for a, who, d in signs] == [
        ("sign_leader", "V01", 2, "2026-03-18"),
        ("sign_leader", "V01", 3, "2026-03-18"),
        ("sign_in_charge", "chief", 3, "2026-03-19"),
    ]
    # signed: closed
    with pytest.raises(ins.InspectionError, match="已签发"):
        ins.generate_report(con, "chief", inspection_id, today=TODAY)
    with pytest.raises(ins.InspectionError, match="已签发"):
        ins.note(con, "V01", inspection_id, "补充", TODAY, today=TODAY)
    path, data = ins.report_file(con, i)
    assert path == issued.path and hashlib.sha256(data).hexdigest() == issued.sha256
    # a file that is not the one recorded is refused
    issued.path.write_bytes(b"tampered")
    with pytest.raises(ins.InspectionError, match="不符"):
        ins.report_file(con, i)


def test_the_document_has_every_section_the_findings_and_the_signatures(con, clock):
    inspection_id = worked(con, clock)
    ins.generate_report(con, "V01", inspection_id, today=dt.date(2026, 3, 16))
    ins.sign_as_leader(con, "V01", inspection_id, dt.date(2026, 3, 17), today=TODAY)
    issued = ins.sign_for_leader_in_charge(con, "chief", inspection_id, "李明", dt.date(2026, 3, 18), today=TODAY)
    document = read_docx(issued.path)
    headings = [p.text for p in document.paragraphs if p.style.name == "Heading 1"]
    assert headings == [*SECTIONS, SIGNATURE_HEADING]
    paragraphs = [p.text for p in document.paragraphs]
    assert paragraphs[0] == OFFICE
    assert paragraphs[1] == "2026年上半年养老保险待遇发放专项检查报告"

    def under(heading: str) -> str:
        start = paragraphs.index(heading) + 1
        rest = [i for i, p in enumerate(document.paragraphs) if i >= start and p.style.name == "Heading 1"]
        return "\n".join(paragraphs[start : rest[0] if rest else None])

    assert under("一、检查时间") == "2026年3月2日至2026年3月5日（计划 2026年3月2日至2026年3月13日，2026年上半年）"
    assert under("二、检查地点") == "杭州市社会保险经办中心"
    assert "组长：核查员一（V01）" in under("四、检查人员") and "成员：核查员二（V02）" in under("四、检查人员")
    assert "分管领导：李明（副局长）" in under("四、检查人员")
    assert "110 企业职工基本养老保险" in under("六、检查对象") and "330100 杭州市" in under("六、检查对象")
    assert "待遇发放台账" in under("七、检查资料")
    assert f"2026年3月5日，调阅参保人{MASKED}的待遇档案" in under("八、检查过程")
    # the findings: case numbers, amounts exact, opinions, deadlines
    (table,) = document.tables
    rows = [[cell.text for cell in row.cells] for row in table.rows]
    assert rows[0] == list(FINDING_COLUMNS)
    assert rows[1] == [
        "1",
        f"参保人{MASKED}死亡后继续领取养老金",
        f"{SID_HERE}（{rule_name('DECEASED_PAID')}）",
        "3,210.50",
        "追回多发待遇，完善死亡信息比对",
        "2026年6月30日",
    ]
    assert rows[2] == ["2", "死亡信息比对未按月开展", "—", "—", "按月比对", "—"]
    assert rows[3][0] == "合计" and rows[3][3] == "3,210.50"
    # no citizen ID in full anywhere
    assert not FULL_ID.search(all_text(document)) and PERSON not in issued.path.read_bytes().decode("latin-1")
    # the signature block, filled with the recorded sign-off
    text = all_text(document)
    assert "检查组组长签字：核查员一　　日期：2026年3月17日" in text
    assert "分管领导签字：李明（副局长）　　日期：2026年3月18日（由 王科长（chief）登记）" in text
    assert BLANK_SIGNATURE not in text
    # an official document's page: A4, the CJK font named as the east-Asian one, page numbers as fields
    section = document.sections[0]
    assert (round(section.page_width.mm), round(section.page_height.mm)) == (210, 297)  # A4, stored in twips
    normal = document.styles["Normal"].element.rPr.rFonts
    assert normal.get(docx.oxml.ns.qn("w:eastAsia")) == "SimSun"
    footer = section.footer._element.xml
    assert "PAGE" in footer and "NUMPAGES" in footer and "第 " in footer and " 页 共 " in footer


def test_the_signed_copies_differ_from_the_version_only_in_the_signatures(con, clock):
    inspection_id = worked(con, clock)
    v1 = ins.generate_report(con, "V01", inspection_id, today=dt.date(2026, 3, 16))
    leader = ins.sign_as_leader(con, "V01", inspection_id, dt.date(2026, 3, 17), today=TODAY)
    before, after = all_text(read_docx(v1.path)), all_text(read_docx(leader.path))
    assert f"检查组组长签字：{BLANK_SIGNATURE}　　日期：＿＿＿＿年＿＿月＿＿日（核查员一）" in before
    assert before.split("检查组组长签字")[0] == after.split("检查组组长签字")[0]
    assert after.count(BLANK_SIGNATURE) == 1  # the leader in charge's line still blank


def test_the_report_prints_with_chinese_text_in_a_cjk_font(con, clock, print_to_pdf, tmp_path):  # noqa: F811
    if shutil.which("lowriter") is None:  # LibreOffice without Writer opens no DOCX ("source file could not be loaded")
        pytest.fail(
            "LibreOffice Writer is missing: as root, apt-get install -y --no-install-recommends libreoffice-writer",
            pytrace=False,
        )
    inspection_id = worked(con, clock)
    ins.generate_report(con, "V01", inspection_id, today=dt.date(2026, 3, 16))
    ins.sign_as_leader(con, "V01", inspection_id, dt.date(2026, 3, 17), today=TODAY)
    issued = ins.sign_for_leader_in_charge(con, "chief", inspection_id, "李明", dt.date(2026, 3, 18), today=TODAY)
    out = tmp_path / "pdf"
    copy = out / "inspection.docx"
    out.mkdir()
    shutil.copy(issued.path, copy)
    pages = print_to_pdf([copy], out)["inspection"]  # asserts a CJK font drew the text (pdffonts)
    text = "".join(page.layout for page in pages)
    squeezed = re.sub(r"\s+", "", text)
    for heading in SECTIONS:
        assert heading in squeezed, heading
    assert "专项检查报告" in squeezed and OFFICE in squeezed and MASKED in squeezed and "3,210.50" in squeezed
    total = len(pages)
    for n, page in enumerate(pages, start=1):
        assert f"第{n}页共{total}页" in re.sub(r"\s+", "", page.layout), page.layout[-200:]
    fonts = subprocess.run(["pdffonts", str(out / "inspection.pdf")], capture_output=True, text=True).stdout
    assert re.search(r"CJK|Sim|Song", fonts), fonts
    # one page as an image, for a person to look at (kept beside the test's files)
    subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", str(out / "inspection.pdf"), str(out / "p")])
    assert list(out.glob("p*.png"))


# ---- the half-year check -------------------------------------------------------------------------------------------


def test_each_half_year_has_its_inspection(con, clock):
    assert ins.overview_line(ins.half_year_status(con, 2026)) == "上半年 未开展 / 下半年 未开展"
    inspection_id = worked(con, clock)
    clock.day = dt.date(2026, 3, 10)
    later = ins.plan(con, "chief", a_plan(planned_start=dt.date(2026, 9, 1), planned_end=dt.date(2026, 9, 30)))
    h1, h2 = ins.half_year_status(con, 2026)
    assert (h1.half, h1.planned, h1.done, h1.signed, h1.has_inspection) == ("2026-H1", 1, 0, 0, False)
    assert h1.state_zh == "检查中" and h2.state_zh == "已计划，未开展" and h2.inspections[0]["inspection_id"] == later
    clock.day = dt.date(2026, 3, 16)
    ins.generate_report(con, "V01", inspection_id, today=dt.date(2026, 3, 16))
    assert ins.half_year_status(con, 2026)[0].state_zh == "已开展（报告未签发）"
    clock.day = dt.date(2026, 3, 18)
    ins.sign_as_leader(con, "V01", inspection_id, dt.date(2026, 3, 18), today=TODAY)
    ins.sign_for_leader_in_charge(con, "chief", inspection_id, "李明", dt.date(2026, 3, 18), today=TODAY)
    h1, h2 = ins.half_year_status(con, 2026)
    assert (h1.planned, h1.done, h1.signed, h1.has_inspection) == (1, 1, 1, True)
    assert ins.overview_line([h1, h2]) == "上半年 已开展（已签发） / 下半年 已计划，未开展"
    assert h1.inspections[0]["findings"] == 2 and h1.inspections[0]["cases"] == 1
    # as recorded up to a day: on 03-17 the report was made but not signed; on 02-19 nothing was planned yet
    assert ins.half_year_status(con, 2026, dt.date(2026, 3, 17))[0].state_zh == "已开展（报告未签发）"
    assert ins.half_year_status(con, 2026, dt.date(2026, 2, 19))[0].planned == 0
    assert ins.half_year_status(con, 2025)[0].planned == 0


def test_the_half_year_report_states_the_inspections_in_its_work_section(register, db, tmp_path, clock):  # noqa: F811
    with reg.writer(register) as con:
        staff_up(con)
        clock.day = dt.date(2025, 8, 1)
        inspection_id = ins.plan(
            con, "chief", a_plan(title=H2_2025, planned_start=dt.date(2025, 8, 4), planned_end=dt.date(2025, 8, 15))
        )
        ins.start(con, "V01", inspection_id, dt.date(2025, 8, 4), today=dt.date(2025, 8, 4))
        ins.add_finding(con, "V01", inspection_id, "待遇多发", amount="41220.00", suspect_id="S1", opinion="追回")
        clock.day = dt.date(2025, 8, 20)
        ins.generate_report(con, "V01", inspection_id, today=dt.date(2025, 8, 20))
        ins.sign_as_leader(con, "V01", inspection_id, dt.date(2025, 8, 20), today=dt.date(2025, 8, 20))
        clock.day = dt.date(2025, 8, 22)
        ins.sign_for_leader_in_charge(
            con, "chief", inspection_id, "李明", dt.date(2025, 8, 22), today=dt.date(2025, 8, 22)
        )
    h2 = reports.supervision_report(
        register, db, 2025, 2, tmp_path, today=dt.date(2025, 12, 10), memory_limit=MEMORY, as_of=dt.date(2025, 12, 31)
    )[0].read_text("utf-8")
    work = h2[h2.index("## 二、监管工作情况") : h2.index("## 三、")]
    assert (
        "专项检查：2025年下半年计划专项检查 1 次，已出具报告 1 次，报告已签发 1 次（下半年 已开展（已签发））。" in work
    )
    assert f"| 1 | {H2_2025} | 2025年下半年 |" in work and "已签发" in work
    assert "注意" not in work
    # the first half had none: the report says so
    h1 = reports.supervision_report(
        register, db, 2025, 1, tmp_path, today=dt.date(2025, 12, 10), memory_limit=MEMORY, as_of=dt.date(2025, 6, 30)
    )[0].read_text("utf-8")
    work = h1[h1.index("## 二、监管工作情况") : h1.index("## 三、")]
    assert "计划专项检查 0 次" in work
    assert "注意：2025年上半年尚无已签发的专项检查报告（未开展），不符合每半年至少开展一次专项检查的要求" in work
    # the year: both halves, one warning
    year = reports.supervision_report(
        register, db, 2025, None, tmp_path, today=dt.date(2025, 12, 10), memory_limit=MEMORY
    )[0].read_text("utf-8")
    assert "上半年 未开展 / 下半年 已开展（已签发）" in year and year.count("注意：2025年") == 1


# ---- the command line ----------------------------------------------------------------------------------------------


def test_the_command_line_from_plan_to_signed(tmp_path, capsys):
    database = tmp_path / "fw.duckdb"
    with reg.writer(reg.register_path_for(database)) as con:
        staff_up(
            con,
            [
                ("ADM", "管理员", "admin", (), "adm-user"),
                ("C01", "王科长", "chief", (), os_user()),
                ("V01", "核查员一", "verifier", (REGION,), None),
            ],
        )
        reg.sync_findings(con, findings_frame(), dt.date(2026, 1, 5), "R1")

    def fw(*args: str) -> tuple[int, str]:
        code = cli.main(["inspection", "--db", str(database), *args])
        out = capsys.readouterr()
        return code, out.out + out.err

    today = Settings.from_env().today()  # the office's date, as the command line takes it (not the machine's)
    plan = [
        "plan", "--title", "养老保险待遇", "--scheme", "110", "--region", REGION, "--leader", "C01",
        "--member", "V01", "--place", "经办中心", "--content", "待遇发放", "--method", "调阅档案",
        "--objects", "待遇支付科", "--materials", "发放台账", "--start", today.isoformat(),
        "--end", today.isoformat(), "--leader-in-charge", "李明 副局长",
    ]  # fmt: skip
    code, out = fw(*plan[:-1], "李明")
    assert code == 2 and "姓名 职务" in out
    code, out = fw(*plan, "--half", "1999-H1")
    assert code == 6 and "半年" in out
    code, out = fw(*plan)
    assert code == 0 and "专项检查 1" in out
    assert fw("start", "1")[0] == 0
    assert fw("note", "1", "--text", f"调阅{PERSON}档案")[0] == 0
    code, out = fw("finding", "1", "--text", "多发", "--amount", "12.345", "--opinion", "追回")
    assert code == 6 and "精确到分" in out
    code, out = fw("finding", "1", "--text", "多发", "--amount", "3210.50", "--case", SID_HERE, "--opinion", "追回")
    assert code == 0 and "finding 1" in out
    code, out = fw("sign", "1", "--as", "leader")
    assert code == 6 and "尚未生成报告" in out
    out_dir = tmp_path / "out"
    code, out = fw("report", "1", "--out", str(out_dir))
    assert code == 0 and (out_dir / "专项检查报告_001_v1.docx").is_file()
    assert fw("sign", "1", "--as", "leader")[0] == 0
    code, out = fw("sign", "1", "--as", "leader-in-charge", "--name", "李明")
    assert code == 2 and "--on" in out
    code, out = fw("sign", "1", "--as", "leader-in-charge", "--name", "李明", "--on", today.isoformat())
    assert code == 0 and "签发" in out
    code, out = fw("report", "1")
    assert code == 6 and "已签发" in out
    code, out = fw("list", "--year", str(today.year))
    half = "上半年" if today.month <= 6 else "下半年"
    assert code == 0 and f"{half} 已开展（已签发）" in out and "已签发 signed" in out
    code, out = fw("show", "1")
    assert code == 0 and MASKED in out and PERSON not in out
    assert not FULL_ID.search(out)


# ---- done when: the sample ----------------------------------------------------------------------------------------


@pytest.mark.slow
def test_an_inspection_of_the_samples_cases_goes_from_plan_to_a_signed_report(tmp_path_factory, capsys):
    from tests.sample_run import sample_database

    published = sample_database(tmp_path_factory)
    folder = tmp_path_factory.mktemp("inspection-sample")
    database = folder / published.name
    shutil.copy2(published, database)
    shutil.copy2(reg.register_path_for(published), reg.register_path_for(database))
    with reg.writer(reg.register_path_for(database)) as con:
        staff_up(
            con,
            [
                ("ADM", "张管理", "admin", (), "adm-user"),
                ("C01", "王科长", "chief", (), os_user()),
                ("V01", "李核查", "verifier", (REGION,), None),
            ],
        )
        cases = con.execute(
            "SELECT suspect_id, amount_at_risk FROM cases WHERE region_code = ? AND amount_at_risk NOT IN ('0', '0.00')"
            " ORDER BY suspect_id LIMIT 2",
            [REGION],
        ).fetchall()
    assert len(cases) == 2
    today = Settings.from_env().today()  # the office's date, as the command line takes it (not the machine's)

    def fw(*args: str) -> str:
        code = cli.main(["inspection", "--db", str(database), *args])
        out = capsys.readouterr()
        assert code == 0, out.out + out.err
        return out.out

    fw(
        "plan", "--title", "基金支付风险", "--scheme", "110", "--scheme", "210", "--region", REGION,
        "--leader", "C01", "--member", "V01", "--place", "杭州市社会保险经办中心", "--content", "待遇支付",
        "--method", "数据比对、调阅档案", "--objects", "经办中心", "--materials", "比对疑点、发放台账",
        "--start", today.isoformat(), "--end", today.isoformat(), "--leader-in-charge", "李明 副局长",
    )  # fmt: skip
    fw("start", "1")
    fw("note", "1", "--text", "比对本期疑点，调阅发放档案")
    for sid, amount in cases:
        fw("finding", "1", "--text", f"疑点{sid}核实违规", "--amount", amount, "--case", sid, "--opinion", "限期追回")
    fw("report", "1")
    fw("sign", "1", "--as", "leader")
    fw("sign", "1", "--as", "leader-in-charge", "--name", "李明", "--on", today.isoformat())
    with reg.reader(reg.register_path_for(database)) as con:
        i = ins.get(con, 1)
        path, _ = ins.report_file(con, i)
    assert i.status == "signed"
    document = read_docx(path)
    assert [p.text for p in document.paragraphs if p.style.name == "Heading 1"] == [*SECTIONS, SIGNATURE_HEADING]
    rows = [[c.text for c in r.cells] for r in document.tables[0].rows]
    assert [r[2].split("（")[0] for r in rows[1:-1]] == [sid for sid, _ in cases]
    assert [r[3] for r in rows[1:-1]] == [fmt_money(Decimal(a)) for _, a in cases]
    assert "检查组组长签字：王科长" in all_text(document)
