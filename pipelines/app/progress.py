"""What a run shows while it runs: the phase, the dataset, the rows done.

A 10M-person run takes a quarter of an hour; on a terminal a live display (rich, on stderr) shows the
phase, the dataset being loaded with its rows so far, and the rules done. Anywhere else (a scheduler's
log, a pipe) a line per phase and per dataset, and one every `PLAIN_EVERY_SECONDS` during a long dataset.

The reporter in force is a context variable set by the command that starts a run (`using`); the flow's
tasks read it with `current()`. Outside such a block (a served deployment's flow run) nothing is shown:
Prefect's own log says what each task did.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import sys
import time
from collections.abc import Iterator
from typing import TextIO

from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from pipelines.app.console import console

PHASES = {
    "prepare": "准备 prepare",
    "ingest": "载入 ingest",
    "rules": "规则 rules",
    "cases": "案件 cases",
    "publish": "发布 publish",
}
PLAIN_EVERY_SECONDS = 30.0


class RunProgress:
    """Receives a run's progress; this base shows nothing."""

    def phase(self, name: str, total: int | None = None) -> None:
        """A phase of `PHASES` begins; `total` steps if known (rules: one per rule)."""

    def dataset(self, name: str, files: int) -> None:
        """Ingestion of a dataset's files begins."""

    def rows(self, dataset: str, rows: int) -> None:
        """`rows` more rows of the dataset were read (loaded or quarantined)."""

    def step(self, what: str) -> None:
        """One step of the current phase is done (a rule)."""

    def close(self) -> None:
        """The run's work is over (or failed): take the display down. May be called more than once."""


class PlainProgress(RunProgress):
    """A line per phase and per dataset, and one now and then during a long dataset."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.current: str | None = None
        self.done = 0
        self.last = time.monotonic()

    def _line(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    def phase(self, name: str, total: int | None = None) -> None:
        self._line(f"-- {PHASES.get(name, name)}")

    def dataset(self, name: str, files: int) -> None:
        self.current, self.done, self.last = name, 0, time.monotonic()
        self._line(f"   {name}: {files} 个文件 files")

    def rows(self, dataset: str, rows: int) -> None:
        self.done += rows
        if time.monotonic() - self.last >= PLAIN_EVERY_SECONDS:
            self.last = time.monotonic()
            self._line(f"   {dataset}: {self.done:,} 行 rows")


def _prefect_console_handlers() -> list[logging.Handler]:
    """Prefect's console log handlers (they print with a rich console of their own)."""
    from prefect.logging.handlers import PrefectConsoleHandler

    loggers = [logging.getLogger(), *(logging.getLogger(name) for name in list(logging.root.manager.loggerDict))]
    return list({id(h): h for lg in loggers for h in lg.handlers if isinstance(h, PrefectConsoleHandler)}.values())


class LiveProgress(RunProgress):
    """A live display on a terminal: one line for the phase, one for the dataset or rule in progress.

    While it is shown, Prefect's console log lines are printed through the display's console, so they
    scroll above it instead of tearing it.
    """

    def __init__(self, out: TextIO) -> None:
        self.display = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console(out),
            transient=True,
        )
        self.started = False
        self.borrowed: list[tuple[logging.Handler, object]] = []  # Prefect handlers and their own consoles
        self.phase_task = None
        self.detail_task = None
        self.rows_done = 0

    def phase(self, name: str, total: int | None = None) -> None:
        if not self.started:  # shown from the first phase on, not while Prefect starts
            self.display.start()
            self.started = True
            self.borrowed = [(h, h.console) for h in _prefect_console_handlers()]
            for handler, _ in self.borrowed:
                handler.console = self.display.console
        for task in (self.phase_task, self.detail_task):
            if task is not None:
                self.display.remove_task(task)
        self.detail_task = None
        self.phase_task = self.display.add_task(PHASES.get(name, name), total=total)

    def dataset(self, name: str, files: int) -> None:
        if self.detail_task is not None:
            self.display.remove_task(self.detail_task)
        self.rows_done = 0
        self.detail_task = self.display.add_task(f"  {name}: 0 行 rows", total=None)

    def rows(self, dataset: str, rows: int) -> None:
        self.rows_done += rows
        if self.detail_task is not None:
            self.display.update(self.detail_task, description=f"  {dataset}: {self.rows_done:,} 行 rows")

    def step(self, what: str) -> None:
        if self.phase_task is not None:
            self.display.advance(self.phase_task)
            self.display.update(self.phase_task, description=f"{PHASES['rules']} · {what}")

    def close(self) -> None:
        if self.started:
            self.display.stop()
            self.started = False
            for handler, own in self.borrowed:
                handler.console = own


_SILENT = RunProgress()
_current: contextvars.ContextVar[RunProgress | None] = contextvars.ContextVar("fundwatch_progress", default=None)


def current() -> RunProgress:
    return _current.get() or _SILENT


def for_terminal(out: TextIO | None = None) -> RunProgress:
    """A live display on a terminal, plain lines elsewhere (stderr by default)."""
    out = out or sys.stderr
    return LiveProgress(out) if out.isatty() else PlainProgress(out)


@contextlib.contextmanager
def using(progress: RunProgress) -> Iterator[RunProgress]:
    """Show a run's progress with `progress` inside the block."""
    token = _current.set(progress)
    try:
        yield progress
    finally:
        progress.close()
        _current.reset(token)
