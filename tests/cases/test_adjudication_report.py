"""事前筛查核实认定月报 (issue 15 item 4) and the blacklist annex of the half-year report (item 5).

The register is built by `open_register` (every sql/cases/0*.sql) and filled by direct SQL inserts
(`build_screening_register`): the report reads what the register holds, whatever command wrote it, and the stories
need screenings and decisions recorded on past days and with other offsets than the office's. The office's time
zone is Asia/Shanghai (+08:00).

The screenings (rows per region: rows / held / amount):

| # | channel | screened_at | Shanghai day | rows per region |
|---|---|---|---|---|
| 1 | cli | 2025-11-03T09:00:00+08:00 | 11-03 | 330100 5/2/16,050.00; 330200 3/1/6,000.50; '' 1/1/— |
| 2 | api | 2025-11-30T23:30:00+08:00 | 11-30 (last minutes of the month) | 330200 1/1/980.00 |
| 3 | cli | 2025-11-30T16:30:00+00:00 | 12-01 00:30: December, not November | 330100 1/1/100.00 |
| 4 | cli | 2025-10-31T17:00:00+00:00 | 11-01 01:00: November, not October | 330300 2/1/9,000.00; 330100 1/0/1,000.00 |
| 5 | cli | 2025-10-31T23:59:00+08:00 | 10-31: October | 330100 1/1/200.00 |

The held rows of November and their decisions (cut-off 2025-12-10, end of day):

| hold | region | amount | reasons | decisions recorded | at the cut-off |
|---|---|---|---|---|---|
| 1/2 | 330100 | 3,210.00 | DECEASED;BLACKLISTED | improper 11-05 | stopped |
| 1/3 | 330100 | 1,500.00 | EMPLOYED | proper 11-06 | released |
| 1/5 | 330200 | 2,000.50 | ALREADY_PAID | improper 11-04, pending 11-20 (set back), improper 12-15 | pending |
| 1/7 | '' | — | INVALID (the ID as it arrived) | improper 11-07 | stopped, no amount |
| 2/1 | 330200 | 980.00 | PENSIONER;SHARED_ACCOUNT | none | pending |
| 4/1 | 330300 | 4,500.00 | IN_CUSTODY | proper 2025-12-10T16:30Z = 12-11 00:30 Shanghai | pending |

November at 12-10: 3 screenings (cli 2, api 1), 13 rows screened for 33,030.50; 6 held for 12,190.50: released 1,
stopped 2 (3,210.00), pending 3. By reason the held rows add up to 8: two rows have two reasons each.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import sqlite3
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import fastexcel
import pytest

from pipelines.app import cli
from pipelines.cases import reports
from pipelines.cases.printing import OFFICE
from pipelines.cases.register import open_register
from pipelines.cases.reports import adjudication
from pipelines.cases.reports.markdown import render_markdown
from pipelines.cases.reports.sources import read_register
from pipelines.screen import checks
from pipelines.synth.ids import check_digit
from pipelines.web import reportpages
from tests.cases.report_world import build_db, build_register
from tests.cases.test_print import all_text, footer, print_to_pdf  # noqa: F401 — the print fixture
from tests.cases.test_report_consistency import number, rows_by, sections, tables, total_row

MEMORY = "1GB"
TODAY = dt.date(2026, 1, 20)
CUTOFF = dt.date(2025, 12, 10)


def person(first17: str) -> str:
    return first17 + check_digit(first17)


A, B, C, D, E, F = (person(f"33010219800101{n}") for n in range(101, 107))
ACCOUNT = "6222021234567890123"
RAW_INVALID = "33010219800101123"  # 17 characters: the ID as it arrived, held INVALID

# screening_id, batch_file, screened_at, channel, [(region_code, rows, held, amount, held_amount)]
SCREENINGS = [
    (1, "养老金_202511.csv", "2025-11-03T09:00:00+08:00", "cli",
     [("330100", 5, 2, "16050.00", "4710.00"), ("330200", 3, 1, "6000.50", "2000.50"), ("", 1, 1, "0.00", "0.00")]),
    (2, "api", "2025-11-30T23:30:00+08:00", "api", [("330200", 1, 1, "980.00", "980.00")]),
    (3, "失业金_202512.csv", "2025-11-30T16:30:00+00:00", "cli", [("330100", 1, 1, "100.00", "100.00")]),
    (4, "养老金_补发.csv", "2025-10-31T17:00:00+00:00", "cli",
     [("330300", 2, 1, "9000.00", "4500.00"), ("330100", 1, 0, "1000.00", "0.00")]),
    (5, "养老金_202510.csv", "2025-10-31T23:59:00+08:00", "cli", [("330100", 1, 1, "200.00", "200.00")]),
]  # fmt: skip

# screening_id, line, payment_id, person_id, region_code, benefit_type, period, amount, reasons
HOLDS = [
    (1, 2, "PAY-0002", A, "330100", "pension", "202511", "3210.00", "DECEASED;BLACKLISTED"),
    (1, 3, "PAY-0003", B, "330100", "unemployment", "202511", "1500.00", "EMPLOYED"),
    (1, 5, "PAY-0005", C, "330200", "pension", "202511", "2000.50", "ALREADY_PAID"),
    (1, 7, "PAY-0007", RAW_INVALID, None, None, None, None, "INVALID"),
    (2, 1, "API-1", D, "330200", "unemployment", "202511", "980.00", "PENSIONER;SHARED_ACCOUNT"),
    (3, 1, "PAY-DEC", E, "330100", "pension", "202512", "100.00", "DECEASED"),
    (4, 1, "PAY-BF1", F, "330300", "pension", "202510", "4500.00", "IN_CUSTODY"),
    (5, 1, "PAY-OCT", A, "330100", "pension", "202510", "200.00", "DECEASED"),
]

# screening_id, line, decision, at (in the order recorded)
DECISIONS = [
    (1, 5, "improper", "2025-11-04T10:00:00+08:00"),
    (1, 2, "improper", "2025-11-05T10:00:00+08:00"),
    (1, 3, "proper", "2025-11-06T10:00:00+08:00"),
    (1, 7, "improper", "2025-11-07T10:00:00+08:00"),
    (1, 5, "pending", "2025-11-20T10:00:00+08:00"),
    (5, 1, "improper", "2025-11-02T10:00:00+08:00"),
    (4, 1, "proper", "2025-12-10T16:30:00+00:00"),  # 12-11 00:30 in Shanghai: after the cut-off
    (1, 5, "improper", "2025-12-15T10:00:00+08:00"),
]


def build_screening_register(
    path: Path,
    screenings=SCREENINGS,
    holds=HOLDS,
    decisions=DECISIONS,
    blacklist=(),
) -> Path:
    """A register (every sql/cases/0*.sql) holding exactly these screening rows, inserted directly.

    screenings: (screening_id, batch_file, screened_at, channel, [(region_code, rows, held, amount, held_amount)]),
    the screening's own rows, held and amounts the sums of its regions';
    holds: (screening_id, line, payment_id, person_id, region_code, benefit_type, period, amount, reasons);
    decisions: (screening_id, line, decision, at), in the order recorded;
    blacklist: (kind, key, reason, source_suspect_id, added_by, added_at, removal), removal None or
    (removed_by, removed_at, removal_reason).
    """
    con = open_register(path)
    try:
        con.execute("BEGIN IMMEDIATE")
        for sid, batch_file, at, channel, regions in screenings:
            con.execute(
                "INSERT INTO screenings (screening_id, batch_file, sha256, screened_at, screened_by, channel, as_of,"
                " run_id, rows, held, amount, held_amount) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    sid,
                    batch_file,
                    hashlib.sha256(batch_file.encode()).hexdigest(),
                    at,
                    "token:agency" if channel == "api" else "C01",
                    channel,
                    at[:10],
                    "r1",
                    sum(r[1] for r in regions),
                    sum(r[2] for r in regions),
                    str(sum(Decimal(r[3]) for r in regions)),
                    str(sum(Decimal(r[4]) for r in regions)),
                ],
            )
            con.executemany(
                "INSERT INTO screening_counts (screening_id, region_code, rows, held, amount, held_amount)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                [(sid, *r) for r in regions],
            )
        for sid, line, payment_id, pid, region, benefit_type, period, amount, reasons in holds:
            con.execute(
                "INSERT INTO screening_holds (screening_id, line, payment_id, person_id, region_code, scheme,"
                " benefit_type, period, amount, bank_account, reasons, explanation)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    sid,
                    line,
                    payment_id,
                    pid,
                    region,
                    "110" if benefit_type == "pension" else "210" if benefit_type else None,
                    benefit_type,
                    period,
                    amount,
                    ACCOUNT if amount else None,
                    reasons,
                    f"暂停 held: {reasons}",
                ],
            )
        con.executemany(
            "INSERT INTO screening_adjudications (screening_id, line, decision, reason, by_actor, at)"
            " VALUES (?, ?, ?, ?, 'V01', ?)",
            [(sid, line, decision, f"核实 {decision}", at) for sid, line, decision, at in decisions],
        )
        for kind, key, reason, source, by, at, removal in blacklist:
            cursor = con.execute(
                "INSERT INTO blacklist_entries (kind, key, reason, source_suspect_id, added_by, added_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                [kind, key, reason, source, by, at],
            )
            if removal:
                con.execute(
                    "INSERT INTO blacklist_removals (entry_id, removed_by, removed_at, removal_reason)"
                    " VALUES (?, ?, ?, ?)",
                    [cursor.lastrowid, *removal],
                )
        con.execute("COMMIT")
    finally:
        con.close()
    return path


@pytest.fixture
def register(tmp_path) -> Path:
    return build_screening_register(tmp_path / "fw.cases.sqlite")


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def november(register: Path, out: Path, as_of: dt.date = CUTOFF) -> tuple[str, Path]:
    md, xlsx = reports.adjudication_report(register, "202511", out, today=TODAY, as_of=as_of)
    return md.read_text(encoding="utf-8"), xlsx


def figures_of(sentence: str) -> tuple[Decimal, ...]:
    pattern = (
        r"共筛查 (\S+) 次（命令行 (\S+) 次、接口 (\S+) 次），筛查数据行 (\S+) 行、金额 (\S+) 元；"
        r"暂停 (\S+) 行、金额 (\S+) 元。"
        r"截至 \S+ 日终，准予发放 (\S+) 行，不予发放 (\S+) 行（不予发放金额 (\S+) 元），待认定 (\S+) 行"
    )
    match = re.search(pattern, sentence)
    assert match, sentence[:400]
    return tuple(Decimal(g.replace(",", "")) for g in match.groups())


# ---- every figure ------------------------------------------------------------------------------------------------


def test_the_reason_codes_are_those_of_screening():
    """The report's codes and words are screening's (pipelines/screen/checks.py), in the contract's order."""
    assert adjudication.REASONS == checks.REASONS
    assert adjudication.REASON_ZH == checks.REASON_ZH


