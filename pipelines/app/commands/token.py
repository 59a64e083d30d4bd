"""`fundwatch token …`: the API tokens of the payment systems that call the screening service (POST /api/screen,
CONTRACT.md section 7), kept in the case register beside the database (`--db`).

    fundwatch token add NAME                    a new token for the system NAME, printed once — admin
    fundwatch token list                        every token: created, revoked (never the token) — admin, auditor
    fundwatch token revoke NAME --reason TEXT   the system's calls are refused from now on — admin

Who acts is the operating-system account running the command, mapped to its staff member (`fundwatch staff`).
The register keeps only the token's SHA-256: a token that is lost is revoked and a new one made under a new name.

Exit statuses: 0 done; 2 usage error (a bad argument, no register at the path: never created here); 6 refused
(not an admin, a name taken or malformed, no such token, no reason).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from pipelines.app import console
from pipelines.app.console import Column
from pipelines.app.settings import Settings
from pipelines.cases import register as reg
from pipelines.cases import staff as staff_register
from pipelines.cases import tokens

NAME = "token"
EXIT_USAGE = 2
EXIT_REFUSED = 6


def add_parser(sub: argparse._SubParsersAction, settings: Settings) -> None:
    command = sub.add_parser(NAME, help="接口令牌 API tokens of the payment systems (screening service): admins")
    command.add_argument("--db", type=Path, default=settings.db, help="the DuckDB file; its register is beside it")
    command.add_argument("--register", type=Path, default=None, help="case register (SQLite), default beside --db")
    command.set_defaults(handler=run)
    commands = command.add_subparsers(dest="token_command", required=True)
    add = commands.add_parser("add", help="新建令牌 a new token for a payment system (shown once)")
    add.add_argument("name", help="系统名称 the calling system's name, like a staff id (payroll-sys)")
    commands.add_parser("list", help="令牌列表 every token, created and revoked (never the token itself)")
    revoke = commands.add_parser("revoke", help="吊销令牌 revoke a system's token (the record stays)")
    revoke.add_argument("name")
    revoke.add_argument("--reason", required=True, help="吊销理由 why")


def run(args: argparse.Namespace, settings: Settings) -> int:
    register = args.register or reg.register_path_for(args.db)
    try:
        with reg.writer(register, create=False) as con:
            me = staff_register.actor_for(con, staff_register.os_user())
            if args.token_command == "add":
                token = tokens.create(con, me, args.name)
                console.write(
                    [
                        f"已创建接口令牌 token created for {args.name}:",
                        token,
                        "此令牌仅此一次显示，请立即妥善保存；登记簿只保存其散列值 "
                        "the token is shown only now: store it safely; the register keeps only its SHA-256",
                    ]
                )
            elif args.token_command == "revoke":
                tokens.revoke(con, me, args.name, args.reason)
                console.write([f"已吊销接口令牌 token revoked: {args.name}（记录保留 the record stays）"])
            else:
                return _list(con, me)
            return 0
    except reg.RegisterMissing as err:
        console.error(f"fundwatch token: {err}")
        return EXIT_USAGE
    except (reg.CaseError, staff_register.StaffError) as err:
        console.error(f"fundwatch token: 拒绝 refused: {err}")
        return EXIT_REFUSED


def _list(con, me: staff_register.Staff) -> int:
    if me.role not in ("admin", "auditor"):
        raise staff_register.NotAllowed(
            f"{me.label}: 只有系统管理员和审计可查看令牌 only admins and auditors list tokens"
        )
    rows = [
        (
            t["name"],
            t["created_by"],
            t["created_at"],
            "已吊销 revoked" if t["revoked_at"] else "有效 valid",
            t["revoked_by"],
            t["revoked_at"],
            t["reason"],
        )
        for t in tokens.tokens(con)
    ]
    headers = ("名称\nname", "创建人\ncreated by", "创建时间\ncreated at", "状态\nstatus", "吊销人\nrevoked by")
    columns = [Column(h) for h in (*headers, "吊销时间\nrevoked at", "吊销理由\nreason")]
    console.write([console.table(columns, rows, title="接口令牌 API tokens"), "", f"共 {len(rows)} 个 tokens"])
    return 0
