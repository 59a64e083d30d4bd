"""The blacklist (黑名单, CONTRACT.md section 7): only a chief changes it, nothing is erased, keys are canonical, a
case offers what it names; `fundwatch blacklist`; the nightly mirror into DuckDB and the findings' evidence."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sqlite3
from decimal import Decimal
from pathlib import Path

import duckdb
import polars as pl
import pytest

from pipelines.app import cli
from pipelines.app.commands import blacklist as blacklist_command
from pipelines.app.settings import Settings
from pipelines.cases import blacklist, nightly, staff
from pipelines.cases import register as reg
from pipelines.detect.findings import carry_forward, merge_findings
from pipelines.present.masking import mask_account, mask_id
from pipelines.synth.ids import check_digit
from pipelines.warehouse.session import connect
from pipelines.warehouse.sql import read_sql
from pipelines.warehouse.views import create_views
from schemas.suspects import SUSPECT_SCHEMA
from tests.cases.staffing import staff_up


def citizen_id(first17: str) -> str:
    return first17 + check_digit(first17)


P1 = citizen_id("33010219500101001")  # born 1950-01-01
P2 = citizen_id("33010219620202002")
P3 = citizen_id("33010219700303003")
LEGACY = "330102500101001"  # P1 in the 15-digit form of before 1999 (no century, no check digit)
ACCOUNT = "6222020200112233445"
ACCOUNT2 = "6222020200199887766"
EMPLOYER = "E330100000123"
ON = dt.date(2026, 3, 2)


def finding(rule: str, subject: str, person: str | None, rows: list[dict] | str, amount: str = "100.00") -> dict:
    return {
        "rule": rule,
        "subject_id": subject,
        "person_id": person,
        "region_code": "330100",
        "period_from": "202501",
        "period_to": "202502",
        "amount_at_risk": Decimal(amount),
        "summary": f"{rule} 句子",
        "evidence_rows": rows if isinstance(rows, str) else json.dumps(rows, ensure_ascii=False),
    }


def findings_frame(*rows: dict) -> pl.DataFrame:
    return pl.DataFrame(list(rows), schema=SUSPECT_SCHEMA)


def suspect_id(rule: str, subject: str) -> str:
    import hashlib

    return "SP-" + hashlib.md5(f"{rule}|{subject}".encode()).hexdigest()[:16]


FINDINGS = (
    finding("DECEASED_PAID", P1, P1, [{"payment_id": "BP1", "bank_account": ACCOUNT, "amount": "100.00"}]),
    finding(
        "SHARED_ACCOUNT",
        ACCOUNT2,
        None,
        [
            {"payment_id": "BP2", "person_id": P2, "bank_account": ACCOUNT2},
            {"payment_id": "BP3", "person_id": P3, "bank_account": ACCOUNT2},
        ],
    ),
    finding("RECON_CONTRIB", f"{EMPLOYER}|110|202501", None, [{"employer_id": EMPLOYER, "amount_due": "5.00"}]),
    finding("UNEMP_WHILE_EMPLOYED", P2, P2, [{"employer_id": "E330100000999", "wage_income": "3000.00"}]),
    finding("DUP_BENEFIT", P3, P3, "legacy text, not JSON"),
)


@pytest.fixture
def con(tmp_path):
    c = reg.open_register(tmp_path / "fw.cases.sqlite")
    staff_up(c)
    frame = findings_frame(*FINDINGS).with_columns(
        suspect_id=pl.struct("rule", "subject_id").map_elements(
            lambda r: suspect_id(r["rule"], r["subject_id"]), return_dtype=pl.String
        )
    )
    reg.sync_findings(c, frame, ON, "r1")
    yield c
    c.close()


def at(monkeypatch, when: str) -> None:
    """The register's clock reads `when` (ISO with offset)."""
    monkeypatch.setattr(reg, "_now", lambda: when)


# ---- rights ----------------------------------------------------------------------------------------------------


