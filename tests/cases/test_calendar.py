"""Working days on the official calendar: 调休 make-up days, holidays, plain weekends, uncovered years.

Every pinned date below was worked out by hand from the State Council notices (reasoning in the
comments) and agrees with chinese_calendar (test_add_working_days_agrees_with_chinese_calendar).
"""

from __future__ import annotations

import datetime as dt

import chinese_calendar
import pytest

from pipelines.cases.calendar import (
    RECTIFICATION_WORKING_DAYS,
    REPORT_WORKING_DAYS,
    CalendarNotCovered,
    add_working_days,
    is_working_day,
    rectification_due,
    report_due,
    working_days_between,
)

D = dt.date


@pytest.mark.parametrize(
    ("day", "working"),
    [
        # National Day + Mid-Autumn 2025: Oct 1 (Wed) - Oct 8 (Thu) off; Sun Sep 28 and Sat Oct 11 worked
        (D(2025, 9, 27), False),  # Saturday
        (D(2025, 9, 28), True),  # Sunday, 调休上班
        (D(2025, 10, 1), False),
        (D(2025, 10, 6), False),  # a Monday inside the holiday
        (D(2025, 10, 8), False),
        (D(2025, 10, 9), True),
        (D(2025, 10, 11), True),  # Saturday, 调休上班
        (D(2025, 10, 12), False),
        # Spring Festival 2026: Feb 15 (Sun) - Feb 23 (Mon) off; Sat Feb 14 and Sat Feb 28 worked
        (D(2026, 2, 14), True),
        (D(2026, 2, 16), False),
        (D(2026, 2, 23), False),
        (D(2026, 2, 24), True),
        (D(2026, 2, 28), True),
        (D(2026, 3, 1), False),
    ],
)
def test_is_working_day(day, working):
    assert is_working_day(day) is working


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        # National Day 2025
        (D(2025, 9, 26), 1, D(2025, 9, 28)),  # Fri -> Sat off -> Sun Sep 28 is a make-up day
        (D(2025, 9, 30), 1, D(2025, 10, 9)),  # Oct 1-8 skipped
        (D(2025, 9, 30), 3, D(2025, 10, 11)),  # Oct 9, 10, Sat 11 (make-up)
        (D(2025, 9, 30), 4, D(2025, 10, 13)),  # Sun 12 off
        (D(2025, 10, 3), 1, D(2025, 10, 9)),  # starting inside the holiday
        # Spring Festival 2026
        (D(2026, 2, 13), 1, D(2026, 2, 14)),  # Fri -> Sat Feb 14 is a make-up day
        (D(2026, 2, 14), 1, D(2026, 2, 24)),  # Feb 15-23 skipped
        (D(2026, 2, 23), 5, D(2026, 2, 28)),  # Feb 24-27, then Sat 28 (make-up)
        (D(2026, 2, 23), 6, D(2026, 3, 2)),  # Sun Mar 1 off
        # a plain weekend (March 2026 has no holiday)
        (D(2026, 3, 13), 1, D(2026, 3, 16)),  # Fri -> Mon
        (D(2026, 3, 14), 1, D(2026, 3, 16)),  # Sat -> Mon: the start is never counted
        (D(2026, 3, 11), 5, D(2026, 3, 18)),  # Thu 12, Fri 13, Mon 16, Tue 17, Wed 18
        # Sep 2 (Wed) - Sep 4: 3; Sep 7-11: 8; Sep 14-18: 13; Sun Sep 20 make-up: 14; Sep 21-24: 18;
        # Sep 25-27 Mid-Autumn off; Sep 28-30: 21; Oct 1-7 off; Oct 8, 9: 23; Sat Oct 10 make-up: 24;
        # Oct 12-16: 29; Mon Oct 19: 30
        (D(2026, 9, 1), 30, D(2026, 10, 19)),
    ],
)
def test_add_working_days(start, n, expected):
    assert add_working_days(start, n) == expected
    assert working_days_between(start, expected) == n


def test_deadline_helpers():
    assert RECTIFICATION_WORKING_DAYS == 30
    assert REPORT_WORKING_DAYS == 5
    assert rectification_due(D(2026, 9, 1)) == D(2026, 10, 19)
    # Sep 30, Oct 9, Oct 10, Sat Oct 11 (make-up), Mon Oct 13
    assert report_due(D(2025, 9, 29)) == D(2025, 10, 13)
    # Fri Feb 13, Sat Feb 14 (make-up), then Feb 24, 25, 26
    assert report_due(D(2026, 2, 12)) == D(2026, 2, 26)


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (D(2025, 9, 26), D(2025, 10, 12), 6),  # Sep 28, 29, 30, Oct 9, 10, 11
        (D(2026, 2, 13), D(2026, 3, 1), 6),  # Feb 14, 24, 25, 26, 27, 28
        (D(2026, 3, 13), D(2026, 3, 15), 0),  # Fri to Sun: the weekend only
        (D(2026, 3, 13), D(2026, 3, 16), 1),  # (start, end]: Monday counts, Friday does not
        (D(2026, 3, 16), D(2026, 3, 16), 0),
        (D(2026, 3, 16), D(2026, 3, 13), -1),  # end before start: negative (overdue by 1 working day)
    ],
)
def test_working_days_between(start, end, expected):
    assert working_days_between(start, end) == expected


def test_add_working_days_agrees_with_chinese_calendar():
    """A second, naive count straight from chinese_calendar, over every start date of 2025 and 2026."""
    day = D(2025, 1, 1)
    while day <= D(2026, 10, 31):
        for n in (1, REPORT_WORKING_DAYS, RECTIFICATION_WORKING_DAYS):
            expected, left = day, n
            while left:
                expected += dt.timedelta(days=1)
                left -= chinese_calendar.is_workday(expected)
            assert add_working_days(day, n) == expected, (day, n)
        day += dt.timedelta(days=1)


def test_n_must_be_positive():
    with pytest.raises(ValueError, match="at least 1"):
        add_working_days(D(2026, 3, 13), 0)


def test_uncovered_year_fails_loudly():
    # Dec 21-25, 28-31 2026 are 9 working days; the 10th would be in 2027, which has no official data yet
    with pytest.raises(CalendarNotCovered) as caught:
        add_working_days(D(2026, 12, 20), 30)
    assert caught.value.year == 2027
    message = str(caught.value)
    assert "2027" in message
    assert "no official" in message
    assert "upgrade the `chinesecalendar` package".lower() in message.lower()
    assert "State Council" in message
    assert isinstance(caught.value, ValueError)


def test_uncovered_year_never_falls_back_to_weekdays():
    with pytest.raises(CalendarNotCovered, match="2027"):
        is_working_day(D(2027, 3, 3))  # a Wednesday: Mon-Fri would say yes
    with pytest.raises(CalendarNotCovered, match="2003"):
        working_days_between(D(2003, 12, 30), D(2004, 1, 5))
    with pytest.raises(CalendarNotCovered, match="2027"):
        rectification_due(D(2026, 12, 1))


def test_covered_dates_near_the_edge_still_work():
    assert add_working_days(D(2026, 12, 20), 5) == D(2026, 12, 25)
