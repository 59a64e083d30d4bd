"""What the case page shows of its evidence and its timeline (issue 13, seen in the browser):

* each proving row once, with its source file and line in one last column (`file:line`), not the view's own
  来源文件 / 行号 columns and then the same again;
* event times in the office's zone (WebConfig.timezone, Asia/Shanghai) with its offset, whatever zone the
  machine that wrote them was in; the register keeps what it stored.
"""

from __future__ import annotations

import html
import re
from zoneinfo import ZoneInfo

import duckdb
import pytest

from pipelines.cases import evidence, lookup
from pipelines.cases import register as reg
from pipelines.web import casepages
from tests.web.conftest import World, csrf

SECTION = re.compile(r'<section class="(\w+)">(.*?)</section>', re.S)
TABLE = re.compile(r"<h3>(.*?)</h3>\s*<table>(.*?)</table>", re.S)
HEADER = re.compile(r"<th[^>]*>(.*?)</th>", re.S)
ROW = re.compile(r"<tr[^>]*>(.*?)</tr>", re.S)
CELL = re.compile(r"<td[^>]*>(.*?)</td>", re.S)
TAG = re.compile(r"<[^>]+>")
SHANGHAI = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\+08:00$")


def text(fragment: str) -> str:
    return " ".join(html.unescape(TAG.sub(" ", fragment)).split())


def sections(page: str) -> dict[str, str]:
    return {name: body for name, body in SECTION.findall(page)}


def evidence_tables(page: str) -> list[tuple[str, list[str], list[list[str]]]]:
    """(title, header texts, rows of cell fragments) of each evidence table on a case page."""
    out = []
    for title, body in TABLE.findall(sections(page)["evidence"]):
        head, _, rows = body.partition("</thead>")
        out.append((text(title), [text(h) for h in HEADER.findall(head)], [CELL.findall(r) for r in ROW.findall(rows)]))
    return out


@pytest.mark.parametrize("rule", ["DECEASED_PAID", "RECON_PAYMENT", "SHARED_ACCOUNT", "RECON_CONTRIB"])
def test_each_proving_row_is_shown_once_with_its_source_file_and_line_once(world: World, rule: str):
    sid = world.sid(rule)
    page = world.login("chief").get(f"/case/{sid}").text
    duck = duckdb.connect(str(world.db), read_only=True)
    try:
        view = evidence.evidence_view(duck, sid)
    finally:
        duck.close()
    shown = evidence_tables(page)
    assert [t[0] for t in shown] == [t.title for t in view.tables]
    for (title, headers, rows), table in zip(shown, view.tables, strict=True):
        # one source column, last; the view's file and line columns (for the terminal) are not repeated
        assert headers[-1] == "来源文件:行号 source_file:line", title
        assert sum("来源文件" in h for h in headers) == 1 and not any(h.startswith("行号") for h in headers), headers
        assert len(rows) == len(table.records), title
        values = [c for c in table.columns if c.header not in casepages.SOURCE_HEADERS]
        assert len(headers) == len(values) + 1
        for cells, record in zip(rows, table.records, strict=True):
            assert len(cells) == len(headers), title
            assert [text(c) for c in cells[:-1]] == [text(html.escape(v)) for v in record.cells[:-2]]
            expected = [f"{s.file}:{s.line}" for s in record.sources] or ["（未找到 not found）"]
            assert text(cells[-1]).split() == expected
            assert all(text(c).split() != expected for c in cells[:-1])  # nowhere else on the row
        assert any(record.sources for record in table.records)


def test_a_row_no_longer_in_force_says_it_has_no_source(world: World):
    sid = world.sid("DECEASED_PAID")
    con = duckdb.connect(str(world.db))
    try:  # the proving payments withdrawn from the published data since the finding was made
        con.execute(
            "DELETE FROM benefit_payments WHERE person_id = (SELECT person_id FROM suspects WHERE suspect_id = ?)",
            [sid],
        )
        lookup.build(con)  # as the run that published the withdrawal would
    finally:
        con.close()
    page = world.login("chief").get(f"/case/{sid}").text
    (_, headers, rows), *_ = evidence_tables(page)
    assert rows and all(text(cells[-1]) == "（未找到 not found）" for cells in rows)
    assert "无来源" in text(sections(page)["evidence"])  # the view's note says why


