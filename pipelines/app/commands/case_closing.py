"""`fundwatch case closing-report` and `fundwatch case closing-due`: the 要情结案报告 (policy §六), command line.
Part of `fundwatch case` (pipelines/app/commands/case.py adds these parsers and handlers; not a command of its own).

* `closing-report SUSPECT_ID --measures … --responsibility … [--facts …] [--out DIR]` — a chief makes the closing
  report of a closed 要情 / 重大要情 (`pipelines.cases.closing.make`): `结案报告_<id>_v<n>.md` and `.xlsx`, private,
  in DIR (default `closing_reports/` beside the register), recorded with their sha256. Run again, it is the next
  version. Refused (exit 6) for a case not closed or not a 要情, or a maker who is not a chief.
* `closing-due [--as-of DATE]` — the closed 要情 without a closing report (exit 0; the list says how many).
"""

from __future__ import annotations

import argparse
import datetime as dt
import sqlite3
from pathlib import Path

from pipelines.app import console
from pipelines.app.arguments import date_arg
from pipelines.app.console import Column
from pipelines.cases import closing
from pipelines.cases import register as reg
from pipelines.cases import staff as staff_register
from pipelines.present.labels import rule_label
from pipelines.present.masking import shown_subject
from pipelines.present.money import fmt_money

DUE_COLUMNS = [
    Column("疑点编号 id"),
    Column("规则 rule"),
    Column("统筹区 region"),
    Column("对象 subject"),
    Column("级别 severity"),
    Column("金额 amount", numeric=True),
    Column("整改完成 rectified"),
    Column("核查人 assignee"),
]


def add_parsers(commands: argparse._SubParsersAction, today: dt.date) -> None:
    report = commands.add_parser(
        "closing-report", help="要情结案报告 the closing report of a closed 要情 / 重大要情 — chief"
    )
    report.add_argument("suspect_id")
    report.add_argument("--measures", required=True, help="整改措施 the measures taken")
    report.add_argument("--responsibility", required=True, help="责任认定及追究 the responsibility determined")
    report.add_argument("--facts", default=None, help="基本案情, default composed from the case and its evidence")
    report.add_argument("--out", type=Path, default=None, help="folder, default closing_reports/ beside the register")
    due = commands.add_parser("closing-due", help="已结要情未出具结案报告 closed 要情 without a closing report")
    due.add_argument("--as-of", type=date_arg, default=today)


def cmd_closing_report(con: sqlite3.Connection, args: argparse.Namespace, me: staff_register.Staff) -> int:
    import duckdb

    from pipelines.warehouse.session import WarehouseBusy, reader

    who = reg.actor(con, staff_register.os_user())
    out = args.out or closing.default_folder(args.register or reg.register_path_for(args.db))
    note = ""
    made = None
    if args.db.is_file():
        try:
            with reader(args.db, memory_limit=args.memory_limit) as duck:
                made = _make(con, duck, who, args, out)
        except (WarehouseBusy, duckdb.Error) as err:
            note = f"（证据未读取 evidence not read: {type(err).__name__}）"
    if made is None:
        made = _make(con, None, who, args, out)
        note = note or f"（证据未读取：没有数据库 evidence not read: no database at {args.db}）"
    f = made.figures
    console.write(
        [
            f"{args.suspect_id}: 已出具结案报告 closing report made, v{made.version}{note}",
            f"涉及金额 {fmt_money(f.amount)}，已追回 {fmt_money(f.recovered)}，已核销 {fmt_money(f.written_off)}，"
            f"未追回 {fmt_money(f.outstanding)}",
            *(f"  {p}" for p in made.paths),
        ]
    )
    return 0


def _make(con, duck, who: reg.Actor, args: argparse.Namespace, out: Path) -> closing.MadeReport:
    texts = (args.measures, args.responsibility, args.facts)
    return closing.make(con, duck, who, args.suspect_id, *texts, out_dir=out, today=args.today)


def cmd_closing_due(con: sqlite3.Connection, args: argparse.Namespace, me: staff_register.Staff) -> int:
    rows = [
        [
            c["suspect_id"],
            rule_label(c["rule"]),
            c["assigned_region"] or c["region_code"] or "",
            shown_subject(c),
            c["severity"],
            fmt_money(reg._dec(c["amount_at_risk"])),
            c["rectified_on"],
            c["assignee"] or "",
        ]
        for c in closing.due(con, args.as_of)
    ]
    if not rows:
        console.write([f"截至 {args.as_of} 已结要情均已出具结案报告 every closed 要情 has its closing report"])
        return 0
    console.write(
        [
            console.table(DUE_COLUMNS, rows),
            "",
            f"已结要情未出具结案报告 {len(rows)} 件 closed 要情 without a closing report"
            "（科长出具 a chief makes it: fundwatch case closing-report ID --measures … --responsibility …）",
        ]
    )
    return 0


HANDLERS = {"closing-report": cmd_closing_report, "closing-due": cmd_closing_due}
