"""A person's whole picture (`/person`, by POST only) and the data-quality page (`/quality`) of the workbench
(issue 13): roles, masking, escaping, no citizen ID in a URL, a link or a log line, and the pages' figures
against the tables of the test world."""

from __future__ import annotations

import datetime as dt
import logging
import re
from decimal import Decimal

import duckdb
import pytest

from pipelines.cases import register as reg
from pipelines.present.masking import mask_account, mask_id
from pipelines.present.money import fmt_money
from pipelines.warehouse.runs import zone_timestamps
from pipelines.warehouse.views import create_views
from tests.cases.test_evidence import ACCOUNT_OF, TWICE
from tests.web.conftest import DEAD, EVIL_NAME, ROLES, World, csrf

FULL_ID = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")
LINK = re.compile(r'(?:href|action)="([^"]*)"')
CASE_LINK = re.compile(r'href="/case/([^"]+)"')
# A citizen ID of nobody in the world (check digit computed like the world's)
STRANGER = "110101199003070038"


def person(client, **data):
    """The person page as its form sends it, with the CSRF token of the form page."""
    token = csrf(client.get("/person").text)
    return client.post("/person", data={"csrf": token, **data})


def cases_of(world: World, person_id: str) -> list[tuple[str, str]]:
    with reg.reader(world.register) as con:
        rows = con.execute(
            "SELECT suspect_id, region_code FROM cases WHERE person_id = ? OR subject_id = ? ORDER BY suspect_id",
            [person_id, person_id],
        ).fetchall()
    return [(r[0], r[1]) for r in rows]


def audit_rows(world: World, action: str) -> list[dict]:
    with reg.reader(world.register) as con:
        rows = con.execute("SELECT * FROM web_audit WHERE action = ? ORDER BY audit_id", [action]).fetchall()
    return [dict(r) for r in rows]


# ---- roles ------------------------------------------------------------------------------------------------

# role -> (GET /person, POST /person for the dead person of region 330100, GET /quality)
MATRIX = {
    "chief": (200, 200, 200),
    "verifier": (200, 200, 403),  # V01 works 330100
    "auditor": (200, 200, 200),
    "admin": (403, 403, 403),
}


@pytest.mark.parametrize("role", sorted(MATRIX))
def test_every_role_on_the_person_and_quality_pages(world, role):
    client = world.login(ROLES[role])
    form_page, person_page, quality_page = MATRIX[role]
    assert client.get("/person").status_code == form_page
    token = csrf(client.get("/staff" if role == "admin" else "/queue").text)
    assert client.post("/person", data={"csrf": token, "person": DEAD}).status_code == person_page
    assert client.get("/quality").status_code == quality_page
    nav = client.get("/staff" if role == "admin" else "/queue").text
    assert ('href="/person"' in nav) == (role != "admin")
    assert ('href="/quality"' in nav) == (role in ("chief", "auditor"))
    if role == "admin":
        refused = [r["target"] for r in audit_rows(world, "refused")]
        assert refused.count("/person") == 2 and refused.count("/quality") == 1


def test_the_person_page_needs_a_session_and_a_csrf_token(world):
    anonymous = world.client()
    for method, path in (("GET", "/person"), ("POST", "/person"), ("GET", "/quality")):
        response = anonymous.request(method, path, data={"csrf": "x", "person": DEAD} if method == "POST" else None)
        assert response.status_code == 303 and response.headers["location"] == "/login"
    chief = world.login("chief")
    assert chief.post("/person", data={"csrf": "forged", "person": DEAD}).status_code == 403
    assert chief.post("/person", data={"person": DEAD}).status_code == 403
    assert [r["outcome"] for r in audit_rows(world, "csrf")] == ["refused", "refused"]
    # a GET never takes a person: the query string is ignored, the page is the empty form
    page = chief.get(f"/person?person={DEAD}").text
    assert "参保经历" not in page and mask_id(DEAD) not in page


