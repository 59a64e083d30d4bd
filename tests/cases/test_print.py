"""Every workbook prints as an official would want it (docs/adr/0017-print-ready-workbooks.md).

The fast tests read the page setup a workbook asks for (its XML): A4, orientation, fit to width, repeated
header rows, 宋体, the page header and footer, one page per chart, amounts plotted in 万元. The slow ones
print through a real spreadsheet engine — LibreOffice headless converts each workbook to PDF, `pdftotext`
reads it back — and count the pages, find the page header, the footer's page numbers and the Chinese text in
the PDF's text layer, and check a CJK font drew it.

They need `soffice` (Debian `libreoffice-calc`), a CJK font (`fonts-noto-cjk`) and `pdftotext`/`pdffonts`
(`poppler-utils`): `make system-deps` installs them (as root). Missing, the print tests FAIL naming the
package; they never skip. Each session converts with its own LibreOffice profile, so parallel runs do not clash.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
import zipfile
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import fastexcel
import polars as pl
import pytest

from pipelines.cases import reports
from pipelines.cases.export import checklist_path, export_checklist
from pipelines.cases.printing import OFFICE, page_header, text_lines
from pipelines.cases.reports.document import Chart, Col, Document, Section, Table
from pipelines.cases.reports.xlsx import XlsxReport, header_lines
from tests.cases.test_export import ACCOUNT, PERSON, REGION, case, cases_frame
from tests.cases.test_reports import MEMORY, db, register  # noqa: F401 — the reports' register and DuckDB file

SYSTEM_PACKAGES = "libreoffice-calc libreoffice-writer fonts-noto-cjk poppler-utils"
TODAY = dt.date(2025, 12, 10)
CJK_FONT = re.compile(r"CJK|Sim|Song|Hei|Ming|Kai|WenQuanYi|wqy|Droid|Source Han", re.I)


# ---- the engine ----------------------------------------------------------------------------------------------


def _missing(what: str, package: str) -> None:
    pytest.fail(
        f"{what} is missing: install the Debian package {package} "
        f"(`make system-deps`, or as root: apt-get install -y --no-install-recommends {SYSTEM_PACKAGES}); "
        "the print test cannot run without it",
        pytrace=False,
    )


@pytest.fixture(scope="session")
def print_to_pdf(tmp_path_factory):
    """Converts workbooks to PDF with LibreOffice headless, a private profile per test session.

    Returns convert(paths, out_dir) -> {stem: [each page]}.
    """
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        _missing("LibreOffice (soffice)", "libreoffice-calc")
    for tool in ("pdftotext", "pdffonts"):
        if shutil.which(tool) is None:
            _missing(tool, "poppler-utils")
    fonts = subprocess.run(["fc-list", ":lang=zh", "family"], capture_output=True, text=True, check=False).stdout
    if not fonts.strip():
        _missing("a font with Chinese glyphs", "fonts-noto-cjk")
    profile = tmp_path_factory.mktemp("libreoffice-profile")

    def convert(paths: list[Path], out_dir: Path) -> dict[str, list[str]]:
        done = subprocess.run(
            [
                soffice,
                f"-env:UserInstallation={profile.as_uri()}",
                "--headless",
                "--norestore",
                "--convert-to",
                "pdf",
                "--outdir",
                str(out_dir),
                *map(str, paths),
            ],
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        pages = {}
        for path in paths:
            pdf = out_dir / f"{path.stem}.pdf"
            assert pdf.exists(), f"LibreOffice made no PDF of {path.name}: {done.stdout}{done.stderr}"
            fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout
            assert CJK_FONT.search(fonts), f"{pdf.name}: no CJK font drew the Chinese text:\n{fonts}"
            layout, text = (
                subprocess.run(
                    ["pdftotext", *mode, str(pdf), "-"], capture_output=True, text=True, check=True
                ).stdout.split("\f")[:-1]  # every page ends with a form feed
                for mode in (["-layout"], [])
            )
            pages[path.stem] = [Page(*both) for both in zip(layout, text, strict=True)]
        return pages

    return convert


@dataclass(frozen=True)
class Page:
    """A printed page as `pdftotext` reads it: laid out as printed (lines across the page: the page header and
    footer) and as text blocks (a wrapped cell is one block, whitespace removed: `text`)."""

    layout: str
    blocks: str

    @property
    def text(self) -> str:
        return re.sub(r"\s+", "", self.blocks)

    @property
    def first_line(self) -> str:
        return next(line for line in self.layout.splitlines() if line.strip())


def footer(page: Page) -> tuple[str, int, int]:
    """(sheet name, page number, pages) from a page's footer line: '<sheet>     第 3 页 共 12 页'."""
    lines = [line for line in page.layout.splitlines() if line.strip()]
    match = re.fullmatch(r"\s*(.*?)\s+第\s*(\d+)\s*页\s*共\s*(\d+)\s*页\s*", lines[-1])
    assert match, f"no footer with page numbers on this page: {lines[-1]!r}"
    return match.group(1), int(match.group(2)), int(match.group(3))


def squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


def all_text(pages: list[Page]) -> str:
    return "".join(page.text for page in pages)


# ---- fast: what a workbook asks the printer for ----------------------------------------------------------------


def xml(path: Path, member: str) -> str:
    with zipfile.ZipFile(path) as book:
        return book.read(member).decode()


def sheet_files(path: Path) -> dict[str, str]:
    """Sheet name -> its worksheet XML, in workbook order."""
    names = fastexcel.read_excel(path).sheet_names
    return {name: xml(path, f"xl/worksheets/sheet{i}.xml") for i, name in enumerate(names, start=1)}


def wide_document(rows: int = 150) -> Document:
    """A report with one long table (a page break inside it) and two charts, one of amounts."""
    table = Table(
        title="各统筹区疑点 findings by region",
        columns=[
            Col("统筹区 region"),
            Col("疑点件数", "int"),
            Col("涉及金额（元）", "money"),
            Col("未结涉及金额（元）", "money"),
            Col("说明 note"),
        ],
        rows=[
            [f"33{i:04d}", i % 7, Decimal(f"{i * 1234}.56"), Decimal(f"{i * 100}.01"), "核查中 under verification"]
            for i in range(1, rows + 1)
        ],
        total=[
            "合计",
            sum(i % 7 for i in range(1, rows + 1)),
            sum(Decimal(f"{i * 1234}.56") for i in range(1, rows + 1)),
            sum(Decimal(f"{i * 100}.01") for i in range(1, rows + 1)),
            "",
        ],
        chart=Chart("涉及金额（按统筹区）（元）", category=0, values=(2, 3)),
    )
    counts = Table(
        columns=[Col("规则名称"), Col("件数", "int")],
        rows=[["死亡后继续领取", 3], ["重复领取待遇", 12], ["多人共用收款账户", 1]],
        chart=Chart("疑点件数（按规则）", category=0, values=(1,), kind="bar"),
    )
    return Document(
        title="社会保险基金监督测试报告",
        meta=["报告期间 period：2025-07-01 至 2025-12-31"],
        sections=[
            Section("一、按规则", ["本期疑点按规则统计如下。" * 12, counts]),
            Section("二、按统筹区", ["本期疑点按统筹区统计如下。", table, "以上为各统筹区情况。"]),
        ],
        date=dt.date(2025, 12, 31),
    )


