"""Small worlds for the report tests: a case register and a DuckDB file built row by row, with dates in the past.

The register is created by `open_register` (every `sql/cases/0*.sql`, the columns register.py adds) and
filled directly — cases, chained events (the log's trigger wants each event chained to the last), and
`case_money` rows — because a report reads what the register holds, whatever API wrote it, and the stories
need events recorded on past days.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pipelines.cases import audit
from pipelines.cases.register import open_register
from pipelines.warehouse.session import connect

CASE_DEFAULTS: dict[str, Any] = {
    "person_id": None,
    "period_from": None,
    "period_to": None,
    "summary": None,
    "firing": 1,
    "recurrences": 0,
    "assigned_region": None,
    "assignee": None,
    "assigned_on": None,
    "due_date": None,
    "confirmed_on": None,
    "severity": None,
    "report_due": None,
    "reported_on": None,
    "dismissed_reason": None,
    "recovered_amount": None,
    "rectified_on": None,
    "due_provisional": 0,
    "report_due_provisional": 0,
    "written_off_amount": None,
    "excess_amount": None,
    "last_reported_on": None,
}


def build_register(
    path: Path,
    cases: Sequence[dict[str, Any]],
    events: Sequence[tuple[Any, ...]],
    money: Sequence[tuple[Any, ...]] = (),
) -> Path:
    """A register holding exactly these rows.

    cases: dicts of `cases` columns (first_seen is also last_seen unless given);
    events: (suspect_id, at, action, from_status, to_status, reason[, details dict]) in the order recorded;
    money: (event index in `events`, kind, amount, on_date[, index in `money` of the row it corrects]).
    """
    con = open_register(path)
    try:
        present = {row[1] for row in con.execute("PRAGMA table_info(cases)")}
        con.execute("BEGIN IMMEDIATE")
        for case in cases:
            row = {**CASE_DEFAULTS, "last_seen": case["first_seen"], **case}
            row = {k: v for k, v in row.items() if k in present}
            con.execute(
                f"INSERT INTO cases ({', '.join(row)}) VALUES ({', '.join('?' for _ in row)})", list(row.values())
            )
        event_ids = []
        for suspect_id, at, action, from_status, to_status, reason, *rest in events:
            fields = {
                "suspect_id": suspect_id,
                "at": at,
                "actor": "analyst",
                "action": action,
                "from_status": from_status,
                "to_status": to_status,
                "reason": reason,
                "details": json.dumps(rest[0], ensure_ascii=False) if rest else None,
            }
            prev = audit.head(con)
            cursor = con.execute(
                "INSERT INTO case_events (suspect_id, at, actor, action, from_status, to_status, reason, details,"
                " prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [*(fields[name] for name in audit.HASHED_FIELDS), prev, audit.event_hash(prev, fields)],
            )
            event_ids.append(cursor.lastrowid)
        money_ids: list[int] = []
        for event_index, kind, amount, on_date, *corrects in money:
            suspect_id = events[event_index][0]
            cursor = con.execute(
                "INSERT INTO case_money (suspect_id, event_id, kind, amount, on_date, corrects)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                [
                    suspect_id,
                    event_ids[event_index],
                    kind,
                    amount,
                    on_date,
                    money_ids[corrects[0]] if corrects else None,
                ],
            )
            money_ids.append(cursor.lastrowid)
        con.execute("COMMIT")
    finally:
        con.close()
    return path


def ledger_bank_evidence(side: str, line_id: str, amount: str, pair_key: str | None, paired_with: str | None) -> str:
    """The evidence_rows of a RECON_LEDGER_BANK finding of one line, as the rule writes it (pair keys included)."""
    return json.dumps(
        [
            {
                "side": side,
                "line_id": line_id,
                "account_no": "19330000001",
                "line_date": "2025-05-10",
                "direction": "in",
                "amount": amount,
                "memo": "往来款",
                "counterparty_account": None,
                "matched_elsewhere": None,
                "pair_key": pair_key,
                "paired_with": paired_with,
                "paired_suspect_id": None,
                "pair_gap_days": "5" if pair_key else None,
            }
        ],
        ensure_ascii=False,
    )


def build_db(path: Path, statements: Sequence[str] = (), suspects: Sequence[dict[str, Any]] = ()) -> Path:
    """A DuckDB file of the contract's shape, with these INSERT statements run and these suspects rows."""
    con = connect(path)
    try:
        for sql in statements:
            con.execute(sql)
        for s in suspects:
            con.execute(
                "INSERT INTO suspects (suspect_id, rule, subject_id, region_code, amount_at_risk, summary,"
                " evidence_rows, first_seen, last_seen, active, status)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, true, 'open')",
                [
                    s["suspect_id"],
                    s["rule"],
                    s["subject_id"],
                    s.get("region_code", "330000"),
                    s["amount_at_risk"],
                    s.get("summary", "—"),
                    s["evidence_rows"],
                    s["first_seen"],
                    s["first_seen"],
                ],
            )
    finally:
        con.close()
    return path
