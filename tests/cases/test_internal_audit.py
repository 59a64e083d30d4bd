"""稽核 — the monthly internal audit sample (issue 16 item 1, `pipelines.cases.internal_audit`): the population (a
`pay` step, else the last stage, in the month), coverage ≥ 20% overall and ≥ 1 per operator, every flagged business
included, reproducible from the seed, one draw per month unless withdrawn, results by a chief only, a problem that
opens a case; the 核查表 and the 稽核报告; `fundwatch audit`; and "Done when" on the bundled sample."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import sqlite3
import zipfile
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

from pipelines.app import cli
from pipelines.app.commands import audit as audit_command
from pipelines.app.settings import Settings
from pipelines.cases import audit as case_log
from pipelines.cases import internal_audit as ia
from pipelines.cases import register as reg
from pipelines.cases import staff
from pipelines.cases.reports import internal_audit as documents
from pipelines.present.masking import mask_id
from pipelines.synth.ids import check_digit
from pipelines.warehouse.session import connect
from tests.cases.staffing import staff_up
from tests.cases.test_print import print_to_pdf  # noqa: F401 — LibreOffice, as the print tests use it
from tests.sample_run import sample_database

TODAY = dt.date(2025, 12, 10)
MONTH = "202510"


def citizen_id(first17: str) -> str:
    return first17 + check_digit(first17)


PERSON = citizen_id("33010219500101001")
STAGES = ("accept", "review", "recheck", "approve", "pay")
OPERATORS = [  # operator_id, name, region, role
    ("OPA", "甲经办", "330100", "business"),
    ("OPB", "乙经办", "330100", "business"),
    ("OPC", "丙经办", "330200", "business"),
    ("OPL", "丁负责", "330100", "leader"),
]


def business(business_id: str, kind: str, steps: list[tuple[str, str, str]], amount: str = "1000.00", person=None):
    """business_log rows: (stage, operator, operated_at) each."""
    return [
        {
            "business_id": business_id,
            "business_type": kind,
            "stage": stage,
            "operator_id": operator,
            "operated_at": dt.datetime.fromisoformat(at),
            "person_id": person,
            "amount": Decimal(amount),
        }
        for stage, operator, at in steps
    ]


def paid(business_id: str, kind: str, payer: str, at: str, **kw):
    """A business accepted two days before and paid at `at` by `payer`."""
    day = dt.datetime.fromisoformat(at)
    earlier = (day - dt.timedelta(days=2)).isoformat(sep=" ")
    return business(business_id, kind, [("accept", "OPL", earlier), ("pay", payer, at)], **kw)


def the_log() -> list[dict]:
    rows = []
    # OPA: 12 pension businesses paid in October (quota 3), one flagged by SOD_BREACH, one named in LARGE_PAYMENT's
    # evidence rows; 3 funeral grants (quota 1)
    for n in range(12):
        person = PERSON if n == 0 else None
        rows += paid(f"B-A{n:02d}", "养老金核定", "OPA", f"2025-10-{n + 2:02d} 10:00:00", person=person)
    for n in range(3):
        rows += paid(f"B-F{n:02d}", "丧葬补助金支付", "OPA", f"2025-10-{n + 2:02d} 11:00:00")
    # OPB: 6 (quota 2)
    for n in range(6):
        rows += paid(f"B-B{n:02d}", "养老金核定", "OPB", f"2025-10-{n + 10:02d} 09:00:00")
    # OPC: one business without a pay step: its last stage (approve) on the first moment of October
    rows += business(
        "B-NOPAY",
        "参保登记变更",
        [("accept", "OPC", "2025-09-29 09:00:00"), ("approve", "OPC", "2025-10-01 00:00:00")],
    )
    # the month's boundaries, in the log's local time
    rows += paid("B-EDGE-IN", "养老金核定", "OPB", "2025-10-31 23:59:59")
    rows += paid("B-EDGE-OUT", "养老金核定", "OPB", "2025-11-01 00:00:00")
    # paid in September, a late step in October: the pay step decides (September)
    rows += paid("B-SEPT", "养老金核定", "OPA", "2025-09-30 15:00:00")
    rows += business("B-SEPT", "养老金核定", [("recheck", "OPB", "2025-10-03 08:00:00")])
    # approved in October, paid in November: completed in November
    rows += business(
        "B-NOVPAY", "养老金核定", [("approve", "OPL", "2025-10-30 09:00:00"), ("pay", "OPA", "2025-11-02 09:00:00")]
    )
    return rows


FLAGGED_SOD = "B-A07"
FLAGGED_LARGE = "B-A09"


def make_world(path: Path, log: list[dict] | None = None) -> Path:
    """A published DuckDB file with business_log, operators, two findings naming businesses, and a run."""
    con = connect(path)
    try:
        frame = pl.DataFrame(log or the_log()).with_columns(
            pl.lit("bl.csv").alias("source_file"), pl.lit("R1").alias("run_id")
        )
        con.register("log_rows", frame.to_arrow())
        con.execute(
            "INSERT INTO business_log (business_id, business_type, stage, operator_id, operated_at, person_id, amount,"
            " source_file, run_id) SELECT business_id, business_type, stage, operator_id, operated_at, person_id,"
            " amount, source_file, run_id FROM log_rows"
        )
        for operator in OPERATORS:
            con.execute(
                "INSERT INTO operators (operator_id, name, region_code, role, source_file, run_id)"
                " VALUES (?, ?, ?, ?, 'op.csv', 'R1')",
                list(operator),
            )
        evidence = json.dumps([{"business_id": FLAGGED_LARGE, "stage": "pay", "amount": "150000.00"}])
        for suspect_id, rule, subject, rows in (
            ("SP-sod", "SOD_BREACH", FLAGGED_SOD, "[]"),
            ("SP-large", "LARGE_PAYMENT_UNAPPROVED", "something-else", evidence),
            ("SP-other", "DUP_BENEFIT", "B-A01", "[]"),  # a rule that does not read business_log: not a flag
        ):
            con.execute(
                "INSERT INTO suspects (suspect_id, rule, subject_id, amount_at_risk, evidence_rows, first_seen,"
                " last_seen, active, status) VALUES (?, ?, ?, 1.00, ?, DATE '2025-11-01', DATE '2025-11-01', true,"
                " 'open')",
                [suspect_id, rule, subject, rows],
            )
        con.execute(
            "INSERT INTO runs (run_id, as_of, started_at, finished_at, status) VALUES ('R1', DATE '2025-11-30',"
            " TIMESTAMP '2025-11-30 01:00:00', TIMESTAMP '2025-11-30 01:10:00', 'succeeded')"
        )
    finally:
        con.close()
    return path


@pytest.fixture
def duck_path(tmp_path) -> Path:
    return make_world(tmp_path / "fw.duckdb")


@pytest.fixture
def duck(duck_path):
    con = connect(duck_path, read_only=True)
    yield con
    con.close()


@pytest.fixture
def con(tmp_path):
    register = reg.open_register(tmp_path / "fw.cases.sqlite")
    staff_up(register)
    yield register
    register.close()


def in_month() -> set[str]:
    return (
        {f"B-A{n:02d}" for n in range(12)}
        | {f"B-F{n:02d}" for n in range(3)}
        | {f"B-B{n:02d}" for n in range(6)}
        | {
            "B-NOPAY",
            "B-EDGE-IN",
        }
    )


# ---- the population ----------------------------------------------------------------------------------------------


def test_the_population_is_the_business_paid_or_last_staged_in_the_month(duck):
    found = {b.business_id: b for b in ia.population(duck, MONTH)}
    assert set(found) == in_month()  # not B-EDGE-OUT, B-SEPT (paid in September), B-NOVPAY (paid in November)
    assert found["B-NOPAY"].completed_stage == "approve"  # no pay step: its last stage
    assert found["B-NOPAY"].operator_id == "OPC"
    assert found["B-A00"].completed_stage == "pay"
    assert found["B-A00"].operator_id == "OPA"  # the completing step's operator, not the accepting one (OPL)
    assert found["B-A00"].operator_name == "甲经办" and found["B-A00"].region_code == "330100"
    assert found["B-A00"].person_id == PERSON and found["B-A00"].amount == Decimal("1000.00")
    november = {b.business_id for b in ia.population(duck, "202511")}
    assert {"B-EDGE-OUT", "B-NOVPAY"} <= november and "B-EDGE-IN" not in november
    assert "B-SEPT" in {b.business_id for b in ia.population(duck, "202509")}


def test_flagged_businesses_are_named_by_subject_or_evidence_of_business_rules(duck):
    flagged = ia.flagged_businesses(duck, in_month())
    assert flagged == {FLAGGED_SOD: ("SOD_BREACH:SP-sod",), FLAGGED_LARGE: ("LARGE_PAYMENT_UNAPPROVED:SP-large",)}


@pytest.mark.parametrize(("size", "expected"), [(1, 1), (4, 1), (5, 1), (6, 2), (10, 2), (11, 3), (12, 3)])
def test_the_quota_is_the_ceiling_of_a_fifth(size, expected):
    assert ia.quota(size, ia.RATE) == expected


# ---- the draw -------------------------------------------------------------------------------------------------------


def test_a_draw_covers_a_fifth_every_stratum_and_every_operator(con, duck):
    drawn = ia.draw(con, duck, MONTH, "chief", seed=42, today=TODAY)
    assert (drawn.population, drawn.seed, drawn.run_id) == (len(in_month()), 42, "R1")
    assert drawn.sampled / drawn.population >= 0.2
    strata = ia.strata_rows(con, drawn.draw_id)
    assert {(s["business_type"], s["operator_id"]): (s["population"], s["sampled"]) for s in strata} == {
        ("养老金核定", "OPA"): (12, 3),
        ("丧葬补助金支付", "OPA"): (3, 1),
        ("养老金核定", "OPB"): (7, 2),
        ("参保登记变更", "OPC"): (1, 1),
    }
    sample = ia.sample_rows(con, drawn.draw_id)
    assert len(sample) == drawn.sampled == 7
    assert {r["operator_id"] for r in sample} == {"OPA", "OPB", "OPC"}  # every operator who completed business
    assert {r["business_id"] for r in sample} <= in_month()


def test_every_flagged_business_is_sampled_whatever_the_seed(duck):
    businesses = ia.population(duck, MONTH)
    flagged = ia.flagged_businesses(duck, (b.business_id for b in businesses))
    for seed in range(40):
        picks = {p.business.business_id: p for p in ia.draw_sample(businesses, flagged, seed, ia.RATE).picks}
        assert picks[FLAGGED_SOD].why == "flagged" and picks[FLAGGED_SOD].flagged_by == ("SOD_BREACH:SP-sod",)
        assert picks[FLAGGED_LARGE].why == "flagged"
        # both flagged ones are in OPA's pension stratum (quota 3): one more is drawn at random
        assert sum(1 for p in picks.values() if p.business.stratum == ("养老金核定", "OPA")) == 3


def test_the_draw_depends_on_the_seed_only(duck):
    businesses = ia.population(duck, MONTH)

    def ids(seed: int, members=businesses) -> list[str]:
        return [p.business.business_id for p in ia.draw_sample(members, {}, seed, ia.RATE).picks]

    assert ids(7) == ids(7) == ids(7, list(reversed(businesses)))  # the input's order does not matter
    assert len({tuple(ids(seed)) for seed in range(20)}) > 5  # different seeds, different samples


def test_a_draw_is_verified_from_its_seed_and_a_changed_population_is_told(con, duck, duck_path, tmp_path):
    drawn = ia.draw(con, duck, MONTH, "chief", seed=2026, today=TODAY)
    check = ia.verify_draw(con, duck, drawn.draw_id)
    assert check.proven and not check.missing and not check.extra
    # the same data published again with one more business in October: the population is not the one drawn from
    other = make_world(
        tmp_path / "other.duckdb", [*the_log(), *paid("B-A99", "养老金核定", "OPA", "2025-10-20 10:00:00")]
    )
    changed = connect(other, read_only=True)
    try:
        check = ia.verify_draw(con, changed, drawn.draw_id)
    finally:
        changed.close()
    assert not check.same_population and not check.proven


def test_a_seed_is_drawn_when_none_is_given_and_recorded(con, duck):
    drawn = ia.draw(con, duck, MONTH, "chief", today=TODAY)
    row = ia.get_draw(con, drawn.draw_id)
    assert 0 <= drawn.seed < 2**63 and row["seed"] == drawn.seed
    assert ia.verify_draw(con, duck, drawn.draw_id).proven


def test_a_second_draw_is_refused_until_the_first_is_withdrawn_with_a_reason(con, duck):
    first = ia.draw(con, duck, MONTH, "chief", seed=1, today=TODAY)
    with pytest.raises(ia.AuditError, match=f"draw {first.draw_id}"):
        ia.draw(con, duck, MONTH, "chief", seed=2, today=TODAY)
    with pytest.raises(ia.AuditError, match="理由"):
        ia.withdraw(con, "chief", first.draw_id, "  ")
    ia.withdraw(con, "chief", first.draw_id, "抽样时数据未到齐")
    with pytest.raises(ia.AuditError, match="already withdrawn"):
        ia.withdraw(con, "chief", first.draw_id, "again")
    second = ia.draw(con, duck, MONTH, "chief", seed=2, today=TODAY)
    assert second.draw_id != first.draw_id
    listed = {d["draw_id"]: d for d in ia.draws(con, MONTH)}
    assert not listed[first.draw_id]["in_force"] and listed[first.draw_id]["withdrawal_reason"] == "抽样时数据未到齐"
    assert listed[second.draw_id]["in_force"]
    with pytest.raises(ia.AuditError, match="withdrawn"):
        ia.record_result(con, "chief", first.draw_id, FLAGGED_SOD, "ok")


def test_a_month_not_over_or_without_business_is_refused(con, duck):
    with pytest.raises(ia.AuditError, match="not over"):
        ia.draw(con, duck, "202512", "chief", today=TODAY)
    with pytest.raises(ia.AuditError, match="no business completed"):
        ia.draw(con, duck, "202501", "chief", today=TODAY)
    with pytest.raises(ia.AuditError, match="YYYYMM"):
        ia.draw(con, duck, "2025-10", "chief", today=TODAY)
    with pytest.raises(ia.AuditError, match="rate"):
        ia.draw(con, duck, MONTH, "chief", rate=Decimal("0.10"), today=TODAY)


def test_only_a_chief_draws_withdraws_and_records_an_auditor_reads(con, duck):
    for who in ("V01", "AUD", "ADM"):
        with pytest.raises(staff.NotAllowed):
            ia.draw(con, duck, MONTH, who, seed=1, today=TODAY)
    drawn = ia.draw(con, duck, MONTH, "chief", seed=1, today=TODAY)
    for who in ("V01", "AUD", "ADM"):
        with pytest.raises(staff.NotAllowed):
            ia.record_result(con, who, drawn.draw_id, FLAGGED_SOD, "ok")
        with pytest.raises(staff.NotAllowed):
            ia.withdraw(con, who, drawn.draw_id, "x")
    ia.may_read(staff.get_active(con, "AUD"))
    ia.may_read(staff.get_active(con, "chief"))
    for who in ("V01", "ADM"):
        with pytest.raises(staff.NotAllowed):
            ia.may_read(staff.get_active(con, who))


# ---- results ------------------------------------------------------------------------------------------------


def test_results_are_recorded_the_latest_in_force_and_a_problem_needs_its_finding(con, duck):
    drawn = ia.draw(con, duck, MONTH, "chief", seed=3, today=TODAY)
    with pytest.raises(ia.AuditError, match="finding"):
        ia.record_result(con, "chief", drawn.draw_id, FLAGGED_SOD, "problem", "  ")
    with pytest.raises(ia.AuditError, match="not in the sample"):
        ia.record_result(con, "chief", drawn.draw_id, "B-EDGE-OUT", "ok")
    with pytest.raises(ia.AuditError, match="ok"):
        ia.record_result(con, "chief", drawn.draw_id, FLAGGED_SOD, "fine")
    with pytest.raises(ia.AuditError, match="only a problem"):
        ia.record_result(con, "chief", drawn.draw_id, FLAGGED_SOD, "ok", open_case=True)
    ia.record_result(con, "chief", drawn.draw_id, FLAGGED_SOD, "ok")
    _, case = ia.record_result(con, "chief", drawn.draw_id, FLAGGED_SOD, "problem", "审批材料缺失")
    assert case is None
    rows = {r["business_id"]: r for r in ia.sample_rows(con, drawn.draw_id)}
    assert rows[FLAGGED_SOD]["result"] == "problem" and rows[FLAGGED_SOD]["finding"] == "审批材料缺失"
    assert sum(1 for r in rows.values() if r["result"] is None) == len(rows) - 1
    assert [r["result"] for r in ia.result_history(con, drawn.draw_id)] == ["ok", "problem"]
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        con.execute("UPDATE audit_results SET result = 'ok'")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        con.execute("DELETE FROM audit_sample")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        con.execute("UPDATE audit_draws SET seed = 1")


def test_a_problem_opens_one_case_per_business_that_the_nightly_run_leaves_alone(con, duck):
    drawn = ia.draw(con, duck, MONTH, "chief", seed=3, today=TODAY)
    pension = next(r for r in ia.sample_rows(con, drawn.draw_id) if r["business_id"] == FLAGGED_SOD)
    _, suspect_id = ia.record_result(
        con, "chief", drawn.draw_id, FLAGGED_SOD, "problem", "未经复核即支付", open_case=True, today=TODAY
    )
    assert suspect_id == ia.case_id_for(FLAGGED_SOD)
    case = reg.get_case(con, suspect_id)
    assert (case["rule"], case["subject_id"], case["status"], case["firing"]) == (
        "AUDIT_FINDING",
        FLAGGED_SOD,
        "open",
        0,
    )
    assert case["amount_at_risk"] == pension["amount"] == "1000.00" and case["region_code"] == "330100"
    assert (
        case["period_from"] == MONTH and case["first_seen"] == TODAY.isoformat() and "未经复核即支付" in case["summary"]
    )
    events = con.execute("SELECT actor, action, reason FROM case_events WHERE suspect_id = ?", [suspect_id]).fetchall()
    assert [tuple(e) for e in events] == [("chief", "found", "未经复核即支付")]
    assert case_log.verify_log(con).ok
    # a second problem of the business is linked to the same case
    _, again = ia.record_result(con, "chief", drawn.draw_id, FLAGGED_SOD, "problem", "另一问题", open_case=True)
    assert again == suspect_id and con.execute("SELECT count(*) FROM cases").fetchone()[0] == 1
    # a nightly run (no finding of this rule) neither refreshes it nor marks it stopped
    empty = pl.DataFrame(
        schema={
            "suspect_id": pl.String,
            "rule": pl.String,
            "subject_id": pl.String,
            "person_id": pl.String,
            "region_code": pl.String,
            "period_from": pl.String,
            "period_to": pl.String,
            "amount_at_risk": pl.Decimal(18, 2),
            "summary": pl.String,
        }
    )
    counts = reg.sync_findings(con, empty, TODAY, "R2")
    assert counts.stopped_firing == 0 and reg.get_case(con, suspect_id)["status"] == "open"
    # and the case is worked like any other
    reg.assign(con, suspect_id, assignee="V01", by="chief", on=TODAY, today=TODAY)
    assert reg.get_case(con, suspect_id)["status"] == "under_verification"


# ---- documents ----------------------------------------------------------------------------------------------------


def test_the_checklist_lists_the_sample_masked_with_the_auditors_columns(con, duck, tmp_path):
    drawn = ia.draw(con, duck, MONTH, "chief", seed=5, today=TODAY)
    doc = documents.checklist_document(documents.read_draw(con, drawn.draw_id), TODAY)
    table = doc.sections[0].blocks[0]
    headers = [c.header for c in table.columns]
    assert headers[:3] == ["序号", "业务流水号", "业务类型"]
    assert headers[-3:] == ["稽核结论", "问题描述", "稽核人签名"] and "抽取方式" in headers and "办结时间" in headers
    assert [row[0] for row in table.rows] == list(range(1, drawn.sampled + 1))
    by_id = {row[1]: row for row in table.rows}
    assert by_id[FLAGGED_SOD][7] == "规则疑点" and by_id[FLAGGED_SOD][9].strip() == by_id[FLAGGED_SOD][10].strip() == ""
    assert "分层随机" in {row[7] for row in table.rows}
    if "B-A00" in by_id:
        assert by_id["B-A00"][3] == mask_id(PERSON)
    assert PERSON not in json.dumps(table.rows, default=str, ensure_ascii=False)
    path = documents.write_checklist(con_path(con), drawn.draw_id, tmp_path / "out", today=TODAY)
    assert path.name == f"稽核核查表_{MONTH}_抽样{drawn.draw_id}.xlsx"
    with zipfile.ZipFile(path) as book:
        strings = book.read("xl/sharedStrings.xml").decode("utf-8")
    assert FLAGGED_SOD in strings and "稽核人签名" in strings and PERSON not in strings


def con_path(con: sqlite3.Connection) -> Path:
    return Path(con.execute("PRAGMA database_list").fetchone()[2])


def test_the_report_shows_the_draw_coverage_results_and_problems(con, duck, tmp_path):
    drawn = ia.draw(con, duck, MONTH, "chief", seed=5, today=TODAY)
    ia.record_result(con, "chief", drawn.draw_id, FLAGGED_SOD, "problem", f"身份证 {PERSON} 材料不符", open_case=True)
    ia.record_result(con, "chief", drawn.draw_id, FLAGGED_LARGE, "ok")
    md, xlsx = documents.audit_report(con_path(con), MONTH, tmp_path / "out", today=TODAY)
    text = md.read_text(encoding="utf-8")
    assert f"随机种子 seed：{drawn.seed}" in text and "抽样人 drawn by：chief" in text
    assert "| 养老金核定 | 19 | 5 | 26.32% | 2 | 1 | 1 | 3 |" in text  # OPA 12 + OPB 7, sampled 3 + 2
    assert "| 合计 | 23 | 7 | 30.43% | 2 | 1 | 1 | 5 |" in text
    assert "| 丙经办 OPC | 330200 | 1 | 1 | 100.00% |" in text
    assert "无问题 1 笔，有问题 1 笔；未录入 5 笔" in text
    assert ia.case_id_for(FLAGGED_SOD) in text and "待核查 open" in text
    assert PERSON not in text and mask_id(PERSON) in text
    assert xlsx.exists()
    # a month not drawn says so
    md, _ = documents.audit_report(con_path(con), "202509", tmp_path / "out", today=TODAY)
    assert "尚未抽样" in md.read_text(encoding="utf-8")


# ---- fundwatch audit ---------------------------------------------------------------------------------------------

USERS = {"chief": "chief-user", "V01": "v01-user", "AUD": "aud-user", "ADM": "adm-user"}


def fundwatch(monkeypatch, who: str, *argv: str) -> int:
    """The command in-process as the OS account of staff member `who` (argument errors: argparse's status)."""
    monkeypatch.setattr(staff, "os_user", lambda: USERS[who])
    settings = Settings.from_env()
    if audit_command in cli.COMMANDS:
        parser = cli.build_parser(settings)
    else:  # the command module alone, should the CLI's list not have it
        parser = argparse.ArgumentParser(prog="fundwatch")
        audit_command.add_parser(parser.add_subparsers(dest="command", required=True), settings)
    try:
        args = parser.parse_args(list(argv))
    except SystemExit as exit_:
        return int(exit_.code or 0)
    return args.handler(args, settings)


def test_the_command_draws_records_reports_verifies_and_refuses(monkeypatch, capsys, con, duck_path, tmp_path):
    assert audit_command in cli.COMMANDS
    out = tmp_path / "out"
    common = ("audit", "--db", str(duck_path), "--register", str(con_path(con)))
    draw = (*common, "draw", "--month", MONTH, "--seed", "99", "--out", str(out))
    assert fundwatch(monkeypatch, "V01", *draw) == 6
    assert "只有科长" in capsys.readouterr().err
    assert fundwatch(monkeypatch, "chief", *draw) == 0
    said = capsys.readouterr().out
    assert "办结业务 23 笔" in said and "抽取 7 笔" in said and "经办人 3 人" in said and "seed 99" in said
    assert "规则疑点业务 2 笔" in said and (out / f"稽核核查表_{MONTH}_抽样1.xlsx").exists()
    assert fundwatch(monkeypatch, "chief", *draw) == 6
    assert "draw 1" in capsys.readouterr().err
    assert (
        fundwatch(monkeypatch, "chief", *common, "result", "1", FLAGGED_SOD, "--problem", "缺复核", "--open-case") == 0
    )
    assert ia.case_id_for(FLAGGED_SOD) in capsys.readouterr().out
    assert fundwatch(monkeypatch, "chief", *common, "result", "1", FLAGGED_LARGE, "--ok") == 0
    assert fundwatch(monkeypatch, "AUD", *common, "result", "1", FLAGGED_LARGE, "--ok") == 6
    assert fundwatch(monkeypatch, "AUD", *common, "verify", "1") == 0
    assert "验证通过" in capsys.readouterr().out
    assert fundwatch(monkeypatch, "AUD", *common, "list") == 0
    assert "99" in capsys.readouterr().out
    assert fundwatch(monkeypatch, "V01", *common, "list") == 6
    assert fundwatch(monkeypatch, "AUD", *common, "report", "--month", MONTH, "--out", str(out)) == 0
    assert (out / f"稽核报告_{MONTH}.md").exists()
    assert fundwatch(monkeypatch, "chief", *common, "withdraw", "1", "--reason", "重抽") == 0
    assert fundwatch(monkeypatch, "chief", *draw) == 0
    assert fundwatch(monkeypatch, "chief", *common, "draw", "--month", "2025-10") == 2
    assert fundwatch(monkeypatch, "chief", *common, "draw", "--month", MONTH, "--rate", "abc") == 2
    assert fundwatch(monkeypatch, "chief", *common, "draw", "--month", MONTH, "--rate", "0.1") == 2


# ---- "Done when", on the bundled sample ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    """The sample's published file and register, copied (this module writes draws into its register)."""
    source = sample_database(tmp_path_factory)
    here = tmp_path_factory.mktemp("internal-audit-sample")
    db = here / "fundwatch.duckdb"
    shutil.copy(source, db)
    shutil.copy(reg.register_path_for(source), reg.register_path_for(db))
    register = reg.open_register(reg.register_path_for(db))
    try:
        if not staff.everyone(register):
            staff_up(register)
    finally:
        register.close()
    return db


def last_month_with_business(db: Path) -> str:
    duck = connect(db, read_only=True)
    try:
        return duck.execute("SELECT strftime(max(operated_at), '%Y%m') FROM business_log").fetchone()[0]
    finally:
        duck.close()


def test_done_when_the_last_month_of_the_sample_is_drawn_covered_proven_and_recorded(
    sample,
    monkeypatch,
    capsys,
    tmp_path,
    print_to_pdf,  # noqa: F811
):
    month = last_month_with_business(sample)
    register = reg.register_path_for(sample)
    out = tmp_path / "out"
    common = ("audit", "--db", str(sample))
    assert fundwatch(monkeypatch, "chief", *common, "draw", "--month", month, "--out", str(out)) == 0
    capsys.readouterr()
    duck = connect(sample, read_only=True)
    con = reg.open_register(register)
    try:
        population = ia.population(duck, month)
        assert population, f"the sample has no business completed in {month}"
        draw = dict(ia.draw_of_month(con, month))
        sample_rows = ia.sample_rows(con, draw["draw_id"])
        assert draw["population"] == len(population)
        assert Decimal(len(sample_rows)) / len(population) >= Decimal("0.20")
        assert {r["operator_id"] for r in sample_rows} == {b.operator_id for b in population}
        flagged = ia.flagged_businesses(duck, (b.business_id for b in population))
        assert set(flagged) <= {r["business_id"] for r in sample_rows if r["why"] == "flagged"}
        assert ia.verify_draw(con, duck, draw["draw_id"]).proven
        first, second = sample_rows[0]["business_id"], sample_rows[-1]["business_id"]
        ia.record_result(con, "chief", draw["draw_id"], first, "ok")
        _, case = ia.record_result(con, "chief", draw["draw_id"], second, "problem", "审批单缺签字", open_case=True)
        recorded = {r["business_id"]: r["result"] for r in ia.sample_rows(con, draw["draw_id"])}
        assert recorded[first] == "ok" and recorded[second] == "problem" and reg.get_case(con, case)["rule"] == RULE
    finally:
        con.close()
        duck.close()
    assert fundwatch(monkeypatch, "AUD", *common, "verify", str(draw["draw_id"])) == 0
    assert fundwatch(monkeypatch, "AUD", *common, "report", "--month", month, "--out", str(out)) == 0
    # the 核查表 prints: every sampled business on A4 pages, in Chinese, the office in the page header
    checklist = out / f"稽核核查表_{month}_抽样{draw['draw_id']}.xlsx"
    report = out / f"稽核报告_{month}.xlsx"
    printed = print_to_pdf([checklist, report], tmp_path / "pdf")
    pages = printed[checklist.stem]
    report_text = "".join(page.text for page in printed[report.stem])
    assert "稽核报告" in report_text and "按经办人的覆盖情况" in report_text and str(draw["seed"]) in report_text
    text = "".join(page.text for page in pages)
    assert 1 <= len(pages) <= 1 + len(sample_rows) // 5  # two lines a row (the tick boxes), a landscape page
    assert "稽核核查表" in text and "稽核人签名" in text and "分层随机" in text
    assert all(r["business_id"] in text for r in sample_rows)
    assert not any(r["person_id"] and r["person_id"] in text for r in sample_rows)
    assert "社会保险基金监督处" in pages[0].layout


RULE = ia.RULE
