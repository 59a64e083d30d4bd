"""What the screening pages show (事前筛查, CONTRACT.md section 7): the latest screenings and one screening's held
rows with their adjudication (核实认定), read from the register through `pipelines.cases.adjudication` — the
functions `fundwatch screen list|holds|adjudicate` use.

Who sees what, as for cases: chiefs and auditors every held row; a verifier the rows of their pooling regions (a
row without a valid region — an INVALID one — is a chief's). A verifier decides the pending rows of their
regions, a chief any row (and may change a decision); the register checks again (`adjudication.adjudicate`).
Nothing is unmasked here: citizen IDs keep 6 + 4 characters, accounts their last 4 digits, free text is masked.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

import polars as pl

from pipelines.cases import adjudication
from pipelines.cases import staff as staff_register
from pipelines.present.masking import mask_account, mask_id, mask_text
from pipelines.present.money import fmt_money
from pipelines.rules.common import labels
from pipelines.screen import checks
from pipelines.web.casepages import shown_at
from schemas.divisions import region_label

PAGE_SIZE = 100
LIST_SIZE = 50
CHANNEL_ZH = {"cli": "命令行 cli", "api": "接口 api"}


class FormError(ValueError):
    """A form field that cannot be used (a line that is not a number): said on the page."""


def reason_label(code: str) -> str:
    """'已死亡 DECEASED'."""
    return f"{checks.REASON_ZH[code]} {code}" if code in checks.REASON_ZH else code


def reason_choices() -> list[tuple[str, str]]:
    return [(code, reason_label(code)) for code in checks.REASONS]


def decision_choices() -> list[tuple[str, str]]:
    return [(d, adjudication.decision_label(d)) for d in adjudication.DECISIONS]


def wanted_reason(value: str | None) -> str | None:
    """A reason code from the query string; anything else is no filter (an ID never belongs in a URL)."""
    return value if value in checks.REASONS else None


def wanted_decision(value: str | None) -> str | None:
    return value if value in adjudication.DECISIONS else None


def sees_row(member: staff_register.Staff, region: str | None) -> bool:
    """A held row is shown to chiefs and auditors, and to a verifier of its region."""
    return member.role in ("chief", "auditor") or (region is not None and member.covers(region))


def decisions_allowed(member: staff_register.Staff, region: str | None, decision: str) -> list[str]:
    """The decisions the row's form offers this member: a chief any but the one in force (pending: released or
    stopped), a verifier of the row's region a pending row's; nobody else a form."""
    if member.role == "chief":
        return [d for d in adjudication.DECISIONS if d != decision]
    if member.role == "verifier" and region is not None and member.covers(region) and decision == "pending":
        return list(adjudication.DECIDED)
    return []


# ---- the list of screenings ----------------------------------------------------------------------------------


def _regional_counts(con: sqlite3.Connection, regions: tuple[str, ...], ids: list[int]) -> dict[int, dict[str, int]]:
    """Per screening, its rows, held and pending rows in `regions` (a verifier's), from `screening_counts` and the
    view `screening_hold_status`."""
    if not regions or not ids:
        return {}
    region_marks, id_marks = ", ".join("?" * len(regions)), ", ".join("?" * len(ids))
    out: dict[int, dict[str, int]] = {i: {"rows": 0, "held": 0, "pending": 0} for i in ids}
    counted = con.execute(
        f"SELECT screening_id, sum(rows), sum(held) FROM screening_counts WHERE region_code IN ({region_marks})"
        f" AND screening_id IN ({id_marks}) GROUP BY screening_id",
        [*regions, *ids],
    )
    for screening_id, rows, held in counted:
        out[screening_id].update(rows=int(rows), held=int(held))
    pending = con.execute(
        f"SELECT screening_id, count(*) FROM screening_hold_status WHERE region_code IN ({region_marks})"
        f" AND screening_id IN ({id_marks}) AND decision = 'pending' GROUP BY screening_id",
        [*regions, *ids],
    )
    for screening_id, n in pending:
        out[screening_id]["pending"] = int(n)
    return out


def _screening_row(s: Mapping[str, object], zone: ZoneInfo) -> dict[str, object]:
    return {
        "screening_id": s["screening_id"],
        "at": shown_at(s["screened_at"], zone),
        "by": s["screened_by"],
        "channel": CHANNEL_ZH.get(str(s["channel"]), s["channel"]),
        "batch": mask_text(str(s["batch_file"])),
        "as_of": s["as_of"],
        "run_id": s["run_id"] or "",
        "rows": s["rows"],
        "held": s["held"],
        "amount": fmt_money(Decimal(str(s["amount"]))),
        "held_amount": fmt_money(Decimal(str(s["held_amount"]))),
        "pending": s["pending"],
        "released": s["released"],
        "stopped": s["stopped"],
    }


def screening_list(con: sqlite3.Connection, member: staff_register.Staff, zone: ZoneInfo) -> list[dict[str, object]]:
    """The latest screenings, newest first, with their counts; for a verifier also those of their regions."""
    rows = [_screening_row(s, zone) for s in adjudication.screenings(con, LIST_SIZE).iter_rows(named=True)]
    if member.role == "verifier":
        mine = _regional_counts(con, member.regions, [int(r["screening_id"]) for r in rows])  # type: ignore[arg-type]
        for r in rows:
            r["mine"] = mine.get(int(r["screening_id"]), {"rows": 0, "held": 0, "pending": 0})  # type: ignore[arg-type]
    return rows


# ---- one screening -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScreeningPage:
    screening: dict[str, object]
    rows: list[dict[str, object]]  # the page's held rows, shown (masked)
    shown_total: int  # held rows the member sees that pass the filters
    visible_total: int  # held rows the member sees
    by_reason: dict[str, int]  # visible held rows per reason code (contract order; a row under each of its codes)
    by_decision: dict[str, int]
    page: int
    pages: int


def _shown_hold(h: Mapping[str, object], member: staff_register.Staff, zone: ZoneInfo) -> dict[str, object]:
    benefit = labels("benefit_type")
    region = h["region_code"]
    codes = str(h["reasons"]).split(";")
    amount = h["amount"]
    decision = str(h["decision"])
    return {
        "line": h["line"],
        "payment_id": mask_text(str(h["payment_id"])) if h["payment_id"] else "",
        "person": mask_id(str(h["person_id"])) if h["person_id"] else "",
        "region": region_label(region) if region else "",  # type: ignore[arg-type]
        "benefit": f"{benefit.get(str(h['benefit_type']), h['benefit_type'])}" if h["benefit_type"] else "",
        "period": h["period"] or "",
        "amount": fmt_money(Decimal(str(amount))) if amount is not None else "",
        "account": mask_account(str(h["bank_account"])) if h["bank_account"] else "",
        "reasons": [reason_label(c) for c in codes],
        "explanation": mask_text(str(h["explanation"])),
        "decision": decision,
        "decision_label": adjudication.decision_label(decision),
        "decision_reason": mask_text(str(h["decision_reason"])) if h["decision_reason"] else "",
        "decided_by": h["decided_by"] or "",
        "decided_at": shown_at(h["decided_at"], zone) if h["decided_at"] else "",
        "choices": decisions_allowed(member, region, decision),  # type: ignore[arg-type]
    }


def screening_page(
    con: sqlite3.Connection,
    member: staff_register.Staff,
    screening_id: int,
    reason: str | None,
    decision: str | None,
    page: int,
    zone: ZoneInfo,
) -> ScreeningPage | None:
    """One screening with the held rows the member sees, filtered by reason code and decision, a page of them;
    None when there is no such screening."""
    found = adjudication.screening(con, screening_id)
    if found is None:
        return None
    every = adjudication.holds(con, screening_id=screening_id)
    visible = every.filter(pl.Series([sees_row(member, r) for r in every["region_code"].to_list()], dtype=pl.Boolean))
    codes = visible["reasons"].str.split(";").explode()
    by_reason = {c: int((codes == c).sum()) for c in checks.REASONS if (codes == c).any()}
    by_decision = {d: int((visible["decision"] == d).sum()) for d in adjudication.DECISIONS}
    chosen = visible
    if reason is not None:
        chosen = chosen.filter((";" + pl.col("reasons") + ";").str.contains(f";{reason};", literal=True))
    if decision is not None:
        chosen = chosen.filter(pl.col("decision") == decision)
    pages = max(1, -(-chosen.height // PAGE_SIZE))
    page = min(max(page, 1), pages)
    sliced = chosen.slice((page - 1) * PAGE_SIZE, PAGE_SIZE)
    return ScreeningPage(
        screening=_screening_row(found, zone),
        rows=[_shown_hold(h, member, zone) for h in sliced.iter_rows(named=True)],
        shown_total=chosen.height,
        visible_total=visible.height,
        by_reason=by_reason,
        by_decision=by_decision,
        page=page,
        pages=pages,
    )


def line_of(form: Mapping[str, str]) -> int:
    try:
        return int((form.get("line") or "").strip())
    except ValueError as err:
        raise FormError("请指明行号 name the held row's line") from err


def back_query(form: Mapping[str, str]) -> str:
    """The filters the form was sent from, as a query string to return to (codes only, checked)."""
    parts = []
    if wanted_reason(form.get("back_reason")):
        parts.append(f"reason={form['back_reason']}")
    if wanted_decision(form.get("back_decision")):
        parts.append(f"decision={form['back_decision']}")
    page = (form.get("back_page") or "").strip()
    if page.isdigit() and page != "1":
        parts.append(f"page={page}")
    return ("?" + "&".join(parts)) if parts else ""
