"""Reading the sources of the reports, read-only, and the periods they cover.

* the case register (SQLite, `pipelines.cases.register.reader`, mode=ro): `cases_at`, `events_between`;
* the DuckDB file (`pipelines.warehouse.session.reader`): `duck_rows`;
* period helpers: a month or half-year's bounds, the cut-off day of a period report, YYYYMM.

Queries are files in `sql/reports/`, values bound as parameters. Money comes back as `Decimal`.
"""

from __future__ import annotations

import datetime as dt
import re
import sqlite3
from decimal import Decimal
from typing import Any

import duckdb

from pipelines.cases.register import CLOSED
from pipelines.cases.reports.common import NO_REGION
from pipelines.present.money import ZERO
from pipelines.warehouse.sql import read_sql


def duck_rows(con: duckdb.DuckDBPyConnection, name: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    """The rows of `sql/reports/<name>` as dicts (column name -> value)."""
    relation = con.sql(read_sql(f"reports/{name}"), params=params)
    columns = relation.columns
    return [dict(zip(columns, values, strict=True)) for values in relation.fetchall()]


def _dec(text: Any) -> Decimal:
    return ZERO if text is None or text == "" else Decimal(str(text))


def cases_at(con: sqlite3.Connection, day: dt.date) -> list[dict[str, Any]]:
    """Every case first seen by `day`, with its status then, overdue flag, region and exact amounts."""
    iso = day.isoformat()
    rows = [dict(r) for r in con.execute(read_sql("reports/register_cases_at.sql"), {"day": iso})]
    for r in rows:
        r["amount"] = _dec(r["amount_at_risk"])
        recovered = r["rectified_on"] is not None and r["rectified_on"] <= iso
        r["recovered"] = _dec(r["recovered_amount"]) if recovered else ZERO
        r["overdue"] = bool(r["due_date"]) and r["due_date"] < iso and r["status_at"] not in CLOSED
        r["region"] = r["assigned_region"] or r["region_code"] or NO_REGION
    return rows


def events_between(con: sqlite3.Connection, date_from: dt.date, date_to: dt.date) -> list[dict[str, Any]]:
    params = {"date_from": date_from.isoformat(), "date_to": date_to.isoformat()}
    rows = [dict(r) for r in con.execute(read_sql("reports/register_events_between.sql"), params)]
    for r in rows:
        r["amount"] = _dec(r["amount_at_risk"])
        r["region"] = r["assigned_region"] or r["region_code"] or NO_REGION
    return rows


# ---- periods ------------------------------------------------------------------------------------


def between(value: str | None, date_from: dt.date, date_to: dt.date) -> bool:
    return value is not None and date_from.isoformat() <= value[:10] <= date_to.isoformat()


def month_bounds(month: str) -> tuple[dt.date, dt.date]:
    if not re.fullmatch(r"[0-9]{4}(0[1-9]|1[0-2])", month):  # ASCII digits: it names files
        raise ValueError(f"month must be YYYYMM, got {month!r}")
    first = dt.date(int(month[:4]), int(month[4:]), 1)
    following = dt.date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return first, following - dt.timedelta(days=1)


def half_bounds(year: int, half: int | None) -> tuple[dt.date, dt.date]:
    if half is None:
        return dt.date(year, 1, 1), dt.date(year, 12, 31)
    if half == 1:
        return dt.date(year, 1, 1), dt.date(year, 6, 30)
    if half == 2:
        return dt.date(year, 7, 1), dt.date(year, 12, 31)
    raise ValueError(f"half must be 1, 2 or None (the whole year), got {half!r}")


def cutoff_day(period_end: dt.date, as_of: dt.date | None, today: dt.date) -> dt.date:
    """The cut-off day of a period report: `as_of` if given, else the period's last day or `today` if earlier."""
    return as_of if as_of is not None else min(period_end, today)


def yyyymm(day: dt.date) -> str:
    return f"{day.year:04d}{day.month:02d}"
