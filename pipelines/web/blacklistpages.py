"""What the blacklist page (黑名单, CONTRACT.md section 7) and a confirmed case's offer for it show, through
`pipelines.cases.blacklist` — the functions `fundwatch blacklist add|remove|list` use.

Every entry ever made is listed, in force or removed (never erased), its key masked (`blacklist.shown_key`), its
reasons masked as free text. Only a chief changes the list; the register checks it again. What a confirmed case
offers (`blacklist.case_candidates`) is read from the finding in the published file (its person, its accounts
and employers in the proving rows); a form names a candidate by its place in that list, never by its key.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb

from pipelines.cases import blacklist
from pipelines.present.labels import rule_label
from pipelines.present.masking import mask_text
from pipelines.warehouse.session import WarehouseBusy, reader
from pipelines.web.casepages import shown_at

# Statuses of a case confirmed as a violation (after 确认违规; dismissed ones never were).
NOT_CONFIRMED = ("open", "under_verification", "dismissed")


class FormError(ValueError):
    """A form field that cannot be used: said on the page."""


def kind_choices() -> list[tuple[str, str]]:
    return [(kind, blacklist.kind_label(kind)) for kind in blacklist.KINDS]


def listing(con: sqlite3.Connection, zone: ZoneInfo) -> list[dict[str, object]]:
    """Every entry, newest first, as a person may read it."""
    out = []
    for e in reversed(blacklist.entries(con)):
        kind, key = str(e["kind"]), str(e["key"])
        out.append(
            {
                "entry_id": e["entry_id"],
                "kind": blacklist.kind_label(kind),
                "key": blacklist.shown_key(kind, key),
                "reason": mask_text(str(e["reason"])),
                "source": e["source_suspect_id"] or "",
                "added_by": e["added_by"],
                "added_at": shown_at(e["added_at"], zone),
                "in_force": e["in_force"],
                "removed_by": e["removed_by"] or "",
                "removed_at": shown_at(e["removed_at"], zone) if e["removed_at"] else "",
                "removal_reason": mask_text(str(e["removal_reason"])) if e["removal_reason"] else "",
            }
        )
    return out


def entry_id_of(text: str | None) -> int:
    try:
        return int((text or "").strip())
    except ValueError as err:
        raise FormError("请指明黑名单记录 name the entry") from err


# ---- what a confirmed case offers ------------------------------------------------------------------------------


def confirmed(case: Mapping[str, object]) -> bool:
    """Whether a case was confirmed as a violation (确认违规, and what may follow it: recovery, rectification)."""
    return case.get("severity") is not None and case.get("status") not in NOT_CONFIRMED


@dataclass(frozen=True)
class Offer:
    """A candidate of a case as its form shows it: its place in the list, its label (masked), the reason the
    form suggests, and the entry already listing it (in force), if any."""

    index: int
    label: str
    reason: str
    listed: int | None


def suggested_reason(case: Mapping[str, object]) -> str:
    """The rule's name and the case: '死亡后继续领取 DECEASED_PAID（案件 SP-…）'. The chief may edit it."""
    return f"{rule_label(str(case['rule']))}（案件 {case['suspect_id']}）"


def finding_of(db: Path, memory_limit: str, suspect_id: str) -> dict[str, object] | None:
    """The finding of a case as the published file has it (its person, subject and proving rows)."""
    with reader(db, memory_limit=memory_limit) as duck:
        row = duck.execute(
            "SELECT rule, subject_id, person_id, evidence_rows FROM suspects WHERE suspect_id = ?", [suspect_id]
        ).fetchone()
    if row is None:
        return None
    return {
        "suspect_id": suspect_id,
        "rule": row[0],
        "subject_id": row[1],
        "person_id": row[2],
        "evidence_rows": row[3],
    }


def candidates(db: Path, memory_limit: str, case: Mapping[str, object]) -> tuple[list[blacklist.Candidate], str | None]:
    """What the case offers for the blacklist (`blacklist.case_candidates` of its finding), or why it cannot be
    read now. The register's person is offered even when the published file cannot be read."""
    suspect_id = str(case["suspect_id"])
    fallback = {"suspect_id": suspect_id, "rule": case["rule"], "subject_id": case["subject_id"]}
    fallback |= {"person_id": case.get("person_id"), "evidence_rows": json.dumps([])}
    if not db.is_file():
        return blacklist.case_candidates(fallback), "证据不可用：没有数据库 no published database"
    try:
        finding = finding_of(db, memory_limit, suspect_id)
    except WarehouseBusy:
        return blacklist.case_candidates(fallback), "数据库正被占用 the database is busy"
    except (duckdb.Error, FileNotFoundError) as err:
        return blacklist.case_candidates(fallback), f"证据不可用 unavailable: {mask_text(str(err))[:200]}"
    return blacklist.case_candidates(finding or fallback), None


def offers(con: sqlite3.Connection, found: list[blacklist.Candidate], case: Mapping[str, object]) -> list[Offer]:
    listed = {(str(e["kind"]), str(e["key"])): int(e["entry_id"]) for e in blacklist.entries(con, in_force_only=True)}  # type: ignore[arg-type]
    reason = suggested_reason(case)
    return [Offer(i, c.label, reason, listed.get((c.kind, c.key))) for i, c in enumerate(found)]


def candidate_at(found: list[blacklist.Candidate], form: Mapping[str, str]) -> blacklist.Candidate:
    """The candidate a form names by its index: the key itself never travels in the form (nor in a URL)."""
    text = (form.get("candidate") or "").strip()
    if not text.isdigit() or int(text) >= len(found):
        raise FormError("请选择案件提供的对象 choose one of what the case offers")
    return found[int(text)]
