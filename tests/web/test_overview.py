"""The overview: the reports' figures (a near-miss ledger/bank pair's money counted once), recovered money as it
is recorded, only the cases one may see, and — on a real sample run — the latest run, the trend and the missing
deliveries."""

from __future__ import annotations

import datetime as dt
import re
import shutil
from decimal import Decimal

import duckdb
import pytest

from pipelines.cases import register as reg
from pipelines.cases.reports.sources import duck_rows
from pipelines.present.money import fmt_money
from pipelines.warehouse.session import reader
from pipelines.web import accounts
from pipelines.web.app import create_app
from pipelines.web.config import WebConfig
from tests.cases.staffing import staff_up
from tests.sample_run import sample_database
from tests.web.conftest import DEAD, PASSWORD, ROLES, World, csrf
from tests.web.test_person_quality import cases_of


def kpi(html: str, label: str) -> str:
    found = re.search(re.escape(label) + r" <strong>([^<]+)</strong>", html)
    assert found, label
    return found.group(1)


def expected_at_risk(register, db, visible=lambda case: True) -> Decimal:
    """Every (visible) case's amount at risk, less each near-miss pair's amount once (both sides counted)."""
    with reg.reader(register) as con:
        cases = [dict(r) for r in con.execute("SELECT suspect_id, subject_id, amount_at_risk FROM cases")]
    with reader(db, memory_limit="256MB") as duck:
        pairs = duck_rows(duck, "ledger_bank_pairs.sql", {})
    subjects = {c["subject_id"] for c in cases if visible(c)}
    total = sum((Decimal(c["amount_at_risk"]) for c in cases if visible(c)), Decimal(0))
    return total - sum((p["amount"] for p in pairs if {p["ledger_subject"], p["bank_subject"]} <= subjects), Decimal(0))


def test_the_overview_counts_a_near_miss_pair_once_like_the_reports(world):
    html = world.login(ROLES["chief"]).get("/overview").text
    with reg.reader(world.register) as con:
        total = con.execute("SELECT count(*) FROM cases").fetchone()[0]
    assert kpi(html, "案件 cases") == str(total)
    expected = expected_at_risk(world.register, world.db)
    assert kpi(html, "涉及金额 at risk") == fmt_money(expected)
    # the pair's rule: two cases, one movement's money
    row = re.search(r"<td>专户账实不符</td><td class=\"num\">(\d+)</td><td class=\"num\">([^<]+)</td>", html)
    assert row and row.group(1) == "2" and row.group(2) == "300,040.37"


def test_recovered_money_shows_as_recorded_and_verifiers_see_their_regions_only(world):
    sid = cases_of(world, DEAD)[0][0]
    chief = world.login(ROLES["chief"])

    def act(action: str, **data):
        token = csrf(chief.get(f"/case/{sid}").text)
        response = chief.post(f"/case/{sid}/act/{action}", data={"csrf": token, "on": "2026-01-15", **data})
        assert response.status_code == 303, response.text[:300]

    act("assign", assignee="V01")
    act("verify")
    act("rectify", recovered="1000.00")
    html = chief.get("/overview").text
    assert kpi(html, "已追回 recovered") == "1,000.00"
    assert "1,000.00" in html.split("追回情况 recovery by rule")[1]  # the recovery chart
    v01 = world.login(ROLES["verifier"]).get("/overview").text
    assert kpi(v01, "案件 cases") == "19" and "330106" not in v01 and "330000 浙江省" not in v01

    def in_330100(case) -> bool:
        with reg.reader(world.register) as con:
            row = con.execute(
                "SELECT region_code, assigned_region, assignee FROM cases WHERE suspect_id = ?", [case["suspect_id"]]
            ).fetchone()
        return "330100" in (row[0], row[1]) or row[2] == "V01"

    assert kpi(v01, "涉及金额 at risk") == fmt_money(expected_at_risk(world.register, world.db, in_330100))


def test_charts_label_every_group_and_name_findings_without_a_region(world):
    html = world.login(ROLES["chief"]).get("/overview").text
    labels = re.findall(r'<text x="0" y="\d+" class="label"><title>([^<]*)</title>', html)
    assert labels and all(label.strip() for label in labels)
    assert "未指定 none" in labels  # a finding without a pooling region is named, not blank
    assert html.count('<svg class="chart"') >= 3


@pytest.mark.slow
def test_on_a_sample_run_the_overview_shows_the_latest_run_the_trend_and_the_missing_deliveries(
    tmp_path, tmp_path_factory, monkeypatch
):
    source = sample_database(tmp_path_factory)
    db = tmp_path / "fundwatch.duckdb"
    shutil.copy(source, db)
    shutil.copy(reg.register_path_for(source), reg.register_path_for(db))
    con = reg.open_register(reg.register_path_for(db))
    try:
        staff_up(con)
        with reg.write_transaction(con):
            accounts.set_password(con, "chief", PASSWORD, by="ADM", at="2026-11-28T09:00:00+08:00")
    finally:
        con.close()
    config = WebConfig(
        db=db,
        register=reg.register_path_for(db),
        secret=b"0123456789abcdef0123456789abcdef",
        memory_limit="512MB",
        clock=lambda: dt.datetime(2026, 11, 28, 2, 0, tzinfo=dt.UTC),
    )
    world = World(db, lambda: None, config)  # type: ignore[arg-type]
    world.app = create_app(config)
    html = world.login("chief").get("/overview").text
    runs = duckdb.connect(str(db), read_only=True)
    try:
        as_of, status, findings = runs.execute(
            "SELECT as_of, status, findings FROM runs ORDER BY started_at DESC LIMIT 1"
        ).fetchone()
        missing = runs.execute("SELECT dataset FROM v_missing_deliveries WHERE missing_latest").fetchall()
    finally:
        runs.close()
    assert str(as_of) == "2026-11-27" and status == "bad_input"
    latest = html.split("最近运行 latest run")[1].split("按规则 by rule")[0]
    assert "2026-11-27" in latest and "输入有误 bad_input" in latest and f"{findings:,}" in latest
    assert "最近1次运行的疑点数" in latest  # the trend chart over the runs there are
    assert f"未报送最新月份 missing deliveries（{len(missing)}）" in latest
    for (dataset,) in missing:
        assert dataset in latest
    assert kpi(html, "涉及金额 at risk") == fmt_money(expected_at_risk(config.register, db))


def test_the_published_part_is_read_once_per_published_file(world, tmp_path):
    from pipelines.web import overviewpages

    first = overviewpages.read_published(world.db, "256MB")
    assert overviewpages.read_published(world.db, "256MB") is first  # the same file: not read again
    swapped = tmp_path / "next.duckdb"
    shutil.copy(world.db, swapped)
    con = duckdb.connect(str(swapped))
    try:
        con.execute("DELETE FROM runs")
        con.execute(
            "INSERT INTO runs (run_id, as_of, status, started_at) VALUES ('R9', DATE '2026-01-14', 'succeeded', now())"
        )
    finally:
        con.close()
    swapped.replace(world.db)  # what a run's publication does: a new file renamed over the old one
    after = overviewpages.read_published(world.db, "256MB")
    assert after is not first and [r["run_id"] for r in after.runs] == ["R9"]
    html = world.login(ROLES["chief"]).get("/overview").text
    assert "R9" in html.split("最近运行 latest run")[1]