def test_a_report_workbook_asks_for_a4_fitted_to_width_with_its_header_rows(tmp_path):
    path = tmp_path / "r.xlsx"
    XlsxReport(path).write(wide_document())
    sheets = sheet_files(path)
    assert list(sheets) == ["一、按规则", "二、按统筹区", "附图1", "附图2"]  # sections, then one sheet per chart
    for name, sheet in sheets.items():
        setup = re.search(r"<pageSetup [^>]*/>", sheet).group(0)
        assert 'paperSize="9"' in setup and '<pageSetUpPr fitToPage="1"/>' in sheet, name
        header = re.search(r"<oddHeader>(.*)</oddHeader>", sheet).group(1)
        assert OFFICE in header and "社会保险基金监督测试报告" in header and "日期 2025-12-31" in header, name
        assert "第 &amp;P 页 共 &amp;N 页" in re.search(r"<oddFooter>(.*)</oddFooter>", sheet).group(1), name
    # a section: one page wide, as many high as it takes; a chart: exactly one landscape page
    assert 'fitToHeight="0"' in re.search(r"<pageSetup [^>]*/>", sheets["二、按统筹区"]).group(0)
    for chart_sheet in ("附图1", "附图2"):
        setup = re.search(r"<pageSetup [^>]*/>", sheets[chart_sheet]).group(0)
        assert 'orientation="landscape"' in setup and "fitToHeight" not in setup  # 1 x 1, the default
        assert 'fitToWidth="' not in setup
    workbook = xml(path, "xl/workbook.xml")
    # the long table's header row (below the title, heading, a paragraph and a caption) repeats on every page
    assert '<definedName name="_xlnm.Print_Titles" localSheetId="1">\'二、按统筹区\'!$7:$7</definedName>' in workbook
    assert '<definedName name="_xlnm.Print_Area" localSheetId="2">附图1!$A$1:$O$' in workbook
    fonts = set(re.findall(r'<name val="([^"]+)"/>', xml(path, "xl/styles.xml")))
    assert fonts == {"SimSun"}


def test_a_chart_plots_amounts_in_ten_thousand_yuan(tmp_path):
    path = tmp_path / "r.xlsx"
    XlsxReport(path).write(wide_document(rows=3))
    chart_sheet = sheet_files(path)["附图2"]  # 附图1 is the chart of the first section
    # the plotted series: formulas on the table's exact cells, divided by 10,000, with their values
    assert "<f>'二、按统筹区'!C8/10000</f><v>0.123456</v>" in chart_sheet  # 1,234.56 yuan
    assert "<f>'二、按统筹区'!D10/10000</f><v>0.030001</v>" in chart_sheet  # 300.01 yuan
    chart = xml(path, "xl/charts/chart2.xml")
    assert "金额（万元）" in chart and "涉及金额（按统筹区）（万元）" in chart  # axis and title say 万元
    assert "<c:f>附图2!$T$3:$T$5</c:f>" in chart  # the 万元 column, not the yuan of the table
    assert 'formatCode="#,##0.0"' in chart
    counts = xml(path, "xl/charts/chart1.xml")
    assert "件数（件）" in counts and "<c:f>'一、按规则'!$B$" in counts  # counts are plotted as they are


def test_many_categories_turn_their_labels(tmp_path):
    path = tmp_path / "r.xlsx"
    XlsxReport(path).write(wide_document(rows=40))
    assert 'rot="-2700000"' in category_axis(xml(path, "xl/charts/chart2.xml"))  # -45°
    XlsxReport(tmp_path / "few.xlsx").write(wide_document(rows=3))
    assert "rot=" not in category_axis(xml(tmp_path / "few.xlsx", "xl/charts/chart2.xml"))


def category_axis(chart: str) -> str:
    return chart.split("<c:catAx>")[1].split("</c:catAx>")[0]


def test_a_report_without_a_date_prints_the_day_it_is_printed(tmp_path):
    doc = wide_document(rows=2)
    doc.date = None
    XlsxReport(tmp_path / "r.xlsx").write(doc)
    assert "打印日期 &amp;D" in sheet_files(tmp_path / "r.xlsx")["一、按规则"]


def test_headers_break_where_they_read_best():
    assert header_lines("规则 rule") == "规则 rule"  # short: whole
    assert header_lines("核查中 under_verification") == "核查中\nunder_verification"
    assert header_lines("未结涉及金额（元）") == "未结涉及金额\n（元）"
    assert header_lines("超出涉及金额的追回（罚没等）（元）") == "超出涉及金额的追回\n（罚没等）（元）"


