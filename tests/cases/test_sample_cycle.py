"""On the bundled sample, one case goes the whole cycle through the command line — open → assigned today
(provisional deadline) → verified → partially recovered → written off — by staff of the right roles, every
refusal on the way tested; then the reports agree with the register to the fen (issue 12, "done when")."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import sqlite3
from decimal import Decimal
from pathlib import Path

import pytest

from pipelines.app import cli
from pipelines.app.settings import Settings
from pipelines.cases import register as reg
from pipelines.cases.staff import os_user
from tests.cases.staffing import staff_up
from tests.sample_run import sample_database

pytestmark = pytest.mark.slow  # one real run over the sample (shared with the docs and views tests)

SID = "SP-682113cc17574120"  # DECEASED_PAID, 330100, 16,716.33 yuan (README's example)
REGION = "330100"


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> Path:
    """A copy of the sample run's database and register, staffed: the test's OS account is the chief."""
    published = sample_database(tmp_path_factory)
    folder = tmp_path_factory.mktemp("cycle")
    copy = folder / published.name
    shutil.copy2(published, copy)
    shutil.copy2(reg.register_path_for(published), reg.register_path_for(copy))
    con = reg.open_register(reg.register_path_for(copy))
    staff_up(
        con,
        [
            ("ADM", "张管理", "admin", (), "adm-user"),
            ("C01", "王科长", "chief", (), os_user()),
            ("V01", "李核查", "verifier", (REGION,), None),
            ("V02", "赵核查", "verifier", (REGION,), None),
            ("V09", "外区核查", "verifier", ("330200",), None),
            ("AUD", "审计员", "auditor", (), None),
        ],
    )
    con.close()
    return copy


def case(capsys, db: Path, *args: str) -> tuple[int, str]:
    code = cli.main(["case", "--db", str(db), *args])
    out = capsys.readouterr()
    return code, out.out + out.err


def test_a_sample_case_through_the_whole_cycle_then_the_reports_agree_to_the_fen(capsys, db, tmp_path):
    today = Settings.from_env().today()
    tomorrow = (today + dt.timedelta(days=1)).isoformat()
    steps: list[tuple[tuple[str, ...], int, str]] = [
        # (arguments, exit status, a phrase the output must hold)
        (("verify", SID, "--by", "V01"), 6, "open"),  # not assigned yet
        (("assign", SID, "--assignee", "AUD"), 6, "核查员或科长"),
        (("assign", SID, "--assignee", "V09"), 6, "不负责统筹区"),
        (("assign", SID, "--assignee", "V01", "--on", tomorrow), 6, "晚于今天"),
        (("assign", SID, "--assignee", "V01"), 0, "暂定"),  # today; 30 working days reach into 2027
        (("verify", SID, "--by", "V02"), 6, "不是该案核查人"),
        (("verify", SID, "--by", "V01", "--reason", "卫健死亡证明属实"), 0, "要情"),
        (("rectify", SID, "--by", "V01", "--recovered", "20000"), 6, "超过待追回金额"),
        (("rectify", SID, "--by", "V01", "--recovered", "1.005"), 2, "精确到分"),
        (("rectify", SID, "--by", "V01", "--recovered", "10,000.00"), 0, "部分追回"),
        (("write-off", SID, "--by", "V01", "--reason", "无遗产可追"), 6, "只有科长"),
        (("write-off", SID, "--reason", "无遗产可追"), 0, "6,716.33"),
        (("report", SID, "--by", "V01"), 0, "已报告"),
    ]
    for args, status, phrase in steps:
        try:
            code, out = case(capsys, db, *args)
        except SystemExit as exit_:  # argparse: a usage error
            code, out = int(exit_.code), capsys.readouterr().err
        assert (code, phrase in out) == (status, True), (args, out)

    con = reg.open_register(reg.register_path_for(db))
    c = reg.get_case(con, SID)
    money = con.execute("SELECT kind, amount FROM case_money WHERE suspect_id = ? ORDER BY money_id", [SID]).fetchall()
    actors = [(e["actor"], e["action"]) for e in reg.events(con, SID)][1:]
    con.close()
    assert (c["status"], c["recovered_amount"], c["written_off_amount"]) == ("rectified", "10000.00", "6716.33")
    assert c["due_provisional"] == 1 and c["due_date"] > "2027-01-01"
    assert [tuple(m) for m in money] == [("recovered", "10000.00"), ("written_off", "6716.33")]
    assert actors == [("C01", "assign"), ("V01", "verify"), ("V01", "rectify"), ("C01", "write_off"), ("V01", "report")]
    reports_agree(capsys, db, tmp_path / "reports", today)


def register_totals(db: Path) -> dict[str, Decimal]:
    con = sqlite3.connect(reg.register_path_for(db))
    try:
        rows = con.execute("SELECT kind, amount FROM case_money").fetchall()
    finally:
        con.close()
    totals: dict[str, Decimal] = {}
    for kind, amount in rows:
        totals[kind] = totals.get(kind, Decimal("0.00")) + Decimal(amount)
    return totals


def reports_agree(capsys, db: Path, out: Path, today: dt.date) -> None:
    totals = register_totals(db)
    assert totals == {"recovered": Decimal("10000.00"), "written_off": Decimal("6716.33")}
    half = "1" if today.month <= 6 else "2"
    for kind in (
        # the half-year by data period: the case's months (202506-202508) start in 2025 H1; its state as of today
        ("half-year", "--year", "2025", "--half", "1"),
        ("circulation", "--as-of", today.isoformat()),
        # 要情 by the date of confirmation: today's half
        ("yaoqing", "--year", str(today.year), "--half", half),
    ):
        code = cli.main(["report", "--db", str(db), "--out", str(out), *kind])
        assert code == 0, capsys.readouterr().err
    texts = {p.name: p.read_text(encoding="utf-8") for p in out.glob("*.md")}
    assert len(texts) == 3
    for name, text in texts.items():
        assert not re.search(r"追回率\s*[1-9]\d{2}(\.\d+)?%", text), name  # never a recovery rate above 100%
    supervision = next(t for n, t in texts.items() if n.startswith("监督报告"))
    circulation = next(t for n, t in texts.items() if n.startswith("通报"))
    assert "10,000.00" in supervision and "6,716.33" in supervision
    assert "10,000.00" in circulation
    yaoqing = next(t for n, t in texts.items() if n.startswith("要情统计"))
    assert "16,716.33" in yaoqing and "10,000.00" in yaoqing
