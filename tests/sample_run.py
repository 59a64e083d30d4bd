"""One real nightly run over the bundled sample inbox (`data_samples/`, what `make run` runs), shared by the
tests that read what it publishes (tests/test_docs_queries.py, tests/test_views.py): made once per test
session, the first time a test asks for it (about a minute: a run through Prefect)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "data_samples"
AS_OF = "2026-11-27"

_published: dict[str, Path] = {}


def sample_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The published DuckDB file of `fundwatch run` over data_samples/ (its register beside it)."""
    if "db" not in _published:
        db = tmp_path_factory.mktemp("sample-run") / "fundwatch.duckdb"
        done = subprocess.run(
            [sys.executable, "-m", "pipelines", "run", "--inbox", str(SAMPLES), "--db", str(db), "--as-of", AS_OF],
            capture_output=True,
            text=True,
            timeout=900,
            cwd=ROOT,
        )
        # The sample is dirty on purpose: exit 1, "done, with quarantined rows or rejected files".
        assert done.returncode == 1, done.stderr[-3000:]
        _published["db"] = db
    return _published["db"]
