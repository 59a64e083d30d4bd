"""The staff register (人员): who may do what with the cases.

Roles (docs/adr/0015-case-work.md):

* ``chief`` 科长 — assigns cases, may act on every case of every region, writes off (核销), reopens and corrects;
  may record an action on a colleague's behalf (recorded as such);
* ``verifier`` 核查员 — works the cases assigned to them, of their regions (verify, dismiss, recover, report);
* ``auditor`` 审计 — reads everything, changes nothing;
* ``admin`` 系统管理员 — manages the staff register and may not touch cases: the policy forbids system
  administrators from holding business posts (不相容岗位相分离).

The actor of a command is the operating-system account running it (`os_user`), mapped to its staff member;
nobody types who they are. The register keeps staff as an append-only log (`staff_log`, sql/cases/003): a change
is a new row, the latest row of a staff id is in force (view `staff`). The first staff member of an empty register
must be an admin, added by whoever can write the register file (recorded as ``bootstrap:<os user>``).
"""

from __future__ import annotations

import json
import os
import pwd
import re
import sqlite3
from dataclasses import dataclass

ROLES = ("chief", "verifier", "auditor", "admin")
ROLE_ZH = {"chief": "科长", "verifier": "核查员", "auditor": "审计", "admin": "系统管理员"}

_STAFF_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,31}")
_REGION = re.compile(r"\d{6}")


class StaffError(ValueError):
    """A staff change or an actor the register refuses (unknown, disabled, wrong role)."""


class NotAllowed(StaffError):
    """The staff member's role does not allow what was asked (权限不足)."""


@dataclass(frozen=True)
class Staff:
    staff_id: str
    name: str
    role: str
    regions: tuple[str, ...]
    os_user: str | None
    active: bool

    @property
    def label(self) -> str:
        return f"{self.staff_id} {self.name}（{ROLE_ZH[self.role]} {self.role}）"

    def covers(self, region: str | None) -> bool:
        """Whether the staff member works cases of a region: chiefs and auditors all, verifiers theirs."""
        return self.role in ("chief", "auditor") or (region is not None and region in self.regions)


def os_user() -> str:
    """The operating-system account running this process (from the kernel's uid, not the environment)."""
    return pwd.getpwuid(os.geteuid()).pw_name


def _row(row: sqlite3.Row | tuple) -> Staff:
    staff_id, name, role, regions, user, active = tuple(row)[:6]
    return Staff(staff_id, name, role, tuple(json.loads(regions)), user, bool(active))


_SELECT = "SELECT staff_id, name, role, regions, os_user, active FROM staff"


def everyone(con: sqlite3.Connection) -> list[Staff]:
    return [_row(r) for r in con.execute(f"{_SELECT} ORDER BY staff_id")]


def find(con: sqlite3.Connection, staff_id: str) -> Staff | None:
    row = con.execute(f"{_SELECT} WHERE staff_id = ?", [staff_id]).fetchone()
    return None if row is None else _row(row)


def get_active(con: sqlite3.Connection, staff_id: str, what: str = "人员 staff member") -> Staff:
    """An active staff member by id, else StaffError naming the id and why."""
    if not staff_id or not staff_id.strip():
        raise StaffError(f"{what}不能为空 cannot be empty")
    member = find(con, staff_id)
    if member is None:
        raise StaffError(f"{what} {staff_id!r} 不在人员名册中 is not on the staff register (fundwatch staff list)")
    if not member.active:
        raise StaffError(f"{what} {staff_id} 已停用 is disabled")
    return member


def actor_for(con: sqlite3.Connection, user: str) -> Staff:
    """The active staff member mapped to an operating-system account."""
    rows = [_row(r) for r in con.execute(f"{_SELECT} WHERE os_user = ? AND active = 1", [user])]
    if not rows:
        raise StaffError(
            f"操作系统账号 {user} 没有对应的在岗人员 the OS account {user!r} is not mapped to an active staff member "
            "(an admin adds it: fundwatch staff add … --os-user)"
        )
    return rows[0]


def _check(staff_id: str, name: str, role: str, regions: tuple[str, ...]) -> None:
    if not _STAFF_ID.fullmatch(staff_id):
        raise StaffError(f"工号格式不对 a staff id is letters, digits, '_', '.', '-' (up to 32): {staff_id!r}")
    if not name.strip():
        raise StaffError("姓名不能为空 a name is required")
    if role not in ROLES:
        raise StaffError(f"角色须为 a role is one of {', '.join(ROLES)}: {role!r}")
    for region in regions:
        if not _REGION.fullmatch(region):
            raise StaffError(f"统筹区须为6位数字 a region is six digits: {region!r}")
    if role == "verifier" and not regions:
        raise StaffError("核查员须指定统筹区 a verifier needs at least one region (--regions)")


def _append(con: sqlite3.Connection, member: Staff, at: str, by: str, reason: str | None) -> None:
    con.execute(
        "INSERT INTO staff_log (staff_id, name, role, regions, os_user, active, at, by_actor, reason)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            member.staff_id,
            member.name,
            member.role,
            json.dumps(list(member.regions)),
            member.os_user,
            int(member.active),
            at,
            by,
            reason,
        ],
    )


def _admin_or_bootstrap(con: sqlite3.Connection, user: str, role: str) -> str:
    """Who may change the staff register: an active admin; on an empty register, anyone adding an admin."""
    if con.execute("SELECT count(*) FROM staff_log").fetchone()[0] == 0:
        if role != "admin":
            raise StaffError(
                "人员名册为空，第一位须为系统管理员 the staff register is empty: add an admin first (--role admin)"
            )
        return f"bootstrap:{user}"
    admin = actor_for(con, user)
    if admin.role != "admin":
        raise NotAllowed(
            f"{admin.label} 不能管理人员 only an admin manages the staff register (系统管理员管理人员名册)"
        )
    return admin.staff_id


def add(
    con: sqlite3.Connection,
    *,
    staff_id: str,
    name: str,
    role: str,
    regions: tuple[str, ...],
    user: str | None,
    by_user: str,
    at: str,
    reason: str | None = None,
) -> Staff:
    """Add a staff member, or change one (a new row in force); the caller holds the write transaction."""
    regions = tuple(sorted(set(regions)))
    _check(staff_id, name, role, regions)
    by = _admin_or_bootstrap(con, by_user, role)
    if user is not None:
        taken = con.execute(
            "SELECT staff_id FROM staff WHERE os_user = ? AND active = 1 AND staff_id <> ?", [user, staff_id]
        ).fetchone()
        if taken is not None:
            raise StaffError(f"操作系统账号 {user} 已对应 {taken[0]} the OS account {user!r} is already {taken[0]}'s")
    member = Staff(staff_id, name.strip(), role, regions, user, True)
    _append(con, member, at, by, reason)
    return member


def disable(con: sqlite3.Connection, staff_id: str, *, by_user: str, at: str, reason: str) -> Staff:
    """Disable a staff member (kept in the log; their past actions stay attributed to them)."""
    if not reason.strip():
        raise StaffError("停用须说明理由 disabling needs a reason")
    member = get_active(con, staff_id)
    by = _admin_or_bootstrap(con, by_user, "-")
    if by == member.staff_id:
        raise StaffError("不能停用自己 an admin cannot disable themselves")
    disabled = Staff(member.staff_id, member.name, member.role, member.regions, member.os_user, False)
    _append(con, disabled, at, by, reason)
    return disabled
