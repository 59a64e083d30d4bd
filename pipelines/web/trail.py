"""The workbench's audit trail (`web_audit`): append-only and hash-chained like the case log.

Each record carries `prev_hash` (the hash of the record before it in audit_id order, `audit.GENESIS` before the
first) and `hash` = `audit.chain_hash(FORMAT, prev_hash, the HASHED fields)`, computed in the write transaction
that appends it; SQLite triggers (sql/cases/004_web.sql) refuse UPDATE, DELETE and an INSERT not chained to the
last record. `verify_trail` walks the chain and names the first record edited, missing or out of place.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass

from pipelines.cases import audit
from pipelines.cases import register as reg
from pipelines.present.masking import mask_id, mask_text

FORMAT = "fundwatch-web-audit/1"
HASHED = ("at", "actor", "remote", "action", "target", "outcome", "detail", "session_ref")


@dataclass(frozen=True)
class TrailBreak:
    audit_id: int
    kind: str  # audit.EDITED | audit.MISSING
    detail: str


@dataclass(frozen=True)
class TrailCheck:
    records: int
    broken: TrailBreak | None

    @property
    def ok(self) -> bool:
        return self.broken is None


def _head(con: sqlite3.Connection) -> str:
    row = con.execute("SELECT hash FROM web_audit ORDER BY audit_id DESC LIMIT 1").fetchone()
    return audit.GENESIS if row is None else row[0]


def append(
    con: sqlite3.Connection,
    *,
    at: str,
    actor: str,
    remote: str | None,
    action: str,
    target: str | None,
    outcome: str,
    detail: str | None = None,
    session_ref: str | None = None,
) -> int:
    """Append one record in its own write transaction; free text is masked (no citizen ID, no account)."""
    fields: dict[str, str | None] = {
        "at": at,
        "actor": actor,
        "remote": remote,
        "action": action,
        "target": None if target is None else mask_text(target),
        "outcome": outcome,
        "detail": None if detail is None else mask_text(detail)[:1000],
        "session_ref": session_ref,
    }
    with reg.write_transaction(con):
        prev = _head(con)
        digest = audit.chain_hash(FORMAT, prev, [fields[name] for name in HASHED])
        marks = ", ".join("?" * len(HASHED))
        cursor = con.execute(
            f"INSERT INTO web_audit ({', '.join(HASHED)}, prev_hash, hash) VALUES ({marks}, ?, ?)",
            [*(fields[name] for name in HASHED), prev, digest],
        )
    return int(cursor.lastrowid)


def verify_trail(con: sqlite3.Connection) -> TrailCheck:
    """Walk the chain in audit_id order: the first record whose content no longer gives its hash (edited), that
    follows a gap or is chained to a record no longer before it (missing), or the latest ones gone."""
    cursor = con.cursor()
    cursor.row_factory = sqlite3.Row
    rows = cursor.execute(f"SELECT audit_id, {', '.join(HASHED)}, prev_hash, hash FROM web_audit ORDER BY audit_id")
    expected_prev, expected_id, count = audit.GENESIS, 1, 0
    for row in rows:
        count += 1
        audit_id = int(row["audit_id"])
        if audit_id != expected_id:
            return TrailCheck(count, TrailBreak(expected_id, audit.MISSING, f"第 {expected_id} 条记录已被删除 gone"))
        if audit.chain_hash(FORMAT, row["prev_hash"], [row[name] for name in HASHED]) != row["hash"]:
            detail = "内容与哈希不符 its content no longer gives its hash: changed after it was written"
            return TrailCheck(count, TrailBreak(audit_id, audit.EDITED, detail))
        if row["prev_hash"] != expected_prev:
            detail = "它所接续的记录已不存在或被改动 the record it was chained to is gone or changed"
            return TrailCheck(count, TrailBreak(audit_id, audit.MISSING, detail))
        expected_prev, expected_id = row["hash"], audit_id + 1
    seq = con.execute("SELECT seq FROM sqlite_sequence WHERE name = 'web_audit'").fetchone()
    if seq is not None and int(seq[0]) >= expected_id:
        detail = f"最新的第 {expected_id}–{seq[0]} 条记录已被删除 the latest records are gone"
        return TrailCheck(count, TrailBreak(expected_id, audit.MISSING, detail))
    return TrailCheck(count, None)


# ---- a person in the trails, and the trails of one case or one person ------------------------------------------

_HEX_TO_LETTERS = str.maketrans("0123456789abcdef", "abcdefghijklmnop")  # a digest of letters never looks like an ID


def ensure_key(con: sqlite3.Connection, at: str) -> None:
    """Create the register's audit key once (sql/cases/005_audit_key.sql), in a write transaction of `con`."""
    with reg.write_transaction(con):
        con.execute(
            "INSERT OR IGNORE INTO audit_key (key_id, key_hex, created_at) VALUES (1, ?, ?)",
            [secrets.token_hex(32), at],
        )


def person_ref(con: sqlite3.Connection, person_id: str) -> str:
    """How the trails name a person: 'person:' + the masked ID + '#' + 16 letters of a keyed digest of the ID (the
    key is the register's, `ensure_key`). The same person always gets the same reference; the trail never holds
    the ID, and the reference cannot be reversed without the register's key."""
    row = con.execute("SELECT key_hex FROM audit_key WHERE key_id = 1").fetchone()
    if row is None:
        raise RuntimeError("the register has no audit key: start the workbench once (it creates it)")
    digest = hmac.new(bytes.fromhex(row[0]), person_id.encode("utf-8"), hashlib.sha256).hexdigest()
    return f"person:{mask_id(person_id)}#{digest[:16].translate(_HEX_TO_LETTERS)}"


@dataclass(frozen=True)
class Trail:
    """What was done about a case or a person: workbench records and unmasked views, oldest first."""

    actions: list[dict[str, object]]
    views: list[dict[str, object]]


def _in(targets: Iterable[str]) -> tuple[str, list[str]]:
    values = sorted(set(targets))
    return ", ".join("?" * len(values)) or "NULL", values


def trail_of(con: sqlite3.Connection, targets: Iterable[str]) -> Trail:
    """Every web_audit record and access_log entry whose target is one of `targets` (suspect ids, person
    references)."""
    marks, values = _in(targets)
    actions = con.execute(
        "SELECT audit_id, at, actor, remote, action, target, outcome, detail FROM web_audit"
        f" WHERE target IN ({marks}) ORDER BY audit_id",
        values,
    ).fetchall()
    views = con.execute(
        f"SELECT access_id, at, actor, os_user, action, target, reason FROM access_log WHERE target IN ({marks})"
        " ORDER BY access_id",
        values,
    ).fetchall()
    return Trail([dict(r) for r in actions], [{**dict(r), "reason": mask_text(r["reason"] or "")} for r in views])


def cases_of_person(con: sqlite3.Connection, person_id: str) -> list[str]:
    """The suspect ids of every case on the person (as its person or its subject), whatever the region."""
    rows = con.execute(
        "SELECT suspect_id FROM cases WHERE person_id = ? OR subject_id = ? ORDER BY suspect_id", [person_id, person_id]
    ).fetchall()
    return [r[0] for r in rows]