def test_the_monthly_adjudication_report(register, tmp_path):
    before = sha256(register)
    md, xlsx = november(register, tmp_path / "out")
    assert xlsx.name == "核实认定月报_202511.xlsx"
    assert md.startswith("# 事前筛查核实认定月报（2025年11月）")
    assert "统计期间 period：2025-11-01 至 2025-11-30" in md
    assert "认定截至 decisions as of：2025-12-10 日终" in md
    assert "口径 time base：统计筛查时间（screened_at，Asia/Shanghai 时间）在 2025-11-01 至 2025-11-30 的筛查" in md

    parts = sections(md)
    overview = parts["一、本月筛查概况（Overview）"]
    assert (
        "本月（2025-11-01 至 2025-11-30）共筛查 3 次（命令行 2 次、接口 1 次），筛查数据行 13 行、金额 33,030.50 元；"
        "暂停 6 行、金额 12,190.50 元。截至 2025-12-10 日终，准予发放 1 行，不予发放 2 行（不予发放金额 3,210.00 元），"
        "待认定 3 行。"
    ) in overview
    assert "| 命令行 cli | 2 | 12 | 5 | 1 | 2 | 2 | 11,210.50 | 3,210.00 |" in overview
    assert "| 接口 api | 1 | 1 | 1 | 0 | 0 | 1 | 980.00 | 0.00 |" in overview
    assert "| 合计 | 3 | 13 | 6 | 1 | 2 | 3 | 12,190.50 | 3,210.00 |" in overview

    by_reason = parts["二、按暂停原因（By reason）"]
    expected = {
        "INVALID": ("数据无效", "1 | 0 | 1 | 0 | 0.00 | 0.00"),
        "DECEASED": ("已死亡", "1 | 0 | 1 | 0 | 3,210.00 | 3,210.00"),
        "IN_CUSTODY": ("服刑期间", "1 | 0 | 0 | 1 | 4,500.00 | 0.00"),
        "ALREADY_PAID": ("重复发放", "1 | 0 | 0 | 1 | 2,000.50 | 0.00"),
        "EMPLOYED": ("在职就业", "1 | 1 | 0 | 0 | 1,500.00 | 0.00"),
        "PENSIONER": ("已领养老金", "1 | 0 | 0 | 1 | 980.00 | 0.00"),
        "SHARED_ACCOUNT": ("多人共用账户", "1 | 0 | 0 | 1 | 980.00 | 0.00"),
        "BLACKLISTED": ("黑名单", "1 | 0 | 1 | 0 | 3,210.00 | 3,210.00"),
        "UNKNOWN_PERSON": ("无参保记录", "0 | 0 | 0 | 0 | 0.00 | 0.00"),
    }
    for code, (label, cells) in expected.items():
        assert f"| {code} | {label} | {cells} |" in by_reason, code
    listed = [line.split(" | ")[0][2:] for line in by_reason.splitlines() if re.match(r"\| [A-Z_]+ \|", line)]
    assert listed == list(checks.REASONS)  # every code, in the contract's order
    assert "| 合计 | （每行只计一次 each row once） | 6 | 1 | 2 | 3 | 12,190.50 | 3,210.00 |" in by_reason
    assert "各原因的暂停行数之和（8 行）大于合计（6 行）；本月有多个暂停原因的暂停行 2 行" in by_reason

    by_region = parts["三、按统筹区（By pooling region）"]
    assert "| 330100 | 6 | 17,050.00 | 2 | 1 | 1 | 0 | 4,710.00 | 3,210.00 |" in by_region
    assert "| 330200 | 4 | 6,980.50 | 2 | 0 | 0 | 2 | 2,980.50 | 0.00 |" in by_region
    assert "| 330300 | 2 | 9,000.00 | 1 | 0 | 0 | 1 | 4,500.00 | 0.00 |" in by_region
    assert "| 未指定 none | 1 | 0.00 | 1 | 0 | 1 | 0 | 0.00 | 0.00 |" in by_region
    assert "| 合计 | 13 | 33,030.50 | 6 | 1 | 2 | 3 | 12,190.50 | 3,210.00 |" in by_region

    pending = parts["四、待认定暂停行（Holds pending adjudication）"]
    assert "本月暂停行待认定 3 行，金额 7,480.50 元" in pending
    lines = [line for line in pending.splitlines() if re.match(r"\| \d+ \| \d+ \|", line)]
    # oldest first, by the moment screened (screening 4 was screened on 11-01 in Shanghai, written in UTC)
    assert [line.split(" | ")[:3] for line in lines] == [
        ["| 4", "1", "2025-11-01"],
        ["| 1", "5", "2025-11-03"],
        ["| 2", "1", "2025-11-30"],
    ]
    assert lines[0].endswith("| 4,500.00 | IN_CUSTODY 服刑期间 | 39 |")
    assert "| PENSIONER 已领养老金；SHARED_ACCOUNT 多人共用账户 | 10 |" in lines[2]

    # masked: no citizen ID, raw ID as it arrived or account in the report
    for value in (A, B, C, D, F, RAW_INVALID, ACCOUNT):
        assert value not in md
    assert f"{C[:6]}********{C[-4:]}" in pending
    cells = xlsx_text(xlsx)
    assert "事前筛查核实认定月报（2025年11月）" in cells and "33030.5" in cells and "3210" in cells
    assert not any(value in cells for value in (A, B, C, D, F, RAW_INVALID, ACCOUNT))
    assert sha256(register) == before  # a report never writes


