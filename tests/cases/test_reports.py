"""The 四定一限 reports: key numbers, sections, the zero report, rankings, exact amounts, XLSX with charts.

One small register (SQLite, built from sql/cases/001_cases.sql) and one small DuckDB file serve every
report. The cases, by what happens to them (dates in 2025):

| case | rule | region | amount | story (2025) |
|---|---|---|---|---|
| S1 | DECEASED_PAID | 330100 | 41,220.00 | found 11-03, assigned 11-04, confirmed 11-10 (要情, |
|    |               |        |           | reported in time), rectified 11-20 |
| S2 | DUP_BENEFIT | 330200 | 1,000.10 | found 09-01, assigned 09-02 (due 10-20): overdue ever since |
| S3 | DUP_BENEFIT | 330200 | 0.20 | found 11-06, dismissed 11-08 |
| S4 | RECON_CONTRIB | 330100 | 600,000.00 | found 11-07, assigned 11-08 (due 12-22), confirmed 11-12 |
|    |               |        |            | (重大要情), never reported |
| S5 | DECEASED_PAID | 330300 | 500.00 | found 12-02, open |
| S6 | SHARED_ACCOUNT | 330300 | 2,345.67 | found 10-01, assigned 10-02 (due 11-13), confirmed 12-01 |
|    |                |        |          | (要情, reported late), rectified 12-05 |
| S7 | DUP_CLAIM | 330300 | 10.00 | found 12-03, open |
"""

from __future__ import annotations

import datetime as dt
import hashlib
import sqlite3
import zipfile
from pathlib import Path

import fastexcel
import pytest

from pipelines.cases import reports
from pipelines.cases.reports.common import competition_ranks
from pipelines.cases.reports.document import Col
from pipelines.cases.reports.markdown import markdown_table
from pipelines.present.money import fmt_money
from pipelines.warehouse.session import connect
from tests.cases.report_world import build_register

SCHEMA = Path(__file__).resolve().parents[2] / "sql" / "cases" / "001_cases.sql"
PERSON = "330102198001011234"
MEMORY = "1GB"  # DuckDB's memory limit, from the settings in the product

CASES = [
    # suspect_id, rule, subject_id, region, amount, status, first_seen, assigned_on, due_date,
    # confirmed_on, severity, report_due, reported_on, dismissed_reason, recovered, rectified_on
    ("S1", "DECEASED_PAID", PERSON, "330100", "41220.00", "rectified", "2025-11-03", "2025-11-04", "2025-12-16",
     "2025-11-10", "要情", "2025-11-17", "2025-11-14", None, "41220.00", "2025-11-20"),
    ("S2", "DUP_BENEFIT", "330102198001011235", "330200", "1000.10", "under_verification", "2025-09-01",
     "2025-09-02", "2025-10-20", None, None, None, None, None, None, None),
    ("S3", "DUP_BENEFIT", "330102198001011236", "330200", "0.20", "dismissed", "2025-11-06", None, None,
     None, None, None, None, "核实为补发 back pay", None, None),
    ("S4", "RECON_CONTRIB", "E001|110|202510", "330100", "600000.00", "confirmed", "2025-11-07", "2025-11-08",
     "2025-12-22", "2025-11-12", "重大要情", "2025-11-19", None, None, None, None),
    ("S5", "DECEASED_PAID", "330102198001011237", "330300", "500.00", "open", "2025-12-02", None, None,
     None, None, None, None, None, None, None),
    ("S6", "SHARED_ACCOUNT", "6222021234567890123", "330300", "2345.67", "rectified", "2025-10-01", "2025-10-02",
     "2025-11-13", "2025-12-01", "要情", "2025-12-08", "2025-12-09", None, "2345.67", "2025-12-05"),
    ("S7", "DUP_CLAIM", "330102198001011238", "330300", "10.00", "open", "2025-12-03", None, None,
     None, None, None, None, None, None, None),
]  # fmt: skip

