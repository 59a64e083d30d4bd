"""`fundwatch run`: one nightly run (ingest, validate, detect, update the cases, publish), then its summary.

Exit status: 0 done; 1 done with bad input first seen in this run (rows it quarantined, files it rejected; a
rejected file left standing in the inbox is named in every summary but fails only the night it arrived); 2 usage
error (e.g. `--as-of 2025-13-01`: the value, the form YYYY-MM-DD and what is wrong are said; a `--db` whose
folder does not exist, unless `--create-folder`);
3 failed (the first cause on stderr and, when it could be written, in `runs.error`; the published data
unchanged); 4 another run holds the database (nothing done).
"""

from __future__ import annotations

import argparse
from decimal import Decimal
from pathlib import Path

from pipelines.app import console, progress
from pipelines.app.arguments import date_arg
from pipelines.app.prefect_server import TemporaryServer, take_early
from pipelines.app.settings import Settings

NAME = "run"
EXIT_USAGE = 2
EXIT_FAILED = 3
EXIT_BUSY = 4


def add_parser(sub: argparse._SubParsersAction, settings: Settings) -> None:
    p = sub.add_parser(NAME, help="one nightly run: ingest, validate, detect, publish (每晚运行)")
    p.add_argument("--inbox", type=Path, default=settings.inbox, help=f"inbox folder (default {settings.inbox})")
    p.add_argument("--db", type=Path, default=settings.db, help=f"DuckDB file (default {settings.db})")
    p.add_argument(
        "--as-of",
        type=date_arg,
        default=settings.today(),
        help=f"data date, YYYY-MM-DD (default today in {settings.timezone})",
    )
    p.add_argument(
        "--large-payment-threshold",
        type=Decimal,
        default=settings.large_payment_threshold,
        help=f"大额支付审批限额 yuan (default {settings.large_payment_threshold})",
    )
    p.add_argument(
        "--wait",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="if another run holds the database, wait this long for it (default: refuse at once, exit 4)",
    )
    p.add_argument(
        "--create-folder",
        action="store_true",
        help="create the --db file's folder if it does not exist (default: refuse, so a mistyped path is an error)",
    )
    p.add_argument(
        "--dask",
        metavar="ADDRESS",
        default=settings.dask_address,
        help="在 Dask 集群上运行规则 run the rules on the Dask cluster of this scheduler, e.g. tcp://10.0.0.5:8786 "
        "(default FUNDWATCH_DASK_ADDRESS; docs/scale-out.md)",
    )
    p.add_argument(
        "--shared-stage",
        type=Path,
        default=settings.shared_stage,
        metavar="DIR",
        help="集群共享暂存目录 a folder every Dask worker reads and writes (default FUNDWATCH_SHARED_STAGE; "
        "needed for a remote cluster)",
    )
    p.set_defaults(handler=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    if not args.inbox.is_dir():
        console.error(f"fundwatch: 收件目录不存在 inbox folder not found: {args.inbox}")
        return EXIT_USAGE
    folder = args.db.parent
    if not folder.is_dir():
        if not args.create_folder:
            console.error(
                f"fundwatch run: 数据库所在目录不存在 the folder of --db does not exist: {folder.resolve()} "
                "(check the path, or give --create-folder to create it)"
            )
            return EXIT_USAGE
        folder.mkdir(parents=True)
    # No Prefect server configured (nor a Dask cluster, which gets a real one): Prefect's temporary server starts now,
    # on the other core, while the run imports Prefect, Polars and DuckDB (prefect_server.TemporaryServer).
    # (The `fundwatch` launcher may have started it already, before importing the command line: take_early.)
    server = None if (settings.prefect_api_url or args.dask) else (take_early() or TemporaryServer())
    try:
        return _run(args, settings, server)
    finally:
        if server is not None:
            server.stop()


def _run(args: argparse.Namespace, settings: Settings, server: TemporaryServer | None) -> int:
    from pipelines.app.cluster_run import cluster_prefect, refusal  # imports Prefect (not Dask): only for a run
    from pipelines.app.summary import RunFailed, describe, run_and_summarise
    from pipelines.warehouse.lock import RunInProgress

    settings = settings.replace(inbox=args.inbox, db=args.db, large_payment_threshold=args.large_payment_threshold)
    settings = settings.replace(dask_address=args.dask or None, shared_stage=args.shared_stage)
    if problem := refusal(settings):  # a run on a Dask cluster (--dask) that cannot work as set
        console.error(f"fundwatch run: {problem}")
        return EXIT_USAGE
    try:
        with progress.using(progress.for_terminal()), cluster_prefect(settings) as settings:
            outcome, summary = run_and_summarise(settings, args.as_of, wait=args.wait, server=server)
    except RunInProgress as err:
        console.error(f"fundwatch run: {err}")
        return EXIT_BUSY
    except RunFailed as err:
        console.error(f"fundwatch run: {err}")
        return EXIT_FAILED
    except Exception as err:  # anything else (the summary could not be read, the lock folder is not writable …)
        console.error(f"fundwatch run: 运行失败 run failed: {describe(err)}")
        return EXIT_FAILED
    console.write(summary)
    return outcome.exit_code