def xlsx_text(path: Path) -> str:
    reader = fastexcel.read_excel(path)
    cells = []
    for name in reader.sheet_names:
        frame = reader.load_sheet(name, header_row=None, dtypes="string").to_polars()
        for column in frame.columns:
            cells += [v for v in frame[column].to_list() if v is not None]
    return "\n".join(cells)


def test_decisions_count_as_they_stand_at_the_cut_off(register, tmp_path):
    """Later, hold 1/5 is stopped again (12-15) and 4/1 released (12-11 in Shanghai): pending becomes decided.
    Earlier, nothing of 11-30's screening and only the decisions of November 1-5 count."""
    later, _ = november(register, tmp_path / "later", as_of=dt.date(2025, 12, 31))
    assert figures_of(later)[7:] == (2, 3, Decimal("5210.50"), 1)
    assert "| 合计 | （每行只计一次 each row once） | 6 | 2 | 3 | 1 | 12,190.50 | 5,210.50 |" in later
    assert "| ALREADY_PAID | 重复发放 | 1 | 0 | 1 | 0 | 2,000.50 | 2,000.50 |" in later

    # the cut-off day's end, not its written date: 4/1's decision is 12-10 in UTC, 12-11 in Shanghai
    on_the_day, _ = november(register, tmp_path / "day", as_of=dt.date(2025, 12, 11))
    assert "| IN_CUSTODY | 服刑期间 | 1 | 1 | 0 | 0 | 4,500.00 | 0.00 |" in on_the_day
    assert "| ALREADY_PAID | 重复发放 | 1 | 0 | 0 | 1 | 2,000.50 | 0.00 |" in on_the_day  # set back on 11-20

    # made on 11-05: the month so far (screenings 4 and 1), 1/5 stopped (11-04) and 1/2 stopped (11-05) count
    early, _ = november(register, tmp_path / "early", as_of=dt.date(2025, 11, 5))
    assert "统计期间 period：2025-11-01 至 2025-11-05" in early
    assert figures_of(early) == (2, 2, 0, 12, Decimal("32050.50"), 5, Decimal("11210.50"), 0, 2, Decimal("5210.50"), 3)