def test_event_times_are_shown_in_the_office_s_zone_and_stored_as_written(world: World, monkeypatch):
    sid = world.sid("DECEASED_PAID")
    # the machine that records the assignment runs on UTC, as the office's server did
    monkeypatch.setattr(reg, "_now", lambda: "2026-01-15T02:00:00+00:00")
    client = world.login("chief")
    token = csrf(client.get(f"/case/{sid}").text)
    done = client.post(f"/case/{sid}/act/assign", data={"csrf": token, "assignee": "V01", "on": "2026-01-15"})
    assert done.status_code == 303
    page = client.get(f"/case/{sid}").text
    timeline = sections(page)["timeline"]
    times = [text(CELL.findall(r)[1]) for r in ROW.findall(timeline.partition("</thead>")[2])]
    assert len(times) == 2 and all(SHANGHAI.match(t) for t in times), times  # found, then assigned
    assert times[-1] == "2026-01-15 10:00:00+08:00"
    assert "+00:00" not in timeline
    with reg.reader(world.register) as con:
        stored = [e["at"] for e in reg.events(con, sid)]
    assert stored[-1] == "2026-01-15T02:00:00+00:00"  # the register keeps what it wrote


def test_an_event_time_is_read_with_its_offset_and_shown_in_the_zone_asked_for():
    shanghai, berlin = ZoneInfo("Asia/Shanghai"), ZoneInfo("Europe/Berlin")
    assert casepages.shown_at("2026-01-15T02:00:00+00:00", shanghai) == "2026-01-15 10:00:00+08:00"
    assert casepages.shown_at("2026-01-15T10:00:00+08:00", shanghai) == "2026-01-15 10:00:00+08:00"
    assert casepages.shown_at("2026-01-15T23:30:00-05:00", shanghai) == "2026-01-16 12:30:00+08:00"
    assert casepages.shown_at("2026-07-01T00:00:00+00:00", berlin) == "2026-07-01 02:00:00+02:00"
    assert casepages.shown_at("not a time", shanghai) == "not a time"
    assert SHANGHAI.match(casepages.shown_at("2026-01-15T02:00:00", shanghai))  # naive: the machine's local time


def test_the_timeline_follows_the_configured_zone(world: World):
    sid = world.sid("DECEASED_PAID")
    with reg.reader(world.register) as con:
        stored = reg.events(con, sid)[0]["at"]
        tokyo = casepages.timeline(con, sid, False, "Asia/Tokyo")
        default = casepages.timeline(con, sid, False)
    assert tokyo[0]["at"].endswith("+09:00") and default[0]["at"].endswith("+08:00")
    assert casepages.shown_at(stored, ZoneInfo("Asia/Tokyo")) == tokyo[0]["at"]


def test_the_assign_form_never_preselects_someone_else(world):
    import re

    sid = world.sid("DECEASED_PAID")
    chief = world.login("chief")
    page = chief.get(f"/case/{sid}").text
    form = page.split('action="/case/' + sid + '/act/assign"')[1].split("</form>")[0]
    assert re.search(r'<option value="" selected disabled>', form)  # nobody chosen for an unassigned case
    token = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    assert chief.post(f"/case/{sid}/act/assign", data={"csrf": token, "assignee": "V01"}).status_code == 303
    form = chief.get(f"/case/{sid}").text.split('action="/case/' + sid + '/act/assign"')[1].split("</form>")[0]
    assert re.search(r'<option value="V01" selected>', form)  # re-assigning starts from the current assignee
    assert '<option value="" selected disabled>' not in form