def test_a_verifier_sees_a_person_only_through_a_case_of_their_regions(world):
    dead_cases = cases_of(world, DEAD)
    assert dead_cases and {region for _, region in dead_cases} == {"330100"}
    assert person(world.login("V01"), person=DEAD).status_code == 200
    outsider = world.login("V99")  # a verifier of 330200
    refused = person(outsider, person=DEAD)
    assert refused.status_code == 404 and mask_id(DEAD) not in refused.text and "王芳" not in refused.text
    sid = dead_cases[0][0]
    assert person(outsider, case=sid).status_code == 404  # nor through the case's id
    assert person(world.login("chief"), person=STRANGER).status_code == 404  # nobody of that ID at all
    assert person(world.login("chief"), person="not an id").status_code == 404
    assert person(world.login("chief"), case="SP-nonexistent").status_code == 404
    outcomes = [(r["actor"], r["outcome"]) for r in audit_rows(world, "person")]
    assert outcomes == [
        ("V01", "ok"),
        ("V99", "refused"),
        ("V99", "not_found"),
        ("chief", "not_found"),
        ("chief", "not_found"),
        ("chief", "not_found"),
    ]
    # the audit trail names the person masked, never in full
    assert all(not FULL_ID.search(str(r["target"]) + str(r["detail"])) for r in audit_rows(world, "person"))


def test_a_verifier_is_shown_only_the_findings_of_their_regions(world):
    twice = cases_of(world, TWICE)
    mine = [sid for sid, region in twice if region == "330100"]
    others = [sid for sid, region in twice if region != "330100"]
    assert mine and others  # TWICE: four findings of 330100, the double enrollment of 330106
    chief_page = person(world.login("chief"), person=TWICE).text
    assert sorted(CASE_LINK.findall(chief_page)) == sorted(sid for sid, _ in twice)
    v01 = person(world.login("V01"), person=TWICE)
    assert v01.status_code == 200 and sorted(CASE_LINK.findall(v01.text)) == sorted(mine)
    assert not any(sid in v01.text for sid in others)


def test_the_case_page_opens_the_person_s_picture_by_a_form_carrying_the_case_id(world):
    sid = world.sid("DECEASED_PAID")
    client = world.login("V01")
    case_page = client.get(f"/case/{sid}").text
    assert 'name="case" value="' + sid + '"' in case_page and 'action="/person"' in case_page
    shown = person(client, case=sid)
    assert shown.status_code == 200 and mask_id(DEAD) in shown.text
    assert f'href="/case/{sid}"' in shown.text
    other = world.sid("DUP_ENROLL")  # region 330106: not V01's
    assert person(client, case=other).status_code == 404


# ---- what the person page shows -------------------------------------------------------------------------


def test_the_person_s_picture_equals_the_tables_masked_and_escaped(world):
    response = person(world.login("chief"), person=DEAD.lower() if DEAD[-1] == "X" else f" {DEAD} ")
    page = response.text
    assert response.status_code == 200
    con = duckdb.connect(str(world.db), read_only=True)
    try:
        spells = con.execute("SELECT count(*) FROM enrollment WHERE person_id = ?", [DEAD]).fetchone()[0]
        months = con.execute(
            "SELECT period, sum(amount) FROM benefit_payments WHERE person_id = ? GROUP BY period ORDER BY period",
            [DEAD],
        ).fetchall()
        deaths = con.execute("SELECT death_date FROM death_records WHERE person_id = ?", [DEAD]).fetchall()
        accounts = con.execute(
            "SELECT bank_account, count(*) FROM benefit_payments WHERE person_id = ? GROUP BY ALL", [DEAD]
        ).fetchall()
    finally:
        con.close()
    # spells: a row each in the table and a bar each in the SVG; the death as a line
    assert f"参保经历 enrollment spells（{spells}）" in page
    svg = page[page.index("<svg") : page.index("</svg>")]
    assert svg.count("<rect") == spells and svg.count('class="death"') == len(deaths) == 1
    assert f"死亡 died {deaths[0][0]}" in svg
    # payments by month: the month rows and the grand total equal the table
    for period, amount in months:
        assert re.search(rf"<td>{period}</td><td class=\"num\">{re.escape(fmt_money(Decimal(amount)))}</td>", page)
    total = fmt_money(sum((Decimal(a) for _, a in months), Decimal(0)))
    assert f'<th class="num">{total}</th></tr></tfoot>' in page
    assert "养老" in page or "pension" in page  # the benefit type as a label
    # findings: every case on the person, linked
    assert sorted(CASE_LINK.findall(page)) == [sid for sid, _ in cases_of(world, DEAD)]
    assert f"findings（{len(cases_of(world, DEAD))} 件）" in page
    # masked: the ID and the accounts; names shown, escaped
    assert not FULL_ID.search(page) and mask_id(DEAD) in page
    for account, _count in accounts:
        assert account not in page and mask_account(account) in page
    assert ACCOUNT_OF[DEAD] not in page
    assert "王方" in page  # the older spell's name, shown
    assert EVIL_NAME not in page and "<img src=x" not in page and "&lt;img src=x onerror=" in page
    assert "<script>alert" not in page  # the finding's summary, escaped
    assert "Content-Security-Policy" in response.headers