def test_the_default_cut_off_is_the_day_the_report_is_made(register, tmp_path):
    made_today = reports.adjudication_report(register, "202511", tmp_path / "a", today=dt.date(2025, 12, 10))
    explicit = reports.adjudication_report(register, "202511", tmp_path / "b", today=TODAY, as_of=CUTOFF)
    assert made_today[0].read_text("utf-8") == explicit[0].read_text("utf-8")
    later = reports.adjudication_report(register, "202511", tmp_path / "c", today=TODAY)[0].read_text("utf-8")
    assert f"认定截至 decisions as of：{TODAY.isoformat()} 日终" in later and "待认定 1 行" in later


def test_the_month_boundary_is_the_offices_day(register, tmp_path):
    """Screening 3 was written 11-30 in UTC, but it is 12-01 00:30 in Shanghai: December's. Screening 5 (10-31 23:59
    in Shanghai) is October's. The office's time zone decides, whatever offset a writer used."""
    december = reports.adjudication_report(register, "202512", tmp_path, today=TODAY, as_of=CUTOFF)
    text = december[0].read_text("utf-8")
    assert "共筛查 1 次（命令行 1 次、接口 0 次），筛查数据行 1 行、金额 100.00 元；暂停 1 行" in text
    assert "| DECEASED | 已死亡 | 1 | 0 | 0 | 1 | 100.00 | 0.00 |" in text  # pending
    october = reports.adjudication_report(register, "202510", tmp_path, today=TODAY, as_of=CUTOFF)[0]
    assert "共筛查 1 次（命令行 1 次、接口 0 次），筛查数据行 1 行、金额 200.00 元；暂停 1 行、金额 200.00 元" in (
        october.read_text("utf-8")
    )
    # in UTC the same register has screening 4 in October and 3 in November
    utc = reports.adjudication_report(
        register, "202511", tmp_path / "utc", today=TODAY, as_of=CUTOFF, zone=ZoneInfo("UTC")
    )[0].read_text("utf-8")
    assert "共筛查 3 次（命令行 2 次、接口 1 次），筛查数据行 11 行" in utc  # 1, 2 (23:30+08 is 15:30 UTC), 3


