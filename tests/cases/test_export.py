"""核查清单 export: the region's open and overdue cases, masked IDs, exact amounts, the sheet's furniture."""

from __future__ import annotations

import datetime as dt
import zipfile
from decimal import Decimal

import fastexcel
import polars as pl
import pytest

from pipelines.cases.export import COLUMNS, SHEET_NAME, checklist_rows, export_checklist
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
    assert b["对象 subject_id"] == ACCOUNT and b["公民身份号码 person_id"] is None
    assert g["对象 subject_id"] == "E0001|110|202503"
    assert PERSON not in "".join(str(v) for row in sheet.iter_rows() for v in row)

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
    assert "2026-03-11" in read_sheet(out, header_row=None).row(0)[0]  # the day the command passes


def test_export_checklist_with_no_open_case(cases, tmp_path):
    out = export_checklist(cases, "999999", tmp_path / "empty.xlsx", generated_on=dt.date(2026, 3, 10))
    assert read_sheet(out).columns == HEADERS
    assert read_sheet(out).height == 0