def test_a_chief_lists_and_removes_and_the_entry_stays_on_record(con):
    entry = blacklist.add(con, "chief", "person", P1, "骗取养老金", suspect_id("DECEASED_PAID", P1))
    [listed] = blacklist.entries(con)
    assert listed["entry_id"] == entry and listed["kind"] == "person" and listed["key"] == P1
    assert listed["reason"] == "骗取养老金" and listed["added_by"] == "chief" and listed["in_force"] is True
    assert listed["source_suspect_id"] == suspect_id("DECEASED_PAID", P1)
    blacklist.remove(con, "chief", entry, "核实为误列")
    [after] = blacklist.entries(con)
    assert after["entry_id"] == entry and after["key"] == P1 and after["in_force"] is False
    assert (after["removed_by"], after["removal_reason"]) == ("chief", "核实为误列") and after["removed_at"]
    assert blacklist.entries(con, in_force_only=True) == []
    assert blacklist.in_force_frame(con).height == 0


@pytest.mark.parametrize("who", ["V01", "AUD", "ADM"])
def test_only_a_chief_adds_or_removes(con, who):
    with pytest.raises(staff.NotAllowed, match="只有科长"):
        blacklist.add(con, who, "person", P1, "理由")
    entry = blacklist.add(con, "chief", "person", P1, "理由")
    with pytest.raises(staff.NotAllowed, match="只有科长"):
        blacklist.remove(con, who, entry, "理由")
    assert [e["in_force"] for e in blacklist.entries(con)] == [True]


def test_a_chief_recording_for_a_verifier_lends_no_chiefs_right(con):
    chief = staff.find(con, "chief")
    on_behalf = reg.Actor(staff.find(con, "V01"), recorded_by=chief)
    with pytest.raises(staff.NotAllowed):
        blacklist.add(con, on_behalf, "account", ACCOUNT, "理由")
    assert blacklist.add(con, reg.Actor(chief), "account", ACCOUNT, "理由") == 1


def test_a_reason_is_required_to_add_and_to_remove(con):
    with pytest.raises(blacklist.BlacklistError, match="理由"):
        blacklist.add(con, "chief", "person", P1, "  ")
    entry = blacklist.add(con, "chief", "person", P1, "理由")
    with pytest.raises(blacklist.BlacklistError, match="理由"):
        blacklist.remove(con, "chief", entry, "")
    assert blacklist.entries(con, in_force_only=True)[0]["entry_id"] == entry


# ---- keys and history ------------------------------------------------------------------------------------------


def test_person_keys_are_canonical_citizen_ids():
    assert blacklist.canonical_key("person", LEGACY) == P1
    assert blacklist.canonical_key("person", f" {P1[:9]} {P1[9:]}\n") == P1
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in P2)
    assert blacklist.canonical_key("person", full_width) == P2
    x_id = next(
        citizen_id(f"33010219800101{n:03d}") for n in range(1000) if check_digit(f"33010219800101{n:03d}") == "X"
    )
    assert blacklist.canonical_key("person", x_id.lower()) == x_id  # a lower-case x is read as X


@pytest.mark.parametrize(
    ("key", "why"),
    [
        (P1[:17] + ("0" if P1[17] != "0" else "1"), "校验位"),
        (citizen_id("33010219500230001"), "出生日期"),  # no 30 February
        (citizen_id("99999919500101001"), "地区码"),
        ("33010219500101", "not 18"),
        ("", "not 18"),
        (ACCOUNT, "not 18"),
    ],
)
def test_a_bad_person_key_is_refused(con, key, why):
    with pytest.raises(blacklist.BlacklistError, match=why):
        blacklist.add(con, "chief", "person", key, "理由")
    assert blacklist.entries(con) == []


def test_account_and_employer_keys_are_trimmed_and_never_empty(con):
    entry = blacklist.add(con, "chief", "account", f"  {ACCOUNT}\t", "理由")
    assert blacklist.entries(con)[0]["key"] == ACCOUNT and entry == 1
    for kind in ("account", "employer"):
        with pytest.raises(blacklist.BlacklistError, match="不能为空"):
            blacklist.add(con, "chief", kind, "   ", "理由")
    with pytest.raises(blacklist.BlacklistError, match="kind"):
        blacklist.add(con, "chief", "bank", ACCOUNT, "理由")


