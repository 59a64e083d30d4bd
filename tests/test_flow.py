"""The flow's own bookkeeping: what a failed phase leaves behind, which bad input fails a night (exit status 1),
and what the summary says of standing rejects and of findings carried forward (沿用)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from pipelines.app import flow, summary
from pipelines.app.settings import Settings
from pipelines.warehouse import runs
from pipelines.warehouse.session import ensure_schema, reader, writer


def test_a_staging_that_fails_half_way_leaves_no_staging_folder(tmp_path, monkeypatch):
    building = tmp_path / "fw.duckdb.building"
    settings = Settings(inbox=tmp_path, db=tmp_path / "fw.duckdb", duckdb_memory_limit="1GB")
    with writer(building, memory_limit="1GB"):
        pass  # an empty warehouse: nothing to carry forward, so the run stages

    def disk_full(con, folder):
        folder.mkdir()
        (folder / "enrollment.arrow").write_bytes(b"half a file")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(flow, "stage_datasets", disk_full)
    with pytest.raises(OSError, match="No space left"):
        flow.detect(settings, building, "20261202T020000-abcdef", dt.date(2026, 12, 2))
    assert not list(tmp_path.glob("*.stage-*"))


# ---- exit status: bad input first seen in this run --------------------------------------------------------------

BROKEN = "death_records/broken.csv"
REASON = "缺少必填列 missing required column(s): death_date"
NIGHTS = [f"2026112{d}T020000-00000{d}" for d in range(1, 8)]


def night(con, n: int, *files: tuple[str, str, str, int]) -> str:
    """Run NIGHTS[n], as of 2026-11-21 + n days, saw `files`: (file, sha256, status, rows quarantined)."""
    run_id = NIGHTS[n]
    at = dt.datetime(2026, 11, 21 + n, 2, 0, tzinfo=dt.UTC)
    runs.start_run(con, run_id, dt.date(2026, 11, 21 + n), "inbox", at)
    for i, (file, sha, status, quarantined) in enumerate(files):
        reason = REASON if status == "rejected" else None
        con.execute(
            "INSERT INTO ingested_files (run_id, dataset, file, sha256, status, rows_quarantined, reason, ingested_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [run_id, file.split("/")[0], file, sha, status, quarantined, reason, at + dt.timedelta(seconds=i)],
        )
    return run_id


@pytest.fixture
def con():
    c = duckdb.connect()
    ensure_schema(c)
    yield c
    c.close()


def test_a_rejected_file_left_in_the_inbox_fails_only_the_night_it_arrived(con):
    first = night(con, 0, (BROKEN, "aaa", "rejected", 0), ("death_records/d.csv", "ddd", "loaded", 0))
    assert runs.bad_input(con, first)
    assert runs.rejected_files(con, first) == [runs.RejectedFile("death_records", BROKEN, REASON)]

    second = night(con, 1, (BROKEN, "aaa", "rejected", 0), ("death_records/d.csv", "ddd", "skipped", 0))
    assert not runs.bad_input(con, second)  # the same bytes, still there: already reported
    (standing,) = runs.rejected_files(con, second)
    assert standing.standing and (standing.first_run_id, standing.first_as_of) == (first, dt.date(2026, 11, 21))

    third = night(con, 2, (BROKEN, "aaa", "rejected", 0))
    assert not runs.bad_input(con, third)
    assert runs.rejected_files(con, third)[0].first_run_id == first  # reported since the first night


def test_new_bad_input_beside_a_standing_reject_still_fails_the_night(con):
    night(con, 0, (BROKEN, "aaa", "rejected", 0))
    quarantined = night(con, 1, (BROKEN, "aaa", "rejected", 0), ("death_records/new.csv", "nnn", "loaded", 2))
    assert runs.bad_input(con, quarantined)  # rows quarantined by this run
    other = night(con, 2, (BROKEN, "aaa", "rejected", 0), ("death_records/other.csv", "ooo", "rejected", 0))
    assert runs.bad_input(con, other)  # a file first rejected by this run
    assert [f.standing for f in runs.rejected_files(con, other)] == [True, False]


def test_a_rejection_after_the_file_changed_is_new_again(con):
    night(con, 0, (BROKEN, "aaa", "rejected", 0))
    corrected = night(con, 1, (BROKEN, "bbb", "rejected", 0))  # other bytes, still broken: a new delivery
    assert runs.bad_input(con, corrected)
    night(con, 2, (BROKEN, "ccc", "loaded", 0))  # then a good version was loaded
    back = night(con, 3, (BROKEN, "bbb", "rejected", 0))  # and the broken one came back
    assert runs.bad_input(con, back)
    assert runs.rejected_files(con, back)[0].first_run_id is None
    copy = night(con, 4, ("death_records/copy_of_broken.csv", "bbb", "rejected", 0))  # same bytes, new name
    assert runs.bad_input(con, copy)


def test_the_summary_lists_new_rejects_then_the_standing_ones(con):
    first = night(con, 0, (BROKEN, "aaa", "rejected", 0))
    second = night(con, 1, (BROKEN, "aaa", "rejected", 0), ("death_records/late.csv", "lll", "rejected", 0))
    text = "\n".join(str(line) for line in summary.rejected_summary(runs.rejected_files(con, second)))
    assert text.splitlines() == [
        "",
        "拒收文件 rejected files (1):",
        f"  - death_records/late.csv: {REASON}",
        "",
        "仍在收件目录的拒收文件（已报告）rejected files still in the inbox, already reported (1):",
        f"  - {BROKEN}: {REASON} (首次拒收 first rejected: 运行 run {first}, 数据日期 as of 2026-11-21)",
        "  请更正文件或移出收件目录 correct the file or move it out of the inbox (it no longer fails the run)",
    ]


# ---- 沿用: findings carried forward ------------------------------------------------------------------------------


def finding_row(rule: str, subject: str, run_id: str) -> dict[str, object]:
    return {
        "suspect_id": f"SP-{rule}-{subject}",
        "rule": rule,
        "subject_id": subject,
        "amount_at_risk": Decimal("10.00"),
        "first_seen": dt.date(2026, 11, 21),
        "last_seen": dt.date(2026, 11, 21),
        "active": True,
        "last_run_id": run_id,
        "status": "open",
    }


def test_the_summary_says_which_findings_were_carried_forward_and_from_which_run(con):
    detected = night(con, 0, ("death_records/d.csv", "ddd", "loaded", 0))
    runs.finish_run(con, detected, "succeeded", {}, "KEY", False, finished_at=dt.datetime.now(dt.UTC))
    carried = night(con, 1, ("death_records/d.csv", "ddd", "skipped", 0))
    runs.finish_run(con, carried, "succeeded", {}, "KEY", True, finished_at=dt.datetime.now(dt.UTC))
    again = night(con, 2, ("death_records/d.csv", "ddd", "skipped", 0))
    runs.finish_run(con, again, "succeeded", {}, "KEY", True, finished_at=dt.datetime.now(dt.UTC))
    for rule, subject in [("DECEASED_PAID", "P1"), ("DECEASED_PAID", "P2"), ("SOD_BREACH", "B1")]:
        row = finding_row(rule, subject, again)
        con.execute(f"INSERT INTO suspects ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})", list(row.values()))

    assert runs.carried_forward(con, detected) is None
    cf = runs.carried_forward(con, again)
    assert cf == runs.CarriedForward(
        detected, dt.date(2026, 11, 21), {"DECEASED_PAID": 2, "SOD_BREACH": 1}, ["death_records"]
    )
    lines = summary.carried_summary(cf)
    assert lines[0] == (
        f"沿用 carried forward: 本次未重新计算，3 条疑点沿用自运行 run {detected} (数据日期 as of 2026-11-21) — "
        "3 findings carried forward, not recomputed"
    )
    assert lines[2] == "  规则 rules: 死亡后继续领取 DECEASED_PAID 2、不相容岗位混岗 SOD_BREACH 1"
    assert lines[3] == "  数据集 datasets (在用文件均未变 no file in force changed): 死亡信息 death_records"
    text = "\n".join(str(x) for x in summary.findings_summary(con, again))
    assert text.startswith("沿用 carried forward") and "疑点线索 findings of this run" in text
    assert "沿用" not in "\n".join(str(x) for x in summary.findings_summary(con, detected))


# ---- phases: the publish phase pays for writing the file ----------------------------------------------------------


@pytest.mark.slow
@pytest.mark.server
def test_the_publish_phase_ends_with_the_file_written_not_its_log(tmp_path, monkeypatch, prefect_api):
    """What the publish phase builds (lookups, indicators) is written into the building file before the phase
    ends: left in DuckDB's write-ahead log it would be written when the session closes, outside every phase, and
    at province scale counted as the run's fixed cost."""
    from prefect.logging.handlers import APILogWorker

    from pipelines.synth import generate
    from pipelines.warehouse import publication

    inbox, db = tmp_path / "inbox", tmp_path / "fw.duckdb"
    generate(500, inbox, seed=3, dirty=False)
    settings = Settings(inbox=inbox, db=db, duckdb_memory_limit="1GB")
    wal = Path(f"{publication.building_path(db)}.wal")
    left_in_log: list[int] = []
    end = flow.Phases.end

    def noting_the_log(self: flow.Phases) -> None:
        if self._name == "publish":
            left_in_log.append(wal.stat().st_size if wal.exists() else 0)
        end(self)

    monkeypatch.setattr(flow.Phases, "end", noting_the_log)
    with summary.temporary_server_settings(prefect_api["PREFECT_API_URL"]):
        outcome, _ = summary.run_and_summarise(settings, dt.date(2026, 3, 2))
        APILogWorker.drain_all(timeout=5)  # the run's logs sent while the server is up, not at the session's exit
    assert outcome.status == "succeeded"
    assert left_in_log == [0]
    with reader(db, memory_limit="1GB") as published:
        [(publish_seconds,)] = published.execute(
            "SELECT publish_seconds FROM runs WHERE run_id = ?", [outcome.run_id]
        ).fetchall()
    assert publish_seconds > 0
