"""A person's whole picture (人员全貌): enrollment spells on a timeline, payments by month per benefit type, claims,
payroll, deaths, the bank accounts paid into, and every finding on the person that the staff member may see.

The person is named by a form POST (never a URL): either the citizen ID typed in, or a case's suspect_id from
which the server takes the person. A verifier sees a person only through a case of their regions (else 404);
chiefs and auditors see anyone who appears in the data or the register. The ID and the accounts are masked; names
are shown (the templates escape them). Table and column names are the contract's (`schemas/datasets.py`).
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import duckdb

from pipelines.cases import casework, evidence
from pipelines.cases import register as reg
from pipelines.cases import staff as staff_register
from pipelines.present.labels import case_status_label, code_label, rule_label
from pipelines.present.masking import is_citizen_id, mask_account, mask_id, mask_text
from pipelines.present.money import fmt_money
from pipelines.warehouse.session import WarehouseBusy, reader
from schemas.divisions import region_label

TIMELINE_LEFT = 230  # the labels' width in the SVG
TIMELINE_WIDTH = 520  # the time axis
ROW_HEIGHT = 26


def normalised_id(text: str | None) -> str:
    """A typed citizen ID: spaces dropped, a final x made X; '' if what was typed is not shaped like one."""
    typed = "".join((text or "").split()).upper()
    return typed if is_citizen_id(typed) else ""


def person_of_case(con: sqlite3.Connection, member: staff_register.Staff, suspect_id: str, today: dt.date) -> str:
    """The person of a case the staff member may see ('' if none): its person_id, or a personal subject."""
    found = reg.case_rows(con, today, "suspect_id = :suspect_id", {"suspect_id": suspect_id})
    if not found or not casework.may_see(member, found[0]):
        return ""
    case = found[0]
    if case["person_id"]:
        return str(case["person_id"])
    subject = str(case["subject_id"] or "")
    return subject if is_citizen_id(subject) else ""


@dataclass(frozen=True)
class Findings:
    rows: list[dict[str, object]]
    any_at_all: bool  # the register holds a case on the person, seen or not


def findings_of(con: sqlite3.Connection, member: staff_register.Staff, person_id: str, today: dt.date) -> Findings:
    """Every case on the person (as person or subject) that the staff member may see, across rules."""
    about = casework.CaseFilter(person=person_id)
    where, params = casework.case_conditions(about)
    any_at_all = reg.count_cases(con, today, where, params) > 0
    where, params = casework.case_conditions(about, member)
    seen = reg.case_rows(con, today, where, params, "rule, suspect_id")
    rows = [
        {
            "suspect_id": case["suspect_id"],
            "rule": rule_label(case["rule"]),
            "region": region_label(case["assigned_region"] or case["region_code"]),
            "amount": fmt_money(Decimal(case["amount_at_risk"])),
            "status": case_status_label(case["status"], bool(case["overdue"])),
            "overdue": bool(case["overdue"]),
            "summary": mask_text(str(case["summary"])) if case["summary"] else "",
        }
        for case in seen
    ]
    return Findings(rows, any_at_all)


# ---- the published data -------------------------------------------------------------------------------------


@dataclass
class Timeline:
    """The spells as SVG bars: one row per spell, a year axis, the death date as a line."""

    rows: list[dict[str, object]] = field(default_factory=list)
    ticks: list[dict[str, object]] = field(default_factory=list)
    deaths: list[dict[str, object]] = field(default_factory=list)
    height: int = 0
    left: int = TIMELINE_LEFT
    width: int = TIMELINE_WIDTH


@dataclass
class Picture:
    summary: dict
    spells: list[dict[str, object]]
    timeline: Timeline
    benefit_types: list[str]  # the columns of the payments table (labels)
    months: list[dict[str, object]]  # {"period", "cells": [amount or ''], "total"}
    totals: list[str]
    grand_total: str
    claims: list[dict[str, object]]
    payroll: list[dict[str, object]]
    deaths: list[dict[str, object]]
    accounts: list[dict[str, object]]

    @property
    def empty(self) -> bool:
        return not self.summary["datasets"]


def _rows(duck: duckdb.DuckDBPyConnection, sql: str, person_id: str) -> list[dict[str, object]]:
    cursor = duck.execute(sql, [person_id])
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _money(value: object) -> str:
    return fmt_money(Decimal(str(value))) if value is not None else ""


def _source(row: dict[str, object]) -> str:
    return f"{row['source_file']}:{row['source_line']}" if row.get("source_file") else ""


def timeline(spells: list[dict[str, object]], deaths: list[dict[str, object]], today: dt.date) -> Timeline:
    out = Timeline()
    if not spells:
        return out
    starts = [s["start_date"] for s in spells if isinstance(s["start_date"], dt.date)]
    ends = [s["end_date"] or today for s in spells]
    ends += [d["death_date"] for d in deaths if isinstance(d["death_date"], dt.date)]
    first = dt.date(min(starts, default=today).year, 1, 1)
    last = dt.date(max([*ends, *starts], default=today).year + 1, 1, 1)
    span = max((last - first).days, 1)

    def x(day: dt.date) -> int:
        return TIMELINE_LEFT + round((day - first).days * TIMELINE_WIDTH / span)

    for i, s in enumerate(spells):
        start, end = s["start_date"], s["end_date"] or today
        assert isinstance(start, dt.date) and isinstance(end, dt.date)
        left = x(start)
        out.rows.append(
            {
                "y": i * ROW_HEIGHT,
                "x": left,
                "w": max(x(end) - left, 2),
                "label": f"{s['region']} {s['scheme_code']}",
                "open": s["end_date"] is None,
                "title": f"{start} — {s['end_date'] or '至今 ongoing'}",
            }
        )
    out.height = len(spells) * ROW_HEIGHT + 24
    step = max(1, -(-(last.year - first.year) // 10))
    out.ticks = [{"x": x(dt.date(year, 1, 1)), "label": str(year)} for year in range(first.year, last.year + 1, step)]
    out.deaths = [
        {"x": x(d["death_date"]), "label": f"死亡 died {d['death_date']}"}
        for d in deaths
        if isinstance(d["death_date"], dt.date)
    ]
    return out


def _newest_first(spells: list[dict[str, object]]) -> list[dict[str, object]]:
    """The spells latest start first (no start last), then the larger enrollment_id: `person_summary`'s order."""
    by_id = sorted(spells, key=lambda s: (s["enrollment_id"] is None, s["enrollment_id"] or ""), reverse=True)
    by_id = [s for s in by_id if s["enrollment_id"] is not None] + [s for s in by_id if s["enrollment_id"] is None]
    return sorted(
        by_id,
        key=lambda s: (s["start_date"] is None, -s["start_date"].toordinal() if s["start_date"] is not None else 0),  # type: ignore[attr-defined]
    )