def test_no_citizen_id_in_a_url_a_link_or_a_log_line_of_the_person_page(world, caplog):
    caplog.set_level(logging.INFO, logger="fundwatch.web")
    client = world.login("AUD")
    page = person(client, person=DEAD).text
    for link in LINK.findall(page):
        assert not FULL_ID.search(link) and DEAD not in link, link
    sid = world.sid("DECEASED_PAID")
    person(client, case=sid)
    assert world.login("V99").post("/person", data={"csrf": "x", "person": DEAD}).status_code == 403
    lines = [r.getMessage() for r in caplog.records if r.name == "fundwatch.web"]
    assert any(line.startswith("POST /person 200") for line in lines)
    assert any(line.startswith("POST /person 403") for line in lines)
    assert not any(FULL_ID.search(line) or DEAD in line for line in lines)


# ---- the data-quality page ------------------------------------------------------------------------------

BAD_ACCOUNT = "6222020200112233445"


@pytest.fixture
def delivered(world) -> World:
    """The world's file with two runs, a rejected file and quarantined rows, and the analyst views."""
    con = duckdb.connect(str(world.db))
    try:
        zone_timestamps(con)
        con.execute(
            "INSERT INTO runs (run_id, as_of, started_at, finished_at, status, files_seen, files_loaded,"
            " files_rejected, rows_loaded, rows_quarantined, findings, error) VALUES"
            " ('R1', DATE '2025-12-31', TIMESTAMPTZ '2026-01-14 18:00:00+00', TIMESTAMPTZ '2026-01-14 18:05:00+00',"
            "  'succeeded', 3, 2, 1, 40, 4, 20, NULL),"
            " ('R2', DATE '2026-01-01', TIMESTAMPTZ '2026-01-15 18:00:00+00', TIMESTAMPTZ '2026-01-15 18:00:30+00',"
            f"  'failed', 0, 0, 0, 0, 0, 0, 'bad row of {DEAD}')"
        )
        con.execute(
            "INSERT INTO ingested_files (run_id, dataset, file, sha256, format, status, rows_loaded, rows_quarantined,"
            " reason, ingested_at) VALUES"
            " ('R1', 'benefit_payments', 'benefit_payments/bp_330100.csv', 'a', 'csv:utf-8', 'loaded', 8, 3, NULL,"
            "  TIMESTAMP '2026-01-14 18:01:00'),"
            " ('R1', 'medical_claims', 'medical_claims/mc_330100.csv', 'b', 'csv:utf-8', 'loaded', 2, 1, NULL,"
            "  TIMESTAMP '2026-01-14 18:01:00'),"
            " ('R1', 'bank_statements', 'bank_statements/bs_bad.xlsx', 'c', 'xlsx', 'rejected', 0, 0,"
            f"  '无法读取 unreadable: account {BAD_ACCOUNT}', TIMESTAMP '2026-01-14 18:02:00')"
        )
        bad_id = DEAD[:-1] + ("0" if DEAD[-1] != "0" else "1")
        payments, claims = "benefit_payments/bp_330100.csv", "medical_claims/mc_330100.csv"
        check = f"person_id: 身份证号校验位错误 bad check digit: '{bad_id}'"
        rows = [
            ("benefit_payments", payments, 9, "person_id", check),
            ("benefit_payments", payments, 10, "person_id", check),
            ("benefit_payments", payments, 11, "benefit_type", "benefit_type: 未知代码 unknown code: 'zz'"),
            ("medical_claims", claims, 4, "fund_paid", "fund_paid: 缺少必填值 missing required value: ''"),
        ]
        con.executemany(
            'INSERT INTO quarantine (run_id, dataset, file, line, "column", reason, raw)'
            " VALUES ('R1', ?, ?, ?, ?, ?, '{}')",
            rows,
        )
        create_views(con)
    finally:
        con.close()
    return world