def test_a_key_in_force_is_not_listed_twice_and_a_removed_one_is_listed_anew(con):
    first = blacklist.add(con, "chief", "person", P1, "第一次")
    with pytest.raises(blacklist.BlacklistError, match="已在黑名单"):
        blacklist.add(con, "chief", "person", LEGACY, "再次")  # the same person, written the old way
    blacklist.add(con, "chief", "account", P1, "同一号码，另一类别")  # another kind is another key
    blacklist.remove(con, "chief", first, "误列")
    again = blacklist.add(con, "chief", "person", P1, "再次列入")
    assert again != first
    history = [(e["entry_id"], e["kind"], e["in_force"]) for e in blacklist.entries(con)]
    assert history == [(first, "person", False), (2, "account", True), (again, "person", True)]
    in_force = blacklist.in_force_frame(con)
    assert in_force.columns == list(blacklist.IN_FORCE_COLUMNS)
    assert in_force.select("kind", "key", "entry_id").rows() == [("account", P1, 2), ("person", P1, again)]


def test_removal_needs_an_entry_in_force(con):
    with pytest.raises(blacklist.BlacklistError, match="没有这条"):
        blacklist.remove(con, "chief", 99, "理由")
    entry = blacklist.add(con, "chief", "employer", EMPLOYER, "理由")
    blacklist.remove(con, "chief", entry, "理由")
    with pytest.raises(blacklist.BlacklistError, match="已于"):
        blacklist.remove(con, "chief", entry, "再移一次")
    assert con.execute("SELECT count(*) FROM blacklist_removals").fetchone()[0] == 1


def test_a_source_case_must_exist(con):
    with pytest.raises(blacklist.BlacklistError, match="没有这个疑点"):
        blacklist.add(con, "chief", "person", P1, "理由", "SP-nosuchcase")
    assert blacklist.entries(con) == []


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE blacklist_entries SET reason = 'x'",
        "DELETE FROM blacklist_entries",
        "UPDATE blacklist_removals SET removal_reason = 'x'",
        "DELETE FROM blacklist_removals",
    ],
)
def test_the_tables_are_append_only(con, sql):
    entry = blacklist.add(con, "chief", "person", P1, "理由")
    blacklist.add(con, "chief", "account", ACCOUNT, "理由")
    blacklist.remove(con, "chief", entry, "理由")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        con.execute(sql)
    assert [(e["reason"], e["in_force"]) for e in blacklist.entries(con)] == [("理由", False), ("理由", True)]


def test_changes_between_lists_additions_and_removals_of_the_window(con, monkeypatch):
    at(monkeypatch, "2026-06-30T23:59:00+08:00")
    before = blacklist.add(con, "chief", "person", P1, "上半年列入")
    at(monkeypatch, "2026-07-01T08:00:00+08:00")
    inside = blacklist.add(con, "chief", "account", ACCOUNT, "下半年列入")
    at(monkeypatch, "2026-09-15T10:00:00+08:00")
    blacklist.remove(con, "chief", before, "下半年移出")
    at(monkeypatch, "2027-01-01T00:00:00+08:00")
    blacklist.remove(con, "chief", inside, "明年移出")
    half = blacklist.changes_between(con, dt.date(2026, 7, 1), dt.date(2026, 12, 31))
    assert half.columns == list(blacklist.CHANGE_COLUMNS)
    assert half.select("change", "entry_id", "kind", "reason", "by").rows() == [
        ("added", inside, "account", "下半年列入", "chief"),
        ("removed", before, "person", "下半年移出", "chief"),
    ]
    first_half = blacklist.changes_between(con, dt.date(2026, 1, 1), dt.date(2026, 6, 30))
    assert first_half.select("change", "entry_id").rows() == [("added", before)]
    assert blacklist.changes_between(con, dt.date(2025, 1, 1), dt.date(2025, 12, 31)).height == 0


