"""What a run shows while it runs: a live display on a terminal, plain lines elsewhere."""

from __future__ import annotations

import io
import logging

from prefect.logging.handlers import PrefectConsoleHandler

from pipelines.app import progress


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_terminal_gets_a_live_display_with_phase_dataset_and_rows():
    out = Terminal()
    shown = progress.for_terminal(out)
    assert isinstance(shown, progress.LiveProgress)
    shown.phase("ingest")
    shown.dataset("benefit_payments", 44)
    shown.rows("benefit_payments", 1_000_000)
    shown.rows("benefit_payments", 234_567)
    shown.display.refresh()
    shown.phase("rules", total=12)
    shown.step("DECEASED_PAID")
    shown.display.refresh()
    shown.close()
    text = out.getvalue()
    assert "载入 ingest" in text and "benefit_payments: 1,234,567 行 rows" in text
    assert "规则 rules · DECEASED_PAID" in text and "1/12" in text


def test_prefect_log_lines_go_through_the_display_while_it_is_shown_and_back_after():
    handler = PrefectConsoleHandler(stream=io.StringIO())
    own = handler.console
    logger = logging.getLogger("prefect.fundwatch-test")
    logger.addHandler(handler)
    try:
        shown = progress.LiveProgress(Terminal())
        assert handler.console is own  # nothing borrowed before the display is up
        shown.phase("ingest")
        assert handler.console is shown.display.console
        shown.close()
        assert handler.console is own
    finally:
        logger.removeHandler(handler)


def test_elsewhere_a_line_per_phase_and_dataset(monkeypatch):
    out = io.StringIO()
    shown = progress.for_terminal(out)
    assert isinstance(shown, progress.PlainProgress)
    clock = iter([0.0, 10.0, 40.0, 40.0])  # dataset starts; rows at 10 s; rows at 40 s (checked, noted)
    monkeypatch.setattr(progress.time, "monotonic", lambda: next(clock))
    shown.phase("ingest")
    shown.dataset("enrollment", 11)  # t = 0
    shown.rows("enrollment", 500)  # t = 10: nothing yet
    shown.rows("enrollment", 700)  # t = 40: a line every 30 s
    assert out.getvalue().splitlines() == [
        "-- 载入 ingest",
        "   enrollment: 11 个文件 files",
        "   enrollment: 1,200 行 rows",
    ]


def test_the_reporter_in_force_is_the_one_the_command_set():
    assert type(progress.current()) is progress.RunProgress  # silent outside a command
    plain = progress.PlainProgress(io.StringIO())
    with progress.using(plain):
        assert progress.current() is plain
    assert type(progress.current()) is progress.RunProgress
