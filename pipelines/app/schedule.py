"""Scheduled nightly runs: the `fundwatch-nightly` deployment, served against a real Prefect server.

* `scheduled_nightly` is the flow a schedule (or a manual trigger) runs: it reads the settings from the
  environment once (`Settings.from_env`), takes today in the office's time zone as the data date unless
  `as_of` is given, and runs and summarises the nightly flow (`pipelines.app.summary.run_and_summarise`,
  the same path as `fundwatch run`; the summary reads the published file read-only).
* `serve_nightly` registers the deployment `fundwatch-nightly/fundwatch-nightly` (cron `0 2 * * *`,
  timezone Asia/Shanghai) with the Prefect server at the settings' PREFECT_API_URL and runs its flow runs
  in this process's runner until interrupted; on shutdown the schedule is paused.

The temporary server Prefect starts on its own when no `PREFECT_API_URL` is set registers a schedule but
never runs it, so serving refuses to start without a real server.
"""

from __future__ import annotations

import datetime as dt
import os
from typing import Any

from pipelines.app.settings import DEFAULT_TIMEZONE, Settings

DEPLOYMENT_NAME = "fundwatch-nightly"
FLOW_NAME = "fundwatch-nightly"  # the deployment's full name is fundwatch-nightly/fundwatch-nightly
CRON = "0 2 * * *"
# A scheduled run that finds another run (a manual one) holding the database waits for it this long.
SCHEDULED_WAIT_SECONDS = 4 * 3600
TIMEZONE = DEFAULT_TIMEZONE  # the office's; `Settings.timezone` when served


def _flow_run_name() -> str:
    from prefect.runtime import flow_run

    as_of = flow_run.parameters.get("as_of") or Settings.from_env().today()
    return f"scheduled-{as_of}"


def run_scheduled_nightly(as_of: dt.date | None = None) -> dict[str, Any]:
    """One scheduled nightly run (the `scheduled_nightly` flow): the settings from the environment, as_of
    today in the office's time zone.

    `as_of` may be given when a run is triggered by hand (e.g. to redo a day). A run that ends with bad input
    (quarantined rows or rejected files) completes, with a warning; anything else that fails fails the run.
    """
    from prefect import get_run_logger

    from pipelines.app.console import text
    from pipelines.app.summary import run_and_summarise

    logger = get_run_logger()
    settings = Settings.from_env()
    os.umask(settings.umask)  # every file the run creates is private
    as_of = as_of or settings.today()
    if not settings.inbox.is_dir():
        raise FileNotFoundError(f"收件目录不存在 inbox folder not found: {settings.inbox}")
    logger.info(
        "nightly run as of %s: inbox %s, db %s, 大额支付审批限额 %s",
        as_of,
        settings.inbox,
        settings.db,
        settings.large_payment_threshold,
    )
    outcome, summary = run_and_summarise(settings, as_of, wait=SCHEDULED_WAIT_SECONDS)
    if outcome.status == "succeeded":
        logger.info("run %s succeeded\n%s", outcome.run_id, text(summary))
    else:
        message = "run %s done with bad input (quarantined rows or rejected files)\n%s"
        logger.warning(message, outcome.run_id, text(summary))
    return {"run_id": outcome.run_id, "status": outcome.status, "as_of": as_of.isoformat(), "db": str(outcome.db)}


def _make_flow():
    from prefect import flow

    def scheduled_nightly(as_of: dt.date | None = None) -> dict[str, Any]:
        return run_scheduled_nightly(as_of)

    scheduled_nightly.__doc__ = run_scheduled_nightly.__doc__
    scheduled_nightly.__qualname__ = "scheduled_nightly"
    return flow(name=FLOW_NAME, flow_run_name=_flow_run_name)(scheduled_nightly)


_lazy: dict[str, Any] = {}


def __getattr__(name: str) -> Any:
    """`scheduled_nightly`, the flow, is made on first use: importing this module (for the `fundwatch serve`
    parser) must not import Prefect, which takes a second. The deployment's entry point
    `pipelines.app.schedule.scheduled_nightly` resolves through here."""
    if name == "scheduled_nightly":
        if name not in _lazy:
            _lazy[name] = _make_flow()
        return _lazy[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def build_deployment(timezone: str = TIMEZONE):
    """The deployment: cron 0 2 * * * in the office's time zone (Asia/Shanghai), entry point by module path
    (pipelines is installed). The same zone gives a scheduled run its data date (`Settings.today`)."""
    from prefect.deployments.runner import EntrypointType
    from prefect.schedules import Cron

    return __getattr__("scheduled_nightly").to_deployment(
        name=DEPLOYMENT_NAME,
        schedule=Cron(CRON, timezone=timezone),
        entrypoint_type=EntrypointType.MODULE_PATH,
        description="fundwatch nightly run, 02:00 Asia/Shanghai (每晚运行)",
        tags=["fundwatch"],
    )


def serve_nightly(settings: Settings, limit: int = 1) -> None:
    """Serve the `fundwatch-nightly` deployment against the Prefect server at `settings.prefect_api_url`.

    Blocks until interrupted (Ctrl-C or SIGTERM); the deployment's schedule is paused on shutdown. `limit`
    runs at a time (DuckDB has one writer): a run triggered while another is running waits for it. The flow
    runs are child processes of Prefect's runner: they get the settings through the environment
    (`Settings.export`) and read them once, as `scheduled_nightly` does.
    """
    from prefect import serve
    from prefect.settings import PREFECT_API_URL, temporary_settings

    if not settings.prefect_api_url:
        raise RuntimeError(
            "PREFECT_API_URL is not set: a schedule needs a real Prefect server (`prefect server start`), "
            "the temporary one Prefect starts on its own never runs it"
        )
    settings.export()
    with temporary_settings(updates={PREFECT_API_URL: settings.prefect_api_url}):  # Prefect read its settings
        serve(build_deployment(settings.timezone), limit=limit)
