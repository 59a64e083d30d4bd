"""The benchmark's peer is a real equivalent of fundwatch's rules, and its report judges targets right."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import duckdb

from bench import peer
from bench.report import render_markdown, targets
from pipelines.synth import generate


def test_the_sql_peer_on_clean_csv_finds_exactly_the_planted_findings(tmp_path):
    inbox = tmp_path / "inbox"
    summary = generate(1000, inbox, seed=13, dirty=False)
    con = duckdb.connect(str(tmp_path / "peer.duckdb"))
    rows = peer.load(con, inbox)
    assert rows == summary["rows"]
    found = peer.detect(con, dt.date(2026, 11, 27), Decimal("100000.00"))
    assert found == summary["findings"]


def _size(persons: int, peer_s: float, clean_s: float, dirty_s: float, rerun_s: float, peak: float) -> dict:
    run = {"rows_loaded": 1, "rows_quarantined": 0, "findings": 1, "peak_gb": peak}
    return {
        "persons": persons,
        "clean_inbox": {"rows": 10, "bytes": 10, "findings": 1},
        "dirty_inbox": {"rows": 10, "bytes": 10, "findings": 1},
        "peer": {
            "wall_seconds": peer_s,
            "peak_gb": 1.0,
            "load_seconds": 1,
            "rules_seconds": 1,
            "total_seconds": peer_s,
            "rows": 10,
            "findings": {"X": 1},
        },
        "clean": {**run, "wall_seconds": clean_s},
        "rerun": {**run, "wall_seconds": rerun_s, "rules_skipped": True},
        "dirty": {**run, "wall_seconds": dirty_s},
        "ratio_clean": round(clean_s / peer_s, 2),
        "ratio_dirty": round(dirty_s / peer_s, 2),
        "rerun_share": rerun_s / clean_s,
        "us_per_person_clean": clean_s / persons * 1e6,
        "us_per_person_dirty": dirty_s / persons * 1e6,
    }


def test_the_report_says_which_targets_are_met_and_which_are_not():
    results = {
        "date": "2026-11-27",
        "machine": {"cpus": 2, "cpu": "x", "ram_gb": 24, "python": "3.11"},
        "temporary_server_seconds": 7.0,
        "sizes": [
            _size(1_000_000, peer_s=40, clean_s=79, dirty_s=121, rerun_s=7, peak=5.9),
            _size(10_000_000, peer_s=400, clean_s=1100, dirty_s=1200, rerun_s=50, peak=17.0),
        ],
    }
    verdicts = {name: ok for name, _, _, ok in targets(results)}
    assert verdicts["1M 清洁 clean: fundwatch / peer"] is True  # 1.98
    assert verdicts["1M 脏数据 dirty: fundwatch / peer on clean"] is False  # 3.03
    assert verdicts["1M 清洁 clean: peak memory (GB)"] is True
    assert verdicts["10M/1M time per person (clean)"] is False  # 1100/79 per person = 1.39
    assert verdicts["10M peak memory (GB)"] is False
    text = render_markdown(results)
    assert "未达标 NOT met" in text and "达标 met" in text and "| 10,000,000 |" in text
