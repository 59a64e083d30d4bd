"""A staffed register for tests: one admin, one chief, verifiers of region 330100, an auditor."""

from __future__ import annotations

import sqlite3

from pipelines.cases import register as reg
from pipelines.cases import staff

REGION = "330100"
AT = "2026-01-05T09:00:00+08:00"
STAFF = (
    # staff_id, name, role, regions, os user
    ("ADM", "管理员", "admin", (), "adm-user"),
    ("chief", "王科长", "chief", (), "chief-user"),
    ("V01", "核查员一", "verifier", (REGION,), "v01-user"),
    ("V02", "核查员二", "verifier", (REGION,), "v02-user"),
    ("OP7", "经办七", "verifier", (REGION,), None),
    ("OP8", "经办八", "verifier", (REGION,), None),
    ("V99", "外区核查员", "verifier", ("330200",), None),
    ("AUD", "审计员", "auditor", (), "aud-user"),
)


def staff_up(con: sqlite3.Connection, members=STAFF) -> None:
    """Add the admin first (bootstrap), then everyone else as that admin (its OS account)."""
    admin_user = members[0][4]
    with reg.write_transaction(con):
        for staff_id, name, role, regions, user in members:
            staff.add(
                con,
                staff_id=staff_id,
                name=name,
                role=role,
                regions=regions,
                user=user,
                by_user=admin_user,
                at=AT,
            )
