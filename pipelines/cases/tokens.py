"""API tokens of the payment systems that call the screening service (POST /api/screen, CONTRACT.md section 7).

One token per calling system, named like a staff id (`payroll-sys`), created by an admin and shown once: the
register keeps only its SHA-256 (sql/cases/006_screening.sql), so a copy of the register lets nobody call the
service. A token is 256 random bits (`secrets.token_urlsafe(32)`): no dictionary to guess it from, and a plain,
unsalted hash is enough to find it again with one indexed lookup (`verify`). Revoking keeps the row, with who,
when and why; a name is never given to a second token (the log of calls names systems by it).

Every call is logged (`record_call`) with the token's name, the remote address, the outcome and counts, never with
a citizen ID or an account: a detail is masked before it is stored.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import sqlite3

from pipelines.cases import register as reg
from pipelines.cases import staff as staff_register
from pipelines.present.masking import mask_text

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,31}")
# A token longer than this was never made here: refused before it is hashed.
MAX_TOKEN_LENGTH = 256
OUTCOMES = ("ok", "refused", "error")
NO_TOKEN = "-"


class TokenError(reg.CaseError):
    """A token request the register refuses: a bad or taken name, no such token, no reason."""


def token_hash(token: str) -> str:
    """The SHA-256 of a token, hex: what the register keeps."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _admin(con: sqlite3.Connection, by: str | reg.Actor | staff_register.Staff, what: str) -> staff_register.Staff:
    if isinstance(by, reg.Actor):
        member = by.staff
    elif isinstance(by, staff_register.Staff):
        member = by
    else:
        member = staff_register.get_active(con, by, "经办人 actor")
    if member.role != "admin":
        raise staff_register.NotAllowed(
            f"{member.label}: 只有系统管理员可以{what}接口令牌 only an admin manages API tokens"
        )
    return member


def create(con: sqlite3.Connection, by: str | reg.Actor | staff_register.Staff, name: str) -> str:
    """A new token for the system `name` (an admin); returned once, only its hash is stored."""
    member = _admin(con, by, "创建")
    if not _NAME.fullmatch(name or ""):
        raise TokenError(
            f"令牌名称格式不对 a token name is letters, digits, '_', '.', '-' (up to 32), like a staff id: {name!r}"
        )
    token = secrets.token_urlsafe(32)
    with reg.write_transaction(con):
        taken = con.execute("SELECT created_at FROM api_tokens WHERE name = ?", [name]).fetchone()
        if taken is not None:
            raise TokenError(
                f"令牌名称 {name} 已于 {taken[0]} 使用 the name {name!r} is taken (a revoked token keeps its name): "
                "choose another"
            )
        con.execute(
            "INSERT INTO api_tokens (name, token_hash, created_by, created_at) VALUES (?, ?, ?, ?)",
            [name, token_hash(token), member.staff_id, reg._now()],
        )
    return token


def revoke(con: sqlite3.Connection, by: str | reg.Actor | staff_register.Staff, name: str, reason: str) -> None:
    """Revoke the token of `name` (an admin, with a reason); the token row stays."""
    member = _admin(con, by, "吊销")
    if not reason or not reason.strip():
        raise TokenError("吊销令牌须说明理由 revoking a token needs a reason")
    with reg.write_transaction(con):
        row = con.execute(
            "SELECT t.token_id, r.revoked_at FROM api_tokens AS t"
            " LEFT JOIN api_token_revocations AS r USING (token_id) WHERE t.name = ?",
            [name],
        ).fetchone()
        if row is None:
            raise TokenError(f"没有这个令牌 no API token named {name!r}")
        if row[1] is not None:
            raise TokenError(f"令牌 {name} 已于 {row[1]} 吊销 already revoked")
        con.execute(
            "INSERT INTO api_token_revocations (token_id, revoked_by, revoked_at, reason) VALUES (?, ?, ?, ?)",
            [row[0], member.staff_id, reg._now(), reason.strip()],
        )


def verify(con: sqlite3.Connection, token: str | None) -> str | None:
    """The name of the system a token belongs to, when it is one the register made and has not revoked; else
    None. One lookup by the token's hash (a unique index)."""
    if not token or not isinstance(token, str) or len(token) > MAX_TOKEN_LENGTH:
        return None
    row = con.execute(
        "SELECT t.name FROM api_tokens AS t WHERE t.token_hash = ?"
        " AND NOT EXISTS (SELECT 1 FROM api_token_revocations AS r WHERE r.token_id = t.token_id)",
        [token_hash(token)],
    ).fetchone()
    return None if row is None else str(row[0])


def record_call(
    con: sqlite3.Connection,
    *,
    token_name: str | None,
    remote: str | None,
    outcome: str,
    rows: int | None = None,
    held: int | None = None,
    screening_id: int | None = None,
    detail: str | None = None,
) -> int:
    """Log one call of the service (accepted or refused); returns its call_id. `token_name` None (no token, or one
    the register does not know) is logged as '-'; a detail has every ID and account in it masked."""
    if outcome not in OUTCOMES:
        raise ValueError(f"outcome is one of {', '.join(OUTCOMES)}: {outcome!r}")
    with reg.write_transaction(con):
        cursor = con.execute(
            "INSERT INTO api_calls (at, token_name, remote, outcome, rows, held, screening_id, detail)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                reg._now(),
                token_name or NO_TOKEN,
                remote,
                outcome,
                rows,
                held,
                screening_id,
                None if detail is None else mask_text(detail),
            ],
        )
        return int(cursor.lastrowid)


TOKEN_COLUMNS = ("name", "created_by", "created_at", "revoked_by", "revoked_at", "reason")


def tokens(con: sqlite3.Connection) -> list[dict[str, object]]:
    """Every token ever made, oldest first: name, created_by/at, revoked_by/at and the reason (never the hash)."""
    rows = con.execute(
        "SELECT t.name, t.created_by, t.created_at, r.revoked_by, r.revoked_at, r.reason"
        " FROM api_tokens AS t LEFT JOIN api_token_revocations AS r USING (token_id) ORDER BY t.token_id"
    ).fetchall()
    return [dict(zip(TOKEN_COLUMNS, r, strict=True)) for r in rows]