# ---- what a case offers ----------------------------------------------------------------------------------------


def test_a_case_offers_its_person_accounts_and_employers_once_in_a_stable_order():
    rows = [
        {"payment_id": "BP1", "bank_account": ACCOUNT, "employer_id": "E2"},
        {"payment_id": "BP2", "bank_account": f" {ACCOUNT} ", "account_no": ACCOUNT2},
        {"payment_id": "BP3", "bank_account": None, "employer_id": ""},
    ]
    offered = blacklist.case_candidates(finding("DECEASED_PAID", P1, P1, rows))
    assert [(c.kind, c.key) for c in offered] == [
        ("person", P1),
        ("account", ACCOUNT),
        ("account", ACCOUNT2),
        ("employer", "E2"),
    ]
    assert offered[0].label == f"人员 person {mask_id(P1)}"
    assert offered[1].label == f"银行账号 account {mask_account(ACCOUNT)}"
    assert all(P1 not in c.label and ACCOUNT not in c.label for c in offered)


def test_shared_account_offers_its_subject_and_recon_contrib_its_employer():
    shared = blacklist.case_candidates(FINDINGS[1])
    assert [(c.kind, c.key) for c in shared] == [("account", ACCOUNT2)]
    recon = blacklist.case_candidates(FINDINGS[2])
    assert [(c.kind, c.key) for c in recon] == [("employer", EMPLOYER)]
    not_json = blacklist.case_candidates(FINDINGS[4])
    assert [(c.kind, c.key) for c in not_json] == [("person", P3)]
    parsed = blacklist.case_candidates({**FINDINGS[0], "evidence_rows": json.loads(FINDINGS[0]["evidence_rows"])})
    assert [(c.kind, c.key) for c in parsed] == [("person", P1), ("account", ACCOUNT)]


# ---- fundwatch blacklist ----------------------------------------------------------------------------------------

USERS = {"chief": "chief-user", "V01": "v01-user", "AUD": "aud-user", "ADM": "adm-user"}


def fundwatch(monkeypatch, who: str, *argv: str) -> int:
    """The command in-process as the OS account of staff member `who` (argument errors: argparse's status)."""
    monkeypatch.setattr(staff, "os_user", lambda: USERS[who])
    settings = Settings.from_env()
    if blacklist_command in cli.COMMANDS:
        parser = cli.build_parser(settings)
    else:  # until the command is registered in the CLI: the same parser, built from the module
        parser = argparse.ArgumentParser(prog="fundwatch")
        blacklist_command.add_parser(parser.add_subparsers(dest="command", required=True), settings)
    try:
        args = parser.parse_args(list(argv))
    except SystemExit as exit_:
        return int(exit_.code or 0)
    return args.handler(args, settings)


@pytest.fixture
def register(con, tmp_path) -> Path:
    return tmp_path / "fw.cases.sqlite"


def test_the_command_adds_lists_masked_and_removes(monkeypatch, capsys, register):
    r = ["blacklist", "--register", str(register)]
    assert fundwatch(monkeypatch, "chief", *r, "add", "--kind", "person", "--key", LEGACY, "--reason", "骗保") == 0
    out = capsys.readouterr().out
    assert "已列入黑名单" in out and "entry 1" in out and mask_id(P1) in out and P1 not in out
    case = suspect_id("SHARED_ACCOUNT", ACCOUNT2)
    add = ("add", "--kind", "account", "--key", ACCOUNT2, "--reason", f"账户{ACCOUNT2}多人共用", "--case", case)
    assert fundwatch(monkeypatch, "chief", *r, *add) == 0
    capsys.readouterr()
    assert fundwatch(monkeypatch, "V01", *r, "list") == 0
    out = capsys.readouterr().out
    assert mask_id(P1) in out and mask_account(ACCOUNT2) in out and case in out
    assert P1 not in out and ACCOUNT2 not in out  # the key and the reason's account masked
    assert "人员 person" in out and "银行账号 account" in out and "共 2 条" in out
    assert fundwatch(monkeypatch, "chief", *r, "remove", "1", "--reason", "误列") == 0
    assert "已移出黑名单" in capsys.readouterr().out
    assert fundwatch(monkeypatch, "AUD", *r, "list") == 0
    assert "共 1 条" in capsys.readouterr().out
    assert fundwatch(monkeypatch, "AUD", *r, "list", "--all") == 0
    out = capsys.readouterr().out
    assert "共 2 条" in out and "已移出 removed" in out and "误列" in out and "在册 in force" in out


