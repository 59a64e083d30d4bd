"""The `fundwatch` console script: for `fundwatch run` with no Prefect server configured, Prefect's temporary server
is started before anything else is imported, then the command line runs (`pipelines.app.cli`).

Importing the command line takes about a second (every command, Polars, DuckDB, pandera); the temporary server
takes about five to answer (ADR 0031). Started first, it comes up during that second too. Only what decides
whether `fundwatch run` will want the server is read here, from the command's words and two variables of the
environment (`pipelines.app.settings` names them; importing it would cost the second this saves): no server when
PREFECT_API_URL or FUNDWATCH_DASK_ADDRESS is set, `--dask` is given, or help is asked. `fundwatch run` takes the
server (`prefect_server.take_early`) and stops it at its end; one it did not take (a usage error) is stopped here.
"""

from __future__ import annotations

import os
import sys

from pipelines.app import prefect_server

# The variables `Settings.from_env` reads them from (pipelines.app.settings: PREFECT_API_URL, DASK_ADDRESS).
_CONFIGURED = ("PREFECT_API_URL", "FUNDWATCH_DASK_ADDRESS")


def wants_temporary_server(argv: list[str]) -> bool:
    """Whether these arguments are a `fundwatch run` that will start Prefect's temporary server."""
    if not argv or argv[0] != "run":
        return False
    if any(os.environ.get(name) for name in _CONFIGURED):
        return False
    return not any(a in ("-h", "--help") or a == "--dask" or a.startswith("--dask=") for a in argv[1:])


def console() -> None:
    """Console-script entry point: the exit status is the command's."""
    if wants_temporary_server(sys.argv[1:]):
        prefect_server.start_early()
    try:
        from pipelines.app.cli import main

        status = main()
    finally:
        prefect_server.stop_early()
    sys.exit(status)
