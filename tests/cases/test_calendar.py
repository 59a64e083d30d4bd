"""Working days from three sources: the official calendar, the office's files, the statutory fallback.

Every pinned date below was worked out by hand from the State Council notices or the statutory holidays
(reasoning in the comments); the official ones agree with chinese_calendar
(test_add_working_days_agrees_with_chinese_calendar). 2027 is not in chinesecalendar 1.11.0 (the pinned one),
so it is the statutory fallback, or an office file in a tmp folder; the 2027 arrangements written here are
made up for the tests, not the real notice.
"""

from __future__ import annotations

import datetime as dt
import textwrap
from pathlib import Path

import chinese_calendar
import pytest

from pipelines.cases import calendar
from pipelines.cases.calendar import (
    HOLIDAYS_DIR,
    RECTIFICATION_WORKING_DAYS,
    REPORT_WORKING_DAYS,
    Calendar,
    CalendarNotCovered,
    Deadline,
    HolidayFileError,
    add_working_days,
    check_folder,
    is_working_day,
    load_notice,
    rectification_due,
    report_due,
    working_days_between,
    year_source,
)

D = dt.date

# A made-up 2027 arrangement (not the real notice): New Year Fri Jan 1 - Sun Jan 3, nothing worked for it;
# Spring Festival Fri Feb 5 (除夕) - Sat Feb 13, Sundays Jan 31 and Feb 14 worked.
OFFICE_2027 = """\
year: 2027
notice: 国务院办公厅关于2027年部分节假日安排的通知（测试用，虚构）
holidays:
  - {name: 元旦, from: 2027-01-01, to: 2027-01-03}
  - {name: 春节, from: 2027-02-05, to: 2027-02-13}
make_up_workdays:
  - {date: 2027-01-31, for: 春节}
  - {date: 2027-02-14, for: 春节}
"""


@pytest.fixture(autouse=True)
def no_office_files(tmp_path, monkeypatch):
    """The module calendar over an empty folder: what a test sees does not depend on files shipped later."""
    folder = tmp_path / "holidays"
    folder.mkdir()
    monkeypatch.setattr(calendar, "CALENDAR", Calendar(folder))
    return folder


def write(folder: Path, year: int, text: str) -> Path:
    path = folder / f"{year}.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


# ---- official: chinesecalendar ---------------------------------------------------------------------


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


def test_deadline_helpers_on_the_official_calendar():
    assert RECTIFICATION_WORKING_DAYS == 30
    assert REPORT_WORKING_DAYS == 5
    assert year_source(2026) == "official"
    assert rectification_due(D(2026, 9, 1)) == Deadline(D(2026, 10, 19), False, ("official",))
    # Sep 30, Oct 9, Oct 10, Sat Oct 11 (make-up), Mon Oct 13
    assert report_due(D(2025, 9, 29)) == Deadline(D(2025, 10, 13), False, ("official",))
    # Fri Feb 13, Sat Feb 14 (make-up), then Feb 24, 25, 26
    assert report_due(D(2026, 2, 12)) == Deadline(D(2026, 2, 26), False, ("official",))
    # Feb 24-27, Sat Feb 28 (make-up) is the fifth: the 调休 day is the deadline itself
    assert report_due(D(2026, 2, 23)).date == D(2026, 2, 28)


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (D(2025, 9, 26), D(2025, 10, 12), 6),  # Sep 28, 29, 30, Oct 9, 10, 11
        (D(2026, 2, 13), D(2026, 3, 1), 6),  # Feb 14, 24, 25, 26, 27, 28
        (D(2026, 3, 13), D(2026, 3, 15), 0),  # Fri to Sun: the weekend only
        (D(2026, 3, 13), D(2026, 3, 16), 1),  # (start, end]: Monday counts, Friday does not
        (D(2026, 3, 16), D(2026, 3, 16), 0),
        (D(2026, 3, 16), D(2026, 3, 13), -1),  # end before start: negative (overdue by 1 working day)
        (D(2026, 12, 31), D(2027, 1, 5), 2),  # across into the fallback year: Jan 1 off, Mon 4, Tue 5
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


# ---- statutory fallback: never refuse, mark provisional ----------------------------------------------


def test_today_plus_30_working_days_reaches_2027_provisionally():
    # Dec 2-4: 3; Dec 7-11: 8; 14-18: 13; 21-25: 18; 28-31: 22 (all official, December has no holiday);
    # Fri Jan 1 2027 New Year's Day (statutory) off; Jan 4-8: 27; Mon 11, Tue 12, Wed 13: 30
    due = rectification_due(D(2026, 12, 1))
    assert due == Deadline(D(2027, 1, 13), True, ("official", "statutory"))
    assert due.text == "2027-01-13（暂定 provisional）"
    assert due.isoformat() == "2027-01-13"
    assert year_source(2027) == "statutory"


