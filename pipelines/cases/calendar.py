"""Working days (工作日) for the deadlines of 四定一限, from the best source there is for each year.

A working day is what the State Council's yearly holiday notice (国务院办公厅关于<year>年部分节假日安排的通知)
makes it: Monday to Friday except the holidays (放假), plus the weekend days it turns into make-up working
days (调休上班). Each year's arrangement comes from the first of three sources that has it
(docs/adr/0016-working-day-calendar.md):

1. ``official``  — the `chinesecalendar` package, for the years it covers (1.11.0: 2004–2026);
2. ``office``    — `schemas/holidays/<year>.yaml`, which the office copies from the notice as soon as it is
   published (format and rules: `schemas/holidays/README.md`; validated strictly, `HolidayFileError`);
3. ``statutory`` — the statutory holidays of the year (法定节假日, with their 补假 days in lieu) from the
   `holidays` package, Monday to Friday otherwise. The notice's 调休 is not known yet, so a deadline that
   counts any such day is **provisional (暂定)**, and the nightly run recomputes it
   (`pipelines.cases.deadlines.recompute_provisional`) once the arrangement arrives.

The calendar never refuses a year a case can have: the `holidays` package covers 1950–2100, and only a
date outside that raises `CalendarNotCovered`.

A notice can reach back into the previous December (the 2012 notice made Saturday 2011-12-31 a working
day). Such days in an office file decide those December days, even in a year `chinesecalendar` covers,
because the notice is newer than the package's data for that year.

Counting: "n working days after a date" does not count the date itself (期限从次日起算), so a
case assigned on a Friday before a plain weekend is due, for n = 1, on the Monday.

The module functions use `CALENDAR`, one `Calendar` over `schemas/holidays/`, which caches every year
it has looked at; tests give it another folder (`CALENDAR.folder = tmp_path`, or their own `Calendar`).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import chinese_calendar
import yaml

# 限期整改: a confirmed problem is rectified within 30 working days of the assignment.
RECTIFICATION_WORKING_DAYS = 30
# 要情报告: a confirmed case is reported within 5 working days of its confirmation.
REPORT_WORKING_DAYS = 5

HOLIDAYS_DIR = Path(__file__).resolve().parents[2] / "schemas" / "holidays"

OFFICIAL, OFFICE, STATUTORY = "official", "office", "statutory"
SOURCES = (OFFICIAL, OFFICE, STATUTORY)  # in order of precedence
SOURCE_ZH = {
    OFFICIAL: "官方日历 official (chinesecalendar)",
    OFFICE: "本处据国务院通知维护 office (schemas/holidays)",
    STATUTORY: "仅法定节假日（暂定）statutory only (provisional)",
}
PROVISIONAL_ZH = "暂定 provisional"

# An office holiday range longer than this is a typo (the longest arrangement so far is 9 days).
MAX_HOLIDAY_DAYS = 14

_ONE_DAY = dt.timedelta(days=1)
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class CalendarError(ValueError):
    """No working-day deadline can be computed: the base of every calendar error."""


class CalendarNotCovered(CalendarError):
    """A year no source has, not even the statutory holidays (before 1950 or after 2100): a mistyped date."""

    def __init__(self, year: int) -> None:
        self.year = year
        super().__init__(
            f"{year}年无任何节假日数据: no holiday source covers {year} (the statutory fallback covers 1950–2100); "
            f"the date is almost certainly mistyped"
        )


class HolidayFileError(CalendarError):
    """An office holiday file (`schemas/holidays/<year>.yaml`) that does not follow the format."""

    def __init__(self, path: Path, problems: list[str]) -> None:
        self.path = path
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"节假日安排文件有误 invalid holiday file {path}:\n{lines}")


def due_text(day: str | dt.date | None, provisional: bool | int | None) -> str:
    """A deadline as an official reads it: `2027-01-13（暂定 provisional）` when provisional, else the date."""
    if day is None or day == "":
        return ""
    text = day.isoformat() if isinstance(day, dt.date) else str(day)
    return f"{text}（{PROVISIONAL_ZH}）" if provisional else text


@dataclass(frozen=True)
class Deadline:
    """A working-day deadline and where the days it counted came from.

    `sources`: the sources of every day from the day after the start up to `date` (in `SOURCES` order);
    `provisional`: one of them was the statutory fallback, so the 调休 of that year was not known.
    """

    date: dt.date
    provisional: bool
    sources: tuple[str, ...]

    def isoformat(self) -> str:
        return self.date.isoformat()

    @property
    def text(self) -> str:
        return due_text(self.date, self.provisional)


# ---- the office's files ----------------------------------------------------------------------


@dataclass(frozen=True)
class Holiday:
    name: str
    first: dt.date
    last: dt.date

    def days(self) -> Iterator[dt.date]:
        day = self.first
        while day <= self.last:
            yield day
            day += _ONE_DAY


@dataclass(frozen=True)
class MakeUpWorkday:
    date: dt.date
    for_holiday: str


@dataclass(frozen=True)
class Notice:
    """One year's arrangement as the office copied it from the State Council notice."""

    year: int
    notice: str
    holidays: tuple[Holiday, ...]
    make_up_workdays: tuple[MakeUpWorkday, ...]
    path: Path

    def listed_days(self) -> dict[dt.date, bool]:
        """Every day the notice names: date -> is it a working day."""
        days = {day: False for holiday in self.holidays for day in holiday.days()}
        days.update((m.date, True) for m in self.make_up_workdays)
        return days