def test_the_quality_page_shows_the_tables_counts_masked_with_offsets(delivered):
    page = delivered.login("chief").get("/quality").text
    # quarantined rows by reason (the view) and by file (the table)
    assert "共 4 行 rows" in page
    assert re.search(r"身份证号校验位错误 <span class=\"code\">[^<]*</span></td>\s*<td class=\"num\">2</td>", page)
    assert re.search(r"benefit_payments/bp_330100.csv</td><td class=\"num\">3</td>", page)
    assert re.search(r"medical_claims/mc_330100.csv</td><td class=\"num\">1</td>", page)
    # the rejected file, its reason masked
    assert "拒收文件 rejected files（1）" in page and "bank_statements/bs_bad.xlsx" in page
    assert BAD_ACCOUNT not in page and mask_account(BAD_ACCOUNT) in page
    # missing deliveries: one row per contract dataset, as the view says
    con = duckdb.connect(str(delivered.db), read_only=True)
    try:
        missing = con.execute(
            "SELECT count(*) FILTER (WHERE missing_latest), count(*) FROM v_missing_deliveries"
        ).fetchone()
    finally:
        con.close()
    assert f"（{missing[0]} 项未报送最新月份 missing the latest month）" in page
    assert page.count("缺报 missing") == missing[0] and page.count("已报送 delivered") == missing[1] - missing[0]
    # run history: newest first, times in the office's zone with the offset, errors masked
    runs = page[page.index("运行记录 run history") :]
    assert runs.index("<td>R2</td>") < runs.index("<td>R1</td>")
    assert "2026-01-15 02:00:00+08:00" in page and "2026-01-16 02:00:30+08:00" in page
    assert "失败 failed" in page and "成功 succeeded" in page
    assert not FULL_ID.search(page) and mask_id(DEAD) in page


def test_the_quality_page_says_when_the_views_are_missing(world):
    page = world.login("AUD").get("/quality")
    assert page.status_code == 200 and "数据不可用" in page.text  # the world's file has no views yet


def test_the_person_page_at_a_date_draws_open_spells_to_today(world):
    from pipelines.web.personpages import timeline

    spells = [
        {"start_date": dt.date(2010, 1, 1), "end_date": None, "region": "r", "scheme_code": "110"},
        {"start_date": dt.date(2000, 1, 1), "end_date": dt.date(2009, 12, 31), "region": "r", "scheme_code": "110"},
    ]
    drawn = timeline(spells, [{"death_date": dt.date(2025, 3, 10)}], dt.date(2026, 1, 15))
    first, second = drawn.rows
    assert first["open"] and not second["open"]
    assert second["x"] == drawn.left and first["x"] + first["w"] <= drawn.left + drawn.width
    assert second["x"] + second["w"] <= first["x"]  # the older spell ends before the newer starts
    assert drawn.ticks[0]["label"] == "2000" and drawn.deaths[0]["x"] > first["x"]