def test_the_shipped_folder_gives_today_a_deadline(monkeypatch):
    monkeypatch.setattr(calendar, "CALENDAR", Calendar())  # schemas/holidays, as shipped
    due = rectification_due(D(2026, 12, 1))
    assert D(2027, 1, 8) <= due.date <= D(2027, 1, 20)
    assert due.provisional is (year_source(2027) == "statutory")


@pytest.mark.parametrize(
    ("day", "working"),
    [
        # holidays 0.108, China 2027: New Year Fri Jan 1; Spring Festival 除夕 Fri Feb 5 - Mon Feb 8, the weekend
        # days of it given back Tue Feb 9 and Wed Feb 10 (补假); Qingming Mon Apr 5; Labour Day Sat May 1 - Sun
        # May 2 given back Mon 3, Tue 4; Dragon Boat Wed Jun 9; Mid-Autumn Wed Sep 15; National Day Fri Oct 1 -
        # Sun Oct 3 given back Mon 4, Tue 5. Nothing else: no 调休, every other weekday worked.
        (D(2027, 1, 1), False),
        (D(2027, 1, 4), True),
        (D(2027, 2, 4), True),
        (D(2027, 2, 5), False),
        (D(2027, 2, 9), False),  # 补假 for Sat Feb 6
        (D(2027, 2, 10), False),
        (D(2027, 2, 11), True),
        (D(2027, 2, 13), False),  # a plain Saturday: no make-up workday is known
        (D(2027, 3, 3), True),  # a plain Wednesday
        (D(2027, 5, 4), False),
        (D(2027, 6, 9), False),
        (D(2027, 9, 15), False),
        (D(2027, 10, 5), False),
        (D(2027, 10, 6), True),
    ],
)
def test_statutory_days_of_2027(day, working):
    assert is_working_day(day) is working


def test_a_deadline_crossing_from_the_official_year_into_the_fallback():
    # the deadline issue 11 refused: Dec 21-25, 28-31 2026 are 9; Jan 1 2027 off; Jan 4-8: 14, 11-15: 19,
    # 18-22: 24, 25-29: 29; Mon Feb 1: 30
    assert rectification_due(D(2026, 12, 20)) == Deadline(D(2027, 2, 1), True, ("official", "statutory"))
    # all inside 2026: official, final, even when it ends on the last day of the year
    assert add_working_days(D(2026, 12, 20), 5) == D(2026, 12, 25)
    assert report_due(D(2026, 12, 24)) == Deadline(D(2026, 12, 31), False, ("official",))
    # one 2027 day counted is enough to make it provisional
    assert report_due(D(2026, 12, 25)) == Deadline(D(2027, 1, 4), True, ("official", "statutory"))
    # wholly inside the fallback year: Feb 1 (Mon) - 4, Feb 5-10 off, Thu Feb 11 is the fifth
    assert report_due(D(2027, 1, 31)) == Deadline(D(2027, 2, 11), True, ("statutory",))


def test_every_year_the_statutory_calendar_has_gets_a_deadline_and_none_other():
    for year in (2004, 2026, 2027, 2040, 2100):
        assert rectification_due(D(year, 6, 1)).date.year == year
    assert year_source(2003) == "statutory"  # before chinesecalendar's data
    assert rectification_due(D(2003, 12, 30)).provisional
    for day in (D(2101, 3, 1), D(1949, 3, 1)):
        with pytest.raises(CalendarNotCovered, match=str(day.year)) as caught:
            is_working_day(day)
        assert caught.value.year == day.year
        assert isinstance(caught.value, ValueError)


# ---- office files ----------------------------------------------------------------------------------


def test_an_office_file_decides_its_year(no_office_files):
    write(no_office_files, 2027, OFFICE_2027)
    assert year_source(2027) == "office"
    assert year_source(2028) == "statutory"
    assert is_working_day(D(2027, 1, 31)) is True  # Sunday, 调休上班
    assert is_working_day(D(2027, 2, 9)) is False
    assert is_working_day(D(2027, 2, 14)) is True  # Sunday, 调休上班
    assert is_working_day(D(2027, 2, 15)) is True
    # statutory 补假 days the file does not list are ordinary days now: Mon May 3 2027 is worked
    assert is_working_day(D(2027, 5, 3)) is True
    # Dec 2026 official; Jan 1 off, Jan 4-8: 27, Jan 11-13: 30 -- the same date, but final now
    assert rectification_due(D(2026, 12, 1)) == Deadline(D(2027, 1, 13), False, ("official", "office"))
    # Feb 2, 3, 4; Feb 5-13 off; Sun Feb 14 (make-up), Mon Feb 15
    assert report_due(D(2027, 2, 1)) == Deadline(D(2027, 2, 15), False, ("office",))
    # Thu Jan 28, Fri 29, Sun 31 (make-up), Mon Feb 1, Tue 2: a make-up day counted
    assert report_due(D(2027, 1, 27)) == Deadline(D(2027, 2, 2), False, ("office",))
    # counting on into 2028 (statutory: Sat Jan 1, given back Mon Jan 3): Dec 29, 30, 31, Jan 4, 5
    assert report_due(D(2027, 12, 28)) == Deadline(D(2028, 1, 5), True, ("office", "statutory"))


