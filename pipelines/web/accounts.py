"""Passwords of the workbench (argon2id hashes in `staff_password`, append-only) and the login lockout.

The latest `staff_password` row of a staff member is in force; an admin sets or resets it (`fundwatch staff
passwd`). A login is refused for an unknown or disabled staff member, a staff member without a password, a wrong
password, and while locked: `lockout_failures` failed logins in a row (recorded in `web_audit`), until
`lockout_minutes` after the last of them.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from pipelines.cases import staff as staff_register

MIN_LENGTH = 10
_HASHER = PasswordHasher()  # argon2id, the library's default (RFC 9106 low-memory) parameters
# Checked against when the staff id is nobody's, so that a login takes as long either way; hashed on first use, not
# at import, which every command pays (a tenth of a second or more).
_DUMMY: str | None = None


def _dummy_hash() -> str:
    global _DUMMY
    if _DUMMY is None:
        _DUMMY = _HASHER.hash("fundwatch-no-such-account")
    return _DUMMY


class PasswordRefused(ValueError):
    """A password the policy does not accept."""


@dataclass(frozen=True)
class Password:
    password_id: int
    staff_id: str
    hash: str
    set_at: str


def current(con: sqlite3.Connection, staff_id: str) -> Password | None:
    row = con.execute(
        "SELECT password_id, staff_id, hash, set_at FROM staff_password WHERE staff_id = ?"
        " ORDER BY password_id DESC LIMIT 1",
        [staff_id],
    ).fetchone()
    return None if row is None else Password(int(row[0]), row[1], row[2], row[3])


def check_policy(password: str) -> None:
    if len(password) < MIN_LENGTH:
        raise PasswordRefused(f"密码至少{MIN_LENGTH}个字符 a password has at least {MIN_LENGTH} characters")
    if password.strip() != password or not password.isprintable():
        raise PasswordRefused(
            "密码不能以空白开头或结尾、不能含控制字符 no leading/trailing blanks, no control characters"
        )


def set_password(con: sqlite3.Connection, staff_id: str, password: str, *, by: str, at: str) -> Password:
    """Record a new password of an active staff member (the caller holds the write transaction)."""
    member = staff_register.get_active(con, staff_id)
    check_policy(password)
    con.execute(
        "INSERT INTO staff_password (staff_id, hash, set_at, set_by) VALUES (?, ?, ?, ?)",
        [member.staff_id, _HASHER.hash(password), at, by],
    )
    found = current(con, member.staff_id)
    assert found is not None
    return found


def verify(con: sqlite3.Connection, staff_id: str, password: str) -> tuple[staff_register.Staff, Password] | None:
    """The active staff member and their password in force if `password` is it; else None (same work either way)."""
    member = staff_register.find(con, staff_id) if staff_id else None
    stored = current(con, staff_id) if member is not None and member.active else None
    try:
        _HASHER.verify(stored.hash if stored else _dummy_hash(), password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return None
    if member is None or stored is None or not member.active:
        return None
    return member, stored


def locked_until(
    con: sqlite3.Connection, staff_id: str, now: dt.datetime, failures: int, minutes: int
) -> dt.datetime | None:
    """When the lockout of a staff id ends, if it is locked now: its last `failures` login attempts that checked a
    password all failed, the last of them less than `minutes` ago. Attempts refused while locked do not count."""
    rows = con.execute(
        "SELECT outcome, at FROM web_audit WHERE actor = ? AND action = 'login' AND outcome IN ('ok', 'failed')"
        " ORDER BY audit_id DESC LIMIT ?",
        [staff_id, failures],
    ).fetchall()
    if len(rows) < failures or any(outcome != "failed" for outcome, _ in rows):
        return None
    until = dt.datetime.fromisoformat(rows[0][1]) + dt.timedelta(minutes=minutes)
    return until if until > now else None
