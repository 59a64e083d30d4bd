"""`fundwatch run --dask`: the detection on a Dask cluster finds exactly what one machine finds.

The slow test starts a `distributed.LocalCluster` of 2 worker processes (one thread each) on the loopback and a
real Prefect server (the session's `prefect_api`), runs the sample inbox once on the cluster and once on this
machine, and compares every row of `suspects`; the task runs the workers reported are read back from the server.
The fast tests check when `--dask` refuses to start (exit 2) and what counts as this machine. Select or skip the
slow one with `-m slow`.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from pipelines.app.cluster_run import is_local, refusal
from pipelines.app.settings import Settings, SettingsError

ROOT = Path(__file__).resolve().parents[1]
AS_OF = "2026-11-27"
RUN_TIMEOUT = 600
# Columns of `suspects` a run sets from its own id; everything else must be equal row for row.
RUN_SPECIFIC = ("first_run_id", "last_run_id")


def fundwatch(*args: str, env: dict[str, str], timeout: float = RUN_TIMEOUT) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pipelines", *args], capture_output=True, text=True, timeout=timeout, cwd=ROOT, env=env
    )


def suspects(db: Path) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        excluded = ", ".join(RUN_SPECIFIC)
        return con.sql(f"SELECT * EXCLUDE ({excluded}) FROM suspects ORDER BY rule, subject_id").fetchall()
    finally:
        con.close()


@pytest.mark.parametrize(
    ("address", "local"),
    [
        ("tcp://127.0.0.1:8786", True),
        ("127.0.0.1:8786", True),
        ("tcp://localhost:8786", True),
        ("inproc://10.0.0.5/1/2", True),
        ("http://127.0.0.1:4200/api", True),
        ("tcp://[::1]:8786", True),
        ("tcp://10.0.0.5:8786", False),
        ("tcp://scheduler.example:8786", False),
        ("http://10.0.0.1:4200/api", False),
    ],
)
def test_what_counts_as_this_machine(address, local):
    assert is_local(address) is local


def test_a_remote_cluster_needs_a_shared_folder_and_a_server_its_workers_reach(tmp_path):
    base = Settings(inbox=tmp_path, db=tmp_path / "fw.duckdb")
    assert refusal(base) is None  # no cluster
    assert refusal(base.replace(dask_address="tcp://127.0.0.1:8786")) is None  # a LocalCluster: defaults do
    remote = base.replace(dask_address="tcp://10.0.0.5:8786")
    assert "--shared-stage" in refusal(remote)
    shared = remote.replace(shared_stage=tmp_path / "shared")
    assert "PREFECT_API_URL" in refusal(shared)
    assert "仅本机可访问" in refusal(shared.replace(prefect_api_url="http://127.0.0.1:4200/api"))
    assert refusal(shared.replace(prefect_api_url="http://10.0.0.1:4200/api")) is None


def test_the_settings_name_the_cluster(monkeypatch, tmp_path):
    monkeypatch.setenv("FUNDWATCH_DASK_ADDRESS", "tcp://10.0.0.5:8786")
    monkeypatch.setenv("FUNDWATCH_SHARED_STAGE", str(tmp_path))
    monkeypatch.setenv("FUNDWATCH_DASK_TASK_ROWS", "5000")
    settings = Settings.from_env()
    assert (settings.dask_address, settings.shared_stage, settings.dask_task_rows) == (
        "tcp://10.0.0.5:8786",
        tmp_path,
        5000,
    )
    assert settings.environment()["FUNDWATCH_DASK_TASK_ROWS"] == "5000"
    monkeypatch.setenv("FUNDWATCH_DASK_TASK_ROWS", "0")
    with pytest.raises(SettingsError, match="FUNDWATCH_DASK_TASK_ROWS"):
        Settings.from_env()


def test_run_refuses_a_remote_cluster_without_a_shared_folder(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("PREFECT_API_URL", "FUNDWATCH_SHARED_STAGE")}
    db = tmp_path / "fw.duckdb"
    done = fundwatch(
        "run", "--inbox", str(ROOT / "data_samples"), "--db", str(db), "--dask", "tcp://10.0.0.5:8786", env=env
    )
    assert done.returncode == 2, done.stderr
    assert "共享的暂存目录" in done.stderr and "--shared-stage" in done.stderr
    assert not db.exists()  # refused before anything was done


@pytest.mark.slow
@pytest.mark.server
def test_the_cluster_finds_exactly_what_one_machine_finds(tmp_path, prefect_api):
    from distributed import LocalCluster

    # the sample is small: a keyed rule in 2 shards (one per worker) once it has 1,000 input rows
    env = {**os.environ, **prefect_api, "FUNDWATCH_DASK_TASK_ROWS": "1000"}
    on_cluster, at_home = tmp_path / "cluster" / "fw.duckdb", tmp_path / "home" / "fw.duckdb"
    inbox = str(ROOT / "data_samples")
    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
    ) as cluster:
        started = time.monotonic()
        done = fundwatch(
            "run", "--inbox", inbox, "--db", str(on_cluster), "--as-of", AS_OF, "--create-folder",
            "--dask", cluster.scheduler_address, env=env,
        )  # fmt: skip
        cluster_seconds = time.monotonic() - started
        # The sample is dirty on purpose: exit 1, "done, with quarantined rows or rejected files".
        assert done.returncode == 1, done.stdout[-3000:] + done.stderr[-3000:]
    started = time.monotonic()
    done = fundwatch(
        "run", "--inbox", inbox, "--db", str(at_home), "--as-of", AS_OF, "--create-folder", env=env
    )  # fmt: skip
    home_seconds = time.monotonic() - started
    assert done.returncode == 1, done.stdout[-3000:] + done.stderr[-3000:]
    print(f"sample run: on the cluster {cluster_seconds:.1f} s, on this machine {home_seconds:.1f} s")

    found = suspects(on_cluster)
    assert len(found) > 0 and found == suspects(at_home)
    assert not list(on_cluster.parent.glob("*.stage-*"))  # the shared folder went with the stage

    # The (rule, shard) task runs were reported by the workers to the real server: one per shard.
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import TaskRunFilter, TaskRunFilterName
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with (
        temporary_settings(updates={PREFECT_API_URL: prefect_api["PREFECT_API_URL"]}),
        get_client(sync_client=True) as client,
    ):
        runs = client.read_task_runs(task_run_filter=TaskRunFilter(name=TaskRunFilterName(like_="detect-DUP_BENEFIT-")))
    names = sorted(r.name for r in runs if r.state and r.state.is_completed())
    assert names == ["detect-DUP_BENEFIT-0", "detect-DUP_BENEFIT-1"]
