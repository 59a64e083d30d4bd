"""The one typed settings object, read from the environment in one place, at the edge.

The command line (`pipelines.app.cli`) and the scheduled flow (`pipelines.app.schedule`) call
`Settings.from_env()` once and pass the settings (or the values they hold) down; nothing below the
application shell reads the environment. This module is the only one that touches `os.environ`
(besides `pipelines/__init__.py`, which turns Prefect's telemetry off before Prefect is imported, and the
`fundwatch` launcher, `pipelines.app.launch`, which looks whether PREFECT_API_URL or FUNDWATCH_DASK_ADDRESS is set
before it imports anything).

Environment variables (all optional):

* ``FUNDWATCH_INBOX``  inbox folder (default: the bundled ``data_samples/``)
* ``FUNDWATCH_DB``     DuckDB file (default: ``var/fundwatch.duckdb`` under the working folder)
* ``FUNDWATCH_LARGE_PAYMENT_THRESHOLD``  yuan (大额支付审批限额), default the rule's 100,000.00
* ``FUNDWATCH_DUCKDB_MEMORY_LIMIT``  DuckDB buffer pool limit, default 4GB
* ``FUNDWATCH_TIMEZONE``  the office's time zone, default Asia/Shanghai: "today" of every command, and the
  zone every recorded time is shown in (`Settings.now()`, e.g. 2026-12-02 10:00:00+08:00)
* ``FUNDWATCH_PLAUSIBLE_YEARS_BACK`` / ``_AHEAD``  the window a date or period must lie in around the run's
  data date, default 80 years back and 1 ahead (birth dates: up to 130 years back, never ahead)
* ``FUNDWATCH_FILE_MODE``  permissions of every file fundwatch creates (they hold citizens' IDs): 0600
  (default, the owner only) or 0640 (the owner's group may read: give the folder that group and the setgid
  bit, `chgrp staff var && chmod 2750 var`, so that new files take it)
* ``FUNDWATCH_THRESHOLDS``  the early-warning thresholds (监测预警阈值) YAML, default the bundled
  ``schemas/warning_thresholds.yaml``; checked when the settings are read (a malformed file: usage error)
* ``FUNDWATCH_CRASH_AT``  fault injection for the crash-safety tests only: die at this point of a run
* ``PREFECT_API_URL``  the Prefect server a schedule is served against (`fundwatch serve --no-server`)
* ``FUNDWATCH_DASK_ADDRESS``  a Dask scheduler (``tcp://host:8786``): run the detection on that cluster
  (`fundwatch run --dask`, docs/scale-out.md)
* ``FUNDWATCH_SHARED_STAGE``  the folder every Dask worker reads and writes (the shards and findings of a run on
  a cluster); default, for a scheduler on this machine only: beside the DuckDB file
* ``FUNDWATCH_DASK_TASK_ROWS``  on a cluster, the fewest input rows a (rule, shard) task is given, default 1,000,000
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pipelines.cases.indicators import ThresholdsError, load_thresholds
from pipelines.cases.register import register_path_for
from pipelines.rules.large_payment_unapproved import DEFAULT_THRESHOLD
from pipelines.warehouse.session import DEFAULT_MEMORY_LIMIT
from schemas.validation import DEFAULT_YEARS_AHEAD, DEFAULT_YEARS_BACK, DateWindow

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_TIMEZONE = "Asia/Shanghai"

INBOX = "FUNDWATCH_INBOX"
DB = "FUNDWATCH_DB"
THRESHOLD = "FUNDWATCH_LARGE_PAYMENT_THRESHOLD"
MEMORY_LIMIT = "FUNDWATCH_DUCKDB_MEMORY_LIMIT"
TIMEZONE = "FUNDWATCH_TIMEZONE"
CRASH_AT = "FUNDWATCH_CRASH_AT"
FILE_MODE = "FUNDWATCH_FILE_MODE"
FILE_MODES = ("0600", "0640")
YEARS_BACK = "FUNDWATCH_PLAUSIBLE_YEARS_BACK"
YEARS_AHEAD = "FUNDWATCH_PLAUSIBLE_YEARS_AHEAD"
PREFECT_API_URL = "PREFECT_API_URL"
THRESHOLDS = "FUNDWATCH_THRESHOLDS"
DASK_ADDRESS = "FUNDWATCH_DASK_ADDRESS"
SHARED_STAGE = "FUNDWATCH_SHARED_STAGE"
DASK_TASK_ROWS = "FUNDWATCH_DASK_TASK_ROWS"


class SettingsError(ValueError):
    """A setting in the environment that cannot be used; the message names the variable."""


@dataclass(frozen=True)
class Settings:
    inbox: Path
    db: Path
    large_payment_threshold: Decimal = DEFAULT_THRESHOLD
    duckdb_memory_limit: str = DEFAULT_MEMORY_LIMIT
    timezone: str = DEFAULT_TIMEZONE
    plausible_years_back: int = DEFAULT_YEARS_BACK
    plausible_years_ahead: int = DEFAULT_YEARS_AHEAD
    file_mode: str = "0600"
    crash_at: str | None = None  # never set in production
    prefect_api_url: str | None = None
    thresholds: Path | None = None  # None: the bundled schemas/warning_thresholds.yaml
    dask_address: str | None = None  # None: detection on this machine (pipelines.app.cluster_run)
    shared_stage: Path | None = None  # None: beside the DuckDB file (a cluster on this machine only)
    dask_task_rows: int | None = None  # None: pipelines.detect.cluster.TASK_ROWS

    @classmethod
    def from_env(cls) -> Settings:
        env = os.environ
        settings = cls(
            inbox=Path(env.get(INBOX, PROJECT_ROOT / "data_samples")),
            db=Path(env.get(DB, Path.cwd() / "var" / "fundwatch.duckdb")),
            large_payment_threshold=_money(THRESHOLD, env.get(THRESHOLD)) or DEFAULT_THRESHOLD,
            duckdb_memory_limit=env.get(MEMORY_LIMIT) or DEFAULT_MEMORY_LIMIT,
            timezone=env.get(TIMEZONE) or DEFAULT_TIMEZONE,
            plausible_years_back=_years(YEARS_BACK, env.get(YEARS_BACK), DEFAULT_YEARS_BACK),
            plausible_years_ahead=_years(YEARS_AHEAD, env.get(YEARS_AHEAD), DEFAULT_YEARS_AHEAD),
            file_mode=_file_mode(env.get(FILE_MODE)),
            crash_at=env.get(CRASH_AT) or None,
            prefect_api_url=env.get(PREFECT_API_URL) or None,
            thresholds=_thresholds(env.get(THRESHOLDS)),
            dask_address=env.get(DASK_ADDRESS) or None,
            shared_stage=Path(env[SHARED_STAGE]) if env.get(SHARED_STAGE) else None,
            dask_task_rows=_rows(DASK_TASK_ROWS, env.get(DASK_TASK_ROWS)),
        )
        settings.zone()  # an unknown time zone fails here, naming the variable
        return settings

    def replace(self, **changes: object) -> Settings:
        """These settings with some values overridden (a command's options)."""
        return dataclasses.replace(self, **changes)

    @property
    def register(self) -> Path:
        """The case register beside the DuckDB file."""
        return register_path_for(self.db)

    def zone(self) -> ZoneInfo:
        try:
            return ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError) as err:
            raise SettingsError(f"{TIMEZONE}: unknown time zone {self.timezone!r}") from err

    def now(self, now: dt.datetime | None = None) -> dt.datetime:
        """The time now (or the instant `now`) in the office's time zone, aware (e.g. 10:00:00+08:00): every
        time a run records (runs.started_at, finished_at) and every time a person reads."""
        return (now or dt.datetime.now(dt.UTC)).astimezone(self.zone())

    def today(self, now: dt.datetime | None = None) -> dt.date:
        """Today in the office's time zone: the default date of every command and of a scheduled run."""
        return self.now(now).date()

    @property
    def umask(self) -> int:
        """The process umask that makes every new file `file_mode` (and folders accordingly: 0700 / 0750)."""
        mode = int(self.file_mode, 8)
        return 0o777 & ~(mode | (mode & 0o444) >> 2)

    def date_window(self, as_of: dt.date) -> DateWindow:
        """Where a run's dates and periods may lie (`schemas.validation.DateWindow`)."""
        return DateWindow(as_of, self.plausible_years_back, self.plausible_years_ahead)

    def environment(self) -> dict[str, str]:
        """The variables that give these settings to a child process (paths made absolute)."""
        env = {
            INBOX: str(self.inbox.resolve()),
            DB: str(self.db.resolve()),
            THRESHOLD: str(self.large_payment_threshold),
            MEMORY_LIMIT: self.duckdb_memory_limit,
            TIMEZONE: self.timezone,
            YEARS_BACK: str(self.plausible_years_back),
            YEARS_AHEAD: str(self.plausible_years_ahead),
            FILE_MODE: self.file_mode,
        }
        if self.prefect_api_url:
            env[PREFECT_API_URL] = self.prefect_api_url
        if self.thresholds is not None:
            env[THRESHOLDS] = str(self.thresholds.resolve())
        if self.dask_address:
            env[DASK_ADDRESS] = self.dask_address
        if self.shared_stage is not None:
            env[SHARED_STAGE] = str(self.shared_stage.resolve())
        if self.dask_task_rows is not None:
            env[DASK_TASK_ROWS] = str(self.dask_task_rows)
        return env

    def export(self) -> None:
        """Put `environment()` into this process's environment, for the child processes it starts
        without an environment of their own (Prefect's runner starts each flow run as one)."""
        os.environ.update(self.environment())


