"""`fundwatch screen --batch FILE --db DB [--out FILE] [--as-of DATE]`: screen a payment batch before the money
leaves (事前预防, CONTRACT.md section 7), and adjudicate its holds.

The batch is read as the nightly run reads `benefit_payments`; the published file and the case register are read
read-only (a nightly run may be publishing meanwhile: the file read is the one published when the screening
began). One result row per data row goes to `--out` (CSV, or XLSX when it ends in .xlsx) or, without it, as CSV
to standard output; a summary in Chinese goes to standard error. The screening and its held rows are recorded in
the register (`screenings`, `screening_holds`), where `fundwatch screen adjudicate` decides each held row.

    fundwatch screen --batch FILE [--out FILE]                 screen (exit 0 all pass, 1 some held, 2 usage)
    fundwatch screen list                                      the latest screenings
    fundwatch screen holds [--screening N] [--reason CODE] [--decision D]   held rows (masked)
    fundwatch screen adjudicate SCREENING LINE --decision proper|improper|pending --reason TEXT [--by STAFF]

Exit statuses: 0 every row passes (adjudicate/list/holds: done); 1 at least one row is held; 2 usage error (a bad
argument, no database or register at the path, a batch file that cannot be read at all); 3 failed (anything
unexpected: nothing was screened, never read as "passed" or "held"); 6 refused by the register (adjudicate: the
role, the region, a decided hold that only a chief may change).
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

from pipelines.app import console
from pipelines.app.arguments import date_arg
from pipelines.app.console import Column
from pipelines.app.settings import Settings
from pipelines.cases import adjudication
from pipelines.cases import register as reg
from pipelines.cases import staff as staff_register
from pipelines.present.masking import mask_account, mask_id, mask_text
from pipelines.screen import checks, service
from pipelines.screen.batch import UnreadableFile, read_file
from pipelines.warehouse.session import reader

NAME = "screen"
EXIT_PASS = 0
EXIT_HELD = 1
EXIT_USAGE = 2
EXIT_REFUSED = 6
EXIT_FAILED = 3
OUTPUT_COLUMNS = service.RESULT_FILE_COLUMNS
HOLDS_SHOWN = 500  # `screen holds` lists the latest held rows, up to this many


def add_parser(sub: argparse._SubParsersAction, settings: Settings) -> None:
    screen = sub.add_parser(NAME, help="事前筛查 screen a payment batch before it is paid; adjudicate its holds")
    screen.add_argument("--batch", type=Path, default=None, help="the payment batch (benefit_payments format)")
    screen.add_argument("--db", type=Path, default=settings.db, help="the published DuckDB file")
    screen.add_argument("--register", type=Path, default=None, help="case register (SQLite), default beside --db")
    screen.add_argument("--out", type=Path, default=None, help="result file (.csv or .xlsx); default: CSV to stdout")
    screen.add_argument("--as-of", type=date_arg, default=None, help="screening date (default: today)")
    screen.set_defaults(handler=run)
    commands = screen.add_subparsers(dest="screen_command", required=False)
    commands.add_parser("list", help="筛查记录 the latest screenings")
    holds = commands.add_parser("holds", help="暂停发放明细 held rows (IDs and accounts masked)")
    holds.add_argument("--screening", type=int, default=None)
    holds.add_argument("--reason", choices=checks.REASONS, default=None)
    holds.add_argument("--decision", choices=("proper", "improper", "pending"), default=None)
    adjudicate = commands.add_parser("adjudicate", help="核实认定 decide a held row: proper (release) or improper")
    adjudicate.add_argument("screening_id", type=int, help="筛查编号 screening")
    adjudicate.add_argument("line", type=int, help="行号 line of the held row")
    adjudicate.add_argument("--decision", required=True, choices=("proper", "improper", "pending"))
    adjudicate.add_argument("--reason", required=True, help="认定理由 why")
    adjudicate.add_argument("--by", default=None, help="a chief records for this colleague (staff id)")


def run(args: argparse.Namespace, settings: Settings) -> int:
    register = args.register or reg.register_path_for(args.db)
    try:
        if args.screen_command is None:
            return _screen(args, settings, register)
        with reg.writer(register, create=False) as con:
            if args.screen_command == "list":
                return _list(con)
            if args.screen_command == "holds":
                return _holds(con, args)
            return _adjudicate(con, args)
    except reg.RegisterMissing as err:
        console.error(f"fundwatch screen: {err}")
        return EXIT_USAGE
    except (reg.CaseError, staff_register.StaffError) as err:
        console.error(f"fundwatch screen: 拒绝 refused: {err}")
        return EXIT_REFUSED
    except Exception as err:  # never exit 1 by accident: 1 says "rows held", and a caller pays on 0
        console.error(f"fundwatch screen: 筛查失败 failed: {type(err).__name__}: {err}")
        return EXIT_FAILED


def _screen(args: argparse.Namespace, settings: Settings, register: Path) -> int:
    if args.batch is None:
        console.error("fundwatch screen: 缺少批次文件 give the batch: --batch FILE")
        return EXIT_USAGE
    if not args.batch.is_file():
        console.error(f"fundwatch screen: 批次文件不存在 no batch file at {args.batch}")
        return EXIT_USAGE
    if not args.db.is_file():
        console.error(f"fundwatch screen: 数据库文件不存在 no published database at {args.db.resolve()}")
        return EXIT_USAGE
    if args.out is not None and args.out.resolve() == args.batch.resolve():
        console.error("fundwatch screen: 结果文件不能覆盖批次文件 --out may not be the batch file itself")
        return EXIT_USAGE
    if args.out is not None and args.out.suffix.lower() not in (".csv", ".xlsx"):
        console.error(f"fundwatch screen: 结果文件须为 .csv 或 .xlsx --out must end in .csv or .xlsx: {args.out}")
        return EXIT_USAGE
    as_of = args.as_of or dt.date.today()
    try:
        batch = read_file(args.batch, as_of)
    except UnreadableFile as err:
        console.error(f"fundwatch screen: 批次文件无法读取 {args.batch}: {err}")
        return EXIT_USAGE
    with reg.reader(register) as con:  # raises FileNotFoundError naming the path
        blacklist = service.blacklist_in_force(con)
    with reader(args.db, memory_limit=settings.duckdb_memory_limit) as duck:
        screening = service.screen(batch, duck, blacklist, as_of)
    with reg.writer(register, create=False) as con:
        screening_id = service.record(
            con,
            screening,
            batch_file=str(args.batch),
            by=service.screened_by(con, staff_register.os_user()),
            channel="cli",
            at=dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        )
    _write(screening, args.out)
    _summary(screening, screening_id, args.out)
    return EXIT_HELD if screening.held else EXIT_PASS


def _write(screening: service.Screening, out: Path | None) -> None:
    results = screening.results.select(OUTPUT_COLUMNS)
    if out is None:
        sys.stdout.write(results.write_csv())
        sys.stdout.flush()
    elif out.suffix.lower() == ".xlsx":
        results.with_columns(results["amount"].cast(str)).write_excel(out, worksheet="筛查结果", autofit=True)
    else:
        results.write_csv(out)


def _summary(screening: service.Screening, screening_id: int, out: Path | None) -> None:
    rows = screening.results.height
    reasons = "，".join(f"{code} {checks.REASON_ZH[code]} {n}" for code, n in screening.by_reason().items())
    lines = [
        f"事前筛查 screening #{screening_id}: 共{rows}行 rows，通过 pass {rows - screening.held}，"
        f"暂停发放 hold {screening.held}" + (f"（{reasons}）" if reasons else ""),
        f"数据截至 published run {screening.run_id or '-'}，筛查日期 as of {screening.as_of.isoformat()}",
    ]
    if out is not None:
        lines.append(f"结果 results: {out}")
    if screening.held:
        lines.append(
            f"暂停行待核实认定 held rows await adjudication: fundwatch screen adjudicate {screening_id} LINE …"
        )
    console.write(lines, stderr=True)


def _list(con) -> int:
    listed = adjudication.screenings(con)
    fields = ("screening_id", "screened_at", "screened_by", "channel", "batch_file", "rows", "held", "held_amount")
    rows = [(*(r[f] for f in fields), r["pending"]) for r in listed.iter_rows(named=True)]
    columns = [
        Column("筛查编号\nscreening", numeric=True),
        Column("时间\nat"),
        Column("筛查人\nby"),
        Column("渠道\nchannel"),
        Column("批次文件\nbatch"),
        Column("行数\nrows", numeric=True),
        Column("暂停\nheld", numeric=True),
        Column("暂停金额\nheld amount", numeric=True),
        Column("待认定\npending", numeric=True),
    ]
    console.write([console.table(columns, rows, title="事前筛查记录 screenings")])
    return 0


def _holds(con, args: argparse.Namespace) -> int:
    held = adjudication.holds(
        con, screening_id=args.screening, reason=args.reason, decision=args.decision, limit=HOLDS_SHOWN
    )
    shown = [
        (
            r["screening_id"],
            r["line"],
            r["payment_id"],
            mask_id(r["person_id"]) if r["person_id"] else None,
            r["region_code"],
            r["period"],
            r["benefit_type"],
            r["amount"],
            mask_account(r["bank_account"]) if r["bank_account"] else None,
            r["reasons"],
            r["decision"],
            mask_text(r["explanation"]),
        )
        for r in held.iter_rows(named=True)
    ]
    columns = [
        Column("筛查\nscreening", numeric=True),
        Column("行\nline", numeric=True),
        Column("发放流水号\npayment_id"),
        Column("公民身份号码\nperson_id"),
        Column("统筹区\nregion"),
        Column("所属期\nperiod"),
        Column("待遇类型\nbenefit"),
        Column("金额\namount", numeric=True),
        Column("银行账号\naccount"),
        Column("原因\nreasons"),
        Column("认定\ndecision"),
        Column("说明\nexplanation"),
    ]
    console.write([console.table(columns, shown, title="暂停发放明细 held rows")])
    return 0


def _adjudicate(con, args: argparse.Namespace) -> int:
    by = reg.actor(con, staff_register.os_user(), args.by)
    adjudication_id = adjudication.adjudicate(con, by, args.screening_id, args.line, args.decision, args.reason)
    console.write(
        [f"已认定 adjudicated: screening #{args.screening_id} line {args.line} → {args.decision} (#{adjudication_id})"]
    )
    return 0
