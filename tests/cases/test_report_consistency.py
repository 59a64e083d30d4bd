"""Every report agrees with itself and with the register, to the fen (issue 12, item 5).

One world, dates in 2025, built row by row (tests/cases/report_world.py):

| case | rule | region | amount | period | story |
|---|---|---|---|---|---|
| P1 | RECON_LEDGER_BANK ledger:PZ5 | 330000 | 300,100.91 | 202505 | found 11-05, assigned 11-06, confirmed 11-12, |
|    |                              |        |            |        | 100,000.00 recovered 11-25: 部分追回 |
| P2 | RECON_LEDGER_BANK bank:YH5   | 330000 | 300,100.91 | 202505 | found 11-05, open: P1's near miss (5 days apart) |
| P3 | RECON_LEDGER_BANK ledger:PZ1 | 330000 | 300,020.19 | 202501 | found 11-05, dismissed 11-20 |
| D1 | DUP_BENEFIT | 330100 | 15,514.47 | 202503 | confirmed 11-10, reported 11-14, recovered in full 11-20 |
|    |             |        |           |        | with 25,705.53 more (罚没 penalties): 已整改 |
| D2 | DECEASED_PAID | 330200 | 5,000.00 | 202504 | confirmed 11-10, 500.00 recorded 11-18 then voided 11-19 |
|    |               |        |          |        | (reversal row), 3,000.00 on 11-20, 2,000.00 written off |
|    |               |        |          |        | 12-01: 已整改; its deadlines provisional (暂定) |
| D3 | DECEASED_PAID | 330200 | 41,220.00 | 202507 | assigned 11-04 (due 12-16), confirmed 12-10 (recorded |
|    |               |        |           |        | 2026-01-05 with --on 2025-12-10), unreported |
| D4 | RECON_CONTRIB | 330100 | 600,000.00 | 202506 | confirmed 11-12 (重大要情), unreported, report due provisional |
| D5 | UNREGISTERED_ACCOUNT | none | 250,968.69 | 202503 | found 11-03, open |

P1 and P2 are one movement booked late: both stay cases (counted as two), their 300,100.91 counts once,
carried by P1 (the one further along). Money: recovered 100,000.00 + 15,514.47 + 3,000.00 = 118,514.47, written
off 2,000.00, excess 25,705.53.
"""

from __future__ import annotations

import datetime as dt
import re
import sqlite3
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from pipelines.cases import reports
from pipelines.cases.reports import sources
from pipelines.cases.reports.sources import carry_pairs, cases_at, read_register
from tests.cases.report_world import build_db, build_register, ledger_bank_evidence

MEMORY = "1GB"
TODAY = dt.date(2026, 11, 27)
PAIR = "ledger:PZ5|bank:YH5"


def case(sid, rule, subject, region, amount, period, first_seen, **more):
    return {
        "suspect_id": sid,
        "rule": rule,
        "subject_id": subject,
        "region_code": region,
        "amount_at_risk": amount,
        "period_from": period,
        "period_to": period,
        "first_seen": first_seen,
        **more,
    }


CASES = [
    case("P1", "RECON_LEDGER_BANK", "ledger:PZ5", "330000", "300100.91", "202505", "2025-11-05",
         status="partially_recovered", assignee="A01", assigned_region="330000", assigned_on="2025-11-06",
         due_date="2025-12-18", confirmed_on="2025-11-12", severity="要情", report_due="2025-11-19",
         reported_on="2025-11-13", last_reported_on="2025-11-13", recovered_amount="100000.00"),
    case("P2", "RECON_LEDGER_BANK", "bank:YH5", "330000", "300100.91", "202505", "2025-11-05", status="open"),
    case("P3", "RECON_LEDGER_BANK", "ledger:PZ1", "330000", "300020.19", "202501", "2025-11-05",
         status="dismissed", dismissed_reason="已调账 adjusted"),
    case("D1", "DUP_BENEFIT", "330102198001011234", "330100", "15514.47", "202503", "2025-11-03",
         person_id="330102198001011234", status="rectified", assignee="A01", assigned_region="330100",
         assigned_on="2025-11-04", due_date="2025-12-16", confirmed_on="2025-11-10", severity="要情",
         report_due="2025-11-17", reported_on="2025-11-14", last_reported_on="2025-11-14",
         recovered_amount="15514.47", excess_amount="25705.53", rectified_on="2025-11-20"),
    case("D2", "DECEASED_PAID", "330102198001011235", "330200", "5000.00", "202504", "2025-11-03",
         person_id="330102198001011235", status="rectified", assignee="A02", assigned_region="330200",
         assigned_on="2025-11-04", due_date="2025-12-16", due_provisional=1, confirmed_on="2025-11-10",
         severity="要情", report_due="2025-11-17", report_due_provisional=1, reported_on="2025-11-17",
         last_reported_on="2025-11-17", recovered_amount="3000.00", written_off_amount="2000.00",
         rectified_on="2025-12-01"),
    case("D3", "DECEASED_PAID", "330102198001011236", "330200", "41220.00", "202507", "2025-11-03",
         person_id="330102198001011236", status="confirmed", assignee="A02", assigned_region="330200",
         assigned_on="2025-11-04", due_date="2025-12-16", due_provisional=1, confirmed_on="2025-12-10",
         severity="要情", report_due="2025-12-17"),
    case("D4", "RECON_CONTRIB", "E001|110|202506", "330100", "600000.00", "202506", "2025-11-07",
         status="confirmed", assignee="A01", assigned_region="330100", assigned_on="2025-11-08",
         due_date="2025-12-22", confirmed_on="2025-11-12", severity="重大要情", report_due="2025-11-19",
         report_due_provisional=1),
    case("D5", "UNREGISTERED_ACCOUNT", "6222000011112222", None, "250968.69", "202503", "2025-11-03", status="open"),
]  # fmt: skip

