"""Working days (工作日) on the official Chinese calendar, for the deadlines of 四定一限.

A working day is what the State Council's yearly holiday notice (国务院办公厅关于部分节假日安排的通知)
makes it: Monday to Friday except the statutory holidays (法定节假日), plus the weekend days
it turns into make-up working days (调休上班). The data is the `chinesecalendar` package's;
a year it does not cover raises `CalendarNotCovered` — never a silent Monday-to-Friday guess,
because a deadline that quietly lands inside the Spring Festival is worse than no deadline.

Counting: "n working days after a date" does not count the date itself (期限从次日起算), so a
case assigned on a Friday before a plain weekend is due, for n = 1, on the Monday.
"""

from __future__ import annotations

import datetime as dt

import chinese_calendar

# 限期整改: a confirmed problem is rectified within 30 working days of the assignment.
RECTIFICATION_WORKING_DAYS = 30
# 要情报告: a confirmed case is reported within 5 working days of its confirmation.
REPORT_WORKING_DAYS = 5

_ONE_DAY = dt.timedelta(days=1)


class CalendarNotCovered(ValueError):
    """The official holiday calendar has no data for the year: no deadline can be computed in it."""

    def __init__(self, year: int) -> None:
        self.year = year
        super().__init__(
            f"{year}年法定节假日安排无官方数据: the working-day calendar has no official holiday data for {year}, "
            f"so no working-day deadline can be computed in it. Upgrade the `chinesecalendar` package "
            f"(pip install -U chinesecalendar) once the State Council publishes the {year} holiday arrangement "
            f"(国务院办公厅关于{year}年部分节假日安排的通知)."
        )


def is_working_day(day: dt.date) -> bool:
    """True when `day` is a working day (工作日), 调休 make-up working days included."""
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError as exc:  # the package's signal for a year outside its data
        raise CalendarNotCovered(day.year) from exc


def add_working_days(start: dt.date, n: int) -> dt.date:
    """The n-th working day after `start` (`start` itself not counted; n >= 1)."""
    if n < 1:
        raise ValueError(f"n must be at least 1 working day, got {n}")
    day = start
    while n:
        day += _ONE_DAY
        n -= is_working_day(day)
    return day


def working_days_between(start: dt.date, end: dt.date) -> int:
    """Working days in (start, end]; negative, -working_days_between(end, start), when end is before start.

    So `working_days_between(start, add_working_days(start, n)) == n`, and
    `working_days_between(today, due_date)` is the working days left (negative once overdue).
    """
    if end < start:
        return -working_days_between(end, start)
    count = 0
    day = start
    while day < end:
        day += _ONE_DAY
        count += is_working_day(day)
    return count


def rectification_due(assigned_on: dt.date) -> dt.date:
    """整改期限 (限期整改): 30 working days after the case was assigned."""
    return add_working_days(assigned_on, RECTIFICATION_WORKING_DAYS)


def report_due(confirmed_on: dt.date) -> dt.date:
    """要情报告期限: 5 working days after the case was confirmed."""
    return add_working_days(confirmed_on, REPORT_WORKING_DAYS)
