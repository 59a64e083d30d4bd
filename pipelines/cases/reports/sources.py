"""Reading the sources of the reports, once each, read-only, and the state of the cases on a day.

A report reads each source once, in one read transaction (one snapshot), and computes every section from
those rows: no section queries with its own filter (docs/adr/0019-report-time-base.md).

* the case register (SQLite, `pipelines.cases.register.reader`, mode=ro): `read_register` -> every case,
  every event, every amount of `case_money`;
* the DuckDB file (`pipelines.warehouse.session.reader`): `read_warehouse` -> every nightly run, the
  near-miss ledger/bank pairs named in the findings' evidence, and (for a period report) the fund figures of
  the period's months;
* `cases_at(register, day, pairs)`: every case first seen by a day as it stood that day — status replayed
  from the events, money summed from `case_money` by `on_date`, overdue, region, and the money of a
  near-miss pair carried once (`carry_pairs`);
* period helpers: a month or half-year's bounds, the cut-off day of a work-period report, YYYYMM.

Queries are files in `sql/reports/`, values bound as parameters. Money comes back as `Decimal`.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import sqlite3
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

from pipelines.cases import register as case_register
from pipelines.cases.register import CLOSED
from pipelines.cases.reports.common import NO_REGION
from pipelines.present.money import ZERO
from pipelines.warehouse import session
from pipelines.warehouse.sql import read_sql

# Where a case stands in the cycle, furthest first: the case of a near-miss pair that carries the pair's money
# is the one furthest along (a confirmed side counts among the confirmed, whatever the other side's state).
STATUS_RANK = {
    "rectified": 5,
    "partially_recovered": 4,
    "confirmed": 3,
    "under_verification": 2,
    "open": 1,
    "dismissed": 0,
}
MONEY_KINDS = ("recovered", "written_off", "excess")


# ---- the register --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RegisterSnapshot:
    """Every row of the register a report uses, read in one transaction."""

    cases: list[dict[str, Any]]
    events: list[dict[str, Any]]
    money: list[dict[str, Any]]
    voided: frozenset[int] = field(default_factory=frozenset)  # events a correction (更正) voided
    blacklist: list[dict[str, Any]] = field(default_factory=list)  # every entry ever made, with its removal
    also: dict[str, Any] = field(default_factory=dict)  # what the report asked besides (`read_register(also=...)`)


def _sqlite_rows(con: sqlite3.Connection, name: str) -> list[dict[str, Any]]:
    return [dict(r) for r in con.execute(read_sql(f"reports/{name}"))]


def read_register(
    path: Path, *, also: Mapping[str, Callable[[sqlite3.Connection], Any]] | None = None
) -> RegisterSnapshot:
    """The register's cases, events, money and blacklist, one read transaction (a writer committing meanwhile is not
    seen). `also`: more a report reads of the register (closing reports, inspections), each a function of the
    connection, asked inside the same transaction; their answers are `also[name]` of the snapshot."""
    with case_register.reader(path) as con:
        con.isolation_level = None
        con.execute("BEGIN")
        try:
            cases = _sqlite_rows(con, "register_cases.sql")
            events = _sqlite_rows(con, "register_events.sql")
            has_money = con.execute("SELECT 1 FROM sqlite_master WHERE name = 'case_money'").fetchone()
            money = _sqlite_rows(con, "register_money.sql") if has_money else []
            has_blacklist = con.execute("SELECT 1 FROM sqlite_master WHERE name = 'blacklist'").fetchone()
            blacklist = _sqlite_rows(con, "blacklist_changes.sql") if has_blacklist else []
            asked = {name: read(con) for name, read in (also or {}).items()}
        finally:
            con.execute("COMMIT")
    corrections = (json.loads(e["details"]) for e in events if e["action"] == "correct" and e["details"])
    voided = frozenset(int(d["voids"]) for d in corrections if d.get("voids") is not None)
    return RegisterSnapshot(cases=cases, events=events, money=money, voided=voided, blacklist=blacklist, also=asked)


# ---- the DuckDB file -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class WarehouseSnapshot:
    """What a report takes from the DuckDB file, read in one transaction."""

    runs: list[dict[str, Any]]
    pairs: list[dict[str, Any]]  # near-miss ledger/bank pairs: pair_key, ledger_subject, bank_subject, amount
    fund: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # benefits, contributions, ledger
    also: dict[str, Any] = field(default_factory=dict)  # what the report asked besides (`read_warehouse(also=...)`)


def duck_rows(con: duckdb.DuckDBPyConnection, name: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    """The rows of `sql/reports/<name>` as dicts (column name -> value)."""
    cursor = con.execute(read_sql(f"reports/{name}"), params)
    columns = [d[0] for d in cursor.description]
    return [dict(zip(columns, values, strict=True)) for values in cursor.fetchall()]


def read_warehouse(
    db: Path,
    *,
    memory_limit: str,
    months: tuple[str, str] | None = None,
    dates: tuple[dt.date, dt.date] | None = None,
    also: Mapping[str, Callable[[duckdb.DuckDBPyConnection], Any]] | None = None,
) -> WarehouseSnapshot:
    """Runs and near-miss pairs; with `months` (YYYYMM, YYYYMM) and `dates`, the fund figures of the period; `also`:
    more a report reads (the indicators' history), each asked inside the same transaction (`also[name]`)."""
    db = Path(db)
    if not db.is_file():
        raise FileNotFoundError(f"数据库不存在 no DuckDB file at {db.resolve()}")
    with session.reader(db, memory_limit=memory_limit) as con:
        con.execute("BEGIN TRANSACTION")
        try:
            runs = duck_rows(con, "runs.sql", {})
            pairs = duck_rows(con, "ledger_bank_pairs.sql", {})
            fund: dict[str, list[dict[str, Any]]] = {}
            if months is not None and dates is not None:
                period = {"period_from": months[0], "period_to": months[1]}
                fund["benefits"] = duck_rows(con, "fund_benefits.sql", period)
                fund["contributions"] = duck_rows(con, "fund_contributions.sql", period)
                fund["ledger"] = duck_rows(con, "fund_ledger.sql", {"date_from": dates[0], "date_to": dates[1]})
            asked = {name: read(con) for name, read in (also or {}).items()}
        finally:
            con.execute("COMMIT")
    return WarehouseSnapshot(runs=runs, pairs=pairs, fund=fund, also=asked)


# ---- the cases on a day --------------------------------------------------------------------------------


def _dec(text: Any) -> Decimal:
    return ZERO if text is None or text == "" else Decimal(str(text))


def _day(value: Any) -> str:
    return str(value)[:10]


def cases_at(
    register: RegisterSnapshot, day: dt.date, pairs: list[dict[str, Any]] | None = None
) -> list[dict[str, Any]]:
    """Every case first seen by `day`, as it stood that day, with its money carried once per near-miss pair.

    Per case: `status_at` (the status set by the last event dated by that day — the date the register gives
    it, sql/reports/register_events.sql — events a correction voided left out; a case without events keeps
    its status), `overdue`, `region`, the days it entered each status
    (`entered`: status -> [dates]) and whether it was assigned (`assigned_dates`); `own_amount` (its amount at
    risk) and `amount` (what totals count, `carry_pairs`); `recovered`, `written_off`, `excess` by `on_date`.
    """
    iso = day.isoformat()
    by_case: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for e in register.events:
        by_case[e["suspect_id"]].append(e)
    rows = []
    for case in register.cases:
        if case["first_seen"] > iso:
            continue
        r = dict(case)
        history = by_case.get(r["suspect_id"], [])
        live = [e for e in history if e["event_id"] not in register.voided and e["event_date"] <= iso]
        changes = [e for e in live if e["to_status"] is not None]
        r["status_at"] = changes[-1]["to_status"] if changes else ("open" if history else r["status"])
        r["entered"] = defaultdict(list)
        for e in changes:
            if e["from_status"] != e["to_status"]:
                r["entered"][e["to_status"]].append(e["event_date"])
        r["assigned_dates"] = [e["event_date"] for e in live if e["action"] == "assign"]
        r["dismissed_reason_at"] = next(
            (e["reason"] for e in reversed(changes) if e["to_status"] == "dismissed"), r["dismissed_reason"]
        )
        r["overdue"] = bool(r["due_date"]) and r["due_date"] < iso and r["status_at"] not in CLOSED
        r["region"] = r["assigned_region"] or r["region_code"] or NO_REGION
        r["due_provisional"] = bool(r.get("due_provisional") or 0)
        r["report_due_provisional"] = bool(r.get("report_due_provisional") or 0)
        r["own_amount"] = _dec(r["amount_at_risk"])
        rows.append(r)
    _money_at(rows, register, iso)
    carry_pairs(rows, pairs or [])
    return rows


def _money_at(rows: list[dict[str, Any]], register: RegisterSnapshot, iso: str) -> None:
    """recovered / written_off / excess of each case on a day: `case_money` rows with on_date <= day.

    Recovered money counts toward the amount at risk up to that amount; anything above it is excess
    (罚没 …), never a recovery above 100%. Money recorded before `case_money` existed (registers older than
    issue 12) is read from its rectify events (`recovered_now`, on the event's day), or, for a case with
    neither, from `recovered_amount` on its `rectified_on`.
    """
    sums: dict[str, dict[str, Decimal]] = defaultdict(lambda: dict.fromkeys(MONEY_KINDS, ZERO))
    with_money = set()
    for m in register.money:
        with_money.add(m["suspect_id"])
        if _day(m["on_date"]) <= iso:
            sums[m["suspect_id"]][m["kind"]] += _dec(m["amount"])
    for e in register.events:
        if e["action"] != "rectify" or not e["details"] or e["event_id"] in register.voided:
            continue
        details = json.loads(e["details"])
        if "set" in details or "recovered_now" not in details:
            continue  # an event of the money model: its amounts are case_money rows
        with_money.add(e["suspect_id"])
        if e["event_date"] <= iso:
            sums[e["suspect_id"]]["recovered"] += _dec(details["recovered_now"])
    for r in rows:
        own = sums[r["suspect_id"]]
        recovered, written_off, excess = own["recovered"], own["written_off"], own["excess"]
        if r["suspect_id"] not in with_money and r["recovered_amount"] and r["rectified_on"]:
            recovered = _dec(r["recovered_amount"]) if _day(r["rectified_on"]) <= iso else ZERO
        toward = min(recovered, r["own_amount"])
        r["own_recovered"], r["own_written_off"] = toward, written_off
        r["own_excess"] = excess + (recovered - toward)


def carry_pairs(rows: list[dict[str, Any]], pairs: list[dict[str, Any]]) -> None:
    """The money of a near-miss ledger/bank pair counted once: `amount`, `recovered`, `written_off`, `excess`.

    The cases of linked findings (a ledger entry and a bank movement that differ only by the date window,
    RECON_LEDGER_BANK) form one unit: the unit's amount at risk is the sum of its cases' amounts less the
    amount of each pair (it is one movement), carried by one case — the one furthest along the cycle on the
    day, the ledger side on a tie — and the others count 0.00, naming it (`carried_by`). The unit's money is
    carried the same way; recovered money above the unit's amount counts as excess. Both cases stay and are
    counted as cases; only amounts are carried. Every other case carries its own figures.
    """
    for r in rows:
        r["amount"], r["recovered"] = r["own_amount"], r["own_recovered"]
        r["written_off"], r["excess"] = r["own_written_off"], r["own_excess"]
        r["carried_by"], r["pair_with"] = None, []
    by_subject = {r["subject_id"]: r for r in rows if r["rule"] == "RECON_LEDGER_BANK"}
    parent: dict[str, str] = {}

    def root(sid: str) -> str:
        while parent.get(sid, sid) != sid:
            sid = parent[sid]
        return sid

    linked: dict[str, Decimal] = defaultdict(lambda: ZERO)  # pair amounts per component root, summed later
    edges = []
    for p in pairs:
        ledger, bank = by_subject.get(p["ledger_subject"]), by_subject.get(p["bank_subject"])
        if ledger is None or bank is None:
            continue  # a side not (yet) in the register on that day: nothing counted twice
        edges.append((ledger, bank, _dec(p["amount"])))
        parent[root(ledger["suspect_id"])] = root(bank["suspect_id"])
        ledger["pair_with"].append(bank["suspect_id"])
        bank["pair_with"].append(ledger["suspect_id"])
    if not edges:
        return
    members: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in by_subject.values():
        if r["pair_with"]:
            members[root(r["suspect_id"])].append(r)
    for ledger, _, amount in edges:
        linked[root(ledger["suspect_id"])] += amount
    for key, unit in members.items():
        carrier = min(
            unit,
            key=lambda r: (
                -STATUS_RANK.get(r["status_at"], 0),
                not r["subject_id"].startswith("ledger:"),
                r["subject_id"],
            ),
        )
        amount = sum((r["own_amount"] for r in unit), ZERO) - linked[key]
        recovered = sum((r["own_recovered"] for r in unit), ZERO)
        toward = min(recovered, amount)
        totals = {
            "amount": amount,
            "recovered": toward,
            "written_off": sum((r["own_written_off"] for r in unit), ZERO),
            "excess": sum((r["own_excess"] for r in unit), ZERO) + (recovered - toward),
        }
        for r in unit:
            mine = r is carrier
            for name, value in totals.items():
                r[name] = value if mine else ZERO
            r["carried_by"] = None if mine else carrier["suspect_id"]


def entered_between(case: dict[str, Any], status: str, date_from: dt.date, date_to: dt.date) -> bool:
    """Whether the case entered `status` (an event changed it to that status) between the two days."""
    return any(between(day, date_from, date_to) for day in case["entered"].get(status, []))


def period_of_case(case: dict[str, Any]) -> str:
    """The month (YYYYMM) a finding belongs to on the data-period time base: the first month it concerns
    (period_from); a finding with no month, the month it was first seen."""
    return case["period_from"] or case["first_seen"][:7].replace("-", "")


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
    """The cut-off day of a work-period report: `as_of` if given, else the period's last day or `today` if earlier."""
    return as_of if as_of is not None else min(period_end, today)


def yyyymm(day: dt.date) -> str:
    return f"{day.year:04d}{day.month:02d}"