class _StrictLoader(yaml.SafeLoader):
    """Safe YAML without implicit timestamps (dates stay text and are parsed here, with a clear error) and
    without duplicate keys (PyYAML would keep the last one silently)."""

    def construct_mapping(self, node, deep=False):  # type: ignore[no-untyped-def]
        seen: set[object] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r} 重复的键", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


_StrictLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}

_TOP_REQUIRED = ("year", "notice", "holidays", "make_up_workdays")
_TOP_OPTIONAL = ("document_number", "published_on", "note")
_WEEKDAY_ZH = "一二三四五六日"


def load_notice(path: Path) -> Notice:
    """Read and validate one office file; every problem found is named in one `HolidayFileError`."""
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_StrictLoader)
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise HolidayFileError(path, [f"not readable YAML 无法解析: {exc}"]) from exc
    if not isinstance(data, dict):
        raise HolidayFileError(path, ["the file must be a mapping with the keys " + ", ".join(_TOP_REQUIRED)])
    problems: list[str] = []
    _exact_keys(data, _TOP_REQUIRED, "the file", problems, optional=_TOP_OPTIONAL)
    year = int(path.stem) if re.fullmatch(r"\d{4}", path.stem) else None
    if year is None:
        problems.append(f"the file name must be <year>.yaml, e.g. 2027.yaml, not {path.name}")
    elif "year" in data and (type(data["year"]) is not int or data["year"] != year):
        problems.append(f"year: {data['year']!r} does not match the file name {path.name}")
    notice = data.get("notice")
    if "notice" in data and (not isinstance(notice, str) or not notice.strip()):
        problems.append("notice: the title of the State Council notice it was copied from (国务院办公厅关于…的通知)")
    if "published_on" in data:
        _date(data["published_on"], "published_on", problems)
    holidays = _holidays(data.get("holidays"), "holidays" in data, year, problems)
    raw_holidays = data.get("holidays")
    # every holiday named, valid or not: a make-up day for a holiday with a bad date is not a second problem
    names = (
        {h["name"] for h in raw_holidays if isinstance(h, dict) and isinstance(h.get("name"), str)}
        if isinstance(raw_holidays, list)
        else set()
    )
    make_up = _make_up_workdays(
        data.get("make_up_workdays"), "make_up_workdays" in data, holidays, names, year, problems
    )
    if problems:
        raise HolidayFileError(path, problems)
    assert year is not None and isinstance(notice, str)
    return Notice(year, notice.strip(), holidays, make_up, path)