def test_the_command_refuses_everyone_but_a_chief(monkeypatch, capsys, register, con):
    r = ["blacklist", "--register", str(register)]
    for who in ("V01", "AUD", "ADM"):
        assert fundwatch(monkeypatch, who, *r, "add", "--kind", "person", "--key", P1, "--reason", "x") == 6
        assert "拒绝 refused" in capsys.readouterr().err
    entry = blacklist.add(con, "chief", "person", P1, "理由")
    assert fundwatch(monkeypatch, "V01", *r, "remove", str(entry), "--reason", "x") == 6
    assert fundwatch(monkeypatch, "ADM", *r, "list") == 6  # an admin sees no personal data
    bad = ("add", "--kind", "person", "--key", P1[:17] + "Y", "--reason", "x")
    assert fundwatch(monkeypatch, "chief", *r, *bad) == 6
    assert fundwatch(monkeypatch, "chief", *r, "add", "--kind", "person", "--key", P1, "--reason", "x") == 6
    assert [e["in_force"] for e in blacklist.entries(con)] == [True]


def test_the_command_reveals_only_with_a_reason_and_records_it(monkeypatch, capsys, register, con):
    blacklist.add(con, "chief", "person", P1, "理由")
    r = ["blacklist", "--register", str(register)]
    assert fundwatch(monkeypatch, "V01", *r, "list", "--reveal") == 6
    assert con.execute("SELECT count(*) FROM access_log").fetchone()[0] == 0
    capsys.readouterr()
    assert fundwatch(monkeypatch, "V01", *r, "list", "--reveal", "--reason", "核对名单") == 0
    assert P1 in capsys.readouterr().out
    logged = con.execute("SELECT actor, os_user, action, reason FROM access_log").fetchall()
    assert [tuple(row) for row in logged] == [("V01", "v01-user", "blacklist_unmasked", "核对名单")]


def test_the_command_never_creates_a_register_and_checks_its_arguments(monkeypatch, tmp_path):
    missing = tmp_path / "nowhere" / "fw.cases.sqlite"
    assert fundwatch(monkeypatch, "chief", "blacklist", "--register", str(missing), "list") == 2
    assert not missing.exists() and not missing.parent.exists()
    db = tmp_path / "other.duckdb"
    assert fundwatch(monkeypatch, "chief", "blacklist", "--db", str(db), "list") == 2
    assert not reg.register_path_for(db).exists()
    assert fundwatch(monkeypatch, "chief", "blacklist", "--register", str(missing), "add", "--kind", "bank") == 2


# ---- the nightly mirror and the findings' evidence ---------------------------------------------------------------


@pytest.fixture
def published(tmp_path):
    """A DuckDB file with the findings merged by a run, and its register (staffed), as a run leaves them."""
    db, register = tmp_path / "fw.duckdb", tmp_path / "fw.cases.sqlite"
    duck = connect(db)
    merge_findings(duck, findings_frame(*FINDINGS), ON, "r1")
    nightly.sync_run(duck, register, ON, "r1")
    cases = reg.open_register(register)
    staff_up(cases)
    yield duck, cases, register
    cases.close()
    duck.close()


def hits(duck) -> dict[str, str]:
    return dict(duck.execute("SELECT rule, blacklist_hits FROM suspects WHERE blacklist_hits IS NOT NULL").fetchall())


def evidence(duck, rule: str) -> str:
    return duck.execute("SELECT evidence FROM suspects WHERE rule = ?", [rule]).fetchall()[0][0]