EVENTS = [
    # suspect_id, at, action, from_status, to_status, reason
    ("S2", "2025-09-01T02:00:00", "found", None, "open", None),
    ("S2", "2025-09-02T09:00:00", "assign", "open", "under_verification", None),
    ("S6", "2025-10-01T02:00:00", "found", None, "open", None),
    ("S6", "2025-10-02T09:00:00", "assign", "open", "under_verification", None),
    ("S1", "2025-11-03T02:00:00", "found", None, "open", None),
    ("S1", "2025-11-04T09:00:00", "assign", "open", "under_verification", None),
    ("S3", "2025-11-06T02:00:00", "found", None, "open", None),
    ("S4", "2025-11-07T02:00:00", "found", None, "open", None),
    ("S3", "2025-11-08T10:00:00", "dismiss", "open", "dismissed", "核实为补发 back pay"),
    ("S4", "2025-11-08T10:00:00", "assign", "open", "under_verification", None),
    ("S1", "2025-11-10T10:00:00", "verify", "under_verification", "confirmed", None),
    ("S4", "2025-11-12T10:00:00", "verify", "under_verification", "confirmed", None),
    ("S1", "2025-11-14T10:00:00", "report", "confirmed", "confirmed", None),
    ("S1", "2025-11-20T10:00:00", "rectify", "confirmed", "rectified", None),
    ("S6", "2025-12-01T10:00:00", "verify", "under_verification", "confirmed", None),
    ("S5", "2025-12-02T02:00:00", "found", None, "open", None),
    ("S7", "2025-12-03T02:00:00", "found", None, "open", None),
    ("S6", "2025-12-05T10:00:00", "rectify", "confirmed", "rectified", None),
    ("S6", "2025-12-09T10:00:00", "report", "rectified", "rectified", None),
]


# money recorded per event (case_money): (index in EVENTS, kind, amount, on_date)
MONEY = [
    (13, "recovered", "41220.00", "2025-11-20"),
    (17, "recovered", "2345.67", "2025-12-05"),
]


@pytest.fixture
def register(tmp_path) -> Path:
    rows = []
    for c in CASES:
        sid, rule, subject, region, amount, status, first_seen, *rest = c
        assigned_on, due_date, confirmed_on, severity, report_due, reported_on, reason, recovered, rectified_on = rest
        rows.append(
            {
                "suspect_id": sid,
                "rule": rule,
                "subject_id": subject,
                "person_id": subject if subject.startswith("3301") else None,
                "region_code": region,
                "amount_at_risk": amount,
                "status": status,
                "first_seen": first_seen,
                "assigned_region": region if assigned_on else None,
                "assignee": "A01" if assigned_on else None,
                "assigned_on": assigned_on,
                "due_date": due_date,
                "confirmed_on": confirmed_on,
                "severity": severity,
                "report_due": report_due,
                "reported_on": reported_on,
                "dismissed_reason": reason,
                "recovered_amount": recovered,
                "rectified_on": rectified_on,
            }
        )
    return build_register(tmp_path / "fundwatch.cases.sqlite", rows, EVENTS, MONEY)