EVENTS = [
    # suspect_id, at, action, from_status, to_status, reason[, details]
    ("D1", "2025-11-03T02:00:00+08:00", "found", None, "open", None),  # 0
    ("D2", "2025-11-03T02:00:00+08:00", "found", None, "open", None),  # 1
    ("D3", "2025-11-03T02:00:00+08:00", "found", None, "open", None),  # 2
    ("D5", "2025-11-03T02:00:00+08:00", "found", None, "open", None),  # 3
    ("D1", "2025-11-04T09:00:00+08:00", "assign", "open", "under_verification", None),  # 4
    ("D2", "2025-11-04T09:00:00+08:00", "assign", "open", "under_verification", None),  # 5
    ("D3", "2025-11-04T09:00:00+08:00", "assign", "open", "under_verification", None),  # 6
    ("P1", "2025-11-05T02:00:00+08:00", "found", None, "open", None),  # 7
    ("P2", "2025-11-05T02:00:00+08:00", "found", None, "open", None),  # 8
    ("P3", "2025-11-05T02:00:00+08:00", "found", None, "open", None),  # 9
    ("P1", "2025-11-06T09:00:00+08:00", "assign", "open", "under_verification", None),  # 10
    ("D4", "2025-11-07T02:00:00+08:00", "found", None, "open", None),  # 11
    ("D4", "2025-11-08T09:00:00+08:00", "assign", "open", "under_verification", None),  # 12
    ("D1", "2025-11-10T10:00:00+08:00", "verify", "under_verification", "confirmed", None),  # 13
    ("D2", "2025-11-10T10:00:00+08:00", "verify", "under_verification", "confirmed", None),  # 14
    ("P1", "2025-11-12T10:00:00+08:00", "verify", "under_verification", "confirmed", None),  # 15
    ("D4", "2025-11-12T10:00:00+08:00", "verify", "under_verification", "confirmed", None),  # 16
    ("P1", "2025-11-13T10:00:00+08:00", "report", "confirmed", "confirmed", None),  # 17
    ("D1", "2025-11-14T10:00:00+08:00", "report", "confirmed", "confirmed", None),  # 18
    ("D2", "2025-11-17T10:00:00+08:00", "report", "confirmed", "confirmed", None),  # 19
    ("D2", "2025-11-18T10:00:00+08:00", "rectify", "confirmed", "partially_recovered", None),  # 20
    ("D2", "2025-11-19T10:00:00+08:00", "correct", "partially_recovered", "confirmed", "金额录错", {"voids": 21}),  # 21
    ("D1", "2025-11-20T10:00:00+08:00", "rectify", "confirmed", "rectified", None),  # 22
    ("D2", "2025-11-20T11:00:00+08:00", "rectify", "confirmed", "partially_recovered", None),  # 23
    ("P3", "2025-11-20T11:00:00+08:00", "dismiss", "open", "dismissed", "已调账 adjusted"),  # 24
    ("P1", "2025-11-25T10:00:00+08:00", "rectify", "confirmed", "partially_recovered", None),  # 25
    ("D2", "2025-12-01T10:00:00+08:00", "write_off", "partially_recovered", "rectified", "无法追回"),  # 26
    # recorded in January, dated by the analyst (--on) in December: case work counts on the day given
    ("D3", "2026-01-05T10:00:00+08:00", "verify", "under_verification", "confirmed", None, {"on": "2025-12-10"}),  # 27
]  # fmt: skip

MONEY = [
    # index in EVENTS, kind, amount, on_date[, index in MONEY of the row corrected]
    (20, "recovered", "500.00", "2025-11-18"),  # 0: voided by the correction below
    (21, "recovered", "-500.00", "2025-11-18", 0),  # 1
    (22, "recovered", "15514.47", "2025-11-20"),  # 2
    (22, "excess", "25705.53", "2025-11-20"),  # 3: 罚没 penalties, above the amount at risk
    (23, "recovered", "3000.00", "2025-11-20"),  # 4
    (25, "recovered", "100000.00", "2025-11-25"),  # 5
    (26, "written_off", "2000.00", "2025-12-01"),  # 6
]