def test_the_report_agrees_with_itself_and_the_register(register, tmp_path):
    """Sentence = table totals = sum of the rows = the register summed by SQL (decisions in force today)."""
    md, _ = november(register, tmp_path, as_of=dt.date(2026, 1, 31))  # after every decision: the view's state
    parts = sections(md)
    f = figures_of(parts["一、本月筛查概况（Overview）"])
    screenings, _cli, _api, screened, screened_amount, held, held_amount, proper, improper, stopped, pending = f
    keys = [
        "暂停行数 held",
        "准予发放 released",
        "不予发放 stopped",
        "待认定 pending",
        "暂停金额（元）",
        "不予发放金额（元）",
    ]
    stated = (held, proper, improper, pending, held_amount, stopped)
    channel = total_row(parts["一、本月筛查概况（Overview）"], "渠道 channel")
    region = total_row(parts["三、按统筹区（By pooling region）"], "统筹区 region")
    reason = total_row(parts["二、按暂停原因（By reason）"], "原因代码 code")
    for t in (channel, region, reason):
        assert tuple(t[k] for k in keys) == stated
    assert (channel["筛查次数 screenings"], channel["筛查行数 screened"]) == (screenings, screened)
    assert (region["筛查行数 screened"], region["筛查金额（元）"]) == (screened, screened_amount)

    # the rows add up to the totals: by channel and region each row once; by reason a row once per reason
    for heading, first in (
        ("一、本月筛查概况（Overview）", "渠道 channel"),
        ("三、按统筹区（By pooling region）", "统筹区 region"),
    ):
        header, rows = next(t for t in tables(parts[heading]) if t[0][0] == first)
        for i, name in enumerate(header[1:], start=1):
            assert sum(number(r[i]) for r in rows[:-1]) == number(rows[-1][i]), (heading, name)
    header, rows = next(t for t in tables(parts["二、按暂停原因（By reason）"]) if t[0][0] == "原因代码 code")
    con = sqlite3.connect(register)
    try:
        month = (
            "screening_id IN (SELECT screening_id FROM screenings"
            " WHERE date(screened_at, '+8 hours') BETWEEN '2025-11-01' AND '2025-11-30')"
        )
        status = con.execute(f"SELECT reasons, decision, amount FROM screening_hold_status WHERE {month}").fetchall()
        counts = con.execute(f"SELECT sum(rows), sum(held) FROM screening_counts WHERE {month}").fetchone()
        amounts = [Decimal(a) for (a,) in con.execute(f"SELECT amount FROM screening_counts WHERE {month}")]
        recorded = con.execute(f"SELECT count(*), sum(rows), sum(held) FROM screenings WHERE {month}").fetchone()
    finally:
        con.close()
    assert recorded == (screenings, screened, held) and counts == (screened, held)
    assert sum(amounts) == screened_amount
    assert len(status) == held
    assert sum(1 for s in status if s[1] == "proper") == proper
    assert sum(1 for s in status if s[1] == "improper") == improper
    assert sum(1 for s in status if s[1] == "pending") == pending
    assert sum(Decimal(s[2]) for s in status if s[2] and s[1] == "improper") == stopped
    assert sum(Decimal(s[2]) for s in status if s[2]) == held_amount
    column = header.index("暂停行数 held")
    assert sum(number(r[column]) for r in rows[:-1]) == sum(len(s[0].split(";")) for s in status) == held + 2