def _in_year(day: dt.date | None, year: int | None, where: str, problems: list[str]) -> None:
    """A notice lists days of its year, and of the December before it (a New Year arrangement reaching back)."""
    if day is not None and year is not None and not (dt.date(year - 1, 12, 1) <= day <= dt.date(year, 12, 31)):
        problems.append(f"{where}: {day} is outside {year} (only {year} and December {year - 1} may be listed)")


def _holidays(raw: object, present: bool, year: int | None, problems: list[str]) -> tuple[Holiday, ...]:
    if not present:
        return ()
    if not isinstance(raw, list) or not raw:
        problems.append("holidays: a non-empty list of {name, from, to} entries")
        return ()
    holidays: list[Holiday] = []
    for i, entry in enumerate(raw):
        where = f"holidays[{i}]"
        if not isinstance(entry, dict):
            problems.append(f"{where}: must be a mapping with name, from, to (got {entry!r})")
            continue
        name = entry.get("name")
        if isinstance(name, str) and name.strip():
            where = f"holidays[{i}] ({name})"
        else:
            problems.append(f"{where}: name must be the holiday's name as the notice gives it (元旦, 春节 …)")
        _exact_keys(entry, ("name", "from", "to"), where, problems)
        first = _date(entry.get("from"), f"{where} from", problems)
        last = _date(entry.get("to"), f"{where} to", problems)
        _in_year(first, year, f"{where} from", problems)
        _in_year(last, year, f"{where} to", problems)
        if first is None or last is None:
            continue
        days = (last - first).days + 1
        if last < first:
            problems.append(f"{where}: to {last} is before from {first}")
        elif days > MAX_HOLIDAY_DAYS:
            problems.append(f"{where}: {first} to {last} is {days} days, more than {MAX_HOLIDAY_DAYS}: a typo?")
        else:
            holidays.append(Holiday(str(name), first, last))
    for i, a in enumerate(holidays):
        for b in holidays[i + 1 :]:
            if a.first <= b.last and b.first <= a.last:
                problems.append(
                    f"holidays {a.name} ({a.first} to {a.last}) and {b.name} ({b.first} to {b.last}) overlap 重叠"
                )
    return tuple(holidays)


def _make_up_workdays(
    raw: object,
    present: bool,
    holidays: tuple[Holiday, ...],
    names: set[str],
    year: int | None,
    problems: list[str],
) -> tuple[MakeUpWorkday, ...]:
    if not present:
        return ()
    if not isinstance(raw, list):
        problems.append("make_up_workdays: a list of {date, for} entries; `[]` when the notice has no 调休上班 day")
        return ()
    make_up: list[MakeUpWorkday] = []
    seen: dict[dt.date, str] = {}
    for i, entry in enumerate(raw):
        where = f"make_up_workdays[{i}]"
        if not isinstance(entry, dict):
            problems.append(f"{where}: must be a mapping with date, for (got {entry!r})")
            continue
        _exact_keys(entry, ("date", "for"), where, problems)
        day = _date(entry.get("date"), f"{where} date", problems)
        for_holiday = entry.get("for")
        if not isinstance(for_holiday, str) or for_holiday not in names:
            problems.append(f"{where}: for {for_holiday!r} must name one of the holidays ({', '.join(sorted(names))})")
        if day is None:
            continue
        where = f"{where} {day}"
        _in_year(day, year, where, problems)
        if day.weekday() < 5:
            problems.append(
                f"{where} is a weekday (星期{_WEEKDAY_ZH[day.weekday()]}): a make-up workday (调休上班) is a Saturday "
                f"or Sunday; a weekday is a working day anyway"
            )
        inside = [h.name for h in holidays if h.first <= day <= h.last]
        if inside:
            problems.append(f"{where} lies inside the holiday {inside[0]}: a day cannot be both off and worked")
        if day in seen:
            problems.append(f"{where} is listed twice (also {seen[day]})")
        seen[day] = where
        make_up.append(MakeUpWorkday(day, str(for_holiday)))
    return tuple(make_up)


