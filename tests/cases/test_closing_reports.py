"""要情结案报告 (issue 16, item 3): only a closed 要情 gets one, only a chief makes it, its money is the register's
to the fen, its versions are append-only, the 要情统计 lists each 要情's report; it prints; and on the sample, a
case driven through the cycle by the register's own functions gets its report and is found in the 要情统计.

The register is driven by its own functions (sync_findings, assign, verify, rectify, write_off, dismiss, reopen),
with dates in 2026 before TODAY.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import shutil
import sqlite3
import stat
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

from pipelines.app import cli
from pipelines.cases import closing, reports
from pipelines.cases import register as reg
from pipelines.cases.reports.closing import closing_event
from pipelines.cases.staff import NotAllowed, os_user
from pipelines.synth.ids import check_digit
from tests.cases.report_world import build_db
from tests.cases.staffing import REGION, STAFF, staff_up
from tests.cases.test_print import print_to_pdf  # noqa: F401 — the LibreOffice fixture

TODAY = dt.date(2026, 3, 20)
FOUND = dt.date(2026, 1, 5)
MEMORY = "1GB"


def pid(serial: int) -> str:
    first17 = f"33010219800101{serial:03d}"
    return first17 + check_digit(first17)


def day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


# The cases: (suspect_id, amount at risk) — what happens to each is in `world`.
FINDINGS = {
    "SP-closed": "41220.00",  # 要情: assigned, confirmed, recovered in full -> rectified
    "SP-major": "612345.67",  # 重大要情: recovered in part, the rest written off -> rectified
    "SP-partial": "5000.00",  # 要情: recovered in part only -> partially_recovered (not closed)
    "SP-dismissed": "800.00",  # dismissed after verification
    "SP-open": "120.00",  # never touched
}


def findings() -> pl.DataFrame:
    rows = [
        {
            "suspect_id": sid,
            "rule": "DECEASED_PAID",
            "subject_id": pid(i),
            "person_id": pid(i),
            "region_code": REGION,
            "period_from": "202509",
            "period_to": "202511",
            "amount_at_risk": Decimal(amount),
            "summary": f"身份证 {pid(i)} 死亡后仍领取养老金",
        }
        for i, (sid, amount) in enumerate(FINDINGS.items(), start=1)
    ]
    return pl.DataFrame(rows, schema_overrides={"amount_at_risk": pl.Decimal(18, 2)})


@pytest.fixture
def world(tmp_path) -> Path:
    """A staffed register with the five cases worked as FINDINGS says; returns its path."""
    path = tmp_path / "fundwatch.cases.sqlite"
    con = reg.open_register(path)
    staff_up(con, [(*m[:4], os_user()) if m[0] == "chief" else m for m in STAFF])  # the test's account: the chief
    reg.sync_findings(con, findings(), FOUND, "run-1")
    for sid in ("SP-closed", "SP-major", "SP-partial", "SP-dismissed"):
        reg.assign(con, sid, assignee="V01", by="chief", on=day("2026-01-06"), today=TODAY)
    reg.verify(con, "SP-closed", by="V01", on=day("2026-01-10"), today=TODAY)
    reg.rectify(con, "SP-closed", by="V01", on=day("2026-02-01"), recovered=Decimal("41220.00"), today=TODAY)
    assert reg.verify(con, "SP-major", by="V01", on=day("2026-01-12"), today=TODAY) == "重大要情"
    reg.rectify(con, "SP-major", by="V01", on=day("2026-02-03"), recovered=Decimal("600000.00"), today=TODAY)
    reg.write_off(con, "SP-major", by="chief", on=day("2026-03-02"), reason="无可追回", today=TODAY)
    reg.verify(con, "SP-partial", by="V01", on=day("2026-01-12"), today=TODAY)
    reg.rectify(con, "SP-partial", by="V01", on=day("2026-02-03"), recovered=Decimal("1000.00"), today=TODAY)
    reg.dismiss(con, "SP-dismissed", by="V01", reason="核实为补发", on=day("2026-01-20"), today=TODAY)
    con.close()
    return path


def make(con, sid: str, by: str = "chief", out: Path | None = None, **texts: str) -> closing.MadeReport:
    return closing.make(
        con,
        None,
        by,
        sid,
        texts.get("measures", "已追回全部资金，停发待遇并完善死亡信息比对机制"),
        texts.get("responsibility", "经办人员未及时核对死亡信息，予以批评教育"),
        texts.get("facts"),
        out_dir=out,
        today=TODAY,
    )


def test_only_closed_yaoqing_are_due_and_get_a_report(world, tmp_path):
    con = reg.open_register(world)
    assert [c["suspect_id"] for c in closing.due(con, TODAY)] == ["SP-closed", "SP-major"]
    assert [c["suspect_id"] for c in closing.due(con, day("2026-02-02"))] == ["SP-closed"]  # closed by then
    for sid, status in (("SP-partial", "partially_recovered"), ("SP-dismissed", "dismissed"), ("SP-open", "open")):
        with pytest.raises(reg.CaseError, match=f"{sid}.*{status}"):
            make(con, sid, out=tmp_path / "out")
        assert not closing.status(con, sid).applies
    with pytest.raises(reg.CaseError, match="no such case"):
        make(con, "SP-nothing", out=tmp_path / "out")
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())  # nothing written when refused

    assert closing.status(con, "SP-closed").due
    made = make(con, "SP-closed", out=tmp_path / "out")
    assert made.version == 1 and [p.suffix for p in made.paths] == [".md", ".xlsx", ".docx"]
    assert [c["suspect_id"] for c in closing.due(con, TODAY)] == ["SP-major"]
    shown = closing.status(con, "SP-closed")
    assert shown.applies and not shown.due and shown.text().startswith("已出具 v1")
    events = reg.events(con, "SP-closed")
    assert (events[-1]["action"], events[-1]["actor"], events[-1]["to_status"]) == (
        "closing_report",
        "chief",
        "rectified",
    )
    con.close()


def test_only_a_chief_makes_it_with_measures_and_responsibility(world, tmp_path):
    con = reg.open_register(world)
    for who, said in (("V01", "只有科长"), ("AUD", "只有科长"), ("ADM", "只有科长")):
        with pytest.raises(NotAllowed, match=said):
            make(con, "SP-closed", by=who, out=tmp_path)
    with pytest.raises(reg.CaseError, match="整改措施"):
        make(con, "SP-closed", out=tmp_path, measures="  ")
    with pytest.raises(reg.CaseError, match="责任认定"):
        make(con, "SP-closed", out=tmp_path, responsibility="")
    assert closing.status(con, "SP-closed").due
    # a chief recording it on a verifier's behalf does not make the verifier its maker: the maker is a chief
    chief = reg.actor(con, os_user())
    on_behalf = reg.Actor(reg.staff_register.get_active(con, "V01", "x"), recorded_by=chief.staff)
    with pytest.raises(NotAllowed, match="只有科长"):
        make(con, "SP-closed", by=on_behalf, out=tmp_path)
    assert not list(tmp_path.glob("结案报告_*"))
    con.close()


def case_money(con: sqlite3.Connection, sid: str) -> dict[str, Decimal]:
    totals: dict[str, Decimal] = {}
    for kind, amount in con.execute("SELECT kind, amount FROM case_money WHERE suspect_id = ?", [sid]):
        totals[kind] = totals.get(kind, Decimal("0.00")) + Decimal(amount)
    return totals


def test_the_money_is_the_registers_to_the_fen(world, tmp_path):
    con = reg.open_register(world)
    made = make(con, "SP-major", out=tmp_path)
    case = reg.get_case(con, "SP-major")
    money = case_money(con, "SP-major")
    f = made.figures
    assert f.amount == Decimal(case["amount_at_risk"]) == Decimal("612345.67")
    assert f.recovered == money["recovered"] == Decimal(case["recovered_amount"]) == Decimal("600000.00")
    assert f.written_off == money["written_off"] == Decimal(case["written_off_amount"]) == Decimal("12345.67")
    assert f.outstanding == reg.outstanding(case) == Decimal("0.00") and f.excess == Decimal("0.00")
    row = con.execute("SELECT * FROM closing_reports WHERE report_id = ?", [made.report_id]).fetchone()
    recorded = (row["amount"], row["recovered"], row["written_off"], row["outstanding"], row["severity"])
    assert recorded == ("612345.67", "600000.00", "12345.67", "0.00", "重大要情")
    md = made.paths[0].read_text(encoding="utf-8")
    for section in ("一、基本案情", "二、涉及金额及追回情况", "三、整改措施", "四、责任认定及追究", "五、结案意见"):
        assert f"## {section}" in md
    assert "| SP-major | 重大要情 | 612,345.67 | 600,000.00 | 12,345.67 | 0.00 |" in md
    assert "经办人（签字）" in md and "负责人（签字）" in md
    # the DOCX holds the same: every section, the money row, the signature lines
    docx = docx_text(made.paths[2])
    for expected in ("一、基本案情", "五、结案意见", "612,345.67", "12,345.67", "经办人（签字）", "负责人（签字）"):
        assert expected in docx
    # IDs masked in the documents and in the register, whatever the texts held
    assert pid(2) not in md and "330102********" in md
    assert pid(2) not in docx and "330102********" in docx
    assert pid(2) not in row["facts"]
    con.close()


def docx_text(path: Path) -> str:
    import docx

    document = docx.Document(str(path))
    cells = [c.text for t in document.tables for r in t.rows for c in r.cells]
    return "\n".join([p.text for p in document.paragraphs] + cells)


def test_versions_are_append_only_and_the_files_private_and_hashed(world, tmp_path):
    con = reg.open_register(world)
    first = make(con, "SP-closed", out=tmp_path)
    second = make(con, "SP-closed", out=tmp_path, measures=f"更正：已追回全部资金（{pid(9)}）")
    assert (first.version, second.version) == (1, 2)
    rows = con.execute("SELECT * FROM closing_reports WHERE suspect_id = 'SP-closed' ORDER BY version").fetchall()
    assert [r["version"] for r in rows] == [1, 2] and rows[0]["measures"] != rows[1]["measures"]
    assert pid(9) not in rows[1]["measures"]
    for made, row in zip((first, second), rows, strict=True):
        md, xlsx, docx = made.paths
        assert (row["file_name"], row["md_file_name"], row["docx_file_name"]) == (xlsx.name, md.name, docx.name)
        assert row["sha256"] == hashlib.sha256(xlsx.read_bytes()).hexdigest()
        assert row["md_sha256"] == hashlib.sha256(md.read_bytes()).hexdigest()
        assert row["docx_sha256"] == hashlib.sha256(docx.read_bytes()).hexdigest()
        for path in made.paths:
            assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert closing.status(con, "SP-closed").current["version"] == 2
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        con.execute("UPDATE closing_reports SET amount = '1.00' WHERE version = 1")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        con.execute("DELETE FROM closing_reports")
    assert con.execute("SELECT count(*) FROM closing_reports").fetchone()[0] == 2
    con.close()


def test_a_reopened_case_needs_a_new_report_when_it_closes_again(world, tmp_path):
    con = reg.open_register(world)
    make(con, "SP-closed", out=tmp_path)
    reg.reopen(con, "SP-closed", by="chief", reason="发现漏算月份", on=day("2026-03-05"), today=TODAY)
    assert not closing.status(con, "SP-closed").applies
    assert "SP-closed" not in [c["suspect_id"] for c in closing.due(con, TODAY)]
    with pytest.raises(reg.CaseError, match="SP-closed.*partially_recovered|SP-closed.*confirmed"):
        make(con, "SP-closed", out=tmp_path)
    # voiding the reopen returns the case to the closing its report answers: nothing due
    reg.correct(con, "SP-closed", by="chief", event_id=reg.latest_step(con, "SP-closed"), reason="误操作", today=TODAY)
    assert closing.status(con, "SP-closed").current is not None
    assert "SP-closed" not in [c["suspect_id"] for c in closing.due(con, TODAY)]
    # reopened again and closed by a write-off: a new closing, due again; the earlier report is kept
    reg.reopen(con, "SP-closed", by="chief", reason="发现漏算月份", on=day("2026-03-06"), today=TODAY)
    reg.write_off(con, "SP-closed", by="chief", on=day("2026-03-07"), reason="无可追回", today=TODAY)
    assert "SP-closed" in [c["suspect_id"] for c in closing.due(con, TODAY)]
    assert closing.status(con, "SP-closed").due and len(closing.status(con, "SP-closed").earlier) == 1
    assert make(con, "SP-closed", out=tmp_path).version == 2
    assert "SP-closed" not in [c["suspect_id"] for c in closing.due(con, TODAY)]
    con.close()


def test_the_case_command_lists_what_is_due_and_makes_the_report(world, tmp_path, capsys):
    db = world.parent / "fundwatch.duckdb"  # absent: the register beside it is enough (no evidence read)
    assert reg.register_path_for(db) == world

    def case(*args: str) -> tuple[int, str]:
        code = cli.main(["case", "--db", str(db), *args])
        out = capsys.readouterr()
        return code, out.out + out.err

    code, out = case("closing-due", "--as-of", TODAY.isoformat())
    assert code == 0 and "SP-closed" in out and "SP-major" in out and "SP-partial" not in out and "2 件" in out
    texts = ("--measures", "已追回", "--responsibility", "批评教育", "--out", str(tmp_path / "o"))
    code, out = case("closing-report", "SP-partial", *texts)
    assert code == 6 and "partially_recovered" in out
    code, out = case("closing-report", "SP-closed", *texts)
    assert code == 0 and "v1" in out and "结案报告_SP-closed_v1.xlsx" in out and "41,220.00" in out
    assert (tmp_path / "o" / "结案报告_SP-closed_v1.xlsx").is_file()
    code, out = case("closing-due", "--as-of", TODAY.isoformat())
    assert code == 0 and "SP-closed" not in out and "SP-major" in out and "1 件" in out


def ev(event_id: int, action: str, from_status: str | None, to_status: str | None) -> dict:
    return {"event_id": event_id, "action": action, "from_status": from_status, "to_status": to_status}


def test_the_closing_event_is_the_last_move_to_rectified_not_undone():
    closed = [ev(1, "found", None, "open"), ev(2, "assign", "open", "under_verification")]
    closed += [ev(3, "verify", "under_verification", "confirmed"), ev(4, "rectify", "confirmed", "rectified")]
    reported = [*closed, ev(5, "closing_report", "rectified", "rectified")]
    assert closing_event(reported)["event_id"] == 4  # a report leaves the closing as it was
    reopened = [*reported, ev(6, "reopen", "rectified", "partially_recovered")]
    assert closing_event(reopened) is None  # reopened since: not closed
    assert closing_event([*reopened, ev(7, "correct", "partially_recovered", "rectified")], voided={6})["event_id"] == 4
    found_again = [*reported, ev(6, "reopened", "rectified", "open"), ev(7, "assign", "open", "under_verification")]
    assert closing_event(found_again) is None
    again = [
        *found_again,
        ev(8, "verify", "under_verification", "confirmed"),
        ev(9, "write_off", "confirmed", "rectified"),
    ]
    assert closing_event(again)["event_id"] == 9
    assert closing_event(again, voided={9}) is None  # the closing step voided by a correction
    assert closing_event(closed[:3]) is None


def yaoqing_md(register: Path, tmp_path: Path, as_of: dt.date = TODAY) -> str:
    db = tmp_path / "fundwatch.duckdb"
    if not db.exists():
        build_db(db)
    paths = reports.yaoqing_statistics(register, db, 2026, 1, tmp_path / "y", today=as_of, memory_limit=MEMORY)
    return paths[0].read_text(encoding="utf-8")


def closing_rows(md: str) -> dict[str, str]:
    """suspect_id -> the 结案报告 cell of section 六."""
    section = md.split("## 六、要情结案报告")[1]
    rows = [line.split(" | ") for line in section.splitlines() if line.startswith("| SP-")]
    return {cells[0].lstrip("| "): cells[-1].rstrip(" |") for cells in rows}


def test_the_yaoqing_statistics_list_each_yaoqing_with_its_closing_report(world, tmp_path):
    con = reg.open_register(world)
    make(con, "SP-closed", out=tmp_path / "out")
    con.close()
    md = yaoqing_md(world, tmp_path)
    rows = closing_rows(md)
    assert rows == {
        "SP-closed": "2026-03-20 出具 v1（chief）",
        "SP-major": "⚠ 未出具 not made",
        "SP-partial": "不适用 n/a（未结 open）",
    }  # the dismissed and the open case were never 要情
    assert "结案未出具结案报告 closed without a closing report：1 件" in md
    assert "已整改结案 2 件" in md and "已出具结案报告 1 件" in md
    # the existing sections are intact
    for heading in ("一、总体情况", "二、按规则统计", "三、按统筹区统计", "四、追回及核销", "五、报送及时性"):
        assert f"## {heading}" in md
    # on a day before the report was made, it was not yet made
    earlier = yaoqing_md(world, tmp_path / "earlier", as_of=day("2026-03-19"))
    assert closing_rows(earlier)["SP-closed"] == "⚠ 未出具 not made"


def test_a_register_without_yaoqing_still_makes_its_zero_report(tmp_path):
    path = tmp_path / "fundwatch.cases.sqlite"
    reg.open_register(path).close()
    md = yaoqing_md(path, tmp_path)
    assert "零报告" in md and "六、要情结案报告" not in md


@pytest.mark.slow
def test_the_closing_report_prints(print_to_pdf, world, tmp_path):  # noqa: F811 — the fixture of test_print
    con = reg.open_register(world)
    made = make(con, "SP-major", out=tmp_path / "out")
    con.close()
    xlsx, docx = made.paths[1:]
    pages = print_to_pdf([xlsx], tmp_path / "pdf")[xlsx.stem]
    text = "".join(page.text for page in pages)
    docx_pages = print_to_pdf([docx], tmp_path / "pdf-docx")[docx.stem]  # the same stem: a folder of its own
    docx_printed = "".join(page.text for page in docx_pages)
    assert 1 <= len(docx_pages) <= 4 and "第1页共" in docx_printed.replace(" ", "")
    for expected in ("社会保险基金要情结案报告", "五、结案意见", "612,345.67", "负责人（签字）", "330102********"):
        assert expected in docx_printed, f"{expected!r} is not on the printed DOCX"
    assert pid(2) not in docx_printed
    for expected in (
        "社会保险基金要情结案报告",
        "一、基本案情",
        "二、涉及金额及追回情况",
        "三、整改措施",
        "四、责任认定及追究",
        "五、结案意见",
        "612,345.67",
        "12,345.67",
        "经办人（签字）",
        "负责人（签字）",
        "330102********",
    ):
        assert expected in text, f"{expected!r} is not on the printed closing report"
    assert pid(2) not in text
    assert len(pages) <= 8, f"the closing report printed on {len(pages)} pages"
    for page in pages:
        assert "社会保险基金要情结案报告" in page.first_line.replace(" ", "")


# ---- on the sample ("done when") -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> Path:
    """A copy of the sample run's database and register, staffed (V01 works every region of the sample's cases)."""
    from tests.sample_run import sample_database

    published = sample_database(tmp_path_factory)
    folder = tmp_path_factory.mktemp("closing-sample")
    copy = folder / published.name
    shutil.copy2(published, copy)
    shutil.copy2(reg.register_path_for(published), reg.register_path_for(copy))
    return copy


@pytest.mark.slow
def test_on_the_sample_a_major_case_is_closed_reported_and_listed(sample, tmp_path):
    from pipelines.warehouse.session import reader

    register = reg.register_path_for(sample)
    today = max(dt.date.today(), dt.date(2026, 11, 27))
    con = reg.open_register(register)
    biggest = con.execute(
        "SELECT suspect_id, region_code, amount_at_risk FROM cases WHERE status = 'open' AND region_code IS NOT NULL"
        " AND person_id IS NOT NULL ORDER BY CAST(amount_at_risk AS REAL) DESC LIMIT 1"
    ).fetchone()
    sid, region, amount = biggest["suspect_id"], biggest["region_code"], Decimal(biggest["amount_at_risk"])
    staff_up(
        con,
        [
            ("ADM", "张管理", "admin", (), "adm-user"),
            ("C01", "王科长", "chief", (), "c01-user"),
            ("V01", "李核查", "verifier", (region,), None),
        ],
    )
    reg.assign(con, sid, assignee="V01", by="C01", on=today, today=today)
    severity = reg.verify(con, sid, by="V01", on=today, today=today)
    assert severity == ("重大要情" if amount >= Decimal("500000.00") else "要情")
    half_way = (amount / 2).quantize(Decimal("0.01"))
    assert reg.rectify(con, sid, by="V01", on=today, recovered=half_way, today=today) == "partially_recovered"
    assert reg.rectify(con, sid, by="V01", on=today, recovered=amount - half_way, today=today) == "rectified"
    assert sid in [c["suspect_id"] for c in closing.due(con, today)]
    with reader(sample, memory_limit=MEMORY) as duck:
        made = closing.make(
            con, duck, "C01", sid, "已全额追回", "经办人未核对死亡信息，通报批评", out_dir=tmp_path, today=today
        )
    assert sid not in [c["suspect_id"] for c in closing.due(con, today)]
    con.close()
    assert (made.figures.amount, made.figures.recovered, made.figures.outstanding) == (amount, amount, Decimal("0.00"))
    md = made.paths[0].read_text(encoding="utf-8")
    assert "夜间交叉比对" in md and "来源" in md and "行" in md  # facts composed from the case and its evidence
    person = reg.open_register(register).execute("SELECT person_id FROM cases WHERE suspect_id = ?", [sid]).fetchone()
    assert person[0] not in md

    half = 1 if today.month <= 6 else 2
    paths = reports.yaoqing_statistics(
        register, sample, today.year, half, tmp_path / "y", today=today, memory_limit=MEMORY
    )
    listed = closing_rows(paths[0].read_text(encoding="utf-8"))
    assert listed[sid] == f"{today.isoformat()} 出具 v1（C01）"
