"""Adjudication (核实认定) of the rows a pre-payment screening held, like Do Not Pay's (CONTRACT.md section 7).

Every held row of a recorded screening (`screening_holds`, sql/cases/006_screening.sql) is `pending` 待认定 until
a verifier of its pooling region or a chief records a decision with a reason: `proper` 准予发放 (the payment is
released) or `improper` 不予发放 (stopped). A decision is a new row of `screening_adjudications` (append-only);
the latest of a held row is in force (view `screening_hold_status`). A decided hold may be changed (or set back
to pending) only by a chief. Auditors read; admins do neither (不相容岗位相分离).

A chief may record a colleague's decision on their behalf (`register.actor(..., on_behalf_of=...)`): the
decision is the colleague's (`by_actor`, whose role and regions are checked, as the case register checks them),
and the chief is kept as `recorded_by`.
"""

from __future__ import annotations

import sqlite3

import polars as pl

from pipelines.cases import register as reg
from pipelines.cases import staff as staff_register

DECISIONS = ("proper", "improper", "pending")
DECISION_ZH = {"proper": "准予发放", "improper": "不予发放", "pending": "待认定"}
DECISION_EN = {"proper": "released", "improper": "stopped", "pending": "pending"}
DECIDED = ("proper", "improper")

_INTEGERS = {"screening_id", "line", "rows", "held", "pending", "released", "stopped", "adjudication_id"}


class AdjudicationError(reg.CaseError):
    """An adjudication the register refuses: no such held row, no reason, an unknown decision."""


def decision_label(decision: str) -> str:
    """'准予发放 proper (released)'."""
    return f"{DECISION_ZH[decision]} {decision}" + (f" ({DECISION_EN[decision]})" if decision in DECIDED else "")


def _as_actor(con: sqlite3.Connection, by: str | reg.Actor) -> reg.Actor:
    return by if isinstance(by, reg.Actor) else reg.Actor(staff_register.get_active(con, by, "认定人 actor"))


def _may(member: staff_register.Staff, hold: sqlite3.Row) -> None:
    """Refuse what the decider's role or regions do not allow for this held row (NotAllowed)."""
    if member.role == "admin":
        raise staff_register.NotAllowed(f"{member.label}: 系统管理员不得认定 a system administrator may not adjudicate")
    if member.role == "auditor":
        raise staff_register.NotAllowed(f"{member.label}: 审计人员只读 an auditor reads, changes nothing")
    where = f"筛查 #{hold['screening_id']} 第{hold['line']}行"
    if member.role != "chief" and not member.covers(hold["region_code"]):
        raise staff_register.NotAllowed(
            f"{where}: {member.label} 不负责统筹区 {hold['region_code'] or '-'} does not work this region"
        )
    if member.role != "chief" and hold["decision"] in DECIDED:
        raise staff_register.NotAllowed(
            f"{where}: 已认定为{DECISION_ZH[hold['decision']]} ({hold['decision']})，只有科长可以更改 "
            "already decided: only a chief may change it"
        )


def adjudicate(
    con: sqlite3.Connection, by: str | reg.Actor, screening_id: int, line: int, decision: str, reason: str
) -> int:
    """Record a decision on a held row (one write transaction); returns its adjudication_id."""
    if decision not in DECISIONS:
        raise AdjudicationError(f"认定结果须为 a decision is one of {', '.join(DECISIONS)}: {decision!r}")
    if not reason or not reason.strip():
        raise AdjudicationError("认定须说明理由 a decision needs a reason")
    with reg.write_transaction(con):
        who = _as_actor(con, by)
        hold = con.execute(
            "SELECT * FROM screening_hold_status WHERE screening_id = ? AND line = ?", [screening_id, line]
        ).fetchone()
        if hold is None:
            raise AdjudicationError(
                f"筛查 #{screening_id} 第{line}行没有暂停记录 no held row at line {line} of screening {screening_id}"
            )
        _may(who.staff, hold)
        if decision == "pending" and hold["decision"] == "pending":
            raise AdjudicationError(f"筛查 #{screening_id} 第{line}行尚未认定 the held row is pending already")
        cursor = con.execute(
            "INSERT INTO screening_adjudications (screening_id, line, decision, reason, by_actor, recorded_by, at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                screening_id,
                line,
                decision,
                reason.strip(),
                who.id,
                who.recorded_by.staff_id if who.recorded_by else None,
                reg._now(),
            ],
        )
        return int(cursor.lastrowid)


# ---- reading ----------------------------------------------------------------------------------------------------


def _frame(con: sqlite3.Connection, sql: str, params: list[object]) -> pl.DataFrame:
    """A query as a frame: counts and ids as integers, everything else text (money stays exact text)."""
    cursor = con.execute(sql, params)
    columns = [d[0] for d in cursor.description]
    schema = {c: (pl.Int64 if c in _INTEGERS else pl.String) for c in columns}
    return pl.DataFrame([tuple(r) for r in cursor.fetchall()], schema=schema, orient="row")


def holds(
    con: sqlite3.Connection,
    *,
    screening_id: int | None = None,
    reason: str | None = None,
    decision: str | None = None,
    region: str | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> pl.DataFrame:
    """Held rows with the decision in force (view `screening_hold_status`), latest screening first, then by line.
    `reason` keeps the rows held for that code among their `reasons`; IDs and accounts are as stored (the caller
    masks what a person reads)."""
    where, params = ["1 = 1"], []
    if screening_id is not None:
        where.append("screening_id = ?")
        params.append(screening_id)
    if reason is not None:
        where.append("instr(';' || reasons || ';', ';' || ? || ';') > 0")
        params.append(reason)
    if decision is not None:
        if decision not in DECISIONS:
            raise AdjudicationError(f"认定结果须为 a decision is one of {', '.join(DECISIONS)}: {decision!r}")
        where.append("decision = ?")
        params.append(decision)
    if region is not None:
        where.append("region_code = ?")
        params.append(region)
    sql = (
        f"SELECT * FROM screening_hold_status WHERE {' AND '.join(where)}"
        " ORDER BY screening_id DESC, line LIMIT ? OFFSET ?"
    )
    return _frame(con, sql, [*params, -1 if limit is None else limit, offset])


_SCREENINGS_SQL = (
    "SELECT s.*,"
    " (SELECT count(*) FROM screening_hold_status AS h WHERE h.screening_id = s.screening_id"
    "  AND h.decision = 'pending') AS pending,"
    " (SELECT count(*) FROM screening_hold_status AS h WHERE h.screening_id = s.screening_id"
    "  AND h.decision = 'proper') AS released,"
    " (SELECT count(*) FROM screening_hold_status AS h WHERE h.screening_id = s.screening_id"
    "  AND h.decision = 'improper') AS stopped"
    " FROM screenings AS s"
)


def screenings(con: sqlite3.Connection, limit: int = 50) -> pl.DataFrame:
    """The latest screenings first, each with how many of its held rows are pending, released and stopped."""
    return _frame(con, f"{_SCREENINGS_SQL} ORDER BY s.screening_id DESC LIMIT ?", [limit])


def screening(con: sqlite3.Connection, screening_id: int) -> dict[str, object] | None:
    """One screening as `screenings` shows it, or None when there is none of that id."""
    frame = _frame(con, f"{_SCREENINGS_SQL} WHERE s.screening_id = ?", [screening_id])
    return frame.row(0, named=True) if frame.height else None