def test_wrapped_lines_are_counted_generously():
    assert text_lines("", 10) == 1
    assert text_lines("死亡后继续领取", 40) == 1
    assert text_lines("疑点说明" * 40, 40) == 9  # 320 characters of width in 39 a line
    assert text_lines("a\nb", 40) == 2
    assert text_lines("核查中 under_verification", 14) == 3  # the word moves down, then breaks


def test_the_page_header_is_escaped_and_kept_within_the_limit():
    header = page_header(OFFICE, "A&B " + "很长的标题" * 80, "日期 2025-12-31")
    assert "A&&B" in header and len(header) <= 255 and header.endswith("日期 2025-12-31") and "…" in header
    assert page_header(OFFICE, "2025年报告", "x").count("&12 2025年报告") == 1  # a digit is not a font size


# ---- slow: printed through LibreOffice -----------------------------------------------------------------------


def checklist_cases(rows: int) -> pl.DataFrame:
    """`rows` open cases of the region, with long summaries, a personal account and a provisional deadline."""
    summary = "2025年3月死亡（公安户籍注销，2025-03-15），其后仍发放基本养老金9个月，共计41,220.00元；身份证 " + PERSON
    cases = [
        case(
            f"SP-{i:016x}",
            "open" if i % 2 else "under_verification",
            f"{1000 * i}.50",
            summary=summary,
            assignee="张三" if i % 2 == 0 else None,
            due_date="2026-04-14" if i % 2 == 0 else None,
        )
        for i in range(1, rows)
    ]
    cases.append(
        case(
            "SP-shared-account",
            "under_verification",
            "144151.08",
            rule="SHARED_ACCOUNT",
            subject=ACCOUNT,
            person=None,
            summary=f"银行账号{ACCOUNT}在2025年1月至2025年12月间12个月收到3人及以上的待遇发放（共3人）",
            assignee="李四",
            due_date="2027-01-14",
        )
    )
    frame = cases_frame(*cases)
    provisional = [1 if c["suspect_id"] == "SP-shared-account" else 0 for c in cases]
    return frame.with_columns(pl.Series("due_provisional", provisional, dtype=pl.Int64))


@pytest.mark.slow
def test_the_checklists_print(print_to_pdf, tmp_path):
    """A 6-row checklist prints on one landscape page; 60 rows on a few, the header row on each."""
    day = dt.date(2026, 12, 1)
    short = export_checklist(checklist_cases(6), REGION, checklist_path(tmp_path / "s", REGION, day), generated_on=day)
    long = export_checklist(checklist_cases(60), REGION, tmp_path / "long.xlsx", generated_on=day)
    unmasked = export_checklist(
        checklist_cases(6),
        REGION,
        checklist_path(tmp_path / "s", REGION, day, masked=False),
        mask_ids=False,
        generated_on=day,
    )
    pdf = print_to_pdf([short, long, unmasked], tmp_path / "pdf")

    [page] = pdf[short.stem]  # one page
    text = page.text
    assert footer(page) == ("核查清单", 1, 1)
    for expected in (
        OFFICE,
        "核查清单（统筹区330100）",  # the page header
        "生成日期2026-12-01",
        "疑点编号suspect_id",
        "死亡后继续领取",  # a rule name
        "多人共用收款账户",
        "2027-01-14（暂定",  # a provisional deadline says so
        "144,151.08",  # amounts in yuan with thousands separators
        "***************0123",  # the personal account, its last 4 digits
        "330102********1234",
    ):
        assert expected in text, f"{expected!r} is not on the printed checklist"
    assert PERSON not in text and ACCOUNT not in text
    assert page.first_line.split()[0] == OFFICE  # the office heads the page, left

    long_pages = pdf[long.stem]
    assert 2 <= len(long_pages) <= 8, f"60 checklist rows printed on {len(long_pages)} pages"
    for number, page in enumerate(long_pages, start=1):
        assert footer(page) == ("核查清单", number, len(long_pages))
        assert "疑点编号suspect_id" in page.text, f"page {number} lacks the header row"
    printed = re.findall(r"SP-[0-9a-f]{16}|SP-shared-account", all_text(long_pages))
    assert len(printed) == len(set(printed)) == 60  # every row once, none cut off

    [page] = pdf[unmasked.stem]
    assert "未脱敏" in page.first_line  # in the page header
    assert PERSON in page.text and ACCOUNT in page.text