def _thresholds(text: str | None) -> Path | None:
    """The thresholds file named, validated now: a malformed one is a usage error naming its key and line."""
    if not text:
        return None
    try:
        load_thresholds(Path(text))
    except ThresholdsError as err:
        raise SettingsError(f"{THRESHOLDS}: {err}") from err
    return Path(text)


def _file_mode(text: str | None) -> str:
    if not text:
        return "0600"
    mode = text.strip().rjust(4, "0")
    if mode not in FILE_MODES:
        raise SettingsError(f"{FILE_MODE}: one of {', '.join(FILE_MODES)}, got {text!r}")
    return mode


def _rows(name: str, text: str | None) -> int | None:
    if not text:
        return None
    if not text.strip().isdigit() or int(text) < 1:
        raise SettingsError(f"{name}: a positive whole number of rows, got {text!r}")
    return int(text)


def _years(name: str, text: str | None, default: int) -> int:
    if not text:
        return default
    if not text.strip().isdigit():
        raise SettingsError(f"{name}: a whole number of years, got {text!r}")
    return int(text)


def _money(name: str, text: str | None) -> Decimal | None:
    if not text:
        return None
    try:
        value = Decimal(text.replace(",", ""))
    except InvalidOperation as err:
        raise SettingsError(f"{name}: not an amount of yuan: {text!r}") from err
    if not value.is_finite() or value <= 0:
        raise SettingsError(f"{name}: must be a positive amount of yuan, got {text!r}")
    return value