LINEAGE = "'f.csv', 'r1'"
FUND = [
    "INSERT INTO benefit_payments (payment_id, person_id, region_code, scheme, benefit_type, period, amount,"
    f" bank_account, source_file, run_id) VALUES"
    f" ('B1', '330102198001011234', '330100', '110', 'pension', '202503', 15514.47, 'A1', {LINEAGE}),"
    f" ('B2', '330102198001011234', '330100', '210', 'unemployment', '202504', 1234.56, 'A1', {LINEAGE}),"
    f" ('B3', '330102198001011235', '330200', '110', 'pension', '202507', 5000.00, 'A2', {LINEAGE})",
    "INSERT INTO contributions (employer_id, scheme, period, amount_due, source_file, run_id) VALUES"
    f" ('E001', '110', '202506', 600000.00, {LINEAGE})",
    "INSERT INTO finance_ledger (entry_id, account_no, entry_date, direction, amount, scheme, source_file, run_id)"
    f" VALUES ('PZ5', '19330000001', DATE '2025-05-10', 'in', 300100.91, '110', {LINEAGE}),"
    f" ('PZ1', '19330000001', DATE '2025-01-10', 'in', 300020.19, '110', {LINEAGE})",
    "INSERT INTO runs (run_id, as_of, started_at, finished_at, status, files_seen, files_loaded, files_rejected,"
    " rows_loaded, rows_quarantined, findings) VALUES"
    " ('r1', DATE '2025-11-03', TIMESTAMP '2025-11-03 01:00', TIMESTAMP '2025-11-03 01:10', 'bad_input',"
    "  5, 4, 1, 100, 3, 8)",
]
SUSPECTS = [
    {
        "suspect_id": "P1",
        "rule": "RECON_LEDGER_BANK",
        "subject_id": "ledger:PZ5",
        "amount_at_risk": "300100.91",
        "first_seen": "2025-11-05",
        "evidence_rows": ledger_bank_evidence("ledger", "PZ5", "300100.91", PAIR, "bank:YH5"),
    },
    {
        "suspect_id": "P2",
        "rule": "RECON_LEDGER_BANK",
        "subject_id": "bank:YH5",
        "amount_at_risk": "300100.91",
        "first_seen": "2025-11-05",
        "evidence_rows": ledger_bank_evidence("bank", "YH5", "300100.91", PAIR, "ledger:PZ5"),
    },
    {
        "suspect_id": "P3",
        "rule": "RECON_LEDGER_BANK",
        "subject_id": "ledger:PZ1",
        "amount_at_risk": "300020.19",
        "first_seen": "2025-11-05",
        "evidence_rows": ledger_bank_evidence("ledger", "PZ1", "300020.19", None, None),
    },
]


@pytest.fixture
def world(tmp_path) -> tuple[Path, Path]:
    register = build_register(tmp_path / "fw.cases.sqlite", CASES, EVENTS, MONEY)
    db = build_db(tmp_path / "fw.duckdb", FUND, SUSPECTS)
    return register, db


# ---- reading the Markdown back ------------------------------------------------------------------------


def sections(md: str) -> dict[str, str]:
    parts = re.split(r"^## ", md, flags=re.M)
    return {p.splitlines()[0]: p for p in parts[1:]}


def tables(text: str) -> list[tuple[list[str], list[list[str]]]]:
    """Every pipe table in the text: (header, rows), cells as text."""
    found, current = [], []
    for line in [*text.splitlines(), ""]:
        if line.startswith("|"):
            current.append([c.strip() for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]])
        elif current:
            found.append((current[0], current[2:]))
            current = []
    return found


def number(cell: str) -> Decimal | None:
    """A count or an amount as the report prints it ('1,234.56', '7'); None for anything else."""
    return Decimal(cell.replace(",", "")) if re.fullmatch(r"-?[\d,]+(\.\d\d)?", cell) else None


NOT_ADDITIVE = ("人数", "排名", "名次", "追回率", "征缴率", "疑点 findings")


def check_totals(md: str) -> int:
    """Every table with a 合计 row: each additive column's total is the sum of its rows. Returns tables checked."""
    checked = 0
    for header, rows in tables(md):
        if not rows or rows[-1][0] != "合计":
            continue
        body, total = rows[:-1], rows[-1]
        for i, head in enumerate(header):
            if any(word in head for word in NOT_ADDITIVE) or number(total[i]) is None:
                continue
            assert sum(number(r[i]) for r in body) == number(total[i]), (header, head, rows)
        checked += 1
    return checked


def total_row(text: str, first_header: str, title: str | None = None) -> dict[str, Decimal | None]:
    """header -> value of the 合计 row of the (titled) table whose first column is `first_header`."""
    if title is not None:
        text = text[text.index(title) :]
    for header, rows in tables(text):
        if header[0] == first_header and rows and rows[-1][0] == "合计":
            return {h: number(v) for h, v in zip(header, rows[-1], strict=True)}
    raise AssertionError(f"no table {first_header!r} with a total")