def mirrored_log(duck) -> list[tuple]:
    return duck.execute("SELECT * FROM case_events ORDER BY event_id").fetchall()


def register_log(cases) -> list[tuple]:
    return [tuple(r) for r in cases.execute("SELECT * FROM case_events ORDER BY event_id").fetchall()]


def test_the_nightly_mirror_of_the_case_log_appends_what_the_register_added_and_replaces_a_register_swapped(
    published, monkeypatch
):
    """The copy's case_events is the register's log after every run: appended to when the register continues
    it (analysts' events between runs, the run's own), rebuilt whole when the register is another one."""
    duck, cases, register = published
    assert mirrored_log(duck) == register_log(cases) and len(register_log(cases)) == len(FINDINGS)
    [first, *_] = [sid for (sid,) in cases.execute("SELECT suspect_id FROM cases ORDER BY suspect_id")]
    reg.assign(cases, first, assignee="V01", by="chief", on=ON)
    merge_findings(duck, findings_frame(*FINDINGS[1:]), ON + dt.timedelta(days=1), "r2")  # one stops firing
    read: list[object] = []
    query_frame = reg.query_frame
    monkeypatch.setattr(
        reg, "query_frame", lambda con, sql, params=None: read.append(params) or query_frame(con, sql, params)
    )
    assert nightly.sync_run(duck, register, ON + dt.timedelta(days=1), "r2").log_mirrored == "appended"
    assert [len(FINDINGS)] in read  # only the events after the copy's last were read out of the register
    assert mirrored_log(duck) == register_log(cases)
    assert [r[4] for r in mirrored_log(duck)[-2:]] == ["assign", "stopped_firing"]
    # another register in its place (restored from a copy, say): its own log, not the old one plus anything
    cases.close()
    register.unlink()
    other = reg.open_register(register)
    staff_up(other)
    assert nightly.sync_run(duck, register, ON + dt.timedelta(days=2), "r3").log_mirrored == "whole"  # warned
    assert mirrored_log(duck) == register_log(other) and len(register_log(other)) == len(FINDINGS) - 1
    other.close()


def test_the_nightly_run_mirrors_the_blacklist_and_marks_the_findings_it_hits(published, monkeypatch):
    duck, cases, register = published
    assert hits(duck) == {} and duck.execute("SELECT count(*) FROM blacklist").fetchall()[0][0] == 0
    at(monkeypatch, "2026-11-02T10:00:00+08:00")
    person = blacklist.add(cases, "chief", "person", P1, "骗取养老金")
    account = blacklist.add(cases, "chief", "account", ACCOUNT2, "多人共用账户")
    employer = blacklist.add(cases, "chief", "employer", EMPLOYER, "少报缴费基数")
    other = blacklist.add(cases, "chief", "employer", "E330100000999", "虚假用工")
    removed = blacklist.add(cases, "chief", "person", P3, "已核实无误")
    blacklist.remove(cases, "chief", removed, "误列")
    nightly.sync_run(duck, register, ON, "r2")
    assert hits(duck) == {
        "DECEASED_PAID": f"黑名单 blacklist: 人员 person（entry {person}，2026-11-02 列入：骗取养老金）",
        "SHARED_ACCOUNT": f"黑名单 blacklist: 银行账号 account（entry {account}，2026-11-02 列入：多人共用账户）",
        "RECON_CONTRIB": f"黑名单 blacklist: 单位 employer（entry {employer}，2026-11-02 列入：少报缴费基数）",
        "UNEMP_WHILE_EMPLOYED": f"黑名单 blacklist: 单位 employer（entry {other}，2026-11-02 列入：虚假用工）",
    }  # DUP_BENEFIT's person P3 was removed: no mention
    assert evidence(duck, "DECEASED_PAID").endswith("] " + hits(duck)["DECEASED_PAID"])
    assert evidence(duck, "DECEASED_PAID").startswith("DECEASED_PAID 句子 依据 evidence: [")
    mirrored = duck.execute("SELECT entry_id, kind, key, in_force, removal_reason FROM blacklist ORDER BY 1").fetchall()
    assert mirrored == [
        (person, "person", P1, True, None),
        (account, "account", ACCOUNT2, True, None),
        (employer, "employer", EMPLOYER, True, None),
        (other, "employer", "E330100000999", True, None),
        (removed, "person", P3, False, "误列"),
    ]
    columns = [r[0] for r in duck.execute("DESCRIBE blacklist").fetchall()]
    assert set(columns) == set(blacklist.ENTRY_COLUMNS)


