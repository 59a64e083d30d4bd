"""The case register of the 四定一限 cycle: every suspect as a case, with an audit trail.

Lifecycle (status codes, Chinese as the office says them):

    open 待核查 --assign--> under_verification 核查中 --verify--> confirmed 确认违规 --rectify--> rectified 已整改
                  \\                              \\--dismiss--> dismissed 排除
                   \\--dismiss--> dismissed 排除
    overdue 逾期 is derived, never stored: a deadline passed before the case was closed.

The register is a SQLite file beside the DuckDB file (docs/adr/0007-case-register-in-sqlite.md):
analysts record verification at any time, also while a nightly run holds the DuckDB file. Every
write is one `BEGIN IMMEDIATE` transaction, so the nightly sync and an analyst's command are
serialised by SQLite and neither can overwrite the other; every change appends a `case_events` row
(who, when, from what to what, why). The log is append-only (triggers refuse UPDATE and DELETE) and
hash-chained, each event to the one before it, in the transaction that appends it (`pipelines.cases.audit`,
docs/adr/0013-tamper-evident-case-log.md); `audit.verify_log` walks the chain.

A nightly run `sync_findings`: a finding seen for the first time opens a case; one seen again is
refreshed (amount, summary, last_seen) and keeps everything recorded; one that stopped firing is
marked `firing = 0`, never erased. A rectified case whose finding fires again with more money or later
months than were rectified is reopened as a recurrence (整改后再次发生); the same finding over the same,
already rectified rows (they stay in the extracts) leaves it rectified.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import polars as pl

from pipelines.cases import audit
from pipelines.cases.calendar import rectification_due, report_due
from pipelines.cases.severity import classify
from pipelines.present.labels import CASE_STATUS_ZH
from pipelines.warehouse.sql import SQL_DIR

CLOSED = ("dismissed", "rectified")

# action -> (statuses it may start from, status it leads to)
TRANSITIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "assign": (("open", "under_verification"), "under_verification"),
    "verify": (("under_verification",), "confirmed"),
    "dismiss": (("open", "under_verification"), "dismissed"),
    "rectify": (("confirmed",), "rectified"),
}


class CaseError(ValueError):
    """An analyst's request the register refuses (unknown case, wrong status, 回避 …)."""


def open_register(path: Path) -> sqlite3.Connection:
    """The register, created if new. Waits up to 60 s for another writer instead of failing.

    A register older than the hash chain is brought up to it here, once: the chain's columns are added, then
    its events are hashed in order and the chaining recorded (`audit.chain_existing`), each step one
    BEGIN IMMEDIATE transaction that checks again, inside it, whether it is still needed.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(path, timeout=60, isolation_level=None)
    con.row_factory = sqlite3.Row
    con.execute("PRAGMA journal_mode = WAL")
    con.execute("PRAGMA foreign_keys = ON")
    con.execute("PRAGMA busy_timeout = 60000")
    if audit.columns_missing(con):
        with write_transaction(con):
            audit.add_columns(con)
    for ddl in sorted((SQL_DIR / "cases").glob("0*.sql")):
        con.executescript(ddl.read_text(encoding="utf-8"))
    if audit.needs_chaining(con):
        with write_transaction(con):
            if audit.needs_chaining(con):
                audit.chain_existing(con, _now())
    return con


@contextlib.contextmanager
def reader(path: Path) -> Iterator[sqlite3.Connection]:
    """The register, read-only (mode=ro): a report can never write to it. Closed when the block ends."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"案件登记簿不存在 no case register at {path}")
    con = sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True, timeout=60)
    con.row_factory = sqlite3.Row
    try:
        yield con
    finally:
        con.close()


@contextlib.contextmanager
def writer(path: Path) -> Iterator[sqlite3.Connection]:
    """The register for reading and writing (`open_register`), closed when the block ends."""
    con = open_register(path)
    try:
        yield con
    finally:
        con.close()


