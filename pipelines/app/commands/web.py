"""`fundwatch web`: the analysts' workbench in the browser (docs/workbench.md), on the loopback by default.

It reads the published DuckDB file read-only per request and the case register beside it; staff log in with the
password an admin set (`fundwatch staff passwd`). The cookie secret is a private file beside the database
(`<db>.web-secret`, 0600), created on first start.

Exit statuses: 0 stopped (Ctrl-C); 2 usage error (no register at the path, the port in use, a bad secret file).
"""

from __future__ import annotations

import argparse
import gc
import logging
import socket
import sys
from pathlib import Path

from pipelines.app import console
from pipelines.app.settings import Settings
from pipelines.cases import register as reg

NAME = "web"
EXIT_USAGE = 2
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000


def add_parser(sub: argparse._SubParsersAction, settings: Settings) -> None:
    p = sub.add_parser(NAME, help="分析工作台 the analysts' web workbench (login, case queue, cases, actions)")
    p.add_argument("--db", type=Path, default=settings.db, help="the published DuckDB file; its register is beside it")
    p.add_argument("--register", type=Path, default=None, help="case register (SQLite), default beside --db")
    p.add_argument("--host", default=DEFAULT_HOST, help=f"address to listen on (default {DEFAULT_HOST}, the loopback)")
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})")
    p.add_argument("--idle-minutes", type=int, default=30, help="a session ends after this long idle (default 30)")
    p.set_defaults(handler=run)


def _port_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def run(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from pipelines.web.app import create_app
    from pipelines.web.config import WebConfig, load_secret, secret_path_for

    register = args.register or reg.register_path_for(args.db)
    if args.idle_minutes < 1:
        console.error("fundwatch web: --idle-minutes 至少为 1 must be at least 1")
        return EXIT_USAGE
    if not _port_free(args.host, args.port):
        console.error(f"fundwatch web: 端口已被占用 port {args.port} on {args.host} is in use: choose --port")
        return EXIT_USAGE
    try:
        secret = load_secret(secret_path_for(args.db))
        config = WebConfig(
            db=args.db,
            register=register,
            secret=secret,
            memory_limit=settings.duckdb_memory_limit,
            timezone=settings.timezone,
            idle_minutes=args.idle_minutes,
        )
        app = create_app(config)
    except reg.RegisterMissing as err:
        console.error(f"fundwatch web: {err}")
        return EXIT_USAGE
    except (PermissionError, ValueError, FileNotFoundError) as err:
        console.error(f"fundwatch web: {err}")
        return EXIT_USAGE
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
    log = logging.getLogger("fundwatch.web")
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    if args.host not in ("127.0.0.1", "::1", "localhost"):
        console.error(
            f"fundwatch web: 注意：监听 {args.host}，不仅限本机 listening beyond the loopback: put TLS in front"
        )
    console.write([f"工作台 workbench: http://{args.host}:{args.port}/ （Ctrl-C 停止 stops）"])
    # What is loaded by now (the framework, schemas, templates) lives as long as the server: kept out of the
    # collector's full passes, each of which otherwise stopped a request for some 80 ms (issue 15: the service's p95).
    gc.collect()
    gc.freeze()
    # uvicorn's access log would write every query string: the workbench logs its own lines (path only, masked).
    uvicorn.run(app, host=args.host, port=args.port, access_log=False, log_level="warning", server_header=False)
    return 0