def test_a_month_without_screenings_and_an_old_register(tmp_path):
    empty = build_screening_register(tmp_path / "empty.cases.sqlite", screenings=(), holds=(), decisions=())
    text = reports.adjudication_report(empty, "202511", tmp_path, today=TODAY)[0].read_text("utf-8")
    assert "本月（2025-11-01 至 2025-11-30）无事前筛查记录。" in text and "本月筛查无暂停行" in text
    old = tmp_path / "old.cases.sqlite"  # a register from before screening: only the cases
    con = sqlite3.connect(old)
    con.executescript((Path(__file__).resolve().parents[2] / "sql" / "cases" / "001_cases.sql").read_text("utf-8"))
    con.close()
    paths = reports.adjudication_report(old, "202511", tmp_path / "old", today=TODAY)
    assert "无事前筛查记录" in paths[0].read_text("utf-8") and fastexcel.read_excel(paths[1]).sheet_names


def test_a_bad_month_is_refused(register, tmp_path):
    with pytest.raises(ValueError, match="YYYYMM"):
        reports.adjudication_report(register, "2025-11", tmp_path, today=TODAY)


# ---- the command and the workbench ----------------------------------------------------------------------------


def test_the_command_writes_the_report_without_a_duckdb_file(register, tmp_path, capsys):
    out = tmp_path / "out"
    args = ["report", "--db", str(tmp_path / "absent.duckdb"), "--register", str(register), "--out", str(out)]
    assert cli.main([*args, "adjudication", "--month", "2025-11", "--as-of", "2025-12-10"]) == 0
    written = out / "核实认定月报_202511.md"
    assert f"报告 report: {written}" in capsys.readouterr().out
    expected = reports.adjudication_report(register, "202511", tmp_path / "fn", today=TODAY, as_of=CUTOFF)[0]
    assert written.read_text("utf-8") == expected.read_text("utf-8")
    with pytest.raises(SystemExit) as usage:
        cli.main([*args, "adjudication", "--month", "2025-13"])
    assert usage.value.code == 2 and "月份无效" in capsys.readouterr().err
    assert cli.main(["report", "--db", str(tmp_path / "x.duckdb"), "adjudication", "--month", "202511"]) == 2


