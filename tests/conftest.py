from __future__ import annotations

import datetime as dt

import pytest

AS_OF = dt.date(2026, 11, 27)


@pytest.fixture
def as_of() -> dt.date:
    return AS_OF


@pytest.fixture(scope="session")
def prefect_api(tmp_path_factory) -> dict[str, str]:
    """One real Prefect server on the loopback for the tests that run `fundwatch run` many times.

    Each run would otherwise start Prefect's temporary server (about 10 s each); runs against a running
    server are how `fundwatch serve` runs too. Returns the environment variables that point a run at it.
    """
    import signal

    from pipelines.app.prefect_server import api_url_for, free_port, start_server, stop_process, wait_for_health

    home = tmp_path_factory.mktemp("prefect-server")
    port = free_port()
    server = start_server(port, home)
    try:
        wait_for_health(api_url_for(port), server, timeout=180)
        yield {"PREFECT_API_URL": api_url_for(port)}
    finally:
        stop_process(server, signal.SIGTERM)
