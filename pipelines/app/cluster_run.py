"""`fundwatch run --dask ADDRESS`: the detection tasks on an existing Dask cluster through Prefect's DaskTaskRunner.

What runs where (docs/scale-out.md, docs/adr/0028-dask-scale-out.md): ingestion into DuckDB, staging, the merge
into `suspects` and the case register stay on this machine; each (rule, shard) is one Prefect task run on a Dask
worker, reading its Parquet shards from the shared folder and writing its findings there
(`pipelines.detect.cluster`). Futures carry only counts; findings travel as files.

The workers report their task runs to the Prefect API named in the settings context Prefect ships with every task
(`prefect.context.serialize_context`, hydrated on the worker): a real server, reachable from the workers. Under
Prefect's temporary server each worker would start one of its own. So a run on a cluster needs PREFECT_API_URL,
or, for a scheduler on this machine (a LocalCluster), starts a Prefect server on the loopback itself
(`cluster_prefect`).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import ipaddress
import shutil
import signal
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

import polars as pl
from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from pipelines.app import progress
from pipelines.app.prefect_server import api_url_for, free_port, start_server, stop_process, wait_for_health
from pipelines.app.settings import DASK_ADDRESS, SHARED_STAGE, Settings
from pipelines.detect import cluster
from pipelines.rules import RULES


def is_local(address: str) -> bool:
    """Whether `address` (a Dask scheduler, `tcp://host:port`, or a Prefect API URL) is on this machine only."""
    if address.startswith("inproc://"):
        return True
    host = urlsplit(address if "://" in address else f"tcp://{address}").hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def refusal(settings: Settings) -> str | None:
    """Why a run on the cluster of `settings.dask_address` cannot start as set, in Chinese and English; None if
    it can. A remote cluster needs a shared folder and a Prefect server its workers can reach."""
    address = settings.dask_address
    if address is None or is_local(address):
        return None
    if settings.shared_stage is None:
        return (
            f"--dask {address}: 远程集群需要各节点共享的暂存目录 a remote cluster needs a folder every worker "
            f"can read and write: give --shared-stage DIR (or {SHARED_STAGE})"
        )
    if not settings.prefect_api_url:
        return (
            f"--dask {address}: 远程集群需要各节点可访问的 Prefect 服务 a remote cluster needs a Prefect server its "
            "workers can reach: set PREFECT_API_URL (e.g. http://<this host>:4200/api, `prefect server start "
            "--host 0.0.0.0`)"
        )
    if is_local(settings.prefect_api_url):
        return (
            f"--dask {address}: PREFECT_API_URL {settings.prefect_api_url} 仅本机可访问 is reachable from this "
            "machine only, not from the workers: give the server's address on the cluster's network"
        )
    return None


# How long a process may take to deliver the Prefect events and logs it has queued before its server goes.
DRAIN_SECONDS = 30.0


async def deliver_prefect_reports(timeout: float = DRAIN_SECONDS) -> None:
    """Send the Prefect events (the task runs' states) and logs this process has queued, and wait for them.

    Run on every worker once its tasks are done (`Client.run` awaits it on the worker's event loop), and here
    before a server this command started is stopped: a worker lives longer than a run, and what it had not sent
    would otherwise be retried against a server that is gone (each run's server has a new port), delaying the
    next run and losing the task runs' final states."""
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker

    for service in (EventsWorker, APILogWorker):
        await service.drain_all(timeout=timeout, at_exit=False)  # in a running loop: an awaitable


@contextlib.contextmanager
def cluster_prefect(settings: Settings) -> Iterator[Settings]:
    """The settings a run on the cluster uses: unchanged without --dask or with PREFECT_API_URL; for a local
    cluster without one, a Prefect server started on the loopback (PREFECT_HOME beside the database, stopped
    at the end) and the settings pointing at it."""
    if settings.dask_address is None or settings.prefect_api_url:
        yield settings
        return
    from prefect.settings import PREFECT_API_URL, temporary_settings

    port = free_port()
    home = settings.db.with_name(f"{settings.db.name}.prefect")
    server = start_server(port, home)
    try:
        wait_for_health(api_url_for(port), server)
        with temporary_settings(updates={PREFECT_API_URL: api_url_for(port)}):  # shipped to the workers
            try:
                yield settings.replace(prefect_api_url=api_url_for(port))
            finally:
                asyncio.run(deliver_prefect_reports())
    finally:
        stop_process(server, signal.SIGTERM)


@task(name="detect-shard", task_run_name="detect-{shard.rule}-{shard.index}", cache_policy=NO_CACHE)
def detect_shard(shard: cluster.ShardTask, as_of: dt.date, large_payment_threshold: Decimal) -> int:
    """On a worker: one rule over one shard; its findings are written to the shared folder, their count returned."""
    count = cluster.run_shard(shard, as_of, large_payment_threshold)
    get_run_logger().info("%s shard %d/%d: %d findings", shard.rule, shard.index + 1, shard.shards, count)
    return count


def shared_root(settings: Settings, stage: Path, run_id: str) -> Path:
    """The run's folder on the shared storage: under --shared-stage, else inside the run's stage folder (beside
    the database: a cluster on this machine only)."""
    if settings.shared_stage is None:
        return stage / "dask"
    return settings.shared_stage / f"fundwatch-{run_id}"


def detect_on_cluster(
    settings: Settings, stage: Path, run_id: str, as_of: dt.date, large_payment_threshold: Decimal
) -> list[pl.DataFrame]:
    """Every rule's findings, computed shard by shard on the Dask cluster; one frame per rule, in registry order."""
    from prefect_dask import DaskTaskRunner  # imports distributed: only for a run on a cluster

    assert settings.dask_address is not None, f"{DASK_ADDRESS} is not set"
    logger = get_run_logger()
    root = shared_root(settings, stage, run_id)
    try:
        with DaskTaskRunner(address=settings.dask_address) as runner:
            threads = sum(runner.client.nthreads().values())
            shards = cluster.plan(stage, root, threads, settings.dask_task_rows or cluster.TASK_ROWS)
            logger.info("集群 Dask cluster %s: %d threads, %d tasks", settings.dask_address, threads, len(shards))
            futures = [
                runner.submit(
                    detect_shard, {"shard": s, "as_of": as_of, "large_payment_threshold": large_payment_threshold}
                )
                for s in shards
            ]
            left = {rule.code: sum(s.rule == rule.code for s in shards) for rule in RULES}
            for shard, future in zip(shards, futures, strict=True):
                future.result()  # raises the task's error: the run fails, as a failed rule fails it on one machine
                left[shard.rule] -= 1
                if left[shard.rule] == 0:
                    progress.current().step(shard.rule)
            runner.client.run(deliver_prefect_reports)  # the task runs' states reach the server before it may stop
        return cluster.read_findings(shards, stage, as_of, large_payment_threshold)
    finally:
        shutil.rmtree(root, ignore_errors=True)
