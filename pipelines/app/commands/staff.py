"""`fundwatch staff …`: the staff register (人员名册) — who may work, assign, audit, administer.

Only an admin changes it (the first admin of an empty register is added by whoever may write the register
file, recorded as such). The register lives beside the database (`--db`); `staff add` creates it only when that
database exists, so a mistyped path is an error, never a new empty register.

`staff passwd STAFF_ID` sets or resets a staff member's workbench password (`fundwatch web`), read at a prompt
that does not echo it, or from stdin with --password-stdin; stored as an argon2id hash, append-only.

Exit statuses: 0 done; 2 usage error (no database or register at the path); 6 refused (not an admin, a bad
staff id, role or region, a password the policy refuses).
"""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path

from pipelines.app import console
from pipelines.app.console import Column
from pipelines.app.settings import Settings
from pipelines.cases import register as reg
from pipelines.cases import staff as staff_register
from pipelines.web import accounts
from pipelines.web.accounts import PasswordRefused

NAME = "staff"
EXIT_USAGE = 2
EXIT_REFUSED = 6


def _regions(text: str) -> tuple[str, ...]:
    return tuple(r.strip() for r in text.split(",") if r.strip())


def add_parser(sub: argparse._SubParsersAction, settings: Settings) -> None:
    staff = sub.add_parser(NAME, help="人员名册 staff: add, list, disable (admins only change it)")
    staff.add_argument("--db", type=Path, default=settings.db, help="the DuckDB file; its register is beside it")
    staff.add_argument("--register", type=Path, default=None, help="case register (SQLite), default beside --db")
    staff.set_defaults(handler=run)
    commands = staff.add_subparsers(dest="staff_command", required=True)
    add = commands.add_parser("add", help="新增或修改人员 add (or change) a staff member")
    add.add_argument("staff_id", help="工号")
    add.add_argument("--name", required=True, help="姓名")
    add.add_argument("--role", required=True, choices=staff_register.ROLES, help="chief | verifier | auditor | admin")
    add.add_argument("--regions", type=_regions, default=(), help="统筹区, comma-separated (verifiers)")
    add.add_argument("--os-user", default=None, help="the operating-system account this person works under")
    add.add_argument("--reason", default=None)
    commands.add_parser("list", help="人员名册 list staff")
    disable = commands.add_parser("disable", help="停用 disable a staff member (kept, with their history)")
    disable.add_argument("staff_id")
    disable.add_argument("--reason", required=True)
    passwd = commands.add_parser("passwd", help="设置或重置工作台密码 set or reset a workbench password (admins)")
    passwd.add_argument("staff_id", help="工号")
    passwd.add_argument(
        "--password-stdin", action="store_true", help="read the password from the first line of stdin (scripts)"
    )


def run(args: argparse.Namespace, settings: Settings) -> int:
    register = args.register or reg.register_path_for(args.db)
    create = args.staff_command == "add" and args.db.is_file()
    try:
        with reg.writer(register, create=create) as con:
            return _handle(con, args)
    except reg.RegisterMissing as err:
        console.error(f"fundwatch staff: {err}")
        return EXIT_USAGE
    except (staff_register.StaffError, PasswordRefused) as err:
        console.error(f"fundwatch staff: 拒绝 refused: {err}")
        return EXIT_REFUSED


def _read_password(from_stdin: bool) -> str:
    """The new password: the first line of stdin, or typed twice at a prompt that does not echo it."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("新密码 new password: ")
    if getpass.getpass("再次输入 again: ") != first:
        raise PasswordRefused("两次输入不一致 the two entries differ")
    return first


def _passwd(con, args: argparse.Namespace, user: str) -> int:
    admin = staff_register.actor_for(con, user)
    if admin.role != "admin":
        raise staff_register.NotAllowed(f"{admin.label} 不能设置密码 only an admin sets passwords")
    staff_register.get_active(con, args.staff_id)  # before asking for a password
    password = _read_password(args.password_stdin)
    with reg.write_transaction(con):
        accounts.set_password(con, args.staff_id, password, by=admin.staff_id, at=reg._now())
    console.write([f"密码已设置 password set for {args.staff_id}（旧会话已失效 earlier sessions end）"])
    return 0


def _handle(con, args: argparse.Namespace) -> int:
    user = staff_register.os_user()
    if args.staff_command == "add":
        with reg.write_transaction(con):
            member = staff_register.add(
                con,
                staff_id=args.staff_id,
                name=args.name,
                role=args.role,
                regions=args.regions,
                user=args.os_user,
                by_user=user,
                at=reg._now(),
                reason=args.reason,
            )
        console.write([f"人员已登记 staff member recorded: {member.label}"])
        return 0
    if args.staff_command == "passwd":
        return _passwd(con, args, user)
    if args.staff_command == "disable":
        with reg.write_transaction(con):
            member = staff_register.disable(con, args.staff_id, by_user=user, at=reg._now(), reason=args.reason)
        console.write([f"人员已停用 disabled: {member.label}"])
        return 0
    headers = ("工号 id", "姓名 name", "角色 role", "统筹区 regions", "账号 os user", "状态 active")
    columns = [Column(h) for h in headers]
    rows = [
        (
            m.staff_id,
            m.name,
            f"{staff_register.ROLE_ZH[m.role]} {m.role}",
            ",".join(m.regions) or "全部 all" if m.role in ("chief", "auditor") else ",".join(m.regions),
            m.os_user or "",
            "在岗 active" if m.active else "停用 disabled",
        )
        for m in staff_register.everyone(con)
    ]
    console.write([console.table(columns, rows), "", f"共 {len(rows)} 人 staff"])
    return 0