@pytest.fixture
def db(tmp_path) -> Path:
    path = tmp_path / "fundwatch.duckdb"
    con = connect(path)
    lineage = "'f.csv', 'r1'"
    con.execute(
        "INSERT INTO benefit_payments (payment_id, person_id, region_code, scheme, benefit_type, period, amount,"
        f" bank_account, source_file, run_id) VALUES"
        f" ('P1', '330102198001011234', '330100', '110', 'pension', '202507', 1000.10, 'B1', {lineage}),"
        f" ('P2', '330102198001011234', '330100', '110', 'pension', '202508', 1000.10, 'B1', {lineage}),"
        f" ('P3', '330102198001011235', '330200', '210', 'unemployment', '202508', 1500.00, 'B2', {lineage}),"
        f" ('P4', '330102198001011235', '330200', '110', 'pension', '202601', 9.99, 'B2', {lineage}),"
        f" ('P5', '330102198001011236', '330200', '110', 'pension', '202506', 9.99, 'B3', {lineage})"
    )
    con.execute(
        "INSERT INTO contributions (employer_id, scheme, period, amount_due, source_file, run_id) VALUES"
        f" ('E001', '110', '202510', 600000.00, {lineage}), ('E002', '210', '202511', 500.50, {lineage}),"
        f" ('E002', '210', '202601', 7.00, {lineage})"
    )
    con.execute(
        "INSERT INTO tax_collections (voucher_no, employer_id, scheme, period, amount_collected, source_file, run_id)"
        f" VALUES ('V1', 'E002', '210', '202511', 500.50, {lineage}),"
        f" ('V2', 'E003', '110', '202509', 100.00, {lineage})"
    )
    con.execute(
        "INSERT INTO finance_ledger (entry_id, account_no, entry_date, direction, amount, scheme, source_file, run_id)"
        f" VALUES ('L1', 'SP1', DATE '2025-08-01', 'in', 1000.00, '110', {lineage}),"
        f" ('L2', 'SP1', DATE '2025-09-01', 'out', 250.25, '110', {lineage}),"
        f" ('L3', 'SP1', DATE '2025-05-01', 'in', 9999.00, '110', {lineage})"
    )
    con.execute(
        "INSERT INTO runs (run_id, as_of, started_at, finished_at, status, files_seen, files_loaded, files_rejected,"
        " rows_loaded, rows_quarantined, findings) VALUES"
        " ('r1', DATE '2025-11-03', TIMESTAMP '2025-11-03 01:00', TIMESTAMP '2025-11-03 01:10', 'bad_input',"
        "  5, 4, 1, 100, 3, 4),"
        " ('r2', DATE '2025-11-20', TIMESTAMP '2025-11-20 01:00', TIMESTAMP '2025-11-20 01:10', 'bad_input',"
        "  3, 3, 0, 50, 2, 4),"
        " ('r3', DATE '2025-12-02', TIMESTAMP '2025-12-02 01:00', TIMESTAMP '2025-12-02 01:10', 'succeeded',"
        "  2, 2, 0, 20, 0, 6)"
    )
    con.close()
    return path


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def xlsx_cells(path: Path) -> list[str]:
    """Every non-empty cell of every sheet, as text."""
    reader = fastexcel.read_excel(path)
    cells: list[str] = []
    for name in reader.sheet_names:
        frame = reader.load_sheet(name, header_row=None, dtypes="string").to_polars()
        for column in frame.columns:
            cells += [v for v in frame[column].to_list() if v is not None]
    return cells


def has_chart(path: Path) -> bool:
    with zipfile.ZipFile(path) as z:
        return "xl/charts/chart1.xml" in z.namelist()


def section(markdown: str, heading: str) -> str:
    """The text of one '## ' section."""
    start = markdown.index(f"## {heading}")
    end = markdown.find("\n## ", start + 1)
    return markdown[start : end if end != -1 else None]


# ---- 定期自查 ------------------------------------------------------------------------------------


def test_monthly_self_check(register, db, tmp_path):
    before = (sha256(register), sha256(db))
    paths = reports.monthly_self_check(
        register, db, "202511", tmp_path / "out", today=dt.date(2026, 11, 27), memory_limit=MEMORY
    )
    assert [p.name for p in paths] == ["自查报告_202511.md", "自查报告_202511.xlsx"]
    md = paths[0].read_text(encoding="utf-8")

    # new findings in November: S1, S3, S4, by rule, amounts exact
    new = section(md, "一、本月新发现疑点")
    assert "新发现疑点 3 件，涉及金额 641,220.20 元" in new
    assert "| DUP_BENEFIT | 重复领取待遇 | 1 | 0.20 |" in new
    assert "| 合计 |  | 3 | 641,220.20 |" in new

    # status at month end replayed from the events: S6 was still under verification (rectified only in December);
    # S5 and S7 were not yet found
    status = section(md, "二、月末案件状态")
    assert "登记案件共 5 件，其中未结 3 件（涉及金额 603,345.77 元），逾期 2 件" in status
    assert "| SHARED_ACCOUNT | 多人共用收款账户 | 0 | 1 | 0 | 0 | 0 | 0 | 1 | 1 | 2,345.67 |" in status
    assert "| 330100 | 0 | 0 | 1 | 0 | 0 | 1 | 2 | 0 | 600,000.00 |" in status

    # dispositions recorded in November, money by the day it moved
    disposals = section(md, "三、本月处置情况")
    assert "| 确认违规 confirmed | 2 | 641,220.00 |" in disposals
    assert "| 排除 dismissed | 1 | 0.20 |" in disposals
    assert "| 已整改 rectified | 1 | 41,220.00 |" in disposals
    assert "| 追回 recovered | 0.00 | 41,220.00 | 41,220.00 |" in disposals
    assert "本月（按款项日期）追回 41,220.00 元、核销 0.00 元。" in disposals
    assert "截至 2025-11-30 累计确认违规 2 件，涉及金额 641,220.00 元：已追回 41,220.00 元（追回率 6.43%）" in disposals
    assert "口径 time base：按登记簿日期" in md

    # overdue at 11-30: S6 (due 11-13) and S2 (due 10-20), largest amount first; IDs masked
    overdue = section(md, "四、逾期案件清单")
    assert "逾期案件共 2 件，涉及金额 3,345.77 元" in overdue
    assert overdue.index("| S6 |") < overdue.index("| S2 |")
    assert "330102********1235" in overdue and "330102198001011235" not in md
    assert "| 2025-10-20 | 41 |" in overdue
    assert "***************0123" in overdue and "6222021234567890123" not in md  # a personal account: last 4 digits

    quality = section(md, "五、数据质量")
    assert "本月运行 2 次，接收文件 8 个，入库 150 行，隔离 5 行，拒收文件 1 个" in quality

    cells = xlsx_cells(paths[1])
    assert "定期自查报告（2025年11月）" in cells
    assert "641220.2" in cells  # the exact total, a number in the cell
    assert has_chart(paths[1])
    assert (sha256(register), sha256(db)) == before  # reports never write


