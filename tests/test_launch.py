"""The `fundwatch` launcher: Prefect's temporary server started before the command line is imported, for the
`fundwatch run` that will want it, taken by that run, and stopped when no run takes it (ADR 0031, addendum)."""

from __future__ import annotations

import argparse
import sys

import pytest

from pipelines.app import launch, prefect_server
from pipelines.app.commands import run as run_command
from pipelines.app.settings import Settings


class FakeServer:
    started: list[FakeServer] = []

    def __init__(self) -> None:
        self.stopped = 0
        FakeServer.started.append(self)

    def stop(self) -> None:
        self.stopped += 1


@pytest.fixture
def fake_server(monkeypatch):
    FakeServer.started = []
    monkeypatch.setattr(prefect_server, "TemporaryServer", FakeServer)
    monkeypatch.setattr(run_command, "TemporaryServer", FakeServer)
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    monkeypatch.delenv("FUNDWATCH_DASK_ADDRESS", raising=False)
    yield FakeServer
    prefect_server.take_early()  # none left for another test


@pytest.mark.parametrize(
    ("argv", "wanted"),
    [
        (["run"], True),
        (["run", "--inbox", "x", "--as-of", "2026-11-27"], True),
        (["run", "--dask", "tcp://10.0.0.5:8786"], False),
        (["run", "--dask=tcp://10.0.0.5:8786"], False),
        (["run", "--help"], False),
        (["run", "-h"], False),
        (["case", "list"], False),
        (["web"], False),
        ([], False),
    ],
)
def test_which_commands_get_the_server_started_first(argv, wanted, fake_server):
    assert launch.wants_temporary_server(argv) is wanted


@pytest.mark.parametrize("variable", ["PREFECT_API_URL", "FUNDWATCH_DASK_ADDRESS"])
def test_a_configured_server_or_cluster_starts_none(variable, fake_server, monkeypatch):
    monkeypatch.setenv(variable, "http://127.0.0.1:4200/api" if variable == "PREFECT_API_URL" else "tcp://h:8786")
    assert launch.wants_temporary_server(["run"]) is False


def test_the_run_takes_the_server_started_first_and_stops_it(fake_server, monkeypatch, tmp_path):
    taken = []
    monkeypatch.setattr(run_command, "_run", lambda args, settings, server: taken.append(server) or 0)
    prefect_server.start_early()
    early = fake_server.started[0]
    args = argparse.Namespace(inbox=tmp_path, db=tmp_path / "fw.duckdb", create_folder=False, dask=None)
    assert run_command.run(args, Settings.from_env().replace(prefect_api_url=None)) == 0
    assert taken == [early] and len(fake_server.started) == 1  # no second server
    assert early.stopped == 1
    assert prefect_server.take_early() is None


def test_without_one_started_first_the_run_starts_its_own(fake_server, monkeypatch, tmp_path):
    taken = []
    monkeypatch.setattr(run_command, "_run", lambda args, settings, server: taken.append(server) or 0)
    args = argparse.Namespace(inbox=tmp_path, db=tmp_path / "fw.duckdb", create_folder=False, dask=None)
    assert run_command.run(args, Settings.from_env().replace(prefect_api_url=None)) == 0
    assert len(fake_server.started) == 1 and taken == fake_server.started and taken[0].stopped == 1


def test_a_usage_error_stops_the_server_no_run_took(fake_server, monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(sys, "argv", ["fundwatch", "run", "--inbox", str(tmp_path / "missing")])
    with pytest.raises(SystemExit) as exited:
        launch.console()
    assert exited.value.code == 2
    assert "inbox folder not found" in capsys.readouterr().err
    assert len(fake_server.started) == 1 and fake_server.started[0].stopped == 1
    assert prefect_server.take_early() is None


def test_argparse_refusing_the_arguments_stops_it_too(fake_server, monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", ["fundwatch", "run", "--as-of", "2025-13-01"])
    with pytest.raises(SystemExit) as exited:
        launch.console()
    assert exited.value.code == 2
    assert len(fake_server.started) == 1 and fake_server.started[0].stopped == 1
