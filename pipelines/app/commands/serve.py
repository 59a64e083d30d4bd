"""`fundwatch serve`: the nightly run on a schedule (cron `0 2 * * *`, Asia/Shanghai) from a local Prefect
server on the loopback, until Ctrl-C."""

from __future__ import annotations

import argparse
import signal
from pathlib import Path

from pipelines.app import console
from pipelines.app.prefect_server import HOST, api_url_for, port_is_free, start_server, stop_process, wait_for_health
from pipelines.app.schedule import CRON, DEPLOYMENT_NAME, FLOW_NAME, TIMEZONE, serve_nightly
from pipelines.app.settings import Settings

NAME = "serve"
DEFAULT_PORT = 4200


def add_parser(sub: argparse._SubParsersAction, settings: Settings) -> None:
    p = sub.add_parser(
        NAME,
        help=f"serve the nightly run on a schedule: cron '{CRON}' {TIMEZONE} (定时每晚运行)",
        description=(
            f"Serve the deployment {FLOW_NAME}/{DEPLOYMENT_NAME} (cron '{CRON}', {TIMEZONE}) until Ctrl-C. "
            f"Runs use FUNDWATCH_INBOX ({settings.inbox}), FUNDWATCH_DB ({settings.db}) and "
            f"FUNDWATCH_LARGE_PAYMENT_THRESHOLD ({settings.large_payment_threshold})."
        ),
    )
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port of the local server (default {DEFAULT_PORT})")
    p.add_argument(
        "--no-server", action="store_true", help="start no server; use the Prefect server at PREFECT_API_URL"
    )
    p.add_argument(
        "--prefect-home",
        type=Path,
        default=Path("var") / "prefect",
        help="PREFECT_HOME of the local server: its SQLite database and server.log (default var/prefect)",
    )
    p.set_defaults(handler=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Start the local server (unless --no-server), serve until interrupted, stop the server. Exit status 0/1/2."""
    # Ctrl-C must stop serving even when started from a shell that ignores SIGINT for background jobs.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    if not settings.inbox.is_dir():
        console.error(f"fundwatch: 收件目录不存在 inbox folder not found: {settings.inbox}")
        return 2
    if args.no_server:
        if not settings.prefect_api_url:
            console.error("fundwatch: --no-server needs PREFECT_API_URL (e.g. http://127.0.0.1:4200/api)")
            return 2
        try:
            serve_nightly(settings)
        except KeyboardInterrupt:
            pass
        return 0

    if not port_is_free(args.port):
        console.error(f"fundwatch: port {args.port} on {HOST} is in use: choose --port, or --no-server")
        return 2
    home = args.prefect_home.resolve()
    settings = settings.replace(prefect_api_url=api_url_for(args.port))
    server = start_server(args.port, home)
    try:
        console.write(
            [f"Prefect server starting on http://{HOST}:{args.port} (PREFECT_HOME {home}, log {home / 'server.log'})"]
        )
        try:
            wait_for_health(settings.prefect_api_url, server)
        except (RuntimeError, TimeoutError) as exc:
            console.error(f"fundwatch: {exc}; see {home / 'server.log'}")
            return 1
        console.write([f"Prefect UI: http://{HOST}:{args.port}"])
        serve_nightly(settings)
    except KeyboardInterrupt:
        pass
    finally:
        stop_process(server)
    return 0