def test_monthly_self_check_rejects_a_bad_month(register, db, tmp_path):
    with pytest.raises(ValueError, match="YYYYMM"):
        reports.monthly_self_check(register, db, "2025-11", tmp_path, today=dt.date(2026, 11, 27), memory_limit=MEMORY)


# ---- 定期报告 ------------------------------------------------------------------------------------


def test_half_year_supervision_report(register, db, tmp_path):
    paths = reports.supervision_report(
        register, db, 2025, 2, tmp_path, today=dt.date(2026, 11, 27), memory_limit=MEMORY, as_of=dt.date(2025, 12, 31)
    )
    assert [p.name for p in paths] == ["监督报告_2025H2.md", "监督报告_2025H2.xlsx"]
    md = paths[0].read_text(encoding="utf-8")
    headings = [line[3:] for line in md.splitlines() if line.startswith("## ")]
    assert headings == list(reports.SUPERVISION_SECTIONS)

    fund = section(md, "一、基金运行基本情况")
    # 202507..202512 only: P1, P2 (pension) and P3 (unemployment); P4 (202601) and P5 (202506) are outside
    assert "共发放待遇 3 笔、3,500.20 元，领取待遇 2 人" in fund
    assert "| pension 基本养老金 | 110 企业职工基本养老保险 | 2 | 1 | 2,000.20 |" in fund
    assert "核定应缴 600,500.50 元，征收入库 600.50 元" in fund
    assert "| 110 企业职工基本养老保险 | 600,000.00 | 100.00 | 599,900.00 | 0.02% |" in fund
    assert "财政专户收入 1,000.00 元、支出 250.25 元" in fund

    work = section(md, "二、监管工作情况")
    assert (
        "（运行日期 2025-07-01 至 2025-12-31）：运行 3 次，接收文件 10 个，入库 170 行，隔离 5 行，拒收文件 1 个"
        in work
    )
    # no finding names its months: each belongs to the month it was found, all between July and December
    assert "本期疑点 7 件，涉及金额 645,075.97 元" in work
    assert "已下达核查 4 件，确认违规 3 件（含部分追回、已整改），排除 1 件，待核查 2 件、核查中 1 件" in work
    assert "| 合计 |  | 7 | 645,075.97 | 1 | 6 | 645,075.77 |" in work

    cases = section(md, "三、基金案件发生及处置情况")
    assert (
        "本期疑点中确认违规 3 件，涉及金额 643,565.67 元：已追回 43,565.67 元（追回率 6.77%），核销 0.00 元，"
        "待追回 600,000.00 元。其中已整改 2 件、部分追回 0 件；排除 1 件，涉及金额 0.20 元。"
    ) in cases
    assert "| RECON_CONTRIB | 征缴对账差异 | 0 | 0.00 | 1 | 600,000.00 | 1 | 600,000.00 |" in cases
    assert "| 核实为补发 back pay | 1 | 0.20 |" in cases

    assessment = section(md, "四、基金安全评估情况")
    assert "追回率 6.77%，追回比例偏低" in assessment
    assert "逾期案件 2 件，占已下达整改期限案件 4 件的 50.00%" in assessment
    assert "总体评估：基金安全存在较大风险" in assessment

    problems = section(md, "五、主要问题和下一步措施")
    assert problems.index("征缴对账差异（RECON_CONTRIB）") < problems.index("死亡后继续领取（DECEASED_PAID）")
    assert "逾期案件最多的统筹区为 330100（1 件）、330200（1 件）" in problems
    assert "会同税务部门逐户核对应缴与实缴差异" in problems

    reader = fastexcel.read_excel(paths[1])
    assert reader.sheet_names[:5] == list(reports.SUPERVISION_SECTIONS)
    assert "3500.2" in xlsx_cells(paths[1])
    assert has_chart(paths[1])


