"""核查清单 export: the region's open and overdue cases, masked IDs and accounts, exact amounts, provisional
deadlines, the unmasked file beside the masked one, nothing written for a region with nothing to work, and the
sheet's furniture and page setup (how it prints through LibreOffice: tests/cases/test_print.py)."""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from decimal import Decimal

import fastexcel
import polars as pl
import pytest

from pipelines.cases.export import (
    COLUMNS,
    SHEET_NAME,
    NothingToExport,
    checklist_path,
    checklist_rows,
    export_checklist,
)
from pipelines.present.masking import is_citizen_id, mask_id, mask_ids_in_text

PERSON = "330102198001011234"
LEGACY = "330102800101123"  # 15-digit form
ACCOUNT = "6222021234567890123"  # 19-digit bank account: not a citizen ID
REGION = "330100"
CASE_COLUMNS = (
    "suspect_id rule subject_id person_id region_code period_from period_to amount_at_risk summary status firing "
    "first_seen last_seen recurrences assigned_region assignee assigned_on due_date confirmed_on severity "
    "report_due reported_on dismissed_reason recovered_amount rectified_on"
).split()

HEADERS = [
    "疑点编号 suspect_id",
    "规则 rule",
    "规则名称",
    "对象 subject_id",
    "公民身份号码 person_id",
    "所属期起",
    "所属期止",
    "涉及金额（元）",
    "状态 status",
    "核查人 assignee",
    "整改期限 due_date",
    "疑点说明 summary",
]


def case(suspect_id, status, amount, *, rule="DECEASED_PAID", subject=PERSON, person=PERSON, region=REGION, **kw):
    row = dict.fromkeys(CASE_COLUMNS)
    row.update(
        suspect_id=suspect_id,
        rule=rule,
        subject_id=subject,
        person_id=person,
        region_code=region,
        period_from="202503",
        period_to="202506",
        amount_at_risk=amount,
        summary=f"疑点 {suspect_id}",
        status=status,
        firing=1,
        first_seen="2026-03-02",
        last_seen="2026-03-09",
        recurrences=0,
    )
    row.update(kw)
    return row


def cases_frame(*rows, overdue=None):
    frame = pl.DataFrame(
        list(rows), schema=dict.fromkeys(CASE_COLUMNS, pl.String) | {"firing": pl.Int64, "recurrences": pl.Int64}
    )
    if overdue is not None:
        frame = frame.with_columns(pl.Series("overdue", overdue, dtype=pl.Boolean))
    return frame


@pytest.fixture
def cases():
    return cases_frame(
        case(
            "S-A",
            "open",
            "41220.00",
            summary=f"2025年3月死亡（公安），身份证 {PERSON}，其后仍发放养老金",
        ),
        case(
            "S-B",
            "under_verification",
            "12345678901.23",
            rule="SHARED_ACCOUNT",
            subject=ACCOUNT,
            person=None,
            assignee="张三",
            due_date="2026-04-14",
            summary=f"银行账号{ACCOUNT}在2025年1月至2025年12月间收到3人的待遇发放",
        ),
        case("S-C", "confirmed", "0.10", subject=LEGACY, person=None, assignee="李四", due_date="2026-01-05"),
        case("S-D", "dismissed", "999.99"),
        case("S-E", "open", "100.00", region="330200"),  # another region
        case("S-F", "rectified", "500000.00"),
        case("S-G", "open", "499999.99", rule="RECON_CONTRIB", subject="E0001|110|202503", person=None),
        overdue=[False, False, True, False, False, False, None],
    )


def read_sheet(path, header_row=1):
    sheet = fastexcel.read_excel(path).load_sheet(SHEET_NAME, header_row=header_row)
    return sheet.to_polars()


def sheet_xml(path, member):
    with zipfile.ZipFile(path) as book:
        return book.read(member).decode()


def test_mask_id():
    assert mask_id("330102198001011234") == "330102********1234"
    assert mask_id("11010519491231002X") == "110105********002X"
    assert mask_id(LEGACY) == "330102*****1123"
    assert is_citizen_id(PERSON) and is_citizen_id("11010519491231002x") and is_citizen_id(LEGACY)
    assert not is_citizen_id(ACCOUNT) and not is_citizen_id("E0001|110|202503")
    assert mask_ids_in_text(f"身份证{PERSON}，账户{ACCOUNT}") == f"身份证330102********1234，账户{ACCOUNT}"


