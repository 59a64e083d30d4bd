"""Scheduled nightly runs: the `fundwatch-nightly` deployment, served against a real Prefect server.

* `scheduled_nightly` is the flow a schedule (or a manual trigger) runs: it reads the settings from the
  environment (`pipelines.settings`), takes today's date in Asia/Shanghai as the data date unless `as_of`
  is given, and runs the nightly flow (`pipelines.flow.nightly_run`) as a subflow.
* `serve_nightly` registers the deployment `fundwatch-nightly/fundwatch-nightly` (cron `0 2 * * *`,
  timezone Asia/Shanghai) with the Prefect server at `PREFECT_API_URL` and runs its flow runs in this
  process's runner until interrupted; on shutdown the schedule is paused.
* `fundwatch serve` (`add_serve_parser`, `run_serve`; also `python -m pipelines.serve`) by default first
  starts a local `prefect server start` on 127.0.0.1 with PREFECT_HOME in `var/prefect` (SQLite database,
  `server.log`), and stops it again on Ctrl-C.

The temporary server Prefect starts on its own when no `PREFECT_API_URL` is set registers a schedule but
never runs it, so serving refuses to start without a real server.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from pipelines.settings import Settings

DEPLOYMENT_NAME = "fundwatch-nightly"
FLOW_NAME = "fundwatch-nightly"  # the deployment's full name is fundwatch-nightly/fundwatch-nightly
CRON = "0 2 * * *"
TIMEZONE = "Asia/Shanghai"
DEFAULT_PORT = 4200
HOST = "127.0.0.1"  # loopback only
SERVER_START_TIMEOUT = 90.0
SERVER_STOP_TIMEOUT = 20.0


def today_in_shanghai(now: dt.datetime | None = None) -> dt.date:
    """The data date of a scheduled run: the calendar day in Asia/Shanghai (the 02:00 run is that day's)."""
    now = now or dt.datetime.now(dt.UTC)
    return now.astimezone(ZoneInfo(TIMEZONE)).date()


def _flow_run_name() -> str:
    from prefect.runtime import flow_run

    as_of = flow_run.parameters.get("as_of") or today_in_shanghai()
    return f"scheduled-{as_of}"


def run_scheduled_nightly(as_of: dt.date | None = None) -> dict[str, Any]:
    """One scheduled nightly run (the `scheduled_nightly` flow): inbox, database and threshold from the
    environment, as_of today in Asia/Shanghai.

    `as_of` may be given when a run is triggered by hand (e.g. to redo a day). A run that ends with bad input
    (quarantined rows or rejected files) completes, with a warning; anything else that fails fails the run.
    """
    from prefect import get_run_logger

    from pipelines import store
    from pipelines.flow import nightly_run
    from pipelines.summary import findings_summary, run_summary

    logger = get_run_logger()
    settings = Settings.from_env()
    as_of = as_of or today_in_shanghai()
    if not settings.inbox.is_dir():
        raise FileNotFoundError(f"收件目录不存在 inbox folder not found: {settings.inbox}")
    logger.info(
        "nightly run as of %s: inbox %s, db %s, 大额支付审批限额 %s",
        as_of,
        settings.inbox,
        settings.db,
        settings.large_payment_threshold,
    )
    outcome = nightly_run(settings.inbox, settings.db, as_of, settings.large_payment_threshold)
    con = store.connect(settings.db)
    try:
        summary = run_summary(con, outcome.run_id) + "\n\n" + findings_summary(con, outcome.run_id)
    finally:
        con.close()
    if outcome.status == "succeeded":
        logger.info("run %s succeeded\n%s", outcome.run_id, summary)
    else:
        logger.warning("run %s done with bad input (quarantined rows or rejected files)\n%s", outcome.run_id, summary)
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
    `pipelines.serve.scheduled_nightly` resolves through here."""
    if name == "scheduled_nightly":
        if name not in _lazy:
            _lazy[name] = _make_flow()
        return _lazy[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def build_deployment():
    """The deployment: cron 0 2 * * * in Asia/Shanghai, entry point by module path (pipelines is installed)."""
    from prefect.deployments.runner import EntrypointType
    from prefect.schedules import Cron

    return __getattr__("scheduled_nightly").to_deployment(
        name=DEPLOYMENT_NAME,
        schedule=Cron(CRON, timezone=TIMEZONE),
        entrypoint_type=EntrypointType.MODULE_PATH,
        description="fundwatch nightly run, 02:00 Asia/Shanghai (每晚运行)",
        tags=["fundwatch"],
    )


def serve_nightly(api_url: str | None = None, limit: int = 1) -> None:
    """Serve the `fundwatch-nightly` deployment against the Prefect server at `api_url` / PREFECT_API_URL.

    Blocks until interrupted (Ctrl-C or SIGTERM); the deployment's schedule is paused on shutdown. `limit`
    runs at a time (DuckDB has one writer): a run triggered while another is running waits for it.
    """
    from prefect import serve
    from prefect.settings import PREFECT_API_URL, temporary_settings

    url = api_url or os.environ.get("PREFECT_API_URL")
    if not url:
        raise RuntimeError(
            "PREFECT_API_URL is not set: a schedule needs a real Prefect server (`prefect server start`), "
            "the temporary one Prefect starts on its own never runs it"
        )
    os.environ["PREFECT_API_URL"] = url  # for the flow-run processes the runner starts
    with temporary_settings(updates={PREFECT_API_URL: url}):  # Prefect read its settings at import
        serve(build_deployment(), limit=limit)


# --- the local server --------------------------------------------------------------------------------------


def prefect_executable() -> str:
    """The `prefect` of this virtualenv (beside the running python), else the one on PATH."""
    beside = Path(sys.executable).parent / "prefect"
    if beside.exists():
        return str(beside)
    found = shutil.which("prefect")
    if not found:
        raise FileNotFoundError("no `prefect` executable beside the python or on PATH")
    return found


def port_is_free(port: int, host: str = HOST) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def free_port(host: str = HOST) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def api_url_for(port: int, host: str = HOST) -> str:
    return f"http://{host}:{port}/api"


def start_server(port: int, home: Path, log_path: Path | None = None) -> subprocess.Popen:
    """`prefect server start` on the loopback as a child process; PREFECT_HOME (SQLite DB) is `home`.

    The child gets its own session, so a Ctrl-C in the terminal reaches only the serving process, which
    pauses the schedule through the still running server and then stops the server (`stop_process`).
    """
    home.mkdir(parents=True, exist_ok=True)
    log_path = log_path or home / "server.log"
    env = {
        **os.environ,
        "PREFECT_HOME": str(home),
        "PREFECT_API_URL": api_url_for(port),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",
    }
    with open(log_path, "ab") as log:
        return subprocess.Popen(
            [prefect_executable(), "server", "start", "--host", HOST, "--port", str(port)],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def wait_for_health(api_url: str, proc: subprocess.Popen | None = None, timeout: float = SERVER_START_TIMEOUT) -> None:
    """Poll `<api_url>/health` until it answers 200; fail early if `proc` (the server) exits."""
    deadline = time.monotonic() + timeout
    health = api_url.rstrip("/") + "/health"
    while True:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"Prefect server exited with status {proc.returncode} before it was healthy")
        try:
            with urllib.request.urlopen(health, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"Prefect server not healthy at {health} after {timeout:.0f} s")
        time.sleep(0.5)


def stop_process(proc: subprocess.Popen, sig: int = signal.SIGTERM, timeout: float = SERVER_STOP_TIMEOUT) -> int:
    """Signal one child process, wait for it (bounded), kill it if it does not go."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(sig)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
    return proc.returncode


# --- `fundwatch serve` -------------------------------------------------------------------------------------


def _add_arguments(parser: argparse.ArgumentParser, settings: Settings) -> None:
    parser.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help=f"port of the local server (default {DEFAULT_PORT})"
    )
    parser.add_argument(
        "--no-server",
        action="store_true",
        help="start no server; use the Prefect server at PREFECT_API_URL",
    )
    parser.add_argument(
        "--prefect-home",
        type=Path,
        default=Path("var") / "prefect",
        help="PREFECT_HOME of the local server: its SQLite database and server.log (default var/prefect)",
    )
    parser.set_defaults(settings=settings)


