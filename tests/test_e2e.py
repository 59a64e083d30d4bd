"""End to end: `fundwatch run` on generated inboxes, checked against the generator's truth."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb
import polars as pl
import pytest

from pipelines.synth import generate

pytestmark = pytest.mark.slow  # real runs through Prefect on generated provinces

PERSONS = 2000


def fundwatch_run(inbox: Path, db: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pipelines", "run", "--inbox", str(inbox), "--db", str(db), "--as-of", "2026-11-27"],
        capture_output=True,
        text=True,
        timeout=600,
    )


def truth(inbox: Path, name: str) -> pl.DataFrame:
    return pl.read_csv(inbox / "_truth" / f"{name}.csv", infer_schema=False)


def table(db: Path, sql: str) -> pl.DataFrame:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.sql(sql).pl()
    finally:
        con.close()


@pytest.fixture(scope="module")
def dirty(tmp_path_factory):
    root = tmp_path_factory.mktemp("dirty")
    inbox, db = root / "inbox", root / "fw.duckdb"
    generate(PERSONS, inbox, seed=7, dirty=True)
    first = fundwatch_run(inbox, db)
    return inbox, db, first


def test_dirty_inbox_exits_non_zero_and_names_every_rejected_file(dirty):
    inbox, _, first = dirty
    assert first.returncode == 1, first.stderr[-3000:]
    rejected = truth(inbox, "rejected_files")
    assert rejected.height >= 4
    for file in rejected["file"]:
        assert file in first.stdout


def test_exactly_the_planted_bad_rows_are_quarantined(dirty):
    inbox, db, _ = dirty
    got = table(db, 'SELECT dataset, file, line::VARCHAR AS line, "column" FROM quarantine')
    expected = truth(inbox, "bad_rows").select("dataset", "file", "line", "column")
    assert got.height == expected.height > 0
    assert set(got.rows()) == set(expected.rows())


def test_exactly_the_planted_files_are_rejected(dirty):
    inbox, db, _ = dirty
    got = table(db, "SELECT dataset, file FROM ingested_files WHERE status = 'rejected'")
    assert set(got.rows()) == set(truth(inbox, "rejected_files").select("dataset", "file").rows())


def test_every_valid_row_is_loaded(dirty):
    inbox, db, _ = dirty
    got = table(db, "SELECT file, rows_loaded::VARCHAR AS n FROM ingested_files WHERE status = 'loaded'")
    assert dict(got.rows()) == dict(truth(inbox, "valid_rows").select("file", "rows_valid").rows())
    # a dataset holds its valid rows and the quarantined rows whose mistyped ID resolved (CONTRACT section 6)
    held = pl.col("rows_valid").cast(int) + pl.col("rows_resolved").cast(int)
    for dataset, n in truth(inbox, "valid_rows").group_by("dataset").agg(held.sum()).rows():
        assert table(db, f'SELECT count(*) AS n FROM "{dataset}"')["n"][0] == n, dataset


def test_ids_that_arrived_in_other_forms_are_queryable_in_canonical_form(dirty):
    inbox, db, _ = dirty
    forms = truth(inbox, "id_forms")
    kinds = {
        "15-digit": forms["raw_id"].str.strip_chars().str.len_chars() == 15,
        "lower x": forms["raw_id"].str.contains("x"),
        "full-width": forms["raw_id"].str.contains("[０-９]"),
    }
    for kind, mask in kinds.items():
        assert mask.any(), f"the generator planted no {kind} IDs"
    for dataset in forms["dataset"].unique():
        got = table(db, f'SELECT source_file AS file, source_line::VARCHAR AS line, person_id FROM "{dataset}"')
        expected = forms.filter(pl.col("dataset") == dataset).select("file", "line", "canonical_id")
        joined = expected.join(got, on=["file", "line"], how="left")
        assert joined["person_id"].null_count() == 0, dataset
        assert (joined["person_id"] == joined["canonical_id"]).all(), dataset


def test_gb18030_chinese_header_xlsx_and_parquet_files_were_loaded(dirty):
    _, db, _ = dirty
    formats = set(table(db, "SELECT DISTINCT format FROM ingested_files WHERE status = 'loaded'")["format"])
    assert {"csv:gb18030", "csv:utf-8", "csv:utf-8-sig", "xlsx", "parquet"} <= formats


def test_a_second_run_of_the_same_inbox_changes_nothing(dirty):
    inbox, db, _ = dirty
    datasets = sorted(set(truth(inbox, "valid_rows")["dataset"]))

    def snapshot():
        return {d: table(db, f'SELECT * EXCLUDE (run_id) FROM "{d}" ORDER BY ALL') for d in datasets} | {
            "quarantine": table(db, "SELECT * EXCLUDE (run_id) FROM quarantine ORDER BY ALL")
        }

    before = snapshot()
    second = fundwatch_run(inbox, db)
    # the planted unreadable files are still unreadable, but were reported by the first run: exit 0, listed again
    assert second.returncode == 0, second.stderr[-2000:]
    assert "已报告" in second.stdout
    after = snapshot()
    for name, frame in before.items():
        assert frame.equals(after[name]), name
    statuses = table(
        db,
        "SELECT status, count(*) AS n FROM ingested_files "
        "WHERE run_id = (SELECT max(run_id) FROM runs) GROUP BY status",
    )
    assert set(statuses["status"]) == {"skipped", "rejected"}


def test_clean_inbox_loads_without_quarantine_and_exits_zero(tmp_path):
    inbox, db = tmp_path / "inbox", tmp_path / "fw.duckdb"
    generate(PERSONS, inbox, seed=11, dirty=False)
    result = fundwatch_run(inbox, db)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert table(db, "SELECT count(*) AS n FROM quarantine")["n"][0] == 0
    assert table(db, "SELECT status FROM runs")["status"].to_list() == ["succeeded"]