def rows_by(text: str, first_header: str, title: str | None = None) -> dict[str, dict[str, str]]:
    if title is not None:
        text = text[text.index(title) :]
    for header, rows in tables(text):
        if header[0] == first_header:
            return {r[0]: dict(zip(header, r, strict=True)) for r in rows}
    raise AssertionError(f"no table {first_header!r}")


def money(text: str) -> Decimal:
    return Decimal(text.replace(",", ""))


def figures(pattern: str, text: str) -> tuple[Decimal, ...]:
    """The numbers a sentence gives, by a pattern with (\\S+) groups."""
    match = re.search(pattern, text)
    assert match, f"{pattern!r} not in {text[:500]}"
    return tuple(money(g) for g in match.groups())


# ---- the register, summed independently ---------------------------------------------------------------


def register_sums(register: Path, months: tuple[str, str] = ("000000", "999999")) -> dict[str, Decimal]:
    """Sums over the register's cases as it stands (current columns) whose period_from is within `months`, the
    near-miss pair (P1, P2) counted once when both are among them."""
    con = sqlite3.connect(register)
    try:
        where = f"period_from BETWEEN '{months[0]}' AND '{months[1]}'"

        def total(sql: str) -> Decimal:
            return sum((Decimal(r[0] or "0") for r in con.execute(f"{sql} AND {where}")), Decimal("0.00"))

        def count(sql: str) -> Decimal:
            return Decimal(con.execute(f"{sql} AND {where}").fetchone()[0])

        pair = count("SELECT count(*) FROM cases WHERE suspect_id IN ('P1', 'P2')") == 2
        confirmed = "status IN ('confirmed', 'partially_recovered', 'rectified')"
        return {
            "amount": total("SELECT amount_at_risk FROM cases WHERE 1") - (Decimal("300100.91") if pair else 0),
            "cases": count("SELECT count(*) FROM cases WHERE 1"),
            "confirmed": count(f"SELECT count(*) FROM cases WHERE {confirmed}"),
            "confirmed_amount": total(f"SELECT amount_at_risk FROM cases WHERE {confirmed}"),
            "recovered": total("SELECT recovered_amount FROM cases WHERE 1"),
            "written_off": total("SELECT written_off_amount FROM cases WHERE 1"),
            "excess": total("SELECT excess_amount FROM cases WHERE 1"),
            "unresolved": count("SELECT count(*) FROM cases WHERE status NOT IN ('dismissed', 'rectified')"),
            "money_rows": sum(
                (Decimal(r[0]) for r in con.execute("SELECT amount FROM case_money WHERE kind = 'recovered'")),
                Decimal("0.00"),
            ),
        }
    finally:
        con.close()


# ---- each report agrees with itself and with the register ---------------------------------------------


def test_the_register_of_the_world_is_what_its_docstring_says(world):
    """The sums the other tests compare against, so that a wrong fixture cannot make them pass."""
    sums = register_sums(world[0])
    assert sums["amount"] == Decimal("1512824.26")  # 1,812,925.17 less the pair's 300,100.91
    assert sums["recovered"] == sums["money_rows"] == Decimal("118514.47")
    assert (sums["written_off"], sums["excess"]) == (Decimal("2000.00"), Decimal("25705.53"))


def test_circulation_agrees_with_itself_and_the_register(world, tmp_path):
    register, db = world
    md = reports.circulation(register, db, dt.date(2025, 12, 31), tmp_path, memory_limit=MEMORY)[0].read_text("utf-8")
    assert check_totals(md) >= 2
    sums = register_sums(register)
    overview = sections(md)["一、总体情况（Overview）"]
    count, unresolved, unresolved_amount, overdue, recovered = figures(
        r"登记案件 (\S+) 件，未结 (\S+) 件（涉及金额 (\S+) 元），逾期 (\S+) 件，累计追回金额 (\S+) 元", overview
    )
    by_region = sections(md)["二、各统筹区情况（By region）"]
    totals = total_row(by_region, "统筹区 region")
    assert count == sums["cases"] == 8
    assert unresolved == totals["未结案件 unresolved"] == sums["unresolved"] == 5  # P1 P2 D3 D4 D5
    # P1 carries the pair; P2 (open) counts 0.00 beside it: 300,100.91 once
    assert unresolved_amount == totals["未结涉及金额（元）"] == Decimal("1192289.60")
    assert overdue == totals["逾期案件 overdue"] == 3  # D3 (due 12-16), P1 (12-18), D4 (12-22)
    assert recovered == totals["追回金额（元）recovered"] == sums["recovered"]
    money_total = total_row(by_region, "统筹区 region", "追回、核销及待追回")
    assert money_total["已追回（元）"] == sums["recovered"]
    assert money_total["核销（元）"] == sums["written_off"]
    assert money_total["超出涉及金额的追回（罚没等）（元）"] == sums["excess"]
    assert money_total["涉及金额（元）"] == sums["confirmed_amount"] == Decimal("961835.38")
    assert money_total["待追回（元）"] == Decimal("841320.91")  # 961,835.38 - 118,514.47 - 2,000.00
    assert (
        "确认违规 5 件，涉及金额 961,835.38 元：已追回 118,514.47 元（追回率 12.32%），核销 2,000.00 元，" in overview
    )
    assert "另追回超出涉及金额部分（罚没等）25,705.53 元，单列，不计入追回率" in overview


