"""`fundwatch blacklist …`: the blacklist (黑名单) of violating employers, persons and accounts (CONTRACT.md
section 7), kept in the case register beside the database (`--db`).

    fundwatch blacklist add --kind employer|person|account --key KEY --reason TEXT [--case SUSPECT_ID]   chief
    fundwatch blacklist remove ENTRY_ID --reason TEXT                                                    chief
    fundwatch blacklist list [--all] [--reveal --reason TEXT]

Who acts is the operating-system account running the command, mapped to its staff member (`fundwatch staff`).
Only a chief adds or removes; a removed entry stays on record (`list --all`). The listing shows citizen IDs and
accounts masked unless `--reveal` with a `--reason`, which the register's access log keeps; an admin sees none
of it (不相容岗位相分离). Pre-payment screening holds a listed person or account; the next nightly run mirrors the
list into the database and marks the findings it hits.

Exit statuses: 0 done; 2 usage error (a bad argument, no register at the path: never created here); 6 refused
(not a chief, a key or reason the register does not accept, an entry already listed or removed).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from pipelines.app import console
from pipelines.app.console import Column
from pipelines.app.settings import Settings
from pipelines.cases import blacklist
from pipelines.cases import register as reg
from pipelines.cases import staff as staff_register
from pipelines.present.masking import mask_text

NAME = "blacklist"
EXIT_USAGE = 2
EXIT_REFUSED = 6


def add_parser(sub: argparse._SubParsersAction, settings: Settings) -> None:
    command = sub.add_parser(NAME, help="黑名单 the blacklist of employers, persons, accounts: add, remove, list")
    command.add_argument("--db", type=Path, default=settings.db, help="the DuckDB file; its register is beside it")
    command.add_argument("--register", type=Path, default=None, help="case register (SQLite), default beside --db")
    command.set_defaults(handler=run)
    commands = command.add_subparsers(dest="blacklist_command", required=True)
    add = commands.add_parser("add", help="列入黑名单 list an employer, a person or an account — chief")
    add.add_argument(
        "--kind", required=True, choices=blacklist.KINDS, help="单位 employer | 人员 person | 账号 account"
    )
    add.add_argument("--key", required=True, help="单位编号, 公民身份号码 or 银行账号")
    add.add_argument("--reason", required=True, help="列入理由 why")
    add.add_argument("--case", default=None, help="来源疑点 the case it comes from (suspect_id)")
    remove = commands.add_parser("remove", help="移出黑名单 take an entry off (it stays on record) — chief")
    remove.add_argument("entry_id", type=int, help="编号 entry (blacklist list)")
    remove.add_argument("--reason", required=True, help="移出理由 why")
    listing = commands.add_parser("list", help="黑名单 the entries in force (--all: removed ones too)")
    listing.add_argument("--all", action="store_true", help="also the removed entries, with who removed them and why")
    listing.add_argument("--reveal", action="store_true", help="show IDs and accounts in full (recorded; --reason)")
    listing.add_argument("--reason", default=None, help="why (required with --reveal)")


def run(args: argparse.Namespace, settings: Settings) -> int:
    register = args.register or reg.register_path_for(args.db)
    try:
        with reg.writer(register, create=False) as con:
            me = staff_register.actor_for(con, staff_register.os_user())
            if args.blacklist_command == "add":
                return _add(con, args, me)
            if args.blacklist_command == "remove":
                return _remove(con, args, me)
            return _list(con, args, me)
    except reg.RegisterMissing as err:
        console.error(f"fundwatch blacklist: {err}")
        return EXIT_USAGE
    except (reg.CaseError, staff_register.StaffError) as err:
        console.error(f"fundwatch blacklist: 拒绝 refused: {err}")
        return EXIT_REFUSED


def _add(con, args: argparse.Namespace, me: staff_register.Staff) -> int:
    entry_id = blacklist.add(con, me, args.kind, args.key, args.reason, args.case)
    key = blacklist.canonical_key(args.kind, args.key)
    source = f"，来源疑点 case {args.case}" if args.case else ""
    console.write(
        [
            f"已列入黑名单 listed: entry {entry_id} {blacklist.kind_label(args.kind)} "
            f"{blacklist.shown_key(args.kind, key)}{source}"
        ]
    )
    return 0


def _remove(con, args: argparse.Namespace, me: staff_register.Staff) -> int:
    blacklist.remove(con, me, args.entry_id, args.reason)
    console.write([f"已移出黑名单 removed: entry {args.entry_id}（记录保留 the entry stays on record）"])
    return 0


def _list(con, args: argparse.Namespace, me: staff_register.Staff) -> int:
    if me.role == "admin":
        raise staff_register.NotAllowed(f"{me.label}: 系统管理员不得查看黑名单 an admin sees no personal data")
    revealed = bool(args.reveal)
    if revealed:
        target = "blacklist list" + (" --all" if args.all else "")
        reg.record_access(con, me, "blacklist_unmasked", target, args.reason or "", staff_register.os_user())

    def text(value: object) -> str | None:
        if value is None:
            return None
        return str(value) if revealed else mask_text(str(value))

    rows = []
    for e in blacklist.entries(con, in_force_only=not args.all):
        kind, key = str(e["kind"]), str(e["key"])
        row = [
            e["entry_id"],
            blacklist.kind_label(kind),
            key if revealed else blacklist.shown_key(kind, key),
            text(e["reason"]),
            e["source_suspect_id"],
            e["added_by"],
            e["added_at"],
        ]
        if args.all:
            status = "在册 in force" if e["in_force"] else "已移出 removed"
            row += [status, e["removed_by"], e["removed_at"], text(e["removal_reason"])]
        rows.append(row)
    headers = [
        "编号\nentry",
        "类别\nkind",
        "对象\nkey",
        "列入理由\nreason",
        "来源疑点\ncase",
        "列入人\nby",
        "列入时间\nat",
    ]
    if args.all:
        headers += ["状态\nstatus", "移出人\nremoved by", "移出时间\nremoved at", "移出理由\nremoval reason"]
    columns = [Column(h, numeric=h.endswith("entry")) for h in headers]
    what = "黑名单（含已移出）blacklist, every entry" if args.all else "黑名单 blacklist, in force"
    shown = "" if revealed else "（身份证号、账号已脱敏 IDs and accounts masked）"
    console.write([console.table(columns, rows, title=what), "", f"共 {len(rows)} 条 entries{shown}"])
    return 0
