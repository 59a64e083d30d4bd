"""`fundwatch case` and `fundwatch staff` in process, on a hand-built register: who acts, what they see masked,
what is refused and with which exit status (issue 12, items 2, 4, 7, 10)."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import duckdb
import polars as pl
import pytest

from pipelines.app import cli
from pipelines.cases import register as reg
from pipelines.cases.staff import os_user
from schemas.suspects import SUSPECT_SCHEMA
from tests.cases.staffing import REGION, staff_up

PERSON = "330102198001011234"
ACCOUNT = "6222021234567890123"
FOUND = dt.date(2026, 11, 2)
FULL_ID = re.compile(r"(?<!\d)\d{17}[\dX](?!\d)")


def findings() -> pl.DataFrame:
    rows = [
        ("SP-a", "DECEASED_PAID", f"{PERSON}", PERSON, "15514.47", f"{PERSON} 死亡后仍领取养老金"),
        ("SP-b", "SHARED_ACCOUNT", ACCOUNT, None, "3000.00", f"账户 {ACCOUNT} 被3人共用"),
        ("SP-c", "SOD_BREACH", "OP1", None, "81316.74", "经办与复核为同一人"),
    ]
    return pl.DataFrame(
        [
            {
                "suspect_id": sid,
                "rule": rule,
                "subject_id": subject,
                "person_id": person,
                "region_code": REGION,
                "period_from": "202509",
                "period_to": "202510",
                "amount_at_risk": Decimal(amount),
                "summary": summary,
                "evidence_rows": "[]",
            }
            for sid, rule, subject, person, amount, summary in rows
        ],
        schema={"suspect_id": pl.String, **SUSPECT_SCHEMA},
    )


def members(me_role: str) -> list:
    """The test's OS account is mapped to a staff member of `me_role`; the admin is someone else."""
    me = os_user()
    rows = [
        ("ADM", "管理员", "admin", (), me if me_role == "admin" else "adm-user"),
        ("chief", "王科长", "chief", (), me if me_role == "chief" else "chief-user"),
        ("V01", "核查员一", "verifier", (REGION,), me if me_role == "verifier" else None),
        ("V02", "核查员二", "verifier", (REGION,), None),
        ("AUD", "审计员", "auditor", (), me if me_role == "auditor" else "aud-user"),
    ]
    return rows


@pytest.fixture
def world(tmp_path, request):
    db = tmp_path / "fw.duckdb"
    duckdb.connect(str(db)).close()  # an (empty) database: the register belongs beside it
    con = reg.open_register(reg.register_path_for(db))
    staff_up(con, members(getattr(request, "param", "chief")))
    reg.sync_findings(con, findings(), FOUND, "r1")
    con.close()
    return db


def fw(capsys, *args: str) -> tuple[int, str, str]:
    code = cli.main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def case(capsys, db, *args: str) -> tuple[int, str, str]:
    return fw(capsys, "case", "--db", str(db), *args)


def access_log(db) -> list[tuple]:
    con = reg.open_register(reg.register_path_for(db))
    try:
        return [tuple(r) for r in con.execute("SELECT actor, action, target, reason FROM access_log")]
    finally:
        con.close()


def test_lists_mask_ids_and_accounts_unless_revealed_with_a_reason_which_is_recorded(capsys, world):
    code, out, _ = case(capsys, world, "list")
    assert code == 0 and "共 3 件" in out
    assert not FULL_ID.search(out) and ACCOUNT not in out
    assert "330102********1234" in out and "***************0123" in out
    code, _, err = case(capsys, world, "list", "--reveal")
    assert code == 6 and "理由" in err and access_log(world) == []
    code, out, _ = case(capsys, world, "list", "--reveal", "--reason", "核对身份")
    assert code == 0 and PERSON in out and ACCOUNT in out
    assert access_log(world) == [("chief", "list_unmasked", "list", "核对身份")]


def test_a_person_s_cases(capsys, world):
    code, out, _ = case(capsys, world, "list", "--person", PERSON)
    assert code == 0 and "共 1 件" in out and "SP-a" in out and "330102********1234" in out
    assert PERSON not in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("list", "--rule", "NO_SUCH_RULE"), "没有这条规则"),
        (("list", "--as-of", "2025-13-01"), "month 13 is out of range"),
        (("assign", "SP-a", "--assignee", "V01", "--on", "2026-02-30"), "day 30 is out of range"),
        (("rectify", "SP-a", "--recovered", "NaN"), "不是金额"),
        (("rectify", "SP-a", "--recovered", "1.005"), "精确到分"),
    ],
)
def test_bad_arguments_are_usage_errors_saying_why(capsys, world, args, message):
    with pytest.raises(SystemExit) as exit_:
        case(capsys, world, *args)
    assert exit_.value.code == 2 and message in capsys.readouterr().err


def test_a_missing_register_is_named_never_created(capsys, tmp_path):
    db = tmp_path / "elsewhere" / "fw.duckdb"
    code, _, err = fw(capsys, "case", "--db", str(db), "list")
    assert code == 2 and str(reg.register_path_for(db).resolve()) in err
    assert not reg.register_path_for(db).exists() and not db.parent.exists()
    code, _, err = fw(capsys, "staff", "--db", str(db), "add", "ADM", "--name", "甲", "--role", "admin")
    assert code == 2 and not db.parent.exists()