def picture(duck: duckdb.DuckDBPyConnection, person_id: str, today: dt.date) -> Picture:
    """The person's rows in the published file, masked (ID, accounts); names as recorded. Each large table is
    read once for the person (the payments twice: theirs, then who else was paid into their accounts); the
    header (`evidence.person_summary`) is made from the same rows."""
    spells = _rows(
        duck,
        "SELECT enrollment_id, name, region_code, scheme, employer_id, start_date, end_date, source_file,"
        " source_line FROM enrollment WHERE person_id = ? ORDER BY start_date, enrollment_id",
        person_id,
    )
    for s in spells:
        s["region"] = region_label(s["region_code"])  # type: ignore[arg-type]
        s["scheme_code"] = s["scheme"]
        s["scheme"] = code_label("scheme", s["scheme"])  # type: ignore[arg-type]
        s["source"] = _source(s)
    deaths = _rows(
        duck,
        "SELECT death_date, source, name, source_file, source_line FROM death_records WHERE person_id = ?"
        " ORDER BY death_date, source",
        person_id,
    )
    for d in deaths:
        d["source_label"] = code_label("death_source", d["source"])  # type: ignore[arg-type]
        d["where"] = _source(d)

    # the person's payments, once: by month and benefit type, by account, their regions and count
    paid = duck.execute(
        "SELECT period, benefit_type, bank_account, region_code, count(*), sum(amount) FROM benefit_payments"
        " WHERE person_id = ? GROUP BY ALL",
        [person_id],
    ).fetchall()
    by_month: dict[str, dict[str, Decimal]] = defaultdict(dict)
    mine: dict[object, dict[str, object]] = {}
    for period, benefit, account, _, n, amount in paid:
        value = Decimal(str(amount)) if amount is not None else None
        if value is not None or benefit not in by_month[period]:
            by_month[period][benefit] = by_month[period].get(benefit, Decimal(0)) + (value or Decimal(0))
        a = mine.setdefault(account, {"payments": 0, "amount": None, "first": None, "last": None})
        a["payments"] = int(a["payments"]) + int(n)  # type: ignore[call-overload]
        if value is not None:
            a["amount"] = (a["amount"] or Decimal(0)) + value  # type: ignore[operator]
        if period is not None:
            a["first"] = period if a["first"] is None or period < a["first"] else a["first"]  # type: ignore[operator]
            a["last"] = period if a["last"] is None or period > a["last"] else a["last"]  # type: ignore[operator]
    types = sorted({t for _, t, _, _, _, _ in paid})
    months = [
        {
            "period": period,
            "cells": [fmt_money(cells[t]) if t in cells else "" for t in types],
            "total": fmt_money(sum(cells.values(), Decimal(0))),
        }
        for period, cells in sorted(by_month.items())
    ]
    type_totals = [sum((c.get(t, Decimal(0)) for c in by_month.values()), Decimal(0)) for t in types]

    claims = _rows(
        duck,
        "SELECT claim_id, region_code, hospital_id, invoice_no, service_date, total_amount, fund_paid, source_file,"
        " source_line FROM medical_claims WHERE person_id = ? ORDER BY service_date, claim_id",
        person_id,
    )
    for c in claims:
        c["region"] = region_label(c["region_code"])  # type: ignore[arg-type]
        c["total"], c["fund"], c["where"] = _money(c["total_amount"]), _money(c["fund_paid"]), _source(c)
    payroll = _rows(
        duck,
        "SELECT period, employer_id, wage_income, source_file, source_line FROM payroll_withholding"
        " WHERE person_id = ? ORDER BY period, employer_id",
        person_id,
    )
    for p in payroll:
        p["wage"], p["where"] = _money(p["wage_income"]), _source(p)

    # who else was paid into the person's accounts: one scan for all of them (an account with no number: none)
    numbered = sorted(str(a) for a in mine if a is not None)
    persons = dict(
        duck.execute(
            "SELECT bank_account, count(DISTINCT person_id) FROM benefit_payments"
            " WHERE bank_account IN (SELECT unnest(?::VARCHAR[])) GROUP BY bank_account",
            [numbered],
        ).fetchall()
        if numbered
        else []
    )
    accounts = []
    for account, a in sorted(
        mine.items(), key=lambda m: (m[1]["first"] is None, m[1]["first"] or "", m[0] is None, m[0] or "")
    ):
        accounts.append(
            {
                "bank_account": account,  # shown only on a recorded reveal (the template); else `masked`
                "payments": a["payments"],
                "amount": a["amount"],
                "first": a["first"],
                "last": a["last"],
                "others": max(int(persons.get(account, 0)) - 1, 0),
                "masked": mask_account(str(account)),
                "total": _money(a["amount"]),
            }
        )
    counts = {
        "enrollment": len(spells),
        "benefit_payments": sum(int(n) for *_, n, _ in paid),
        "medical_claims": len(claims),
        "payroll_withholding": len(payroll),
        "death_records": len(deaths),
    }
    regions = {
        "benefit_payments": sorted({str(r) for _, _, _, r, _, _ in paid if r}),
        "medical_claims": sorted({str(c["region_code"]) for c in claims if c["region_code"]}),
    }
    return Picture(
        summary=evidence.person_summary(
            duck,
            person_id,
            spells=[(s["name"], s["region_code"]) for s in _newest_first(spells)],
            counts=counts,
            regions=regions,
        ),
        spells=spells,
        timeline=timeline(spells, deaths, today),
        benefit_types=[code_label("benefit_type", t) for t in types],
        months=months,
        totals=[fmt_money(t) for t in type_totals],
        grand_total=fmt_money(sum(type_totals, Decimal(0))),
        claims=claims,
        payroll=payroll,
        deaths=deaths,
        accounts=accounts,
    )


@dataclass(frozen=True)
class Read:
    picture: Picture | None
    unavailable: str | None


def read_picture(db: Path, memory_limit: str, person_id: str, today: dt.date) -> Read:
    """The picture from the published file, opened read-only for this request only."""
    if not db.is_file():
        return Read(None, "数据不可用：没有数据库 data unavailable: no published database")
    try:
        with reader(db, memory_limit=memory_limit) as duck:
            return Read(picture(duck, person_id, today), None)
    except WarehouseBusy:
        return Read(None, "数据暂不可用：数据库正被占用 data unavailable: the database is busy")
    except duckdb.Error as err:
        return Read(None, f"数据不可用 data unavailable: {mask_text(' '.join(str(err).split()))[:200]}")


def shown_id(person_id: str) -> str:
    return mask_id(person_id) if is_citizen_id(person_id) else mask_text(person_id)