def test_annual_report_file_name_and_period(register, db, tmp_path):
    paths = reports.supervision_report(
        register,
        db,
        2025,
        None,
        tmp_path,
        today=dt.date(2026, 11, 27),
        memory_limit=MEMORY,
        as_of=dt.date(2025, 12, 31),
    )
    assert paths[0].name == "监督报告_2025年度.md"
    md = paths[0].read_text(encoding="utf-8")
    assert "社会保险基金监督2025年度定期报告" in md
    assert "共发放待遇 4 笔、3,510.19 元" in md  # P5 (202506) now in the period
    assert "财政专户收入 10,999.00 元" in md


# ---- 定期通报 ------------------------------------------------------------------------------------


def test_circulation_ranks_regions(register, db, tmp_path):
    paths = reports.circulation(register, db, dt.date(2025, 12, 10), tmp_path, memory_limit=MEMORY)
    assert [p.name for p in paths] == ["通报_2025-12-10.md", "通报_2025-12-10.xlsx"]
    md = paths[0].read_text(encoding="utf-8")
    by_region = section(md, "二、各统筹区情况")
    # 330300: S5 and S7 open; 330200: S2 open and overdue; 330100: S4 confirmed, not yet due
    assert by_region.index("| 330300 |") < by_region.index("| 330200 |") < by_region.index("| 330100 |")
    assert "| 330300 | 2 | 1 | 0 | 2 | 2,345.67 | 2 | 510.00 |" in by_region
    assert "| 330200 | 1 | 2 | 1 | 1 | 0.00 | 3 | 1,000.10 |" in by_region
    assert "| 330100 | 1 | 2 | 0 | 2 | 41,220.00 | 1 | 600,000.00 |" in by_region
    rankings = section(md, "三、排名")
    recovered = rankings[rankings.index("追回金额排名") :]
    assert recovered.index("330100") < recovered.index("330300") < recovered.index("330200")
    assert "累计追回金额 43,565.67 元" in md
    assert has_chart(paths[1])


# ---- 要情统计 ------------------------------------------------------------------------------------


def test_yaoqing_statistics_flags_late_and_missing_reports(register, db, tmp_path):
    paths = reports.yaoqing_statistics(
        register, db, 2025, 2, tmp_path, today=dt.date(2026, 11, 27), memory_limit=MEMORY, as_of=dt.date(2025, 12, 31)
    )
    assert [p.name for p in paths] == ["要情统计_2025H2.md", "要情统计_2025H2.xlsx"]
    md = paths[0].read_text(encoding="utf-8")
    assert "零报告" not in md
    assert "共发生要情 2 件、重大要情 1 件，合计 3 件，涉及金额 643,565.67 元" in md
    assert "| DECEASED_PAID | 死亡后继续领取 | 1 | 41,220.00 | 0 | 0.00 | 1 | 41,220.00 |" in md
    assert "| 330300 | 1 | 2,345.67 | 0 | 0.00 | 1 | 2,345.67 |" in md
    money = section(md, "四、追回及核销")
    assert "| 合计 |  | 3 | 643,565.67 | 43,565.67 | 0.00 | 600,000.00 | 6.77% | 0.00 |" in money
    timeliness = section(md, "五、报送及时性")
    assert "按时报告 1 件；逾期报告 1 件；逾期未报 1 件；未到期限 0 件" in timeliness
    assert "| S4 |" in timeliness and "⚠ 逾期未报" in timeliness and "⚠ 逾期报告" in timeliness
    assert has_chart(paths[1])