def test_the_mention_follows_the_list_night_after_night(published):
    duck, cases, register = published
    first = blacklist.add(cases, "chief", "person", P1, "骗取养老金")
    second = blacklist.add(cases, "chief", "account", ACCOUNT, "冒领账户")  # DECEASED_PAID's evidence account
    nightly.sync_run(duck, register, ON, "r2")
    both = hits(duck)["DECEASED_PAID"]
    assert f"entry {first}" in both and f"entry {second}" in both and both.index("人员") < both.index("银行账号")
    carry_forward(duck, ON, "r3")  # inputs unchanged: the evidence is carried, not rebuilt
    nightly.sync_run(duck, register, ON, "r3")
    assert evidence(duck, "DECEASED_PAID").count("黑名单") == 1 and hits(duck)["DECEASED_PAID"] == both
    merge_findings(duck, findings_frame(*FINDINGS), ON, "r4")  # detected again: the evidence is rebuilt
    nightly.sync_run(duck, register, ON, "r4")
    assert evidence(duck, "DECEASED_PAID").count("黑名单") == 1 and hits(duck)["DECEASED_PAID"] == both
    blacklist.remove(cases, "chief", first, "误列")
    nightly.sync_run(duck, register, ON, "r5")
    assert f"entry {first}" not in hits(duck)["DECEASED_PAID"]
    blacklist.remove(cases, "chief", second, "误列")
    nightly.sync_run(duck, register, ON, "r6")
    assert hits(duck) == {}
    assert evidence(duck, "DECEASED_PAID") == "DECEASED_PAID 句子 依据 evidence: " + FINDINGS[0]["evidence_rows"]


def test_the_sql_hits_are_what_the_cases_offer(published):
    """sql/cases/mirror_blacklist.sql and `case_candidates` read the same keys out of a finding."""
    duck, cases, register = published
    offered = {(c.kind, c.key) for f in FINDINGS for c in blacklist.case_candidates(f)}
    for n, (kind, key) in enumerate(sorted(offered)):
        blacklist.add(cases, "chief", kind, key, f"理由{n}")
    nightly.sync_run(duck, register, ON, "r2")
    rows = duck.execute("SELECT rule, person_id, subject_id, evidence_rows, blacklist_hits FROM suspects").fetchall()
    entry_of = {(e["kind"], e["key"]): e["entry_id"] for e in blacklist.entries(cases)}
    for rule, person, subject, evidence_rows, mention in rows:
        f = {"rule": rule, "person_id": person, "subject_id": subject, "evidence_rows": evidence_rows}
        expected = sorted(entry_of[(c.kind, c.key)] for c in blacklist.case_candidates(f))
        assert [int(part.split("，")[0]) for part in (mention or "").split("entry ")[1:]] == expected, rule


def test_the_analysts_view_masks_the_keys(published):
    duck, cases, register = published
    blacklist.add(cases, "chief", "person", P1, f"冒领，身份证{P1}")
    blacklist.add(cases, "chief", "account", ACCOUNT, "冒领账户")
    blacklist.add(cases, "chief", "employer", EMPLOYER, "少报")
    nightly.sync_run(duck, register, ON, "r2")
    assert "v_blacklist" in create_views(duck)
    shown = duck.execute("SELECT kind_zh, key, status_zh, reason FROM v_blacklist ORDER BY entry_id").fetchall()
    assert shown == [
        ("人员", mask_id(P1), "在册", f"冒领，身份证{mask_id(P1)}"),
        ("银行账号", mask_account(ACCOUNT), "在册", "冒领账户"),
        ("单位", EMPLOYER, "在册", "少报"),
    ]