def add_serve_parser(sub: Any, settings: Settings) -> argparse.ArgumentParser:
    """The `fundwatch serve` subcommand (handler: `run_serve`)."""
    parser = sub.add_parser(
        "serve",
        help=f"serve the nightly run on a schedule: cron '{CRON}' {TIMEZONE} (定时每晚运行)",
        description=(
            f"Serve the deployment {FLOW_NAME}/{DEPLOYMENT_NAME} (cron '{CRON}', {TIMEZONE}) until Ctrl-C. "
            f"Runs use FUNDWATCH_INBOX ({settings.inbox}), FUNDWATCH_DB ({settings.db}) and "
            f"FUNDWATCH_LARGE_PAYMENT_THRESHOLD ({settings.large_payment_threshold})."
        ),
    )
    _add_arguments(parser, settings)
    return parser


def run_serve(args: argparse.Namespace) -> int:
    """Start the local server (unless --no-server), serve until interrupted, stop the server. Exit status 0/2."""
    settings: Settings = getattr(args, "settings", None) or Settings.from_env()
    # Ctrl-C must stop serving even when started from a shell that ignores SIGINT for background jobs.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    # Flow runs are separate processes: hand them the settings as absolute paths.
    os.environ["FUNDWATCH_INBOX"] = str(settings.inbox.resolve())
    os.environ["FUNDWATCH_DB"] = str(settings.db.resolve())
    os.environ["FUNDWATCH_LARGE_PAYMENT_THRESHOLD"] = str(settings.large_payment_threshold)
    if not settings.inbox.is_dir():
        print(f"fundwatch: 收件目录不存在 inbox folder not found: {settings.inbox}", file=sys.stderr)
        return 2

    if args.no_server:
        api_url = os.environ.get("PREFECT_API_URL")
        if not api_url:
            print("fundwatch: --no-server needs PREFECT_API_URL (e.g. http://127.0.0.1:4200/api)", file=sys.stderr)
            return 2
        serve_nightly(api_url)
        return 0

    if not port_is_free(args.port):
        print(f"fundwatch: port {args.port} on {HOST} is in use: choose --port, or --no-server", file=sys.stderr)
        return 2
    home = args.prefect_home.resolve()
    api_url = api_url_for(args.port)
    server = start_server(args.port, home)
    try:
        print(f"Prefect server starting on http://{HOST}:{args.port} (PREFECT_HOME {home}, log {home / 'server.log'})")
        try:
            wait_for_health(api_url, server)
        except (RuntimeError, TimeoutError) as exc:
            print(f"fundwatch: {exc}; see {home / 'server.log'}", file=sys.stderr)
            return 1
        print(f"Prefect UI: http://{HOST}:{args.port}")
        serve_nightly(api_url)
    except KeyboardInterrupt:
        pass
    finally:
        stop_process(server)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipelines.serve", description="serve fundwatch-nightly")
    _add_arguments(parser, Settings.from_env())
    return run_serve(parser.parse_args(argv))


if __name__ == "__main__":
    # Run the module's own copy, not __main__'s: the deployment's entry point is pipelines.serve.scheduled_nightly.
    from pipelines.serve import main as _main

    sys.exit(_main())