def _exact_keys(
    entry: dict[object, object],
    keys: tuple[str, ...],
    where: str,
    problems: list[str],
    optional: tuple[str, ...] = (),
) -> None:
    for key in keys:
        if key not in entry:
            problems.append(f"{where}: missing `{key}` 缺少")
    for key in entry:
        if key not in keys + optional:
            problems.append(f"{where}: unknown key `{key}` 未知的键 (allowed: {', '.join(keys + optional)})")


def _date(value: object, where: str, problems: list[str]) -> dt.date | None:
    if value is None:
        return None  # reported as missing by the caller
    if isinstance(value, str) and _ISO_DATE.fullmatch(value.strip()):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    problems.append(f"{where}: {value!r} is not a date (YYYY-MM-DD) 不是有效日期")
    return None


def check_folder(folder: Path) -> list[int]:
    """Validate every file of an office holiday folder; the years it holds. Raises on the first bad file,
    and on a file whose name the calendar would never read (`2027.yml`, `2027-draft.yaml`)."""
    years = []
    for path in sorted(folder.iterdir()):
        if path.name == "README.md" or path.name.startswith("."):
            continue
        if not re.fullmatch(r"\d{4}\.yaml", path.name):
            raise HolidayFileError(path, ["not <year>.yaml: the calendar reads only files named like 2027.yaml"])
        years.append(load_notice(path).year)
    return years


# ---- one year's arrangement -----------------------------------------------------------------


@dataclass(frozen=True)
class YearArrangement:
    """The days off and make-up working days of one year, and the source they came from."""

    year: int
    source: str
    holidays: frozenset[dt.date]
    make_up_workdays: frozenset[dt.date]
    # days of this year's December set by the next year's office file (its New Year reaching back)
    from_next_notice: frozenset[dt.date] = frozenset()

    def is_working_day(self, day: dt.date) -> bool:
        return day in self.make_up_workdays or (day.weekday() < 5 and day not in self.holidays)

    def source_of(self, day: dt.date) -> str:
        return OFFICE if day in self.from_next_notice else self.source


def _official_covers(year: int) -> bool:
    try:
        chinese_calendar.is_workday(dt.date(year, 1, 1))
    except NotImplementedError:  # the package's signal for a year outside its data
        return False
    return True


def _statutory(year: int) -> tuple[frozenset[dt.date], frozenset[dt.date]]:
    """The `holidays` package's China for the year: statutory days and their 补假 (and a 调休 it may carry)."""
    import holidays as holidays_package  # imported when first needed: it takes a while to load

    if not holidays_package.China.start_year <= year <= holidays_package.China.end_year:
        raise CalendarNotCovered(year)
    china = holidays_package.China(years=year)
    days_off = frozenset(day for day in china if day.year == year)
    worked = frozenset(day for day in china.weekend_workdays if day.year == year)
    return days_off, worked