@pytest.mark.slow
def test_every_report_prints(print_to_pdf, register, db, tmp_path):  # noqa: F811 — fixtures of test_reports
    """Each report: every sheet prints, a section on at most 2 pages, a chart on exactly one, Chinese text in
    the text layer, the office, title and page numbers on every page; a long table's header on every page."""
    out = tmp_path / "out"
    papers = [
        *reports.monthly_self_check(register, db, "202511", out, today=TODAY, memory_limit=MEMORY),
        *reports.supervision_report(register, db, 2025, 2, out, today=TODAY, memory_limit=MEMORY),
        *reports.circulation(register, db, TODAY, out, memory_limit=MEMORY),
        *reports.yaoqing_statistics(register, db, 2025, 2, out, today=TODAY, memory_limit=MEMORY),
        *reports.adjudication_report(register, "202511", out, today=TODAY),
    ]
    workbooks = [p for p in papers if p.suffix == ".xlsx"]
    XlsxReport(out / "wide.xlsx").write(wide_document())
    workbooks.append(out / "wide.xlsx")
    pdf = print_to_pdf(workbooks, tmp_path / "pdf")

    counts = {}
    for workbook in workbooks:
        names = fastexcel.read_excel(workbook).sheet_names
        pages = pdf[workbook.stem]
        counts[workbook.stem] = len(pages)
        title = squeeze(fastexcel.read_excel(workbook).load_sheet(0, header_row=None).to_polars().row(0)[0])
        per_sheet: dict[str, list[str]] = {}
        for number, page in enumerate(pages, start=1):
            sheet, page_number, total = footer(page)
            assert (page_number, total) == (number, len(pages)), f"{workbook.name} page {number}"
            assert sheet in names, f"{workbook.name} page {number}: footer names {sheet!r}, not a sheet"
            assert OFFICE in page.first_line and title in squeeze(page.first_line), f"{workbook.name} p. {number}"
            per_sheet.setdefault(sheet, []).append(page)
        assert list(per_sheet) == names, f"{workbook.name}: sheets printed out of order or not at all"
        for sheet, sheet_pages in per_sheet.items():
            if sheet.startswith("附图"):
                assert len(sheet_pages) == 1, f"{workbook.name}: chart {sheet} split over {len(sheet_pages)} pages"
                assert sheet in sheet_pages[0].text
            elif workbook.stem != "wide":
                assert len(sheet_pages) <= 2, f"{workbook.name}: section {sheet} on {len(sheet_pages)} pages"
                assert squeeze(sheet)[:10] in sheet_pages[0].text, f"{workbook.name}: heading of {sheet}"

    # Chinese in the text layer: titles, headings, rule names, amounts as printed
    monthly = all_text(pdf["自查报告_202511"])
    for expected in ("定期自查报告（2025年11月）", "一、本月新发现疑点", "重复领取待遇", "641,220.20", "万元"):
        assert expected in monthly, f"{expected!r} not in the printed monthly report"
    supervision = all_text(pdf["监督报告_2025H2"])
    assert "社会保险基金监督2025年下半年定期报告" in supervision and "五、主要问题和下一步措施" in supervision

    # the long table: its header row on every page of its sheet, every row printed once
    wide = [page for page in pdf["wide"] if footer(page)[0] == "二、按统筹区"]
    assert 2 <= len(wide) <= 8
    assert all("统筹区region" in page.text for page in wide)
    printed = re.findall(r"\b33\d{4}\b", "".join(page.blocks for page in wide))
    assert sorted(set(printed)) == [f"33{i:04d}" for i in range(1, 151)]

    # the page counts this register gives (the closing note of issue 12 reports them)
    assert counts["自查报告_202511"] <= 5 * 2 + 3 and counts["通报_2025-12-10"] <= 3 * 2 + 6, counts
    print("pages:", counts)