def test_checklist_rows_selects_the_regions_open_and_overdue_cases(cases):
    rows = checklist_rows(cases, REGION)
    # overdue first, then by due date (none last), then by id
    assert rows["suspect_id"].to_list() == ["S-C", "S-B", "S-A", "S-G"]
    without_overdue = checklist_rows(cases.drop("overdue"), REGION)
    assert sorted(without_overdue["suspect_id"].to_list()) == ["S-A", "S-B", "S-G"]


def test_export_checklist(cases, tmp_path):
    out = export_checklist(cases, REGION, tmp_path / "out" / "330100.xlsx", generated_on=dt.date(2026, 3, 10))
    assert out == tmp_path / "out" / "330100.xlsx"
    assert fastexcel.read_excel(out).sheet_names == [SHEET_NAME]

    title = read_sheet(out, header_row=None).row(0)[0]
    assert SHEET_NAME in title and REGION in title and "2026-03-10" in title

    sheet = read_sheet(out)
    assert sheet.columns == HEADERS == [header for header, _, _ in COLUMNS]
    assert sheet["疑点编号 suspect_id"].to_list() == ["S-C", "S-B", "S-A", "S-G"]
    rows = {row["疑点编号 suspect_id"]: row for row in sheet.iter_rows(named=True)}

    a, b, c, g = rows["S-A"], rows["S-B"], rows["S-C"], rows["S-G"]
    assert a["公民身份号码 person_id"] == "330102********1234"
    assert a["对象 subject_id"] == "330102********1234"
    assert PERSON not in a["疑点说明 summary"] and "330102********1234" in a["疑点说明 summary"]
    assert c["对象 subject_id"] == "330102*****1123"  # a legacy-form ID as subject is masked too
    # a personal bank account as subject (SHARED_ACCOUNT) keeps its last 4 digits, in the summary too
    assert b["对象 subject_id"] == "***************0123" and b["公民身份号码 person_id"] is None
    assert b["疑点说明 summary"] == "银行账号***************0123在2025年1月至2025年12月间收到3人的待遇发放"
    assert g["对象 subject_id"] == "E0001|110|202503"
    everything = "".join(str(v) for row in sheet.iter_rows() for v in row)
    assert PERSON not in everything and ACCOUNT not in everything

    assert a["规则 rule"] == "DECEASED_PAID" and a["规则名称"] == "死亡后继续领取"
    assert b["规则名称"] == "多人共用收款账户" and g["规则名称"] == "征缴对账差异"
    assert a["状态 status"] == "待核查 open"
    assert b["状态 status"] == "核查中 under_verification"
    assert c["状态 status"] == "逾期 overdue（确认违规 confirmed）"
    assert a["所属期起"] == "202503" and a["所属期止"] == "202506"
    assert b["核查人 assignee"] == "张三"
    assert b["整改期限 due_date"] == dt.datetime(2026, 4, 14) and a["整改期限 due_date"] is None

    # numbers, exact to the fen (the largest has 13 significant digits)
    amounts = {key: row["涉及金额（元）"] for key, row in rows.items()}
    assert all(isinstance(value, float) for value in amounts.values())
    expected = {"S-A": "41220.00", "S-B": "12345678901.23", "S-C": "0.10", "S-G": "499999.99"}
    assert {key: Decimal(f"{value:.2f}") for key, value in amounts.items()} == {
        key: Decimal(value) for key, value in expected.items()
    }
    assert amounts["S-B"] == float(Decimal("12345678901.23"))

    assert 'formatCode="#,##0.00"' in sheet_xml(out, "xl/styles.xml")
    worksheet = sheet_xml(out, "xl/worksheets/sheet1.xml")
    assert '<autoFilter ref="A2:L6"/>' in worksheet
    assert 'ySplit="2"' in worksheet and 'state="frozen"' in worksheet
    assert "<cols>" in worksheet