class Calendar:
    """Working days over one holiday folder, each year looked up once (a case list counts thousands)."""

    def __init__(self, folder: Path = HOLIDAYS_DIR) -> None:
        self._folder = Path(folder)
        self._years: dict[int, YearArrangement] = {}
        self._notices: dict[int, Notice | None] = {}

    @property
    def folder(self) -> Path:
        return self._folder

    @folder.setter
    def folder(self, folder: Path) -> None:
        self._folder = Path(folder)
        self.refresh()

    def refresh(self) -> None:
        """Forget every year looked up: the folder is read again (a nightly recompute starts with this)."""
        self._years.clear()
        self._notices.clear()

    def notice(self, year: int) -> Notice | None:
        """The office file of `year`, validated, or None when there is none."""
        if year not in self._notices:
            path = self._folder / f"{year}.yaml"
            self._notices[year] = load_notice(path) if path.is_file() else None
        return self._notices[year]

    def year_source(self, year: int) -> str:
        """'official' | 'office' | 'statutory': where the arrangement of `year` comes from."""
        return self.arrangement(year).source

    def arrangement(self, year: int) -> YearArrangement:
        found = self._years.get(year)
        if found is None:
            found = self._years[year] = self._build(year)
        return found

    def _build(self, year: int) -> YearArrangement:
        if _official_covers(year):
            source = OFFICIAL
            days_off = frozenset(d for d in chinese_calendar.holidays if d.year == year)
            worked = frozenset(d for d in chinese_calendar.workdays if d.year == year)
        elif (notice := self.notice(year)) is not None:
            source = OFFICE
            listed = {d: w for d, w in notice.listed_days().items() if d.year == year}
            days_off = frozenset(d for d, w in listed.items() if not w)
            worked = frozenset(d for d, w in listed.items() if w)
        else:
            source = STATUTORY
            days_off, worked = _statutory(year)
        # the next year's notice, when the office holds it (and the package does not), decides the
        # December days it names
        following = None if _official_covers(year + 1) else self.notice(year + 1)
        reaching_back = {d: w for d, w in following.listed_days().items() if d.year == year} if following else {}
        if reaching_back:
            days_off = (days_off - reaching_back.keys()) | {d for d, w in reaching_back.items() if not w}
            worked = (worked - reaching_back.keys()) | {d for d, w in reaching_back.items() if w}
        return YearArrangement(year, source, days_off, worked, frozenset(reaching_back))

    def is_working_day(self, day: dt.date) -> bool:
        return self.arrangement(day.year).is_working_day(day)

    def source_of(self, day: dt.date) -> str:
        return self.arrangement(day.year).source_of(day)

    def deadline(self, start: dt.date, n: int) -> Deadline:
        """The n-th working day after `start` (`start` itself not counted; n >= 1), with its sources."""
        if n < 1:
            raise ValueError(f"n must be at least 1 working day, got {n}")
        day, used = start, set()
        while n:
            day += _ONE_DAY
            year = self.arrangement(day.year)
            used.add(year.source_of(day))
            n -= year.is_working_day(day)
        sources = tuple(s for s in SOURCES if s in used)
        return Deadline(day, STATUTORY in used, sources)

    def working_days_between(self, start: dt.date, end: dt.date) -> int:
        if end < start:
            return -self.working_days_between(end, start)
        count = 0
        day = start
        while day < end:
            day += _ONE_DAY
            count += self.is_working_day(day)
        return count


CALENDAR = Calendar()


def year_source(year: int) -> str:
    """'official' (chinesecalendar) | 'office' (schemas/holidays/<year>.yaml) | 'statutory' (provisional)."""
    return CALENDAR.year_source(year)


def is_working_day(day: dt.date) -> bool:
    """True when `day` is a working day (工作日), 调休 make-up working days included."""
    return CALENDAR.is_working_day(day)


def add_working_days(start: dt.date, n: int) -> dt.date:
    """The n-th working day after `start` (`start` itself not counted; n >= 1). `deadline` says its sources."""
    return CALENDAR.deadline(start, n).date


def deadline(start: dt.date, n: int) -> Deadline:
    """The n-th working day after `start`, with the sources of the days counted and whether it is provisional."""
    return CALENDAR.deadline(start, n)


def working_days_between(start: dt.date, end: dt.date) -> int:
    """Working days in (start, end]; negative, -working_days_between(end, start), when end is before start.

    So `working_days_between(start, add_working_days(start, n)) == n`, and
    `working_days_between(today, due_date)` is the working days left (negative once overdue).
    """
    return CALENDAR.working_days_between(start, end)


def rectification_due(on: dt.date) -> Deadline:
    """整改期限 (限期整改): 30 working days after the case was assigned `on`."""
    return CALENDAR.deadline(on, RECTIFICATION_WORKING_DAYS)


def report_due(on: dt.date) -> Deadline:
    """要情报告期限: 5 working days after the case was confirmed `on`."""
    return CALENDAR.deadline(on, REPORT_WORKING_DAYS)
