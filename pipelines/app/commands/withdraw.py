"""`fundwatch withdraw DATASET FILE --reason TEXT`: a delivered file's rows stop being in force (撤回).

The published database is never written in place (ADR 0008): the command checks the request against the
published file and the inbox, then queues it beside the database (`<db>.withdrawals/`); the next run
applies it under its writer lock, records it (`ingested_files` status `withdrawn`, table `withdrawals`) and
publishes the result (docs/adr/0011-redelivery-and-withdrawal.md). Delivering the same bytes again loads
them again: that is how a withdrawal is reversed.

Exit statuses: 0 queued (or queued already); 2 refused (unknown dataset, no version in force, the file
still in the inbox, a bad argument).
"""

from __future__ import annotations

import argparse
import getpass
from pathlib import Path

import duckdb

from pipelines.app import console
from pipelines.app.settings import Settings
from pipelines.ingest import registry
from pipelines.ingest.inbox import discover
from pipelines.ingest.withdrawal import copies_in_inbox, file_identity, pending_requests, request_withdrawal
from pipelines.warehouse.session import WarehouseBusy, reader
from schemas.datasets import BY_NAME

NAME = "withdraw"
EXIT_REFUSED = 2


def _who() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return "unknown"


def add_parser(sub: argparse._SubParsersAction, settings: Settings) -> None:
    p = sub.add_parser(NAME, help="withdraw a delivered file: its rows stop being in force (撤回), at the next run")
    p.add_argument("dataset", help="the dataset, e.g. benefit_payments")
    p.add_argument("file", help="the file's name in the dataset folder (or <dataset>/<name>)")
    p.add_argument("--reason", required=True, help="why (撤回原因), kept with the withdrawal")
    p.add_argument("--by", default=None, help="who asks (工号; default: the login name)")
    p.add_argument("--db", type=Path, default=settings.db, help=f"DuckDB file (default {settings.db})")
    p.add_argument(
        "--inbox",
        type=Path,
        default=settings.inbox,
        help=f"inbox folder, checked not to deliver the file still (default {settings.inbox})",
    )
    p.set_defaults(handler=run)


def _refuse(message: str) -> int:
    console.error(f"fundwatch withdraw: {message}")
    return EXIT_REFUSED


def run(args: argparse.Namespace, settings: Settings) -> int:
    dataset: str = args.dataset
    if dataset not in BY_NAME:
        return _refuse(f"未知数据集 unknown dataset {dataset!r}")
    if not args.reason.strip():
        return _refuse("须说明原因 --reason must not be empty")
    try:
        file = file_identity(dataset, args.file)
    except ValueError as err:
        return _refuse(str(err))
    try:
        with reader(args.db, memory_limit=settings.duckdb_memory_limit) as con:
            version = registry.version_in_force(con, dataset, file)
    except (FileNotFoundError, WarehouseBusy) as err:
        return _refuse(str(err))
    except duckdb.Error as err:
        return _refuse(f"不是 fundwatch 数据库 not a fundwatch database: {args.db} ({err})")
    if version is None:
        return _refuse(f"无生效版本 no version of {file} is in force in {args.db}: nothing to withdraw")
    sha256, size = version
    if args.inbox.is_dir():
        try:
            copies = copies_in_inbox(discover(args.inbox), file, sha256, size)
        except OSError as err:
            return _refuse(f"收件目录无法读取 the inbox cannot be read: {err}")
        if copies:
            return _refuse(
                f"文件仍在收件箱 still delivered in {args.inbox}: {', '.join(copies)}. A file in the inbox is "
                "delivered and would load again at the next run: remove it first, then withdraw."
            )
    for _, waiting in pending_requests(args.db):
        if waiting is not None and waiting.file == file and waiting.sha256 == sha256:
            console.write([f"已在等待 already requested ({waiting.requested_at}, by {waiting.requested_by}): {file}"])
            return 0
    request = request_withdrawal(args.db, dataset, file, sha256, args.reason.strip(), args.by or _who())
    console.write(
        [
            f"已登记撤回请求 withdrawal requested: {file} (version {sha256[:12]}), by {request.requested_by}.",
            "The next run removes its rows and records it; delivering the same bytes again loads them again.",
        ]
    )
    return 0