def test_export_checklist_unmasked(cases, tmp_path):
    out = export_checklist(cases, REGION, tmp_path / "full.xlsx", mask_ids=False, generated_on=dt.date(2026, 3, 11))
    rows = {row["疑点编号 suspect_id"]: row for row in read_sheet(out).iter_rows(named=True)}
    assert rows["S-A"]["公民身份号码 person_id"] == PERSON
    assert rows["S-A"]["对象 subject_id"] == PERSON
    assert PERSON in rows["S-A"]["疑点说明 summary"]
    assert rows["S-C"]["对象 subject_id"] == LEGACY
    assert rows["S-B"]["对象 subject_id"] == ACCOUNT and ACCOUNT in rows["S-B"]["疑点说明 summary"]
    title = read_sheet(out, header_row=None).row(0)[0]
    assert "2026-03-11" in title and "未脱敏" in title  # the day the command passes; the warning
    assert "未脱敏" in sheet_xml(out, "xl/worksheets/sheet1.xml").split("<oddHeader>")[1]  # on every printed page


def test_the_unmasked_checklist_is_another_file(tmp_path):
    masked = checklist_path(tmp_path, REGION, dt.date(2026, 3, 10))
    unmasked = checklist_path(tmp_path, REGION, dt.date(2026, 3, 10), masked=False)
    assert masked.name == "核查清单_330100_2026-03-10.xlsx"
    assert unmasked.name == "核查清单_330100_2026-03-10_未脱敏.xlsx"
    assert checklist_path(tmp_path, REGION, dt.date(2026, 3, 10), masked=True) == masked


def test_both_checklists_side_by_side(cases, tmp_path):
    day = dt.date(2026, 3, 10)
    masked = export_checklist(cases, REGION, checklist_path(tmp_path, REGION, day), generated_on=day)
    unmasked = export_checklist(
        cases, REGION, checklist_path(tmp_path, REGION, day, masked=False), mask_ids=False, generated_on=day
    )
    assert masked != unmasked and sorted(p.name for p in tmp_path.iterdir()) == sorted([masked.name, unmasked.name])
    assert read_sheet(masked)["公民身份号码 person_id"].to_list()[2] == "330102********1234"  # S-A, not overwritten
    assert read_sheet(unmasked)["公民身份号码 person_id"].to_list()[2] == PERSON


def test_export_checklist_with_no_open_case_writes_nothing(cases, tmp_path):
    out = tmp_path / "empty.xlsx"
    with pytest.raises(NothingToExport, match="没有待核查案件.*999999") as raised:
        export_checklist(cases, "999999", out, generated_on=dt.date(2026, 3, 10))
    assert raised.value.region_code == "999999"
    assert not out.exists()
    # a region whose cases are all closed has nothing to work either
    with pytest.raises(NothingToExport):
        export_checklist(cases.filter(pl.col("suspect_id") == "S-D"), REGION, out, generated_on=dt.date(2026, 3, 10))
    assert not out.exists()


def test_a_provisional_deadline_says_so(cases, tmp_path):
    """`due_provisional` 1: the date reads 2027-01-14（暂定 provisional）; 0 or absent: a date cell as before."""
    frame = cases.with_columns(
        pl.when(pl.col("suspect_id") == "S-B")
        .then(pl.lit("2027-01-14"))
        .otherwise(pl.col("due_date"))
        .alias("due_date"),
        pl.Series("due_provisional", [0, 1, 0, 0, 0, 0, None], dtype=pl.Int64),
    )
    out = export_checklist(frame, REGION, tmp_path / "p.xlsx", generated_on=dt.date(2026, 12, 1))
    rows = {row["疑点编号 suspect_id"]: row for row in read_sheet(out).iter_rows(named=True)}
    assert rows["S-B"]["整改期限 due_date"] == "2027-01-14（暂定 provisional）"
    assert rows["S-C"]["整改期限 due_date"] == "2026-01-05 00:00:00"  # the column now mixes: read as text
    assert rows["S-A"]["整改期限 due_date"] is None


