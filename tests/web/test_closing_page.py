"""The case page's 结案报告 block (issue 16, item 3): a closed 要情 says 未出具 and offers a chief the form; a chief
makes it (measures and responsibility required), the block then says 已出具 v1 with when and by whom; a verifier
sees the block but no form, and a verifier's POST is refused. Every POST is in `web_audit`. Through FastAPI's test
client on the workbench's world.
"""

from __future__ import annotations

import re
import stat
from decimal import Decimal

from pipelines.cases import closing
from pipelines.cases import register as reg
from tests.web.conftest import World, csrf

FULL_ID = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")
FORM = 'action="/case/{sid}/closing-report"'


def close(world: World, sid: str) -> None:
    """The case assigned to V01, confirmed and recovered in full (已整改), as the case pages would do it."""
    today = world.config.today()
    with reg.writer(world.register) as con:
        reg.assign(con, sid, assignee="V01", by="chief", on=today, today=today)
        reg.verify(con, sid, by="V01", on=today, today=today)
        amount = Decimal(reg.get_case(con, sid)["amount_at_risk"])
        assert reg.rectify(con, sid, by="V01", on=today, recovered=amount, today=today) == "rectified"


def audit(world: World) -> list[dict]:
    with reg.reader(world.register) as con:
        rows = con.execute("SELECT * FROM web_audit WHERE action = 'closing_report' ORDER BY audit_id").fetchall()
    return [dict(r) for r in rows]


def test_a_chief_makes_the_closing_report_of_a_closed_yaoqing(world: World):
    sid = world.sid("DECEASED_PAID")
    chief = world.login("chief")
    page = chief.get(f"/case/{sid}").text
    assert "结案报告" not in page  # not a 要情 yet: no block
    close(world, sid)

    page = chief.get(f"/case/{sid}").text
    assert "结案报告：未出具" in page and FORM.format(sid=sid) in page
    verifier = world.login("V01")
    seen = verifier.get(f"/case/{sid}").text
    assert "结案报告：未出具" in seen and FORM.format(sid=sid) not in seen
    refused = verifier.post(f"/case/{sid}/closing-report", data={"csrf": csrf(seen), "measures": "x"})
    assert refused.status_code == 403
    auditor = world.login("AUD")
    read = auditor.get(f"/case/{sid}").text
    assert "结案报告：未出具" in read and FORM.format(sid=sid) not in read
    assert auditor.post(f"/case/{sid}/closing-report", data={"csrf": csrf(read), "measures": "x"}).status_code == 403

    missing = chief.post(
        f"/case/{sid}/closing-report", data={"csrf": csrf(page), "measures": "已追回", "responsibility": " "}
    )
    assert missing.status_code == 400 and "责任认定" in missing.text
    made = chief.post(
        f"/case/{sid}/closing-report",
        data={"csrf": csrf(page), "measures": "已全额追回，停发待遇", "responsibility": "经办人未核对死亡信息"},
    )
    assert made.status_code == 303 and made.headers["location"] == f"/case/{sid}"

    page = chief.get(f"/case/{sid}").text
    assert "已出具 v1" in page and "chief" in page and "结案报告_" in page
    assert "更正结案报告" in page  # a chief may make a corrected version
    assert not FULL_ID.search(page.split('<section class="evidence">')[0])
    with reg.reader(world.register) as con:
        [row] = closing.reports_in(con, sid)
        assert closing.due(con, world.config.today()) == []
    assert (row["version"], row["made_by"], row["outstanding"]) == (1, "chief", "0.00")
    folder = closing.default_folder(world.register)
    xlsx = folder / row["file_name"]
    assert xlsx.is_file() and stat.S_IMODE(xlsx.stat().st_mode) == 0o600
    assert [(a["actor"], a["outcome"]) for a in audit(world)] == [("chief", "error"), ("chief", "ok")]


def test_a_case_not_closed_is_refused_and_said_so(world: World):
    sid = world.sid("DECEASED_PAID")
    today = world.config.today()
    with reg.writer(world.register) as con:
        reg.assign(con, sid, assignee="V01", by="chief", on=today, today=today)
        reg.verify(con, sid, by="V01", on=today, today=today)
    chief = world.login("chief")
    page = chief.get(f"/case/{sid}").text
    assert "结案报告：不适用" in page and FORM.format(sid=sid) not in page
    refused = chief.post(
        f"/case/{sid}/closing-report", data={"csrf": csrf(page), "measures": "m", "responsibility": "r"}
    )
    assert refused.status_code == 400 and "尚未整改完成" in refused.text
