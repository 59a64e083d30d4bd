"""What the internal audit pages (稽核抽样, `/internal-audit`) show, through `pipelines.cases.internal_audit` — the
functions `fundwatch audit` uses.

A chief and an auditor read every draw and its sample with the results in force; a chief records a result from
the page (the register checks the role again). Person IDs are masked, a finding typed by hand is masked as free
text; business ids and operator ids are shown as they are (they are no personal data).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

from pipelines.cases import internal_audit as ia
from pipelines.present.masking import mask_id, mask_text
from pipelines.present.money import fmt_money, fmt_pct, ratio
from pipelines.web.casepages import shown_at


class FormError(ValueError):
    """A form field that cannot be used: said on the page."""


def draw_list(con: sqlite3.Connection, zone: ZoneInfo) -> list[dict[str, object]]:
    """Every draw, newest first, as the page shows it."""
    out = []
    for d in ia.draws(con):
        out.append(
            {
                "draw_id": d["draw_id"],
                "month": d["month"],
                "population": d["population"],
                "sampled": d["sampled"],
                "coverage": fmt_pct(ratio(d["sampled"], d["population"])),
                "flagged": d["flagged"],
                "recorded": d["recorded"],
                "seed": d["seed"],
                "drawn_by": d["drawn_by"],
                "drawn_at": shown_at(d["drawn_at"], zone),
                "run_id": d["run_id"] or "",
                "in_force": d["in_force"],
                "withdrawn_by": d["withdrawn_by"] or "",
                "withdrawn_at": shown_at(d["withdrawn_at"], zone) if d["withdrawn_at"] else "",
                "withdrawal_reason": mask_text(d["withdrawal_reason"] or ""),
            }
        )
    return out


@dataclass(frozen=True)
class DrawView:
    draw: dict[str, object]
    rows: list[dict[str, object]]
    counts: dict[str, int]


def draw_page(con: sqlite3.Connection, draw_id: int, zone: ZoneInfo) -> DrawView | None:
    """A draw with its sample and the results in force; None when there is no such draw."""
    try:
        ia.get_draw(con, draw_id)
    except ia.AuditError:
        return None
    draw = next(d for d in draw_list(con, zone) if d["draw_id"] == draw_id)
    rows = []
    for r in ia.sample_rows(con, draw_id):
        rows.append(
            {
                "business_id": r["business_id"],
                "business_type": r["business_type"] or "（未注明）",
                "operator": f"{r['operator_name']} {r['operator_id']}" if r["operator_name"] else r["operator_id"],
                "person": mask_id(r["person_id"]) if r["person_id"] else "",
                "completed_at": r["completed_at"][:19],
                "amount": fmt_money(None if r["amount"] is None else Decimal(r["amount"])),
                "why": ia.WHY_ZH[r["why"]],
                "flagged_by": (r["flagged_by"] or "").replace(";", "；"),
                "result": r["result"],
                "result_label": f"{ia.RESULT_ZH[r['result']]} {r['result'] or 'pending'}",
                "finding": mask_text(r["finding"] or ""),
                "suspect_id": r["suspect_id"] or "",
                "result_by": r["result_by"] or "",
                "result_at": shown_at(r["result_at"], zone) if r["result_at"] else "",
            }
        )
    counts = {code or "none": sum(1 for r in rows if r["result"] == code) for code in ("ok", "problem", None)}
    return DrawView(draw, rows, counts)


def result_of(form: Mapping[str, str]) -> tuple[str, str, str | None, bool]:
    """(business_id, result, finding, open_case) of a result form; FormError when a field cannot be used."""
    business_id = (form.get("business_id") or "").strip()
    if not business_id:
        raise FormError("请指明业务 name the business")
    result = (form.get("result") or "").strip()
    if result not in ia.RESULTS:
        raise FormError("请选择稽核结论 choose ok（无问题）or problem（有问题）")
    finding = (form.get("finding") or "").strip() or None
    return business_id, result, finding, form.get("open_case") == "1"