def test_the_checklist_is_set_up_to_print(cases, tmp_path):
    """A4 landscape fitted to the width, the header row on every page, 宋体, office/title/date, page numbers."""
    long_summary = "疑点说明" * 40  # 160 CJK characters: several lines in a 40-character column
    frame = cases.with_columns(
        pl.when(pl.col("suspect_id") == "S-G").then(pl.lit(long_summary)).otherwise(pl.col("summary")).alias("summary")
    )
    out = export_checklist(frame, REGION, tmp_path / "c.xlsx", generated_on=dt.date(2026, 3, 10))
    worksheet = sheet_xml(out, "xl/worksheets/sheet1.xml")
    setup = re.search(r"<pageSetup [^>]*/>", worksheet).group(0)
    assert 'paperSize="9"' in setup and 'orientation="landscape"' in setup
    assert 'fitToHeight="0"' in setup and 'fitToWidth="0"' not in setup  # one page wide, as many high as needed
    assert '<pageSetUpPr fitToPage="1"/>' in worksheet
    header = re.search(r"<oddHeader>(.*)</oddHeader>", worksheet).group(1)
    assert "社会保险基金监督处" in header and "核查清单（统筹区 330100）" in header and "2026-03-10" in header
    assert "第 &amp;P 页 共 &amp;N 页" in re.search(r"<oddFooter>(.*)</oddFooter>", worksheet).group(1)
    workbook = sheet_xml(out, "xl/workbook.xml")
    assert '<definedName name="_xlnm.Print_Titles" localSheetId="0">核查清单!$2:$2</definedName>' in workbook

    fonts = re.findall(r'<name val="([^"]+)"/>', sheet_xml(out, "xl/styles.xml"))
    assert fonts and set(fonts) == {"SimSun"}  # every cell asks for 宋体, none for Calibri
    assert '<charset val="134"/>' in sheet_xml(out, "xl/styles.xml")

    # rows that wrap are as tall as their lines (LibreOffice does not grow them when it opens the file)
    heights = {int(r): float(h) for r, h in re.findall(r'<row r="(\d+)"[^>]* ht="([\d.]+)"', worksheet)}
    order = read_sheet(out)["疑点编号 suspect_id"].to_list()
    long_row, short_row = 3 + order.index("S-G"), 3 + order.index("S-C")
    assert heights[long_row] >= 8 * 16 > heights[short_row]


FORMULAS = ('=HYPERLINK("http://evil.example/x","点此核实")', "+1+1", "-2+3", "@SUM(A1:A2)", '=cmd|" /C calc"!A0')


@pytest.mark.parametrize("hostile", FORMULAS)
def test_formula_like_values_are_written_as_text_never_as_formulas(tmp_path, hostile):
    """A value from an extract that looks like a formula (a summary, a subject) stays text in the checklist and
    in a report workbook: no cell of either becomes a formula that runs when an official opens it."""
    from pipelines.cases.reports.document import Col, Document, Section, Table
    from pipelines.cases.reports.output import write_report

    frame = cases_frame(
        case("S-X", "open", "10.00", rule="RECON_CONTRIB", subject=hostile, person=None, summary=hostile)
    )
    checklist = export_checklist(frame, REGION, tmp_path / "checklist.xlsx", generated_on=dt.date(2026, 3, 9))
    table = Table(columns=[Col("对象 subject"), Col("说明 summary")], rows=[[hostile, hostile]], title="疑点")
    doc = Document(title="测试报告", meta=[], sections=[Section("一、疑点", [table])])
    report = next(p for p in write_report(doc, tmp_path / "reports", "测试报告") if p.suffix == ".xlsx")
    for book in (checklist, report):
        with zipfile.ZipFile(book) as z:
            sheets = [n for n in z.namelist() if n.startswith("xl/worksheets/sheet")]
            formulas = [f for n in sheets for f in re.findall(r"<f>(.*?)</f>", z.read(n).decode())]
            strings = z.read("xl/sharedStrings.xml").decode()
        assert not [f for f in formulas if "HYPERLINK" in f or "cmd" in f or "SUM" in f or f in ("1+1", "2+3")], book
        assert hostile.replace("&", "&amp;").replace('"', "&quot;") in strings or hostile in strings, book
