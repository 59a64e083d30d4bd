"""The workbench in a real browser (issue 13): on the sample run that `make run` publishes, a chief and a verifier
created from the command line, as an office would, take a DECEASED_PAID case from open to rectified in headless
Chromium — login, overview, queue, the case, assign, logout; login, verify, a partial recovery, the rest recovered,
the person's page, logout; login, the reports page, the monthly report downloaded as XLSX and Markdown and shown
for print — and then the register, the DuckDB file's mirror after the next nightly run, and the report show it.

The server is `fundwatch web` for real (a subprocess on a loopback port); the browser is Debian's Chromium through
its chromedriver (`tests/web/browser.py`, nothing downloaded, no host but the loopback). A screenshot of every
step is kept under the test's temporary folder (`screenshots/`), the downloads under `downloads/`.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from decimal import ROUND_DOWN, Decimal
from pathlib import Path

import duckdb
import fastexcel
import pytest

from pipelines.cases import register as reg
from pipelines.cases.staff import os_user
from pipelines.present.money import fmt_money
from pipelines.web import trail
from tests.sample_run import SAMPLES, sample_database
from tests.web.browser import Browser, chromium
from tests.web.serving import SERVER_ENV, workbench

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
FULL_ID = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")
CENT = Decimal("0.01")
PASSWORDS = {"C1": "chief's horse 2026", "V1": "verifier staple 42"}


# ---- the office's side: a copy of the published sample, staff from the command line, the server ----------------


def fundwatch(*args: str, stdin: str | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pipelines", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        env={**os.environ, **SERVER_ENV},
    )


def staff(db: Path, *args: str, stdin: str | None = None) -> str:
    done = fundwatch("staff", "--db", str(db), *args, stdin=stdin)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def open_deceased_paid_case(register: Path) -> tuple[str, str, Decimal]:
    with reg.reader(register) as con:
        row = con.execute(
            "SELECT suspect_id, region_code, amount_at_risk FROM cases"
            " WHERE rule = 'DECEASED_PAID' AND status = 'open' AND person_id IS NOT NULL ORDER BY suspect_id"
        ).fetchone()
    assert row is not None, "the sample run opened no DECEASED_PAID case"
    return row[0], row[1], Decimal(row[2])


# ---- what the pages say ----------------------------------------------------------------------------------------


def facts(b: Browser) -> dict[str, str]:
    terms, values = b.find_all("section.facts dt"), b.find_all("section.facts dd")
    return {dt.text: dd.text for dt, dd in zip(terms, values, strict=True)}


def flash(b: Browser) -> str:
    shown = b.find_all("p.flash")
    errors = [e.text for e in b.find_all("p.error")]
    assert shown, f"no message on {b.path}; errors: {errors}"
    return shown[0].text


def rows(b: Browser, css: str) -> list[list[str]]:
    return [[td.text for td in tr.find_elements("css selector", "td")] for tr in b.find_all(f"{css} tbody tr")]


def log_in(b: Browser, staff_id: str) -> None:
    b.go("/login")
    b.submit("form.login", {"staff_id": staff_id, "password": PASSWORDS[staff_id]})
    assert b.path == "/queue", b.text()
    assert b.text("header .me").startswith(staff_id)


def log_out(b: Browser) -> None:
    b.submit("header form[action='/logout']")
    assert b.path == "/login"
    assert not b.find_all("header .me")


def act(b: Browser, action: str, fields: dict[str, str] | None = None) -> str:
    """Send one of the case page's action forms; the message the page then shows."""
    sid_path = b.path
    b.submit(f"form.action[action$='/act/{action}']", fields)
    assert b.path == sid_path, b.text()
    return flash(b)


# ---- the reports --------------------------------------------------------------------------------------------------


def md_table_row(markdown: str, first_cell: str) -> list[str]:
    for line in markdown.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.lstrip().startswith("|") and cells[0] == first_cell:
            return cells
    raise AssertionError(f"no table row {first_cell!r} in the Markdown report")