@contextlib.contextmanager
def write_transaction(con: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One serialised write: BEGIN IMMEDIATE takes the write lock before anything is read."""
    con.execute("BEGIN IMMEDIATE")
    try:
        yield con
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


def _now() -> str:
    return dt.datetime.now().isoformat(timespec="seconds")


def _event(
    con: sqlite3.Connection,
    suspect_id: str,
    actor: str,
    action: str,
    from_status: str | None,
    to_status: str | None,
    reason: str | None = None,
    details: dict[str, object] | None = None,
) -> None:
    """Append one event, chained to the last one (the caller holds the write transaction)."""
    fields: dict[str, object] = {
        "suspect_id": suspect_id,
        "at": _now(),
        "actor": actor,
        "action": action,
        "from_status": from_status,
        "to_status": to_status,
        "reason": reason,
        "details": json.dumps(details, ensure_ascii=False, default=str) if details else None,
    }
    fields = {name: None if value is None else str(value) for name, value in fields.items()}  # stored as TEXT
    prev_hash = audit.head(con)
    con.execute(
        "INSERT INTO case_events (suspect_id, at, actor, action, from_status, to_status, reason, details,"
        " prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [*(fields[name] for name in audit.HASHED_FIELDS), prev_hash, audit.event_hash(prev_hash, fields)],
    )


# ---- the nightly run -------------------------------------------------------------------------


@dataclass
class SyncCounts:
    opened: int = 0
    refreshed: int = 0
    stopped_firing: int = 0
    reopened: int = 0


def sync_findings(con: sqlite3.Connection, findings: pl.DataFrame, as_of: dt.date, run_id: str) -> SyncCounts:
    """Bring the register up to one run's findings (columns: suspect_id and the suspects facts)."""
    actor = f"fundwatch-run {run_id}"
    counts = SyncCounts()
    day = as_of.isoformat()
    rows = findings.select(
        "suspect_id",
        "rule",
        "subject_id",
        "person_id",
        "region_code",
        "period_from",
        "period_to",
        pl.col("amount_at_risk").cast(pl.String),
        "summary",
    ).rows(named=True)
    with write_transaction(con):
        known = {
            r["suspect_id"]: (r["status"], r["firing"], r["amount_at_risk"], r["period_to"])
            for r in con.execute("SELECT suspect_id, status, firing, amount_at_risk, period_to FROM cases")
        }
        for f in rows:
            sid = f["suspect_id"]
            if sid not in known:
                con.execute(
                    "INSERT INTO cases (suspect_id, rule, subject_id, person_id, region_code, period_from, period_to,"
                    " amount_at_risk, summary, status, firing, first_seen, last_seen)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'open', 1, ?, ?)",
                    [
                        sid,
                        f["rule"],
                        f["subject_id"],
                        f["person_id"],
                        f["region_code"],
                        f["period_from"],
                        f["period_to"],
                        f["amount_at_risk"],
                        f["summary"],
                        day,
                        day,
                    ],
                )
                _event(con, sid, actor, "found", None, "open", details={"amount_at_risk": f["amount_at_risk"]})
                counts.opened += 1
                continue
            status, firing, amount, period_to = known[sid]
            counts.refreshed += 1
            if status == "rectified" and not _grew(f, amount, period_to):
                # The rows that were rectified are still in the extracts: the same finding, nothing new.
                con.execute("UPDATE cases SET firing = 1, last_seen = ? WHERE suspect_id = ?", [day, sid])
                continue
            con.execute(
                "UPDATE cases SET person_id = ?, region_code = ?, period_from = ?, period_to = ?, amount_at_risk = ?,"
                " summary = ?, firing = 1, last_seen = ? WHERE suspect_id = ?",
                [
                    f["person_id"],
                    f["region_code"],
                    f["period_from"],
                    f["period_to"],
                    f["amount_at_risk"],
                    f["summary"],
                    day,
                    sid,
                ],
            )
            if status == "rectified":
                # 整改后再次发生: new months or more money after rectification is a recurrence, worked again.
                con.execute(
                    "UPDATE cases SET status = 'open', recurrences = recurrences + 1 WHERE suspect_id = ?", [sid]
                )
                _event(
                    con,
                    sid,
                    actor,
                    "reopened",
                    "rectified",
                    "open",
                    reason="整改后再次发现 recurrence",
                    details={"amount_at_risk": f["amount_at_risk"], "period_to": f["period_to"]},
                )
                counts.reopened += 1
            elif not firing:
                _event(con, sid, actor, "fired_again", status, status)
        current = {f["suspect_id"] for f in rows}
        for sid, (status, firing, _, _) in known.items():
            if firing and sid not in current:
                con.execute("UPDATE cases SET firing = 0 WHERE suspect_id = ?", [sid])
                note = "本次运行未再发现 not found by this run"
                _event(con, sid, actor, "stopped_firing", status, status, reason=note)
                counts.stopped_firing += 1
    return counts


def _grew(finding: dict[str, object], amount: str, period_to: str | None) -> bool:
    """Whether a finding shows more than the case recorded: more money, or later months."""
    more_money = Decimal(str(finding["amount_at_risk"])) > Decimal(amount)
    later = finding["period_to"] is not None and (period_to is None or str(finding["period_to"]) > period_to)
    return more_money or later


def record_payers(con: sqlite3.Connection, payers: pl.DataFrame) -> None:
    """Who paid what each case concerns (suspect_id, operator_id), for 回避 at assignment."""
    with write_transaction(con):
        con.execute("DELETE FROM case_payers")
        con.executemany("INSERT INTO case_payers (suspect_id, operator_id) VALUES (?, ?)", payers.rows())


# ---- the analysts ----------------------------------------------------------------------------


def get_case(con: sqlite3.Connection, suspect_id: str) -> sqlite3.Row:
    row = con.execute("SELECT * FROM cases WHERE suspect_id = ?", [suspect_id]).fetchone()
    if row is None:
        raise CaseError(f"没有这个疑点 no such case: {suspect_id}")
    return row


def _transition(con: sqlite3.Connection, suspect_id: str, action: str) -> sqlite3.Row:
    case = get_case(con, suspect_id)
    allowed, _ = TRANSITIONS[action]
    if case["status"] not in allowed:
        raise CaseError(
            f"{suspect_id}: 状态为{CASE_STATUS_ZH[case['status']]} ({case['status']})，不能{action}; "
            f"'{action}' needs status {' or '.join(allowed)}"
        )
    return case


def assign(
    con: sqlite3.Connection,
    suspect_id: str,
    *,
    assignee: str,
    by: str,
    on: dt.date,
    region_code: str | None = None,
    reason: str | None = None,
) -> str:
    """Hand a case to a verifier of its pooling region (下查一级); the deadline is 30 working days on."""
    with write_transaction(con):
        case = _transition(con, suspect_id, "assign")
        payers = {r[0] for r in con.execute("SELECT operator_id FROM case_payers WHERE suspect_id = ?", [suspect_id])}
        if assignee in payers:
            raise CaseError(
                f"{suspect_id}: {assignee} 经办了该笔支付，应当回避 paid this benefit and may not verify it"
            )
        region = region_code or case["region_code"]
        due = rectification_due(on)
        con.execute(
            "UPDATE cases SET status = 'under_verification', assignee = ?, assigned_region = ?, assigned_on = ?,"
            " due_date = ? WHERE suspect_id = ?",
            [assignee, region, on.isoformat(), due.isoformat(), suspect_id],
        )
        _event(
            con,
            suspect_id,
            by,
            "assign",
            case["status"],
            "under_verification",
            reason,
            {"assignee": assignee, "region": region, "due_date": due.isoformat()},
        )
    return due.isoformat()


def verify(con: sqlite3.Connection, suspect_id: str, *, by: str, on: dt.date, reason: str | None = None) -> str:
    """Verification confirms the violation (确认违规): 要情 or 重大要情, to be reported in 5 working days."""
    with write_transaction(con):
        case = _transition(con, suspect_id, "verify")
        severity = classify(Decimal(case["amount_at_risk"]))
        due = report_due(on)
        con.execute(
            "UPDATE cases SET status = 'confirmed', confirmed_on = ?, severity = ?, report_due = ?"
            " WHERE suspect_id = ?",
            [on.isoformat(), severity, due.isoformat(), suspect_id],
        )
        _event(
            con,
            suspect_id,
            by,
            "verify",
            case["status"],
            "confirmed",
            reason,
            {"severity": severity, "report_due": due.isoformat()},
        )
    return severity


def dismiss(con: sqlite3.Connection, suspect_id: str, *, by: str, reason: str) -> None:
    """Verification found no violation (排除); a reason is required."""
    if not reason.strip():
        raise CaseError("排除须说明理由 a dismissal needs a reason")
    with write_transaction(con):
        case = _transition(con, suspect_id, "dismiss")
        con.execute(
            "UPDATE cases SET status = 'dismissed', dismissed_reason = ? WHERE suspect_id = ?", [reason, suspect_id]
        )
        _event(con, suspect_id, by, "dismiss", case["status"], "dismissed", reason)


def rectify(
    con: sqlite3.Connection, suspect_id: str, *, by: str, on: dt.date, recovered: Decimal, reason: str | None = None
) -> None:
    """The violation is rectified (已整改), with the amount recovered (追回金额)."""
    if recovered < 0:
        raise CaseError("追回金额不能为负 the amount recovered cannot be negative")
    with write_transaction(con):
        case = _transition(con, suspect_id, "rectify")
        # A recurrence rectified again adds to what was recovered before: 追回金额 is cumulative.
        earlier = Decimal(case["recovered_amount"]) if case["recovered_amount"] else Decimal("0")
        amount = f"{(earlier + recovered).quantize(Decimal('0.01'))}"
        con.execute(
            "UPDATE cases SET status = 'rectified', recovered_amount = ?, rectified_on = ? WHERE suspect_id = ?",
            [amount, on.isoformat(), suspect_id],
        )
        _event(
            con,
            suspect_id,
            by,
            "rectify",
            case["status"],
            "rectified",
            reason,
            {"recovered_now": f"{recovered.quantize(Decimal('0.01'))}", "recovered_amount": amount},
        )


def mark_reported(con: sqlite3.Connection, suspect_id: str, *, by: str, on: dt.date) -> None:
    """The confirmed case was reported upward as 要情 / 重大要情."""
    with write_transaction(con):
        case = get_case(con, suspect_id)
        if case["severity"] is None:
            raise CaseError(f"{suspect_id}: 尚未确认违规，无需报告 not confirmed, nothing to report")
        con.execute("UPDATE cases SET reported_on = ? WHERE suspect_id = ?", [on.isoformat(), suspect_id])
        _event(con, suspect_id, by, "report", case["status"], case["status"], details={"reported_on": on.isoformat()})


# ---- reading ---------------------------------------------------------------------------------


def cases_frame(con: sqlite3.Connection, as_of: dt.date) -> pl.DataFrame:
    """All cases, with the derived `overdue` (逾期) and `report_overdue` flags as of a day."""
    frame = query_frame(con, "SELECT * FROM cases ORDER BY suspect_id")
    day = as_of.isoformat()
    return frame.with_columns(
        pl.col("firing", "recurrences").cast(pl.Int64),
        (pl.col("due_date").is_not_null() & (pl.col("due_date") < day) & ~pl.col("status").is_in(CLOSED))
        .fill_null(False)
        .alias("overdue"),
        (pl.col("report_due").is_not_null() & pl.col("reported_on").is_null() & (pl.col("report_due") < day))
        .fill_null(False)
        .alias("report_overdue"),
    )


def query_frame(con: sqlite3.Connection, sql: str, params: list[object] | None = None) -> pl.DataFrame:
    """A register query as a frame: integer columns stay integers, everything else is text."""
    cursor = con.execute(sql, params or [])
    columns = [d[0] for d in cursor.description]
    rows = [tuple(row) for row in cursor.fetchall()]
    integers = {"firing", "recurrences", "event_id"}
    schema = {c: (pl.Int64 if c in integers else pl.String) for c in columns}
    return pl.DataFrame(rows, schema=schema, orient="row")


def events(con: sqlite3.Connection, suspect_id: str) -> list[sqlite3.Row]:
    return con.execute("SELECT * FROM case_events WHERE suspect_id = ? ORDER BY event_id", [suspect_id]).fetchall()


def register_path_for(db: Path) -> Path:
    """The register beside its DuckDB file: var/fundwatch.duckdb -> var/fundwatch.cases.sqlite."""
    return db.with_suffix(".cases.sqlite")