def test_chinesecalendar_comes_before_an_office_file(no_office_files):
    # a (wrong) office file for 2026 that makes Sat Mar 14 worked: the package covers 2026, the file is not read
    write(
        no_office_files,
        2026,
        """\
        year: 2026
        notice: 测试
        holidays: [{name: 测试, from: 2026-03-16, to: 2026-03-16}]
        make_up_workdays: [{date: 2026-03-14, for: 测试}]
        """,
    )
    assert year_source(2026) == "official"
    assert is_working_day(D(2026, 3, 14)) is False
    assert is_working_day(D(2026, 3, 16)) is True


def test_a_notice_reaching_back_into_december(no_office_files):
    # as the 2012 notice made Sat 2011-12-31 worked: a made-up 2027 notice working Sat 2026-12-26 for New Year
    assert is_working_day(D(2026, 12, 26)) is False
    write(
        no_office_files,
        2027,
        """\
        year: 2027
        notice: 国务院办公厅关于2027年部分节假日安排的通知（测试用，虚构）
        holidays: [{name: 元旦, from: 2027-01-01, to: 2027-01-04}]
        make_up_workdays: [{date: 2026-12-26, for: 元旦}]
        """,
    )
    calendar.CALENDAR.refresh()
    assert year_source(2026) == "official"
    assert is_working_day(D(2026, 12, 26)) is True
    # Dec 21-25: 5, Sat Dec 26 (make-up, from the office file): 6, Dec 28-31: 10; Jan 1-4 off; Jan 5
    assert add_working_days(D(2026, 12, 20), 11) == D(2027, 1, 5)
    assert report_due(D(2026, 12, 23)) == Deadline(D(2026, 12, 29), False, ("official", "office"))
    assert report_due(D(2026, 12, 10)).sources == ("official",)  # Dec 11-17: the file not involved


def test_the_worked_example_agrees_with_chinesecalendar():
    notice = load_notice(HOLIDAYS_DIR / "2026.yaml")
    days = notice.listed_days()
    assert {d for d, worked in days.items() if not worked} == {d for d in chinese_calendar.holidays if d.year == 2026}
    assert {d for d, worked in days.items() if worked} == {d for d in chinese_calendar.workdays if d.year == 2026}


def test_the_shipped_folder_is_valid():
    years = check_folder(HOLIDAYS_DIR)
    assert 2026 in years
    assert (HOLIDAYS_DIR / "README.md").is_file()


def test_check_folder_refuses_a_file_the_calendar_would_never_read(no_office_files):
    write(no_office_files, 2027, OFFICE_2027)
    assert check_folder(no_office_files) == [2027]
    (no_office_files / "2028.yml").write_text(OFFICE_2027.replace("2027", "2028"), encoding="utf-8")
    with pytest.raises(HolidayFileError, match=r"(?s)2028\.yml.*<year>\.yaml"):
        check_folder(no_office_files)


def test_the_calendar_caches_each_year_and_rereads_on_refresh(no_office_files):
    cal = calendar.CALENDAR
    first = cal.arrangement(2027)
    assert cal.arrangement(2027) is first
    write(no_office_files, 2027, OFFICE_2027)
    assert cal.year_source(2027) == "statutory"  # cached
    cal.refresh()
    assert cal.year_source(2027) == "office"
    other = Calendar(no_office_files.parent)  # another folder, another calendar: no file there
    assert other.year_source(2027) == "statutory"
    other.folder = no_office_files
    assert other.year_source(2027) == "office"


# ---- office file validation ---------------------------------------------------------------------------

