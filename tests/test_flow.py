"""The flow's own bookkeeping: what a failed phase leaves behind."""

from __future__ import annotations

import datetime as dt

import pytest

from pipelines.app import flow
from pipelines.app.settings import Settings
from pipelines.warehouse.session import writer


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
