"""Argument types of the command line: a date or a month typed by a person, checked with a reason.

argparse turns an `argparse.ArgumentTypeError` into a usage error (exit status 2) that shows our message
(any other exception shows only "invalid _date value"). Each message names the value as typed, the form
expected, and what is wrong with it, in Chinese and English:

    argument --as-of: 日期无效 invalid date '2025-13-01': 月份13超出范围 month 13 is out of range (1-12);
    应为 expected YYYY-MM-DD

Only ASCII digits are accepted: a date or month names report files and is compared as text.
"""

from __future__ import annotations

import argparse
import calendar
import datetime as dt
import re

DATE_FORM = "YYYY-MM-DD"
MONTH_FORMS = "YYYYMM 或 or YYYY-MM"

_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_MONTH = re.compile(r"([0-9]{4})-?([0-9]{2})")


def _why_month(month: int) -> str | None:
    if 1 <= month <= 12:
        return None
    return f"月份{month}超出范围 month {month} is out of range (1-12)"


def _why_year(year: int) -> str | None:
    if year >= 1:
        return None
    return f"年份{year}超出范围 year {year} is out of range"


def date_arg(text: str) -> dt.date:
    """`YYYY-MM-DD` -> the date; anything else an `argparse.ArgumentTypeError` saying what is wrong."""
    value = text.strip()
    match = _DATE.fullmatch(value)
    if match is None:
        why = "格式不符 not in the form"
    else:
        year, month, day = (int(g) for g in match.groups())
        why = _why_year(year) or _why_month(month)
        if why is None:
            last = calendar.monthrange(year, month)[1]
            if 1 <= day <= last:
                return dt.date(year, month, day)
            why = f"{year}年{month}月没有{day}日 day {day} is out of range for {year}-{month:02d} (1-{last})"
    raise argparse.ArgumentTypeError(f"日期无效 invalid date {text!r}: {why}; 应为 expected {DATE_FORM}")


def month_arg(text: str) -> str:
    """`YYYYMM` or `YYYY-MM` -> the month as `YYYYMM` (the form periods are stored and reports named in);
    anything else an `argparse.ArgumentTypeError` saying what is wrong."""
    value = text.strip()
    match = _MONTH.fullmatch(value)
    if match is None:
        why = "格式不符 not in the form"
    else:
        year, month = (int(g) for g in match.groups())
        why = _why_year(year) or _why_month(month)
        if why is None:
            return f"{year:04d}{month:02d}"
    raise argparse.ArgumentTypeError(f"月份无效 invalid month {text!r}: {why}; 应为 expected {MONTH_FORMS}")