def test_yaoqing_zero_report(register, db, tmp_path):
    paths = reports.yaoqing_statistics(
        register, db, 2025, 1, tmp_path, today=dt.date(2026, 11, 27), memory_limit=MEMORY, as_of=dt.date(2025, 7, 1)
    )
    assert paths[0].name == "要情统计_2025H1.md"
    md = paths[0].read_text(encoding="utf-8")
    assert "零报告" in md
    assert "2025年上半年（2025-01-01 至 2025-06-30），本地区未发生社会保险基金要情（含重大要情），特此零报告。" in md
    assert any("特此零报告" in cell for cell in xlsx_cells(paths[1]))


# ---- helpers ------------------------------------------------------------------------------------


def test_money_and_markdown_helpers():
    from decimal import Decimal

    assert fmt_money(Decimal("41220")) == "41,220.00"
    assert fmt_money(Decimal("0.1") + Decimal("0.2")) == "0.30"
    assert competition_ranks([10, 7, 7, 3]) == [1, 2, 2, 4]
    table = markdown_table([Col("对象"), Col("金额", "money")], [["E1|110|202501", Decimal("5")]])
    assert table.splitlines() == ["| 对象 | 金额 |", "|---|---:|", "| E1\\|110\\|202501 | 5.00 |"]


def test_every_report_runs_on_empty_sources(tmp_path):
    """A new office: no cases, no runs, no extracts. Every report still comes out, saying so."""
    register = tmp_path / "empty.cases.sqlite"
    con = sqlite3.connect(register)
    con.executescript(SCHEMA.read_text(encoding="utf-8"))
    con.close()
    db = tmp_path / "empty.duckdb"
    connect(db).close()
    out = tmp_path / "out"
    paths = [
        *reports.monthly_self_check(
            register, db, "202511", out, today=dt.date(2026, 11, 27), memory_limit=MEMORY, as_of=dt.date(2025, 11, 30)
        ),
        *reports.supervision_report(
            register, db, 2025, 1, out, today=dt.date(2026, 11, 27), memory_limit=MEMORY, as_of=dt.date(2025, 6, 30)
        ),
        *reports.circulation(register, db, dt.date(2025, 11, 27), out, memory_limit=MEMORY),
        *reports.yaoqing_statistics(
            register, db, 2025, 2, out, today=dt.date(2026, 11, 27), memory_limit=MEMORY, as_of=dt.date(2025, 12, 31)
        ),
        *reports.adjudication_report(register, "202511", out, today=dt.date(2026, 11, 27)),
    ]
    assert all(p.exists() for p in paths)
    texts = {p.name: p.read_text(encoding="utf-8") for p in paths if p.suffix == ".md"}
    assert "本月（2025-11-01 至 2025-11-30）未发现新的疑点" in texts["自查报告_202511.md"]
    assert "无夜间运行记录" in texts["监督报告_2025H1.md"]
    assert all(f"## {h}" in texts["监督报告_2025H1.md"] for h in reports.SUPERVISION_SECTIONS)
    assert "特此零报告" in texts["要情统计_2025H2.md"]
    assert "本月（2025-11-01 至 2025-11-30）无事前筛查记录" in texts["核实认定月报_202511.md"]
    for p in paths:
        if p.suffix == ".xlsx":
            assert fastexcel.read_excel(p).sheet_names


def test_circulation_names_regions_with_nothing_to_rank(register, db, tmp_path):
    md = reports.circulation(register, db, dt.date(2025, 12, 10), tmp_path, memory_limit=MEMORY)[0].read_text(
        encoding="utf-8"
    )
    assert "其余 2 个统筹区为 0：330100、330300。" in md  # no overdue cases there


def test_sources_must_exist(register, db, tmp_path):
    with pytest.raises(FileNotFoundError, match="案件登记簿"):
        reports.circulation(tmp_path / "missing.sqlite", db, dt.date(2025, 12, 10), tmp_path, memory_limit=MEMORY)
    with pytest.raises(FileNotFoundError, match="no DuckDB file"):
        reports.circulation(register, tmp_path / "missing.duckdb", dt.date(2025, 12, 10), tmp_path, memory_limit=MEMORY)
    assert not list(tmp_path.glob("通报_*"))