@pytest.mark.parametrize(
    ("half", "months"), [(None, ("202501", "202512")), (1, ("202501", "202506")), (2, ("202507", "202512"))]
)
def test_half_year_and_annual_reports_agree_with_themselves_and_the_register(world, tmp_path, half, months):
    register, db = world
    md = reports.supervision_report(
        register, db, 2025, half, tmp_path, today=TODAY, memory_limit=MEMORY, as_of=dt.date(2025, 12, 31)
    )[0].read_text("utf-8")
    assert check_totals(md) >= 7
    sums = register_sums(register, months)
    parts = sections(md)
    work = parts["二、监管工作情况"]
    count, amount = figures(r"本期疑点 (\S+) 件，涉及金额 (\S+) 元", work)
    by_rule = total_row(work, "规则 rule", "findings by rule")
    by_region = total_row(work, "统筹区 region", "findings by region")
    by_status = total_row(work, "状态 status", "verification")
    assert count == by_rule["疑点件数"] == by_region["疑点件数"] == by_status["件数"] == sums["cases"]
    assert amount == by_rule["涉及金额（元）"] == by_region["涉及金额（元）"] == by_status["涉及金额（元）"]
    assert amount == sums["amount"]  # the register's cases of those months, the pair once

    cases = parts["三、基金案件发生及处置情况"]
    c_count, c_amount, recovered, written_off, outstanding = figures(
        r"确认违规 (\S+) 件，涉及金额 (\S+) 元：已追回 (\S+) 元（追回率 \S+），核销 (\S+) 元，待追回 (\S+) 元", cases
    )
    stated_excess = re.search(r"另追回超出涉及金额部分（罚没等）(\S+) 元", cases)
    severity = total_row(cases, "规则 rule", "confirmed by rule and severity")
    for first, title in (("规则 rule", "money by rule"), ("统筹区 region", "money by region")):
        m = total_row(cases, first, title)
        assert (m["确认违规件数"], m["涉及金额（元）"], m["已追回（元）"]) == (c_count, c_amount, recovered)
        assert (m["核销（元）"], m["待追回（元）"]) == (written_off, outstanding)
        excess = m["超出涉及金额的追回（罚没等）（元）"]
        assert excess == (money(stated_excess.group(1)) if stated_excess else 0)
    assert (severity["合计件数"], severity["合计金额（元）"]) == (c_count, c_amount)
    assert (c_count, c_amount, recovered, written_off, excess) == (
        sums["confirmed"],
        sums["confirmed_amount"],
        sums["recovered"],
        sums["written_off"],
        sums["excess"],
    )

    assessment = parts["四、基金安全评估情况"]
    assert f"确认违规金额 {c_amount:,.2f} 元，已追回 {recovered:,.2f} 元，追回率" in assessment
    # 主要问题 quotes the by-rule table: the same counts and amounts
    problems = parts["五、主要问题和下一步措施"]
    quoted = 0
    for rule, row in rows_by(work, "规则 rule").items():
        if rule != "合计" and f"（{rule}）" in problems:
            assert f"（{rule}）：本期疑点 {row['疑点件数']} 件、涉及金额 {row['涉及金额（元）']} 元" in problems
            assert f"其中未排除 {row['未排除件数']} 件、{row['未排除涉及金额（元）']} 元" in problems
            quoted += 1
    assert quoted == min(3, len(rows_by(work, "规则 rule")) - 1)
    if half != 2:
        # 3 cases, the pair once: 300,100.91 + 0.00 + 300,020.19; P3 dismissed
        assert rows_by(work, "规则 rule")["RECON_LEDGER_BANK"]["涉及金额（元）"] == "600,121.10"
        assert (
            "（RECON_LEDGER_BANK）：本期疑点 3 件、涉及金额 600,121.10 元，其中未排除 2 件、300,100.91 元" in problems
        )