def test_an_older_database_gets_the_column_and_the_table(tmp_path):
    db = tmp_path / "old.duckdb"
    old = duckdb.connect(str(db))
    old.execute(read_sql("ddl/004_suspects.sql"))
    old.close()
    con = connect(db)  # a writer brings the schema up to date
    try:
        columns = [r[0] for r in con.execute("DESCRIBE suspects").fetchall()]
        assert columns[-1] == "blacklist_hits"
        assert con.execute("SELECT count(*) FROM blacklist").fetchall()[0][0] == 0
    finally:
        con.close()


@pytest.mark.slow
def test_a_published_run_mirrors_the_list_and_marks_its_findings(tmp_path):
    """Two real nightly runs: the blacklist changed between them shows in the second one's published file."""
    import subprocess
    import sys

    from pipelines.synth import generate

    inbox, db = tmp_path / "inbox", tmp_path / "fw.duckdb"
    generate(500, inbox, seed=5, dirty=False)
    command = [
        sys.executable,
        "-m",
        "pipelines",
        "run",
        "--inbox",
        str(inbox),
        "--db",
        str(db),
        "--as-of",
        "2026-03-02",
    ]

    def run() -> list[dict]:
        done = subprocess.run(command, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
        published = duckdb.connect(str(db), read_only=True)
        try:
            result = published.execute(
                "SELECT suspect_id, rule, person_id, subject_id, evidence_rows, evidence, blacklist_hits FROM suspects"
            )
            names = [d[0] for d in result.description]
            return [dict(zip(names, r, strict=True)) for r in result.fetchall()]
        finally:
            published.close()

    first = run()
    assert first and all(f["blacklist_hits"] is None for f in first)
    deceased = sorted({f["person_id"] for f in first if f["rule"] == "DECEASED_PAID"})
    shared = sorted(f["subject_id"] for f in first if f["rule"] == "SHARED_ACCOUNT")
    assert len(deceased) >= 2 and shared
    cases = reg.open_register(reg.register_path_for(db))
    try:
        staff_up(cases)
        case = next(f["suspect_id"] for f in first if f["person_id"] == deceased[0])
        listed = {
            ("person", deceased[0]): blacklist.add(cases, "chief", "person", deceased[0], "死亡后冒领", case),
            ("account", shared[0]): blacklist.add(cases, "chief", "account", shared[0], "多人共用账户"),
        }
        removed = blacklist.add(cases, "chief", "person", deceased[1], "待核")
        blacklist.remove(cases, "chief", removed, "核实无误")
    finally:
        cases.close()
    second = run()
    marked = 0
    for f in second:
        entries = sorted(listed[(c.kind, c.key)] for c in blacklist.case_candidates(f) if (c.kind, c.key) in listed)
        if not entries:
            assert f["blacklist_hits"] is None and "黑名单" not in f["evidence"], f["rule"]
            continue
        marked += 1
        assert [int(p.split("，")[0]) for p in f["blacklist_hits"].split("entry ")[1:]] == entries, f["rule"]
        assert f["evidence"].endswith(" " + f["blacklist_hits"]) and f["evidence"].count("黑名单") == 1
    assert marked >= 2
    assert any(f["person_id"] == deceased[1] and f["blacklist_hits"] is None for f in second)  # removed: no mention
    published = duckdb.connect(str(db), read_only=True)
    try:
        mirrored = published.execute("SELECT entry_id, in_force FROM blacklist ORDER BY 1").fetchall()
        shown = published.execute("SELECT key FROM v_blacklist ORDER BY entry_id").fetchall()
    finally:
        published.close()
    assert mirrored == [(1, True), (2, True), (removed, False)]
    assert shown == [(mask_id(deceased[0]),), (mask_account(shared[0]),), (mask_id(deceased[1]),)]
