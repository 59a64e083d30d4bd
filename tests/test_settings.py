"""The one settings object: read once from the environment, today in Asia/Shanghai, clear errors."""

from __future__ import annotations

import datetime as dt
import os
from decimal import Decimal
from pathlib import Path

import pytest

from pipelines.app import cli
from pipelines.app.settings import PROJECT_ROOT, Settings, SettingsError
from pipelines.rules.large_payment_unapproved import DEFAULT_THRESHOLD

VARIABLES = (
    "FUNDWATCH_INBOX",
    "FUNDWATCH_DB",
    "FUNDWATCH_LARGE_PAYMENT_THRESHOLD",
    "FUNDWATCH_DUCKDB_MEMORY_LIMIT",
    "FUNDWATCH_TIMEZONE",
    "FUNDWATCH_CRASH_AT",
    "FUNDWATCH_PLAUSIBLE_YEARS_BACK",
    "FUNDWATCH_PLAUSIBLE_YEARS_AHEAD",
    "PREFECT_API_URL",
)


@pytest.fixture
def env(monkeypatch):
    """None of the settings' variables set; the whole environment restored afterwards (`export` writes it)."""
    saved = dict(os.environ)
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    yield monkeypatch
    os.environ.clear()
    os.environ.update(saved)


def test_defaults(env, tmp_path):
    env.chdir(tmp_path)
    s = Settings.from_env()
    assert s.inbox == PROJECT_ROOT / "data_samples"
    assert s.db == tmp_path / "var" / "fundwatch.duckdb"
    assert s.large_payment_threshold == DEFAULT_THRESHOLD == Decimal("100000.00")  # the rule's own default
    assert (s.duckdb_memory_limit, s.timezone, s.crash_at, s.prefect_api_url) == ("4GB", "Asia/Shanghai", None, None)
    assert s.register == tmp_path / "var" / "fundwatch.cases.sqlite"


def test_every_variable_is_read(env, tmp_path):
    env.setenv("FUNDWATCH_INBOX", str(tmp_path / "in"))
    env.setenv("FUNDWATCH_DB", str(tmp_path / "x.duckdb"))
    env.setenv("FUNDWATCH_LARGE_PAYMENT_THRESHOLD", "50,000.50")
    env.setenv("FUNDWATCH_DUCKDB_MEMORY_LIMIT", "1GB")
    env.setenv("FUNDWATCH_TIMEZONE", "Asia/Urumqi")
    env.setenv("FUNDWATCH_CRASH_AT", "detected")
    env.setenv("FUNDWATCH_PLAUSIBLE_YEARS_BACK", "30")
    env.setenv("FUNDWATCH_PLAUSIBLE_YEARS_AHEAD", "2")
    env.setenv("PREFECT_API_URL", "http://127.0.0.1:4200/api")
    s = Settings.from_env()
    assert s == Settings(
        inbox=tmp_path / "in",
        db=tmp_path / "x.duckdb",
        large_payment_threshold=Decimal("50000.50"),
        duckdb_memory_limit="1GB",
        timezone="Asia/Urumqi",
        plausible_years_back=30,
        plausible_years_ahead=2,
        crash_at="detected",
        prefect_api_url="http://127.0.0.1:4200/api",
    )


def test_today_is_the_date_in_shanghai_whatever_the_machine_says():
    s = Settings(inbox=Path("."), db=Path("x.duckdb"))
    late_evening_utc = dt.datetime(2026, 12, 31, 16, 30, tzinfo=dt.UTC)  # 00:30 on 1 January in Shanghai
    assert s.today(late_evening_utc) == dt.date(2027, 1, 1)
    assert s.today(dt.datetime(2026, 12, 31, 15, 59, tzinfo=dt.UTC)) == dt.date(2026, 12, 31)


def test_now_is_an_aware_time_in_the_office_zone():
    s = Settings(inbox=Path("."), db=Path("x.duckdb"))
    at = s.now(dt.datetime(2026, 12, 2, 2, 0, tzinfo=dt.UTC))
    assert at.utcoffset() == dt.timedelta(hours=8) and at.isoformat() == "2026-12-02T10:00:00+08:00"
    assert s.now().utcoffset() == dt.timedelta(hours=8)  # the machine's own zone plays no part
    urumqi = s.replace(timezone="Asia/Urumqi").now(dt.datetime(2026, 12, 2, 2, 0, tzinfo=dt.UTC))
    assert urumqi.isoformat() == "2026-12-02T08:00:00+06:00"


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("FUNDWATCH_LARGE_PAYMENT_THRESHOLD", "lots", "not an amount"),
        ("FUNDWATCH_LARGE_PAYMENT_THRESHOLD", "-5", "positive"),
        ("FUNDWATCH_TIMEZONE", "Mars/Olympus", "unknown time zone"),
        ("FUNDWATCH_PLAUSIBLE_YEARS_BACK", "ten", "whole number of years"),
    ],
)
def test_a_bad_setting_is_refused_naming_the_variable(env, capsys, name, value, says):
    env.setenv(name, value)
    with pytest.raises(SettingsError, match=says) as err:
        Settings.from_env()
    assert name in str(err.value)
    assert cli.main(["runs"]) == cli.EXIT_USAGE
    assert name in capsys.readouterr().err


def test_a_child_process_gets_the_settings_with_absolute_paths(env, tmp_path):
    env.chdir(tmp_path)
    s = Settings(inbox=Path("in"), db=Path("var/x.duckdb"), large_payment_threshold=Decimal("1.00"))
    child = s.environment()
    assert child["FUNDWATCH_INBOX"] == str(tmp_path / "in") and child["FUNDWATCH_DB"] == str(tmp_path / "var/x.duckdb")
    s.export()
    assert os.environ["FUNDWATCH_LARGE_PAYMENT_THRESHOLD"] == "1.00"
    env.chdir(PROJECT_ROOT)  # the child reads the same settings from anywhere
    assert Settings.from_env() == s.replace(inbox=tmp_path / "in", db=tmp_path / "var/x.duckdb")
