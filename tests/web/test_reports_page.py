"""The reports page: every report generated from its form as the command writes it (Markdown byte for byte, the
same workbook), answered as a download with its Chinese file name or as an A4 print view; chiefs and auditors only;
a wrong value said on the page; every report made recorded in the audit trail."""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from io import BytesIO
from urllib.parse import unquote

import pytest

from pipelines.cases.reports import circulation, monthly_self_check, supervision_report, yaoqing_statistics
from pipelines.cases.reports.adjudication import adjudication_report
from pipelines.cases.reports.indicators import indicators_report
from pipelines.cases.reports.internal_audit import audit_report
from pipelines.web import reportpages
from tests.web.conftest import ROLES, World, csrf
from tests.web.test_workbench import audit_rows

TODAY = dt.date(2026, 1, 15)  # the world's clock (START, in Shanghai)

FORMS = {
    "monthly": ({"month": "202512"}, "自查报告_202512"),
    "half-year": ({"year": "2025", "half": "2"}, "监督报告_2025H2"),
    "annual": ({"year": "2025"}, "监督报告_2025年度"),
    "circulation": ({"as_of": "2026-01-10"}, "通报_2026-01-10"),
    "yaoqing": ({"year": "2025", "half": "2"}, "要情统计_2025H2"),
    "adjudication": ({"month": "202512", "as_of": "2026-01-10"}, "核实认定月报_202512"),
    "internal-audit": ({"month": "202512"}, "稽核报告_202512"),
    "indicators": ({"month_from": "202501", "month_to": "202612"}, "监测指标_202501_202612"),
}


def command_files(world: World, kind: str, out) -> list:
    """What `fundwatch report` writes for the same values (the functions its command calls)."""
    register, db, limit = world.register, world.db, world.config.memory_limit
    if kind == "monthly":
        return monthly_self_check(register, db, "202512", out, today=TODAY, memory_limit=limit)
    if kind == "half-year":
        return supervision_report(register, db, 2025, 2, out, today=TODAY, memory_limit=limit)
    if kind == "annual":
        return supervision_report(register, db, 2025, None, out, today=TODAY, memory_limit=limit)
    if kind == "circulation":
        return circulation(register, db, dt.date(2026, 1, 10), out, memory_limit=limit)
    if kind == "adjudication":
        return adjudication_report(register, "202512", out, today=TODAY, as_of=dt.date(2026, 1, 10))
    if kind == "internal-audit":
        return audit_report(register, "202512", out, today=TODAY)
    if kind == "indicators":
        return indicators_report(db, out, month_from="202501", month_to="202612", today=TODAY, memory_limit=limit)
    return yaoqing_statistics(register, db, 2025, 2, out, today=TODAY, memory_limit=limit)


def filename(response) -> str:
    found = re.search(r"filename\*=UTF-8''([^;]+)", response.headers["content-disposition"])
    assert found, response.headers["content-disposition"]
    return unquote(found.group(1))


def sheet_text(workbook: bytes) -> str:
    with zipfile.ZipFile(BytesIO(workbook)) as z:
        return z.read("xl/sharedStrings.xml").decode("utf-8")


@pytest.mark.parametrize("kind", sorted(FORMS))
def test_each_report_downloads_as_the_command_writes_it(world, kind, tmp_path):
    client = world.login(ROLES["chief"])
    page = client.get("/reports")
    assert page.status_code == 200 and f'id="report-{kind}"' in page.text
    values, stem = FORMS[kind]
    token = csrf(page.text)
    md = client.post(f"/reports/{kind}", data={"csrf": token, "format": "md", **values})
    assert md.status_code == 200, md.text[:500]
    assert md.headers["content-type"].startswith("text/markdown")
    assert md.headers["content-disposition"].startswith("attachment;")
    assert filename(md) == f"{stem}.md"
    written_md, written_xlsx = command_files(world, kind, tmp_path / "cli")
    assert md.content == written_md.read_bytes()  # the same report, byte for byte
    xlsx = client.post(f"/reports/{kind}", data={"csrf": token, "format": "xlsx", **values})
    assert xlsx.status_code == 200 and filename(xlsx) == f"{stem}.xlsx"
    assert xlsx.content[:2] == b"PK"
    assert sheet_text(xlsx.content) == sheet_text(written_xlsx.read_bytes())
    made = audit_rows(world, "report")[-2:]
    assert [(r["actor"], r["target"], r["outcome"], r["detail"]) for r in made] == [
        ("chief", f"{kind}:{stem}", "ok", "md"),
        ("chief", f"{kind}:{stem}", "ok", "xlsx"),
    ]


def test_the_print_view_shows_every_section_and_table_for_a4(world):
    client = world.login(ROLES["auditor"])
    token = csrf(client.get("/reports").text)
    shown = client.post("/reports/monthly", data={"csrf": token, "format": "print", "month": "202512"})
    assert shown.status_code == 200
    doc, _ = reportpages.build(
        "monthly",
        {"month": "202512"},
        register=world.register,
        db=world.db,
        today=TODAY,
        memory_limit=world.config.memory_limit,
    )
    html = shown.text
    assert f"<h1>{doc.title}</h1>" in html
    for section in doc.sections:
        assert f"<h2>{section.heading}</h2>" in html
    tables = sum(1 for s in doc.sections for b in s.blocks if not isinstance(b, str))
    assert html.count("<table>") == tables
    assert '<link rel="stylesheet" href="/static/print.css">' in html
    css = client.get("/static/print.css").text
    assert "size: A4" in css and "@media print" in css
    assert "<script" not in html.lower()  # no script needed, none allowed by the CSP