def test_a_refusal_exits_6_and_changes_nothing(capsys, world):
    code, _, err = case(capsys, world, "verify", "SP-a")
    assert code == 6 and "open" in err
    code, _, err = case(capsys, world, "assign", "SP-a", "--assignee", "AUD")
    assert code == 6 and "核查员或科长" in err
    code, _, err = case(capsys, world, "assign", "SP-a", "--assignee", "V01", "--on", "2099-01-01")
    assert code == 6 and "晚于今天" in err
    code, out, _ = case(capsys, world, "show", "SP-a")
    assert "待核查 open" in out


def test_the_chief_works_a_case_through_with_colleagues_recorded_on_their_behalf(capsys, world):
    steps = [
        ("assign", "SP-a", "--assignee", "V01", "--on", "2026-12-01"),
        ("verify", "SP-a", "--by", "V01", "--on", "2026-12-01"),
        ("rectify", "SP-a", "--by", "V01", "--on", "2026-12-01", "--recovered", "10,000.00"),
        ("write-off", "SP-a", "--on", "2026-12-01", "--reason", "无遗产可追"),
    ]
    outs = []
    for step in steps:
        code, out, err = case(capsys, world, *step)
        assert code == 0, err
        outs.append(out)
    assert "暂定" in outs[0] and "2027-" in outs[0]  # the deadline reaches 2027: provisional, never refused
    assert "代为登记" in outs[1] and "部分追回" in outs[2] and "5,514.47" in outs[2]
    assert "核销 written off 5,514.47" in outs[3] and "已整改" in outs[3]
    code, out, _ = case(capsys, world, "show", "SP-a")
    assert "已追回 recovered: 10,000.00 / 15,514.47" in out and "待追回 outstanding: 0.00" in out
    assert not FULL_ID.search(out)


@pytest.mark.parametrize("world", ["verifier"], indirect=True)
def test_a_verifier_works_only_their_own_cases(capsys, world):
    code, _, err = case(capsys, world, "assign", "SP-a", "--assignee", "V01")
    assert code == 6 and "只有科长" in err
    code, _, err = case(capsys, world, "dismiss", "SP-a", "--reason", "核实无误")
    assert code == 6 and "不是该案核查人" in err
    code, _, err = case(capsys, world, "verify", "SP-a", "--by", "V02")
    assert code == 6 and "只有科长可代" in err


@pytest.mark.parametrize("world", ["admin"], indirect=True)
def test_an_admin_manages_staff_and_never_touches_cases(capsys, world):
    code, _, err = case(capsys, world, "list")
    assert code == 6 and "系统管理员" in err
    code, out, _ = fw(capsys, "staff", "--db", str(world), "add", "V03", "--name", "新人", "--role", "verifier")
    assert code == 6  # a verifier needs regions
    code, out, err = fw(
        capsys, "staff", "--db", str(world), "add", "V03", "--name", "新人", "--role", "verifier", "--regions", REGION
    )
    assert code == 0, err
    code, out, err = fw(capsys, "staff", "--db", str(world), "disable", "V02", "--reason", "调离")
    assert code == 0, err
    code, out, _ = fw(capsys, "staff", "--db", str(world), "list")
    assert "V03" in out and "停用 disabled" in out and "共 6 人" in out


@pytest.mark.parametrize("world", ["auditor"], indirect=True)
def test_an_auditor_reads_and_changes_nothing(capsys, world):
    assert case(capsys, world, "list")[0] == 0
    code, _, err = case(capsys, world, "dismiss", "SP-a", "--reason", "x")
    assert code == 6 and "审计" in err
    code, _, err = fw(capsys, "staff", "--db", str(world), "disable", "V02", "--reason", "x")
    assert code == 6 and "admin" in err
    case(capsys, world, "show", "SP-b", "--reveal", "--reason", "审计抽查")
    code, out, _ = case(capsys, world, "access-log")
    assert code == 0 and "审计抽查" in out and "show_unmasked" in out


def test_an_unmasked_export_goes_to_another_file_and_is_recorded(capsys, world, tmp_path):
    out_dir = tmp_path / "exports"
    code, out, err = case(capsys, world, "export", "--region", REGION, "--out", str(out_dir), "--as-of", "2026-12-01")
    assert code == 0, err
    code, out, err = case(
        capsys, world, "export", "--region", REGION, "--out", str(out_dir), "--as-of", "2026-12-01", "--no-mask"
    )
    assert code == 6 and "理由" in err
    code, out, err = case(
        capsys,
        world,
        *("export", "--region", REGION, "--out", str(out_dir), "--as-of", "2026-12-01"),
        *("--no-mask", "--reason", "移交公安"),
    )
    assert code == 0, err
    names = sorted(p.name for p in out_dir.iterdir())
    assert len(names) == 2 and any("未脱敏" in n for n in names)
    assert [(a, act, r) for a, act, _, r in access_log(world)] == [("chief", "export_unmasked", "移交公安")]


def test_an_export_of_a_region_without_cases_says_so_and_writes_nothing(capsys, world, tmp_path):
    out_dir = tmp_path / "exports"
    code, out, _ = case(capsys, world, "export", "--region", "339999", "--out", str(out_dir))
    assert code == 0 and "没有待核查案件" in out
    assert not out_dir.exists() or not any(out_dir.iterdir())