def test_yaoqing_statistics_agree_with_themselves_and_the_register(world, tmp_path):
    register, db = world
    md = reports.yaoqing_statistics(
        register, db, 2025, 2, tmp_path, today=TODAY, memory_limit=MEMORY, as_of=dt.date(2025, 12, 31)
    )[0].read_text("utf-8")
    assert check_totals(md) >= 4
    sums = register_sums(register)
    parts = sections(md)
    overview = parts["一、总体情况（Overview）"]
    minor, major, count, amount = figures(
        r"共发生要情 (\S+) 件、重大要情 (\S+) 件，合计 (\S+) 件，涉及金额 (\S+) 元", overview
    )
    for heading, first in (
        ("二、按规则统计（By rule）", "规则 rule"),
        ("三、按统筹区统计（By region）", "统筹区 region"),
    ):
        t = total_row(parts[heading], first)
        assert (t["要情件数"], t["重大要情件数"], t["合计件数"], t["合计金额（元）"]) == (minor, major, count, amount)
    assert (minor, major, count) == (4, 1, 5)  # every confirmation is dated in the second half (D3 by its --on)
    assert "| D3 | 死亡后继续领取 | 330200 | 要情 |" in md
    assert amount == sums["confirmed_amount"]
    m = total_row(parts["四、追回及核销（Money）"], "规则 rule")
    assert (m["已追回（元）"], m["核销（元）"], m["超出涉及金额的追回（罚没等）（元）"]) == (
        sums["recovered"],
        sums["written_off"],
        sums["excess"],
    )
    timeliness = parts["五、报送及时性（Reporting timeliness）"]
    listed = [line for line in timeliness.splitlines() if re.match(r"\| [PD]\d", line)]
    assert len(listed) == count
    assert "| 2025-11-19（暂定 provisional） |" in timeliness  # D4's report deadline was counted provisionally


def test_monthly_self_check_agrees_with_itself_and_the_register(world, tmp_path):
    register, db = world
    md = reports.monthly_self_check(register, db, "202511", tmp_path, today=TODAY, memory_limit=MEMORY)[0].read_text(
        "utf-8"
    )
    assert check_totals(md) >= 5
    parts = sections(md)
    new = parts["一、本月新发现疑点（New findings by rule and region）"]
    count, amount = figures(r"新发现疑点 (\S+) 件，涉及金额 (\S+) 元", new)
    assert (count, amount) == (8, register_sums(register)["amount"])  # all found in November
    assert total_row(new, "规则 rule")["新发现件数"] == total_row(new, "统筹区 region")["新发现件数"] == count
    assert total_row(new, "规则 rule")["涉及金额（元）"] == total_row(new, "统筹区 region")["涉及金额（元）"] == amount
    status = parts["二、月末案件状态（Status at month end）"]
    cases, unresolved, unresolved_amount, overdue = figures(
        r"登记案件共 (\S+) 件，其中未结 (\S+) 件（涉及金额 (\S+) 元），逾期 (\S+) 件", status
    )
    for first in ("规则 rule", "统筹区 region"):
        t = total_row(status, first)
        assert t["合计"] == cases and t["其中逾期 overdue"] == overdue
        assert t["未结涉及金额（元）"] == unresolved_amount
        open_ones = sum(t[h] for h in t if h.split(" ")[-1] in ("open", "under_verification", "confirmed"))
        assert open_ones + t["部分追回 partially_recovered"] == unresolved
    # November's money by its on_date: the voided 500.00 nets out, the December write-off is not in it
    money = rows_by(parts["三、本月处置情况（Dispositions and money in the month）"], "款项")
    assert money["追回 recovered"]["本月（元）"] == "118,514.47"
    assert money["核销 written off"]["本月（元）"] == "0.00"
    assert money["超出涉及金额的追回（罚没等）excess"]["月末累计（元）"] == "25,705.53"


def test_december_moves_only_decembers_money(world, tmp_path):
    register, db = world
    md = reports.monthly_self_check(register, db, "202512", tmp_path, today=TODAY, memory_limit=MEMORY)[0].read_text(
        "utf-8"
    )
    money = rows_by(md, "款项")
    assert [money["追回 recovered"][k] for k in ("月初累计（元）", "本月（元）", "月末累计（元）")] == [
        "118,514.47",
        "0.00",
        "118,514.47",
    ]
    assert money["核销 written off"]["本月（元）"] == "2,000.00"
    assert "本月新发现疑点" in md and "未发现新的疑点" in md
    # D3's deadline was counted without the year's arrangement: shown provisional
    assert "| 2025-12-16（暂定 provisional） |" in sections(md)["四、逾期案件清单（Overdue cases）"]


# ---- the near-miss pair counts once -------------------------------------------------------------------


def test_a_near_miss_pair_is_two_cases_and_one_amount(world, tmp_path):
    register, db = world
    day = dt.date(2025, 12, 31)
    snapshot = read_register(register)
    pairs = sources.read_warehouse(db, memory_limit=MEMORY).pairs
    assert pairs == [
        {"pair_key": PAIR, "ledger_subject": "ledger:PZ5", "bank_subject": "bank:YH5", "amount": Decimal("300100.91")}
    ]
    rows = {c["suspect_id"]: c for c in cases_at(snapshot, day, pairs)}
    assert (rows["P1"]["amount"], rows["P2"]["amount"]) == (Decimal("300100.91"), Decimal("0.00"))
    assert rows["P2"]["carried_by"] == "P1" and rows["P2"]["own_amount"] == Decimal("300100.91")
    # without the pair both would count: the double count of issue 12
    alone = {c["suspect_id"]: c for c in cases_at(snapshot, day, [])}
    assert alone["P2"]["amount"] == Decimal("300100.91")

    md = reports.supervision_report(register, db, 2025, 1, tmp_path, today=TODAY, memory_limit=MEMORY, as_of=day)
    text = md[0].read_text("utf-8")
    assert "| RECON_LEDGER_BANK | 专户账实不符 | 3 | 600,121.10 |" in text