def xlsx_rows(path: Path) -> list[list[str]]:
    """Every row of every sheet, its non-empty cells as text."""
    reader = fastexcel.read_excel(path)
    out = []
    for name in reader.sheet_names:
        frame = reader.load_sheet(name, header_row=None, dtypes="string").to_polars()
        out += [[v for v in row if v is not None] for row in frame.iter_rows()]
    return out


def money_cell(text: str) -> Decimal:
    return Decimal(text.replace(",", "")).quantize(CENT)


# ---- the test -----------------------------------------------------------------------------------------------------


def test_a_chief_and_a_verifier_take_a_deceased_paid_case_from_open_to_rectified_in_chromium(
    tmp_path, tmp_path_factory
):
    started = time.monotonic()
    # A copy of the sample `make run` publishes (other tests share the original) and its register beside it.
    sample = sample_database(tmp_path_factory)
    db = tmp_path / "fundwatch.duckdb"
    register = reg.register_path_for(db)
    shutil.copy(sample, db)
    shutil.copy(reg.register_path_for(sample), register)
    sid, region, amount = open_deceased_paid_case(register)

    # The staff, from the command line as the office does it: the first admin, then a chief and a verifier of the
    # case's region, their passwords set by the admin (the admin is this OS account).
    staff(db, "add", "ADM", "--name", "系统管理员甲", "--role", "admin", "--os-user", os_user())
    staff(db, "add", "C1", "--name", "王科长", "--role", "chief")
    staff(db, "add", "V1", "--name", "李核查", "--role", "verifier", "--regions", region)
    for staff_id, password in PASSWORDS.items():
        assert "密码已设置" in staff(db, "passwd", staff_id, "--password-stdin", stdin=password + "\n")
    listed = staff(db, "list")
    assert "C1" in listed and "V1" in listed and region in listed

    shots, downloads = tmp_path / "screenshots", tmp_path / "downloads"
    server_log = tmp_path / "web.log"
    part = (amount * Decimal("0.6")).quantize(CENT, rounding=ROUND_DOWN)
    rest = amount - part
    assert Decimal("0") < part < amount

    with workbench(db, server_log) as base, chromium(base, shots, downloads, tmp_path / "chromedriver.log") as b:
        # ---- the chief: overview, the queue filtered by rule, the case, assigned to the verifier ------------------
        b.go("/login")
        b.shot("login")
        log_in(b, "C1")
        b.follow("概览 overview")
        b.shot("chief-overview")
        assert b.text("h1").startswith("概览 overview")
        assert "案件 cases" in b.text("main") and "死亡后继续领取" in b.text("main")
        b.follow("案件队列 queue")
        b.submit("form.filters[method='get']", {"rule": "DECEASED_PAID", "status": "open"})
        b.shot("chief-queue-deceased-paid")
        assert "rule=DECEASED_PAID" in b.url
        listed = rows(b, "table.queue")
        assert listed and all(r[1] == "死亡后继续领取 DECEASED_PAID" and r[6] == "待核查 open" for r in listed)
        assert sid in [r[0] for r in listed]
        b.follow(sid)
        b.shot("chief-case-open")
        assert b.path == f"/case/{sid}"
        assert facts(b)["状态 status"] == "待核查 open" and facts(b)["规则 rule"] == "死亡后继续领取 DECEASED_PAID"
        assert "待遇发放明细 benefit_payments" in b.text("section.evidence")
        on = b.find("form.action[action$='/act/assign'] input[name='on']").get_attribute("value")  # the server's today
        message = act(b, "assign", {"assignee": "V1", "reason": "死亡后继续领取，交核查员核实"})
        b.shot("chief-case-assigned")
        assert message.startswith("已交办 assigned to V1"), message
        assert facts(b)["状态 status"] == "核查中 under_verification"
        log_out(b)
        b.shot("chief-logged-out")
        b.go("/queue")
        assert b.path == "/login"  # the session is over

        # ---- the verifier: the case from their queue, verified, recovered in two parts, the person --------------
        log_in(b, "V1")
        b.shot("verifier-queue")
        assert sid in [r[0] for r in rows(b, "table.queue")]
        b.follow(sid)
        b.shot("verifier-case-assigned")
        assert [f.get_attribute("action").rsplit("/", 1)[1] for f in b.find_all("form.action")] == ["verify", "dismiss"]
        message = act(b, "verify", {"reason": "公安户籍注销属实，死亡后仍发放养老金"})
        b.shot("verifier-case-verified")
        assert message.startswith("确认违规 confirmed"), message
        assert facts(b)["状态 status"] == "确认违规 confirmed"
        message = act(b, "rectify", {"recovered": str(part), "reason": "家属退回部分款项"})
        b.shot("verifier-case-partially-recovered")
        assert "部分追回 partially_recovered" in message and f"待追回 outstanding {fmt_money(rest)}" in message, message
        assert facts(b)["状态 status"] == "部分追回 partially_recovered"
        assert f"已追回 recovered: {fmt_money(part)} / {fmt_money(amount)}" in b.text("ul.money")
        message = act(b, "rectify", {"recovered": str(rest), "reason": "余款追回"})
        b.shot("verifier-case-rectified")
        assert "已整改 rectified" in message and "待追回 outstanding 0.00" in message, message
        assert facts(b)["状态 status"] == "已整改 rectified"
        assert f"已追回 recovered: {fmt_money(amount)} / {fmt_money(amount)}" in b.text("ul.money")
        timeline = rows(b, "section.timeline table")
        assert [r[2] for r in timeline[-4:]] == ["C1", "V1", "V1", "V1"], timeline
        b.submit("form[action='/person']")
        b.shot("verifier-person")
        assert b.path == "/person" and b.text("h1") == "人员全貌 a person's whole picture"
        found = {r[0]: r for r in rows(b, "section.findings table")}
        assert found[sid][4] == "已整改 rectified", found
        assert not FULL_ID.search(b.text("main"))  # masked unless revealed
        log_out(b)

        # ---- the chief: the monthly report of the month the money came back, downloaded and printed --------------
        log_in(b, "C1")
        b.follow("报告 reports")
        b.shot("chief-reports")
        assert b.text("h1") == "定期报告 reports"
        month = on[:4] + on[5:7]
        form = b.find("form#report-monthly")
        b.fill(form, {"month": month})
        xlsx = b.download(form.find_element("css selector", "button[value='xlsx']"), f"自查报告_{month}.xlsx")
        md = b.download(form.find_element("css selector", "button[value='md']"), f"自查报告_{month}.md")
        b.click_and_wait(form.find_element("css selector", "button[value='print']"))
        b.shot("chief-monthly-report-print")
        printed = b.text("body")
        assert "定期自查报告" in printed and "已整改 rectified" in printed, printed[:2000]

        # ---- the next nightly run, the workbench still up, over the same inbox into the copy ----------------------
        nightly = fundwatch("run", "--inbox", str(SAMPLES), "--db", str(db), timeout=900)
        assert nightly.returncode == 0, nightly.stdout[-3000:] + nightly.stderr[-3000:]
        b.go(f"/case/{sid}")
        b.shot("chief-case-after-the-next-run")
        assert facts(b)["状态 status"] == "已整改 rectified"
        log_out(b)
        foreign = b.foreign_requests()
        taken = list(b.taken)

    # ---- what the browser was shown, and kept ------------------------------------------------------------------
    assert not foreign, f"the pages asked for addresses off the workbench: {foreign}"
    assert len(taken) >= 15 and all(
        p.stat().st_size > 5_000 and p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in taken
    )
    print(f"screenshots: {shots}")

    # ---- the monthly report: the case entered 已整改 this month with all its money recovered ----------------------
    text = md.read_text(encoding="utf-8")
    assert f"定期自查报告（{int(month[:4])}年{int(month[4:])}月）" in text
    assert md_table_row(text, "已整改 rectified")[1:] == ["1", fmt_money(amount)]
    assert md_table_row(text, "部分追回 partially_recovered")[1:] == ["1", fmt_money(amount)]
    assert md_table_row(text, "追回 recovered")[2:] == [fmt_money(amount), fmt_money(amount)]
    assert f"本月（按款项日期）追回 {fmt_money(amount)} 元" in text
    assert xlsx.read_bytes()[:2] == b"PK"
    sheets = xlsx_rows(xlsx)
    rectified = [r for r in sheets if r and r[0] == "已整改 rectified"]
    assert [(r[1], money_cell(r[2])) for r in rectified] == [("1", amount)], rectified
    recovered = [r for r in sheets if r and r[0] == "追回 recovered"]
    assert [money_cell(c) for c in recovered[0][2:]] == [amount, amount], recovered
    assert not FULL_ID.search(text)

    # ---- the register: the case's events by the staff who did them, the money, the workbench's audit trail -------
    with reg.reader(register) as con:
        case = reg.get_case(con, sid)
        assert (case["status"], case["assignee"], case["rectified_on"]) == ("rectified", "V1", on)
        assert Decimal(case["recovered_amount"]) == amount and reg.outstanding(case) == 0
        events = [
            tuple(r)
            for r in con.execute(
                "SELECT actor, action, from_status, to_status FROM case_events"
                " WHERE suspect_id = ? AND action <> 'found' ORDER BY event_id",
                [sid],
            )
        ]
        money = [
            tuple(r) for r in con.execute("SELECT kind, amount, on_date FROM case_money WHERE suspect_id = ?", [sid])
        ]
        audit = [
            tuple(r)
            for r in con.execute(
                "SELECT actor, action, outcome FROM web_audit WHERE action <> 'refused' ORDER BY audit_id"
            )
        ]
        chain = trail.verify_trail(con)
    assert events[:4] == [
        ("C1", "assign", "open", "under_verification"),
        ("V1", "verify", "under_verification", "confirmed"),
        ("V1", "rectify", "confirmed", "partially_recovered"),
        ("V1", "rectify", "partially_recovered", "rectified"),
    ], events
    assert sorted((k, Decimal(a), d) for k, a, d in money) == sorted([("recovered", part, on), ("recovered", rest, on)])
    for done in [
        ("C1", "login", "ok"),
        ("C1", "assign", "ok"),
        ("C1", "logout", "ok"),
        ("V1", "login", "ok"),
        ("V1", "verify", "ok"),
        ("V1", "rectify", "ok"),
        ("V1", "person", "ok"),
        ("V1", "logout", "ok"),
        ("C1", "report", "ok"),
    ]:
        assert done in audit, (done, audit)
    assert chain.ok, chain

    # ---- the DuckDB file after the next run mirrors the register --------------------------------------------
    con = duckdb.connect(str(db), read_only=True)
    try:
        mirrored = con.execute(
            "SELECT status, assignee, CAST(recovered_amount AS VARCHAR), CAST(rectified_on AS VARCHAR) FROM cases"
            " WHERE suspect_id = ?",
            [sid],
        ).fetchone()
        mirrored_events = con.execute(
            "SELECT actor, action FROM case_events WHERE suspect_id = ? AND action <> 'found' ORDER BY event_id", [sid]
        ).fetchall()
        suspect = con.execute("SELECT status FROM suspects WHERE suspect_id = ?", [sid]).fetchone()
    finally:
        con.close()
    assert mirrored is not None and mirrored[:2] == ("rectified", "V1"), mirrored
    assert Decimal(mirrored[2]) == amount and mirrored[3][:10] == on, mirrored
    assert mirrored_events[:4] == [("C1", "assign"), ("V1", "verify"), ("V1", "rectify"), ("V1", "rectify")]
    assert suspect == ("rectified",)

    # ---- the server's log: a line per request, never a citizen ID ----------------------------------------------
    served = server_log.read_text()
    assert f"POST /case/{sid}/act/rectify 303" in served and "POST /reports/monthly 200" in served
    assert not FULL_ID.search(served), served[-2000:]
    print(f"browser test: {time.monotonic() - started:.0f} s")