def test_the_workbench_offers_the_report_as_the_command_writes_it(register, tmp_path):
    assert "adjudication" in reportpages.REPORTS
    doc, stem = reportpages.build(
        "adjudication",
        {"month": "202511", "as_of": "2025-12-10"},
        register=register,
        db=tmp_path / "absent.duckdb",
        today=TODAY,
        memory_limit=MEMORY,
    )
    assert stem == "核实认定月报_202511"
    written = reports.adjudication_report(register, "202511", tmp_path, today=TODAY, as_of=CUTOFF)[0]
    assert render_markdown(doc) == written.read_text("utf-8")
    with pytest.raises(reportpages.ReportFormError):
        reportpages.build(
            "adjudication", {"month": "2025-11", "as_of": "2025-12-10"}, register=register, db=tmp_path,
            today=TODAY, memory_limit=MEMORY,
        )  # fmt: skip


# ---- the blacklist in the half-year report ---------------------------------------------------------------------

ENTRIES = [
    # kind, key, reason, source case, added by, added at, removal (by, at, reason)
    ("person", A, f"冒领死亡人员待遇 {A}", "S1", "C01", "2025-03-02T10:00:00+08:00",
     ("C01", "2025-08-15T10:00:00+08:00", "已全额退回 repaid")),
    ("employer", "E001", "虚报工资骗取失业保险", "S4", "C01", "2025-06-30T16:30:00+00:00", None),  # 07-01 00:30
    ("account", ACCOUNT, "多人共用收款账户", None, "C02", "2025-09-10T09:00:00+08:00",
     ("C01", "2026-01-05T09:00:00+08:00", "核实为家庭共用")),  # removed after the report's day
    ("person", B, "服刑期间冒领养老金", "S9", "C01", "2025-06-30T23:00:00+08:00", None),  # H1
    ("employer", "E002", "伪造参保材料", "S7", "C02", "2025-12-05T09:00:00+08:00",
     ("C02", "2025-12-20T09:00:00+08:00", "误列 listed in error")),
    ("person", C, "冒领", None, "C01", "2026-01-10T09:00:00+08:00", None),  # after the report's day
]  # fmt: skip


@pytest.fixture
def blacklisted(tmp_path) -> tuple[Path, Path]:
    path = build_register(tmp_path / "bl.cases.sqlite", [], [])
    build_screening_register(path, screenings=(), holds=(), decisions=(), blacklist=ENTRIES)
    return path, build_db(tmp_path / "bl.duckdb")


def test_the_half_year_report_lists_the_blacklists_additions_and_removals(blacklisted, tmp_path):
    register, db = blacklisted
    md_path, xlsx = reports.supervision_report(
        register, db, 2025, 2, tmp_path, today=TODAY, memory_limit=MEMORY, as_of=dt.date(2025, 12, 31)
    )
    md = md_path.read_text("utf-8")
    assert [line[3:] for line in md.splitlines() if line.startswith("## ")] == list(reports.SUPERVISION_SECTIONS)
    start = md.index("附件　本期黑名单新增及移出情况")
    assert start > md.index("（二）下一步措施") > md.index("## 五、主要问题和下一步措施")  # after the five sections
    annex = md[start:]
    assert (
        "本期（2025-07-01 至 2025-12-31）黑名单新增 3 条（单位 2 条、银行账号 1 条），移出 2 条；"
        "截至 2025-12-31 日终在册 3 条。"
    ) in annex
    assert "| 单位 employer | 2 | 1 | 1 |" in annex
    assert "| 人员 person | 0 | 1 | 1 |" in annex  # A removed in August; B (H1) still listed
    assert "| 银行账号 account | 1 | 0 | 1 |" in annex
    assert "| 合计 | 3 | 2 | 3 |" in annex
    additions = rows_by(annex, "编号 entry", "本期新增 additions")
    assert sorted(additions) == ["2", "3", "5"]
    assert additions["2"]["列入时间 added at"] == "2025-07-01 00:30"  # written in UTC on 06-30
    assert additions["2"]["来源案件 source case"] == "S4" and additions["2"]["列入人 added by"] == "C01"
    assert additions["3"]["对象 key"] == "***************0123" and additions["3"]["来源案件 source case"] == "—"
    assert additions["3"]["截至 2025-12-31 状态"] == "在册 in force"  # its removal is in 2026
    assert additions["5"]["截至 2025-12-31 状态"] == "已移出 removed 2025-12-20"
    removals = rows_by(annex, "编号 entry", "本期移出 removals")
    assert sorted(removals) == ["1", "5"]
    assert removals["1"]["对象 key"] == f"{A[:6]}********{A[-4:]}"
    assert removals["1"]["移出理由 removal reason"] == "已全额退回 repaid"
    assert removals["1"]["列入理由 reason"] == f"冒领死亡人员待遇 {A[:6]}********{A[-4:]}"  # an ID in a reason masked
    assert (removals["5"]["移出人 removed by"], removals["5"]["移出时间 removed at"]) == ("C02", "2025-12-20 09:00")
    for value in (A, B, C, ACCOUNT):
        assert value not in md
    cells = xlsx_text(xlsx)
    assert "附件　本期黑名单新增及移出情况（Annex: blacklist additions and removals）" in cells
    assert "误列 listed in error" in cells and ACCOUNT not in cells and A not in cells
    assert fastexcel.read_excel(xlsx).sheet_names[:5] == list(reports.SUPERVISION_SECTIONS)