def test_a_chart_s_bars_scale_to_the_largest_value():
    from decimal import Decimal

    from pipelines.cases.reports.document import Chart, Col, Table

    table = Table(
        [Col("规则"), Col("件数", "int"), Col("金额", "money")],
        [["A", 2, Decimal("50.00")], ["B", 4, Decimal("0")]],
        chart=Chart("按规则", 0, (1, 2)),
    )
    view = reportpages.chart_view(table, table.chart)
    assert [g["label"] for g in view.groups] == ["A", "B"]
    assert [[b["width"] for b in g["bars"]] for g in view.groups] == [[14, 360], [28, 0]]
    assert [b["text"] for b in view.groups[0]["bars"]] == ["2", "50.00"]
    assert [b["text"] for b in view.groups[1]["bars"]] == ["4", ""]  # a zero among several series is not labelled


@pytest.mark.parametrize(
    ("kind", "values", "said"),
    [
        ("monthly", {"month": "2025-12"}, "YYYYMM"),
        ("monthly", {"month": "202513"}, "YYYYMM"),
        ("half-year", {"year": "2025", "half": "3"}, "1 or 2"),
        ("annual", {"year": "25"}, "four digits"),
        ("circulation", {"as_of": "<script>"}, "YYYY-MM-DD"),
    ],
)
def test_a_wrong_value_is_said_on_the_page_and_nothing_is_made(world, kind, values, said):
    client = world.login(ROLES["chief"])
    token = csrf(client.get("/reports").text)
    response = client.post(f"/reports/{kind}", data={"csrf": token, "format": "xlsx", **values})
    assert response.status_code == 400 and said in response.text
    assert "<script>" not in response.text
    assert "content-disposition" not in response.headers
    assert audit_rows(world, "report")[-1]["outcome"] == "error"


def test_an_unknown_report_or_format_is_not_found(world):
    client = world.login(ROLES["chief"])
    token = csrf(client.get("/reports").text)
    assert client.post("/reports/weekly", data={"csrf": token, "format": "md"}).status_code == 404
    assert client.post("/reports/monthly", data={"csrf": token, "format": "pdf", "month": "202512"}).status_code == 404


@pytest.mark.parametrize(("role", "status"), [("chief", 200), ("auditor", 200), ("verifier", 403), ("admin", 403)])
def test_reports_are_for_chiefs_and_auditors(world, role, status):
    client = world.login(ROLES[role])
    assert client.get("/reports").status_code == status
    token = csrf(client.get("/staff" if role == "admin" else "/queue").text)
    made = client.post("/reports/monthly", data={"csrf": token, "format": "md", "month": "202512"})
    assert made.status_code == status
    if status == 403:
        assert "content-disposition" not in made.headers
    assert ('href="/reports"' in client.get("/staff" if role == "admin" else "/queue").text) == (status == 200)


def test_a_report_needs_the_form_s_csrf_token(world):
    client = world.login(ROLES["chief"])
    forged = client.post("/reports/monthly", data={"csrf": "forged", "format": "md", "month": "202512"})
    assert forged.status_code == 403 and "content-disposition" not in forged.headers


@pytest.mark.slow
def test_the_print_view_prints_on_a4_in_chromium_with_every_column(world, tmp_path):
    """The print view as a browser prints it: Chromium headless to PDF (system-deps installs it), A4 pages, and
    the last column of the widest table (the status table, 11 columns) on the page, not cut off."""
    import shutil
    import subprocess

    chromium, pdftotext = shutil.which("chromium"), shutil.which("pdftotext")
    assert chromium and pdftotext, "chromium and poppler-utils are needed: make system-deps installs them"
    client = world.login(ROLES["chief"])
    token = csrf(client.get("/reports").text)
    html = client.post("/reports/monthly", data={"csrf": token, "format": "print", "month": "202512"}).text
    static = reportpages.__file__.rsplit("/", 1)[0] + "/static/"
    page = tmp_path / "print.html"
    page.write_text(html.replace('href="/static/', f'href="file://{static}'), encoding="utf-8")
    pdf = tmp_path / "print.pdf"
    subprocess.run(
        [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--no-pdf-header-footer",
            f"--print-to-pdf={pdf}",
            page.as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    info = subprocess.run(["pdfinfo", str(pdf)], check=True, capture_output=True, text=True).stdout
    assert re.search(r"Page size:\s+59[45](\.\d+)? x 84[12](\.\d+)? pts \(A4\)", info), info
    text = subprocess.run([pdftotext, "-layout", str(pdf), "-"], check=True, capture_output=True, text=True).stdout
    assert "定期自查报告" in text and "未结涉及金额" in text and "overdue" in text