GOOD = """\
year: 2027
notice: 国务院办公厅关于2027年部分节假日安排的通知（测试用，虚构）
holidays:
  - {name: 元旦, from: 2027-01-01, to: 2027-01-03}
  - {name: 春节, from: 2027-02-05, to: 2027-02-13}
make_up_workdays:
  - {date: 2027-02-14, for: 春节}
"""


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("to: 2027-02-13", "to: 2027-02-30", r"holidays\[1\] \(春节\) to: '2027-02-30' is not a date"),
        ("to: 2027-02-13", "to: 13.02.2027", r"holidays\[1\] \(春节\) to: '13.02.2027' is not a date"),
        ("date: 2027-02-14", "date: 2027-02-15", r"make_up_workdays\[0\] 2027-02-15 is a weekday \(星期一\)"),
        ("date: 2027-02-14", "date: 2027-02-13", r"2027-02-13 lies inside the holiday 春节"),
        (
            "{name: 春节, from: 2027-02-05, to: 2027-02-13}",
            "{name: 春节, from: 2027-01-03, to: 2027-01-08}",
            r"holidays 元旦 \(2027-01-01 to 2027-01-03\) and 春节 \(2027-01-03 to 2027-01-08\) overlap",
        ),
        ("to: 2027-02-13", "to: 2027-02-01", r"holidays\[1\] \(春节\): to 2027-02-01 is before from 2027-02-05"),
        ("to: 2027-02-13", "to: 2027-03-13", r"2027-02-05 to 2027-03-13 is 37 days, more than 14"),
        ("from: 2027-01-01", "from: 2026-11-30", r"holidays\[0\] \(元旦\) from: 2026-11-30 is outside 2027"),
        ("for: 春节", "for: 国庆节", r"make_up_workdays\[0\]: for '国庆节' must name one of the holidays"),
        ("year: 2027", "year: 2028", r"year: 2028 does not match the file name 2027\.yaml"),
        ("make_up_workdays:", "make_up_workday:", r"unknown key `make_up_workday`"),
        ("make_up_workdays:", "make_up_workday:", r"missing `make_up_workdays`"),
        ("{name: 元旦,", "{name: 元旦, day: 2027-01-01,", r"holidays\[0\] \(元旦\): unknown key `day`"),
        ("notice: 国务院", "year: 2027\nnotice: 国务院", r"duplicate key 'year'"),
        (
            "  - {date: 2027-02-14, for: 春节}",
            "  - {date: 2027-02-14, for: 春节}\n  - {date: 2027-02-14, for: 春节}",
            r"make_up_workdays\[1\] 2027-02-14 is listed twice",
        ),
        ("holidays:\n", "holidays: [\n", r"not readable YAML"),
    ],
)
def test_a_bad_office_file_is_refused_naming_the_file_and_the_entry(no_office_files, old, new, message):
    assert old in GOOD
    path = write(no_office_files, 2027, GOOD.replace(old, new, 1))
    with pytest.raises(HolidayFileError, match=message) as caught:
        load_notice(path)
    assert str(path) in str(caught.value)
    assert caught.value.path == path


def test_the_good_file_is_accepted(no_office_files):
    notice = load_notice(write(no_office_files, 2027, GOOD))
    assert (notice.year, [h.name for h in notice.holidays], [m.date for m in notice.make_up_workdays]) == (
        2027,
        ["元旦", "春节"],
        [D(2027, 2, 14)],
    )


def test_every_problem_of_a_file_is_named_at_once(no_office_files):
    bad = GOOD.replace("to: 2027-02-13", "to: 2027-02-30").replace("date: 2027-02-14", "date: 2027-02-15")
    path = write(no_office_files, 2027, bad)
    with pytest.raises(HolidayFileError) as caught:
        load_notice(path)
    assert len(caught.value.problems) == 2


def test_a_bad_office_file_stops_the_deadline_instead_of_being_skipped(no_office_files):
    write(no_office_files, 2027, GOOD.replace("date: 2027-02-14", "date: 2027-02-15"))
    with pytest.raises(HolidayFileError, match="2027.yaml"):
        rectification_due(D(2026, 12, 1))
    # the same for a year whose December the file could reach back into
    with pytest.raises(HolidayFileError, match="2027.yaml"):
        is_working_day(D(2026, 12, 28))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("- 2027-01-01\n", "must be a mapping"),
        ("year: 2027\nnotice: ''\nholidays: []\nmake_up_workdays:\n", r"notice: the title"),
        ("year: 2027\nnotice: x\nholidays: []\nmake_up_workdays: []\n", r"holidays: a non-empty list"),
        (
            "year: 2027\nnotice: x\nholidays: [{name: 元旦, from: 2027-01-01, to: 2027-01-01}]\nmake_up_workdays:\n",
            r"make_up_workdays: a list .* `\[\]` when",
        ),
    ],
)
def test_malformed_files(no_office_files, text, message):
    with pytest.raises(HolidayFileError, match=message):
        load_notice(write(no_office_files, 2027, text))


def test_due_text():
    assert calendar.due_text("2027-01-13", 1) == "2027-01-13（暂定 provisional）"
    assert calendar.due_text(D(2026, 12, 8), 0) == "2026-12-08"
    assert calendar.due_text(None, 1) == ""