def test_the_blacklist_annex_follows_the_period_and_the_snapshot(blacklisted, tmp_path):
    register, db = blacklisted
    h1 = reports.supervision_report(
        register, db, 2025, 1, tmp_path, today=TODAY, memory_limit=MEMORY, as_of=dt.date(2025, 6, 30)
    )[0].read_text("utf-8")
    assert "黑名单新增 2 条（人员 2 条），移出 0 条；截至 2025-06-30 日终在册 2 条" in h1
    # the year as of 12-10: E002 added, its removal (12-20) not yet made
    year = reports.supervision_report(
        register, db, 2025, None, tmp_path, today=TODAY, memory_limit=MEMORY, as_of=dt.date(2025, 12, 10)
    )[0].read_text("utf-8")
    assert "本期（2025-01-01 至 2025-12-10）黑名单新增 5 条（单位 2 条、人员 2 条、银行账号 1 条），移出 1 条" in year
    assert "截至 2025-12-10 日终在册 4 条" in year
    # 2026 H1 made today: the account removed 01-05, C added 01-10
    next_half = reports.supervision_report(register, db, 2026, 1, tmp_path, today=TODAY, memory_limit=MEMORY)[0]
    assert "（2026-01-01 至 2026-01-20）黑名单新增 1 条（人员 1 条），移出 1 条" in next_half.read_text("utf-8")
    # a half without changes says so
    quiet = reports.supervision_report(
        register, db, 2024, 2, tmp_path, today=TODAY, memory_limit=MEMORY, as_of=dt.date(2024, 12, 31)
    )[0].read_text("utf-8")
    assert "本期（2024-07-01 至 2024-12-31）黑名单无新增、无移出；截至 2024-12-31 日终在册 0 条。" in quiet


def test_the_blacklist_is_read_as_the_view_holds_it(blacklisted):
    entries = read_register(blacklisted[0]).blacklist
    assert [e["entry_id"] for e in entries] == [1, 2, 3, 4, 5, 6]
    assert [e["removal_reason"] for e in entries if e["removed_at"]] == [
        "已全额退回 repaid",
        "核实为家庭共用",
        "误列 listed in error",
    ]


# ---- print ---------------------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_the_adjudication_report_prints(print_to_pdf, register, tmp_path):  # noqa: F811 — the fixture of test_print
    """Every sheet prints with the office, title and page numbers; a section on at most 2 pages, a chart on one."""
    _, xlsx = november(register, tmp_path / "out")
    pages = print_to_pdf([xlsx], tmp_path / "pdf")[xlsx.stem]
    names = fastexcel.read_excel(xlsx).sheet_names
    headings = [
        "一、本月筛查概况（Overview）",
        "二、按暂停原因（By reason）",
        "三、按统筹区（By pooling region）",
        "四、待认定暂停行（Holds pending adjudication）",
    ]
    assert names == [*(h[:28] for h in headings), "附图1", "附图2"]  # a sheet name holds 31 characters at most
    per_sheet: dict[str, list] = {}
    for number_, page in enumerate(pages, start=1):
        sheet, page_number, total = footer(page)
        assert (page_number, total) == (number_, len(pages))
        assert OFFICE in page.first_line and "事前筛查核实认定月报" in page.first_line
        per_sheet.setdefault(sheet, []).append(page)
    assert list(per_sheet) == names
    assert len(per_sheet["附图1"]) == len(per_sheet["附图2"]) == 1  # a chart on a page of its own
    assert all(len(per_sheet[name]) <= 2 for name in names[:4])
    text = all_text(pages)
    for expected in ("事前筛查核实认定月报（2025年11月）", "12,190.50", "3,210.00", "服刑期间", "待认定暂停行"):
        assert expected in text
    assert not any(value in text for value in (A, C, D, F, RAW_INVALID))
