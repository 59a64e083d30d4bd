"""Every file the 四定一限 commands write lands inside its `--out` folder (issue 11, item 5).

`case export --region "../../x" --out DIR` once wrote outside DIR. Names are now built from validated parts
(a six-digit region code, YYYYMM, a four-digit year, a date) and `pipelines.cases.files.file_in` checks the
resolved file is directly in the resolved folder, for the checklist and every report.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from pipelines.app import cli
from pipelines.app.settings import Settings
from pipelines.cases import register as reg
from pipelines.cases import reports
from pipelines.cases.export import checklist_path, export_checklist
from pipelines.cases.files import UnsafeOutput, file_in, region_code
from pipelines.cases.reports.document import Document, Section
from pipelines.cases.reports.output import write_report
from pipelines.cases.staff import os_user
from tests.cases.report_world import build_db
from tests.cases.staffing import staff_up

HOSTILE_REGIONS = ["../../x", "../330100", "330100/../../x", "33010", "3301000", "３３０１００", "", "330100\0"]


def fundwatch(*argv: str) -> int:
    """The command line in-process (argument errors exit through argparse: their status is returned)."""
    settings = Settings.from_env()
    try:
        args = cli.build_parser(settings).parse_args(list(argv))
    except SystemExit as exit_:
        return int(exit_.code or 0)
    return args.handler(args, settings)


def files_under(root: Path) -> set[Path]:
    return {p for p in root.rglob("*") if p.is_file() or p.is_symlink()}


@pytest.fixture
def register(tmp_path) -> Path:
    """A register with one open case of region 330100."""
    path = tmp_path / "reg" / "fw.cases.sqlite"
    con = reg.open_register(path)
    staff_up(con, [("ADM", "管理员", "admin", (), "adm-user"), ("chief", "王科长", "chief", (), os_user())])
    with reg.write_transaction(con):
        con.execute(
            "INSERT INTO cases (suspect_id, rule, subject_id, region_code, amount_at_risk, status, firing, first_seen,"
            " last_seen) VALUES ('SP-1', 'DECEASED_PAID', 'E1', '330100', '10.00', 'open', 1, '2026-03-02',"
            " '2026-03-02')"
        )
    con.close()
    return path


# ---- the helper ----------------------------------------------------------------------------------------


def test_a_plain_name_lands_in_the_folder(tmp_path):
    out = tmp_path / "new" / "deeper"
    assert file_in(out, "核查清单_330100_2026-03-02.xlsx") == out / "核查清单_330100_2026-03-02.xlsx"
    assert out.is_dir()


@pytest.mark.parametrize("name", ["../x.xlsx", "a/b.xlsx", "/etc/x.xlsx", "..", ".", "", "x\0.xlsx"])
def test_a_name_that_is_not_a_plain_file_name_is_refused(tmp_path, name):
    with pytest.raises(UnsafeOutput):
        file_in(tmp_path / "out", name)


def test_a_symbolic_link_at_the_target_is_refused(tmp_path):
    out, victim = tmp_path / "out", tmp_path / "victim.txt"
    out.mkdir()
    victim.write_text("keep", encoding="utf-8")
    (out / "report.md").symlink_to(victim)
    (out / "inside.md").symlink_to(out / "elsewhere.md")
    for name in ("report.md", "inside.md"):
        with pytest.raises(UnsafeOutput, match="symbolic link"):
            file_in(out, name)
    assert victim.read_text(encoding="utf-8") == "keep"


@pytest.mark.parametrize("region", HOSTILE_REGIONS)
def test_a_region_code_is_six_ascii_digits(region):
    with pytest.raises(UnsafeOutput, match="six digits"):
        region_code(region)


def test_a_good_region_code_passes():
    assert region_code("330100") == "330100"


# ---- the checklist -------------------------------------------------------------------------------------


@pytest.mark.parametrize("region", HOSTILE_REGIONS)
def test_the_checklist_refuses_a_hostile_region_and_writes_nothing(tmp_path, region):
    out = tmp_path / "a" / "b" / "out"
    with pytest.raises(UnsafeOutput):
        checklist_path(out, region, dt.date(2026, 3, 2))
    cases = pl.DataFrame({"region_code": ["330100"], "status": ["open"], "due_date": [None], "suspect_id": ["S"]})
    with pytest.raises(UnsafeOutput):
        export_checklist(cases, region, out / "x.xlsx", generated_on=dt.date(2026, 3, 2))
    assert files_under(tmp_path) == set()


def test_export_command_refuses_a_region_that_climbs_out(register, tmp_path, capsys):
    out = tmp_path / "exports" / "inner"
    before = files_under(tmp_path)
    status = fundwatch("case", "--register", str(register), "export", "--region", "../../x", "--out", str(out))
    assert status == 2
    assert "region code is six digits" in capsys.readouterr().err
    assert files_under(tmp_path) == before  # nothing written, inside or outside


def test_export_command_writes_inside_its_folder(register, tmp_path, capsys):
    out = tmp_path / "exports"
    status = fundwatch(
        "case", "--register", str(register), "export", "--region", "330100", "--out", str(out), "--as-of", "2026-03-02"
    )
    assert status == 0, capsys.readouterr().err
    written = files_under(tmp_path) - files_under(tmp_path / "reg")
    assert written == {out / "核查清单_330100_2026-03-02.xlsx"}


def test_export_command_refuses_to_write_through_a_link(register, tmp_path, capsys):
    out, victim = tmp_path / "exports", tmp_path / "victim.xlsx"
    out.mkdir()
    victim.write_bytes(b"keep")
    (out / "核查清单_330100_2026-03-02.xlsx").symlink_to(victim)
    status = fundwatch(
        "case", "--register", str(register), "export", "--region", "330100", "--out", str(out), "--as-of", "2026-03-02"
    )
    assert status == 2 and "symbolic link" in capsys.readouterr().err
    assert victim.read_bytes() == b"keep"


# ---- the reports ---------------------------------------------------------------------------------------


def test_write_report_refuses_a_stem_that_climbs_out(tmp_path):
    doc = Document(title="t", meta=[], sections=[Section("一")])
    with pytest.raises(UnsafeOutput):
        write_report(doc, tmp_path / "out", "../../escape")
    assert files_under(tmp_path) == set()


def test_the_monthly_report_refuses_a_hostile_month_before_writing(register, tmp_path):
    with pytest.raises(ValueError, match="YYYYMM"):
        reports.monthly_self_check(
            register, tmp_path / "fw.duckdb", "../../x", tmp_path / "out", today=dt.date(2026, 3, 2), memory_limit="1GB"
        )
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    "kind",
    [
        ("monthly", "--month", "../../x"),
        ("monthly", "--month", "202613"),
        ("monthly", "--month", "2026/3"),
        ("monthly", "--month", "２０２６03"),
        ("half-year", "--year", "../../2026"),
        ("half-year", "--year", "99999"),
        ("annual", "--year", "-1"),
        ("yaoqing", "--year", "２０２６", "--half", "1"),
        ("circulation", "--as-of", "../2026-03-02"),
    ],
)
def test_report_command_refuses_a_hostile_period(register, tmp_path, capsys, kind):
    out = tmp_path / "out"
    before = files_under(tmp_path)
    args = ("report", "--register", str(register), "--db", str(tmp_path / "fw.duckdb"), "--out", str(out), *kind)
    assert fundwatch(*args) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and ("YYYYMM" in err or "four digits" in err or "invalid" in err)
    assert files_under(tmp_path) == before


def test_report_command_refuses_to_write_through_a_link(register, tmp_path, capsys):
    out, victim = tmp_path / "out", tmp_path / "victim.md"
    out.mkdir()
    victim.write_text("keep", encoding="utf-8")
    (out / "通报_2026-03-02.md").symlink_to(victim)
    db = build_db(tmp_path / "fw.duckdb")
    args = (
        "report",
        "--register",
        str(register),
        "--db",
        str(db),
        "--out",
        str(out),
        "circulation",
        "--as-of",
        "2026-03-02",
    )
    assert fundwatch(*args) == 2
    assert "symbolic link" in capsys.readouterr().err
    assert victim.read_text(encoding="utf-8") == "keep"
    assert not (out / "通报_2026-03-02.xlsx").exists()


def test_report_command_writes_inside_its_folder(register, tmp_path, capsys):
    out = tmp_path / "out"
    db = build_db(tmp_path / "fw.duckdb")
    args = (
        "report",
        "--register",
        str(register),
        "--db",
        str(db),
        "--out",
        str(out),
        "circulation",
        "--as-of",
        "2026-03-02",
    )
    assert fundwatch(*args) == 0, capsys.readouterr().err
    assert {p.name for p in out.iterdir()} == {"通报_2026-03-02.md", "通报_2026-03-02.xlsx"}
