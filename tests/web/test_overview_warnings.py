"""The overview's 监测预警 block (issue 16 item 4): the latest run's early warnings, with level badges, for the regions
the viewer covers — on the real workbench (`fundwatch web`, tests/web/serving.py) over two nightly runs of the sample
inbox (tests/test_indicators.py)."""

from __future__ import annotations

import re
import shutil

import duckdb
import httpx
import pytest

from pipelines.cases import register as reg
from pipelines.cases.indicators import level_label
from pipelines.web import accounts
from tests.cases.staffing import REGION, staff_up
from tests.test_indicators import two_sample_runs
from tests.web.conftest import PASSWORD, csrf
from tests.web.serving import workbench

BADGE = re.compile(r'<span class="status level-(watch|warning|alarm) [a-z_]+">([^<]+)</span></td><td>([^<]+)</td>')


def login(base: str, staff_id: str) -> httpx.Client:
    client = httpx.Client(base_url=base, follow_redirects=False, timeout=30)
    form = client.get("/login")
    answer = client.post("/login", data={"staff_id": staff_id, "password": PASSWORD, "csrf": csrf(form.text)})
    assert answer.status_code == 303, answer.text[:300]
    return client


def block(html: str) -> str:
    return html.split('<section class="warnings">')[1].split("</section>")[0]


@pytest.mark.slow
def test_the_overview_lists_the_latest_runs_warnings_for_the_regions_one_covers(tmp_path, tmp_path_factory):
    source, _ = two_sample_runs(tmp_path_factory)
    db = tmp_path / "fundwatch.duckdb"
    shutil.copy(source, db)
    shutil.copy(reg.register_path_for(source), reg.register_path_for(db))
    con = reg.open_register(reg.register_path_for(db))
    try:
        staff_up(con)
        with reg.write_transaction(con):
            for staff_id in ("chief", "V01"):
                accounts.set_password(con, staff_id, PASSWORD, by="ADM", at="2026-11-28T09:00:00+08:00")
    finally:
        con.close()
    duck = duckdb.connect(str(db), read_only=True)
    try:
        latest = duck.execute(
            "SELECT region_code, level FROM early_warnings WHERE as_of = DATE '2026-11-27' ORDER BY ALL"
        ).fetchall()
        earlier = duck.execute("SELECT count(*) FROM early_warnings WHERE as_of = DATE '2026-10-30'").fetchone()[0]
    finally:
        duck.close()
    assert latest and earlier  # both runs raised warnings: the overview shows the latest run's only
    with workbench(db, tmp_path / "server.log") as base:
        chief = block(login(base, "chief").get("/overview").text)
        verifier = block(login(base, "V01").get("/overview").text)
    assert f"监测预警 early warnings（{len(latest)}）" in chief
    shown = BADGE.findall(chief)
    assert len(shown) == len(latest)
    assert sorted((region.split()[0], level) for level, _, region in shown) == sorted(
        (code, level) for code, level in latest
    )
    assert all(label == level_label(level) for level, label, _ in shown)  # 警报 alarm, 预警 warning, 关注 watch
    assert "000000 全省 province-wide" in chief
    # a verifier of 330100: that region's warnings only, not the province's nor another region's
    own = [(code, level) for code, level in latest if code == REGION]
    assert f"监测预警 early warnings（{len(own)}）" in verifier
    assert {region.split()[0] for _, _, region in BADGE.findall(verifier)} <= {REGION}
    assert "000000 全省" not in verifier