def test_the_pair_is_carried_by_the_side_further_along():
    """P1 dismissed and P2 confirmed: P2 carries the money, so the confirmed totals still hold it once."""

    def row(sid, subject, status, recovered="0.00"):
        return {
            "suspect_id": sid,
            "rule": "RECON_LEDGER_BANK",
            "subject_id": subject,
            "status_at": status,
            "own_amount": Decimal("100.00"),
            "own_recovered": Decimal(recovered),
            "own_written_off": Decimal("0.00"),
            "own_excess": Decimal("0.00"),
        }

    pair = [{"ledger_subject": "ledger:L", "bank_subject": "bank:B", "amount": Decimal("100.00")}]
    rows = [row("L", "ledger:L", "dismissed"), row("B", "bank:B", "partially_recovered", "60.00")]
    carry_pairs(rows, pair)
    assert [(r["amount"], r["recovered"], r["carried_by"]) for r in rows] == [
        (Decimal("0.00"), Decimal("0.00"), "B"),
        (Decimal("100.00"), Decimal("60.00"), None),
    ]
    # both sides recovered in full: the unit's recovery stops at its amount, the rest is excess, nothing lost
    rows = [row("L", "ledger:L", "rectified", "100.00"), row("B", "bank:B", "rectified", "100.00")]
    carry_pairs(rows, pair)
    assert [(r["amount"], r["recovered"], r["excess"]) for r in rows] == [
        (Decimal("100.00"), Decimal("100.00"), Decimal("100.00")),
        (Decimal("0.00"), Decimal("0.00"), Decimal("0.00")),
    ]


# ---- money words follow the figures -------------------------------------------------------------------


def test_an_over_recovery_is_excess_never_a_rate_above_100(tmp_path):
    """A register from before case_money: 41,220.00 recorded as recovered on a 15,514.47 case (the 108% of
    issue 12). The report counts 15,514.47 recovered (100.00%) and 25,705.53 excess, apart."""
    register = build_register(
        tmp_path / "old.cases.sqlite",
        [
            case(
                "X1",
                "DECEASED_PAID",
                "330102198001011234",
                "330100",
                "15514.47",
                "202503",
                "2025-11-03",
                status="rectified",
                confirmed_on="2025-11-10",
                severity="要情",
                recovered_amount="41220.00",
                rectified_on="2025-11-20",
            )
        ],  # fmt: skip
        [
            ("X1", "2025-11-03T02:00:00", "found", None, "open", None),
            ("X1", "2025-11-10T10:00:00", "verify", "open", "confirmed", None),
            ("X1", "2025-11-20T10:00:00", "rectify", "confirmed", "rectified", None),
        ],
    )
    db = build_db(tmp_path / "old.duckdb")
    md = reports.supervision_report(
        register, db, 2025, 1, tmp_path, today=TODAY, memory_limit=MEMORY, as_of=dt.date(2025, 12, 31)
    )[0].read_text("utf-8")
    assert "追回率 100.00%，追回情况良好" in md
    assert "另追回超出涉及金额部分（罚没等）25,705.53 元，单列，不计入追回率" in md
    rates = [Decimal(r) for r in re.findall(r"追回率 ([\d.]+)%", md)] + [
        Decimal(r) for r in re.findall(r"\| ([\d.]+)% \|", md)
    ]
    assert rates and max(rates) == Decimal("100.00")
    assert "108.15%" not in md


def test_the_words_follow_the_recovery_rate(world, tmp_path):
    register, db = world
    md = reports.supervision_report(
        register, db, 2025, None, tmp_path, today=TODAY, memory_limit=MEMORY, as_of=dt.date(2025, 12, 31)
    )[0].read_text("utf-8")
    assert "追回率 12.32%，追回比例偏低，基金损失风险较大" in md
    assert "追回情况良好" not in md


# ---- one time base, one read ----------------------------------------------------------------------------


def test_fund_figures_and_findings_share_the_data_period(world, tmp_path):
    """A half whose data is absent has neither payments nor findings; a half with data has both, of the same
    months — never "共发放待遇 0 笔" beside the findings of other months."""
    register, db = world
    empty = reports.supervision_report(register, db, 2026, 1, tmp_path, today=TODAY, memory_limit=MEMORY)
    text = empty[0].read_text("utf-8")
    assert "共发放待遇 0 笔" in text and "本期疑点 0 件，涉及金额 0.00 元" in text

    h1 = reports.supervision_report(register, db, 2025, 1, tmp_path, today=TODAY, memory_limit=MEMORY)
    text = h1[0].read_text("utf-8")
    # periods 202501-202506: payments B1, B2; findings of those months: all but D3 (202507)
    assert "共发放待遇 2 笔、16,749.03 元" in text
    assert "本期疑点 7 件，涉及金额 1,471,604.26 元" in text
    assert "口径 time base：按数据所属期" in text and f"数据截至 snapshot：{TODAY.isoformat()}" in text
    h2 = reports.supervision_report(register, db, 2025, 2, tmp_path, today=TODAY, memory_limit=MEMORY)
    text = h2[0].read_text("utf-8")
    assert "共发放待遇 1 笔、5,000.00 元" in text and "本期疑点 1 件，涉及金额 41,220.00 元" in text


@pytest.mark.parametrize("kind", ["monthly", "half-year", "circulation", "yaoqing"])
def test_each_report_reads_each_source_once(world, tmp_path, monkeypatch, kind):
    register, db = world
    reads: list[str] = []
    real_register, real_warehouse = sources.read_register, sources.read_warehouse

    def count_register(*args, **kwargs):
        reads.append("register")
        return real_register(*args, **kwargs)

    def count_warehouse(*args, **kwargs):
        reads.append("warehouse")
        return real_warehouse(*args, **kwargs)

    for name in ("monthly", "supervision", "circulation", "yaoqing"):
        module = sys.modules[f"pipelines.cases.reports.{name}"]  # the package's names are the functions
        monkeypatch.setattr(module, "read_register", count_register)
        monkeypatch.setattr(module, "read_warehouse", count_warehouse)
    day = dt.date(2025, 12, 31)
    if kind == "monthly":
        reports.monthly_self_check(register, db, "202511", tmp_path, today=TODAY, memory_limit=MEMORY)
    elif kind == "half-year":
        reports.supervision_report(register, db, 2025, 2, tmp_path, today=TODAY, memory_limit=MEMORY)
    elif kind == "circulation":
        reports.circulation(register, db, day, tmp_path, memory_limit=MEMORY)
    else:
        reports.yaoqing_statistics(register, db, 2025, 2, tmp_path, today=TODAY, memory_limit=MEMORY)
    assert sorted(reads) == ["register", "warehouse"]


def test_case_work_counts_on_the_day_the_register_gives_it(world, tmp_path):
    """D3 was confirmed on 2025-12-10 (--on) and recorded on 2026-01-05: December's report counts it, the
    first half of 2026 has no 要情."""
    register, db = world
    december = reports.monthly_self_check(register, db, "202512", tmp_path, today=TODAY, memory_limit=MEMORY)
    disposals = rows_by(december[0].read_text("utf-8"), "事项")
    assert disposals["确认违规 confirmed"]["件数"] == "1"
    assert disposals["确认违规 confirmed"]["涉及金额（元）"] == "41,220.00"
    h1 = reports.yaoqing_statistics(register, db, 2026, 1, tmp_path, today=TODAY, memory_limit=MEMORY)
    assert "特此零报告" in h1[0].read_text("utf-8")


def test_money_recorded_before_case_money_is_dated_by_its_events(tmp_path):
    """A register from before issue 12: each rectification wrote its amount in the event (recovered_now) and
    the running total in the case. A recurrence rectified again in December: November counts the first
    600.00, December the 900.00 more."""
    register = build_register(
        tmp_path / "old.cases.sqlite",
        [
            case(
                "X2",
                "DUP_BENEFIT",
                "330102198001011234",
                "330100",
                "1500.00",
                "202503",
                "2025-11-03",
                status="rectified",
                confirmed_on="2025-11-10",
                severity="要情",
                recovered_amount="1500.00",
                rectified_on="2025-12-10",
                recurrences=1,
            )
        ],  # fmt: skip
        [
            ("X2", "2025-11-03T02:00:00", "found", None, "open", None),
            ("X2", "2025-11-10T10:00:00", "verify", "open", "confirmed", None),
            ("X2", "2025-11-20T10:00:00", "rectify", "confirmed", "rectified", None, {"recovered_now": "600.00"}),
            ("X2", "2025-12-01T02:00:00", "reopened", "rectified", "open", "整改后再次发现 recurrence"),
            ("X2", "2025-12-05T10:00:00", "verify", "open", "confirmed", None),
            ("X2", "2025-12-10T10:00:00", "rectify", "confirmed", "rectified", None, {"recovered_now": "900.00"}),
        ],
    )
    db = build_db(tmp_path / "old.duckdb")
    moved = {}
    for month in ("202511", "202512"):
        md = reports.monthly_self_check(register, db, month, tmp_path, today=TODAY, memory_limit=MEMORY)
        moved[month] = rows_by(md[0].read_text("utf-8"), "款项")["追回 recovered"]["本月（元）"]
    assert moved == {"202511": "600.00", "202512": "900.00"}
